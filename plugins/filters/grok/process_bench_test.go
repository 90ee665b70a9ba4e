package grok

import (
	"context"
	"testing"

	"github.com/gostash/gostash/plugins/filters/grok/benchdata"
	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/host"
	"github.com/gostash/gostash/sdk/sdktest"
)

// BenchmarkProcess is the grok process's work on the access log without
// the gRPC around it: a batch of 125 events decoded by a reused Decoder,
// grok on each, the batch encoded for the next process. In ECS mode the
// captures go into six nested objects that are built, encoded and taken
// back event after event, which the filter alone (BenchmarkFilter) does
// not show.
func BenchmarkProcess(b *testing.B) {
	const size = 125
	lines := benchdata.AccessLog(1000)
	var batches [][]byte
	for i := 0; i+size <= len(lines); i += size {
		evs := make([]*sdk.Event, 0, size)
		for _, l := range lines[i : i+size] {
			evs = append(evs, sdk.NewEvent(l))
		}
		batches = append(batches, host.EncodeBatch(evs))
	}
	for _, ecs := range []string{"v8", "disabled"} {
		b.Run("AccessLog/"+ecs, func(b *testing.B) {
			comp := sdktest.Lookup(b, sdk.KindFilter, "grok")
			cfg := sdktest.Config(b, comp, map[string]any{"match": map[string]any{"message": "%{COMBINEDAPACHELOG}"}, "ecs_compatibility": ecs})
			f, err := comp.NewFilter(context.Background(), cfg, sdktest.Env(b, "grok"))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			dec := new(host.Decoder)
			var enc host.Encoder
			var evs []*sdk.Event
			sdktest.MeasureCPU(b, func(i int) {
				if i%size == 0 {
					if i > 0 {
						enc.Encode(evs)
						dec.Release()
					}
					if evs, err = dec.Decode(batches[(i/size)%len(batches)]); err != nil {
						b.Fatal(err)
					}
				}
				want := sdk.Matched
				if benchdata.AccessLogMiss(i % len(lines)) {
					want = sdk.Failed
				}
				if got := f.Apply(ctx, evs[i%size], nil); got != want {
					b.Fatalf("event %d gave %v, want %v", i, got, want)
				}
			})
		})
	}
}
