package codecs

import (
	"fmt"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/host"
)

// BenchmarkJSONLinesToBatch is the stdin input's work per event with the
// json codec (cmd/gostash's Elasticsearch benchmark's lines: 12 ECS
// fields, @timestamp): decoding 125 lines and encoding them as the batch
// Publish sends ("input"); "through" adds the next process's side up to
// the elasticsearch output's document (decoding the batch and writing
// each event as JSON, unordered, as the output does). cpu-ns/event is
// this process's CPU over the timed part (getrusage), GC included.
func BenchmarkJSONLinesToBatch(b *testing.B) {
	const batch = 125
	lines := make([][]byte, batch)
	for i := range lines {
		ts := time.Date(2026, 1+time.Month(i%2), 1+i%28, 8, i%60, i%60, 0, time.UTC).Format("2006-01-02T15:04:05.000Z")
		lines[i] = fmt.Appendf(nil, `{"@timestamp":%q,"message":"Dec  4 20:%02d:%02d web-1 sshd[%d]: Accepted publickey for deploy from 10.0.0.%d port %d ssh2",`+
			`"host":{"name":"web-1"},"log":{"file":{"path":"/var/log/messages"},"offset":%d},"event":{"original":"Accepted publickey"},`+
			`"process":{"name":"sshd","pid":%d},"source":{"ip":"10.0.0.%d","port":%d},"user":{"name":"deploy"},"tags":["ssh","auth"],"service":{"type":"system"}}`,
			ts, i%60, i%60, 1000+i%5000, i%250, 40000+i%20000, i*120, 1000+i%5000, i%250, 40000+i%20000)
	}
	for _, through := range []bool{false, true} {
		name := "input"
		if through {
			name = "through"
		}
		b.Run(name, func(b *testing.B) {
			d := (&Settings{Codec: CodecJSON}).NewDecoder()
			var enc host.Encoder
			var out host.Decoder
			jenc := JSONEncoder{Unordered: true}
			var recs []Record
			events := make([]*sdk.Event, 0, batch)
			var buf []byte
			b.ReportAllocs()
			from := cpuNow()
			for b.Loop() {
				recs = recs[:0]
				for _, l := range lines {
					recs = d.Decode(Line{Data: l}, 1, recs)
				}
				events = events[:0]
				for _, r := range recs {
					events = append(events, r.Event)
				}
				wire := enc.Encode(events)
				d.Reuse(events)
				if !through {
					continue
				}
				evs, err := out.Decode(wire)
				if err != nil || len(evs) != batch {
					b.Fatal(err, len(evs))
				}
				buf = buf[:0]
				for _, e := range evs {
					buf = jenc.AppendEvent(buf, e)
				}
			}
			cpu := cpuNow() - from
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/event")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*batch), "cpu-ns/event")
		})
	}
}
