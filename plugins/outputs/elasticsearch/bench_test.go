package elasticsearch

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/host"
	"github.com/gostash/gostash/sdk/sdktest"
)

// BenchmarkBulkBody is the CPU per event of building the bulk body (the
// action line and the document) for a 12-field event, from the events
// Write is given to the body of the first request (buildBody, as Write
// calls it): index from a monthly date template, the event appended
// straight from its fields. Issue #11's target: at most 300 ns an event.
//
// The "from_batch" cases give the output what Write gets in the plugin
// process: the events encoded as a batch and decoded with a reused
// host.Decoder, their top-level fields still raw. The batch is decoded
// again before each round (outside the timer), since encoding may decode.
//
//	go test ./plugins/outputs/elasticsearch -run '^$' -bench BulkBody
func BenchmarkBulkBody(b *testing.B) {
	for _, c := range []struct {
		name      string
		settings  map[string]any
		fromBatch bool
	}{
		{"index", map[string]any{"index": "test-system-messages-%{+YYYY.MM}"}, false},
		{"document_id_from_source", map[string]any{"index": "test-system-messages-%{+YYYY.MM}", "document_id_from_source": true}, false},
		{"index/from_batch", map[string]any{"index": "test-system-messages-%{+YYYY.MM}"}, true},
		{"document_id_from_source/from_batch", map[string]any{"index": "test-system-messages-%{+YYYY.MM}", "document_id_from_source": true}, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			comp := sdktest.Lookup(b, sdk.KindOutput, "elasticsearch")
			out, err := comp.NewOutput(b.Context(), sdktest.Config(b, comp, c.settings), sdktest.Env(b, "es"))
			if err != nil {
				b.Fatal(err)
			}
			o := out.(*Output)
			const batch = 125
			events := make([]*sdk.Event, batch)
			for i := range events {
				e := sdktest.Event(map[string]any{
					"message":           fmt.Sprintf("Dec  4 20:%02d:%02d web-1 sshd[%d]: Accepted publickey for deploy from 10.0.0.%d port %d ssh2", i%60, i%60, 1000+i, i%250, 40000+i),
					"[host][name]":      "web-1",
					"[log][file][path]": "/var/log/messages",
					"[log][offset]":     int64(i * 120),
					"[event][original]": "Accepted publickey",
					"[process][name]":   "sshd",
					"[process][pid]":    int64(1000 + i),
					"[source][ip]":      fmt.Sprintf("10.0.0.%d", i%250),
					"[source][port]":    int64(40000 + i),
					"[user][name]":      "deploy",
					"tags":              []any{"ssh", "auth"},
					"[service][type]":   "system",
				})
				e.SetTimestamp(time.Date(2026, 1+time.Month(i%2), 1, 8, 0, 0, 0, time.UTC))
				sdk.SetSource(e, "kafka", map[string]any{"topic": "syslog", "partition": int64(i % 3), "offset": int64(i)})
				events[i] = e
			}
			var dec host.Decoder
			var wire []byte
			if c.fromBatch {
				wire = host.EncodeBatch(events)
			}
			w := o.getWrite()
			var werr sdk.WriteError
			b.ReportAllocs()
			b.ResetTimer()
			var cpu time.Duration
			from := cpuNow()
			for n := 0; n < b.N; n++ {
				if c.fromBatch {
					cpu += cpuNow() - from
					b.StopTimer()
					var err error
					if events, err = dec.Decode(wire); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					from = cpuNow()
				}
				if o.buildBody(w, events, &werr); len(werr.Items) > 0 || len(w.pending) != batch {
					b.Fatal(werr.Error())
				}
			}
			cpu += cpuNow() - from
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/event")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*batch), "cpu-ns/event")
			b.ReportMetric(float64(len(w.arena))/batch, "bytes/event")
		})
	}
}

// cpuNow is this process's CPU time: on the shared box, wall time counts
// other sessions' work too.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
