package json

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
)

// appLines are JSON application logs of 8 fields (one nested object,
// an @timestamp), ~200 bytes.
func appLines(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(`{"@timestamp":"2026-12-04T10:%02d:00.123Z","level":"info","svc":"checkout","user":"u%d","status":%d,"dur_ms":%d.5,"http":{"method":"POST","path":"/api/v1/orders"},"msg":"order placed"}`,
			i%60, i, 200+i%5, i%300)
	}
	return out
}

// BenchmarkAppLog: events decoded from 125-event batches as a plugin
// process gets them, then json; per event.
func BenchmarkAppLog(b *testing.B) {
	lines := appLines(1000)
	var batches [][]byte
	for i := 0; i < len(lines); i += 125 {
		var evs []*sdk.Event
		for _, l := range lines[i : i+125] {
			evs = append(evs, sdk.NewEvent(l))
		}
		batches = append(batches, sdk.EncodeBatch(evs))
	}
	comp := sdktest.Lookup(b, sdk.KindFilter, "json")
	for _, c := range []struct {
		name     string
		settings map[string]any
	}{{"Root", map[string]any{"source": "message"}}, {"Target", map[string]any{"source": "message", "target": "doc"}}} {
		f, err := comp.NewFilter(context.Background(), sdktest.Config(b, comp, c.settings), sdktest.Env(b, "json"))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			dec := new(sdk.Decoder)
			var evs []*sdk.Event
			measure(b, func(i int) {
				if i%125 == 0 {
					var err error
					if evs, err = dec.Decode(batches[(i/125)%len(batches)]); err != nil {
						b.Fatal(err)
					}
				}
				if f.Filter(ctx, evs[i%125], nil) != sdk.Matched {
					b.Fatal("not parsed")
				}
			})
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs fn b.N times and reports CPU ns per op besides ns/op.
func measure(b *testing.B, fn func(i int)) {
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	for i := 0; i < b.N; i++ {
		fn(i)
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}
