package mutate

import (
	"context"
	"fmt"
	"testing"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/host"
	"github.com/gostash/gostash/sdk/sdktest"
)

// benchBatch is 1000 events as grok leaves an nginx access line (legacy
// field names), encoded as the core sends a batch to a filter process.
func benchBatch() []byte {
	events := make([]*sdk.Event, 1000)
	for i := range events {
		e := sdk.NewEvent(fmt.Sprintf(`10.0.%d.%d - - [04/Dec/2026:10:00:00 +0000] "GET /index.html?id=%d HTTP/1.1" 200 %d "-" "Mozilla/5.0"`, i/250, i%250, i, 1000+i))
		for k, v := range map[string]any{
			"clientip": fmt.Sprintf("10.0.%d.%d", i/250, i%250), "verb": "GET", "request": fmt.Sprintf("/index.html?id=%d", i),
			"httpversion": "1.1", "response": "200", "bytes": fmt.Sprint(1000 + i), "referrer": `"-"`,
			"agent": `"Mozilla/5.0"`, "timestamp": "04/Dec/2026:10:00:00 +0000", "ident": "-", "auth": "-",
		} {
			e.Fields()[k] = v
		}
		events[i] = e
	}
	return host.EncodeBatch(events)
}

// benchSettings are five operations a pipeline typically does after grok.
var benchSettings = M{
	"rename":    M{"agent": "[user_agent][original]"},
	"convert":   M{"response": "integer", "bytes": "integer"},
	"gsub":      L{"request", `\?.*`, ""},
	"lowercase": L{"verb"},
	"copy":      M{"clientip": "[source][ip]"},
}

// BenchmarkFilter is the filter as a filter process runs it: each batch
// decoded by one reused Decoder (its cost is in the figure, as are the
// fields the filter makes the event decode), then mutate on each event.
// One op is one event. Decode alone is the baseline.
func BenchmarkFilter(b *testing.B) {
	data := benchBatch()
	comp := sdktest.Lookup(b, sdk.KindFilter, "mutate")
	f, err := comp.NewFilter(context.Background(), sdktest.Config(b, comp, benchSettings), sdktest.Env(b, "mutate"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var dec host.Decoder
	check, _ := dec.Decode(data)
	if r := f.Apply(ctx, check[0], nil); r != sdk.Matched {
		b.Fatalf("result %v", r)
	}
	if v, _ := check[0].Get("bytes"); v != int64(1000) {
		b.Fatalf("bytes = %#v", v)
	}
	if v, _ := check[0].Get("request"); v != "/index.html" {
		b.Fatalf("request = %#v", v)
	}
	for _, bc := range []struct {
		name   string
		filter bool
	}{{"FiveOps", true}, {"DecodeOnly", false}} {
		b.Run(bc.name, func(b *testing.B) {
			var events []*sdk.Event
			sdktest.MeasureCPU(b, func(i int) {
				j := i % 1000
				if j == 0 {
					if i > 0 {
						dec.Release() // as a plugin process does after a Transient chain
					}
					events, _ = dec.Decode(data)
				}
				if bc.filter {
					f.Apply(ctx, events[j], nil)
				}
			})
		})
	}
}

// BenchmarkOperations is each of the five operations alone, and all five,
// on events whose fields are already decoded (the timer stops while a
// batch is decoded): the filter's own cost.
func BenchmarkOperations(b *testing.B) {
	data := benchBatch()
	for _, c := range []struct {
		name     string
		settings M
	}{
		{"rename", M{"rename": benchSettings["rename"]}},
		{"convert2", M{"convert": benchSettings["convert"]}},
		{"gsub", M{"gsub": benchSettings["gsub"]}},
		{"lowercase", M{"lowercase": benchSettings["lowercase"]}},
		{"copy", M{"copy": benchSettings["copy"]}},
		{"all5", benchSettings},
	} {
		b.Run(c.name, func(b *testing.B) {
			comp := sdktest.Lookup(b, sdk.KindFilter, "mutate")
			f, err := comp.NewFilter(context.Background(), sdktest.Config(b, comp, c.settings), sdktest.Env(b, "mutate"))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			var dec host.Decoder
			var events []*sdk.Event
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				j := i % 1000
				if j == 0 {
					b.StopTimer()
					events, _ = dec.Decode(data)
					for _, e := range events {
						e.Fields()
					}
					b.StartTimer()
				}
				f.Apply(ctx, events[j], nil)
			}
		})
	}
}
