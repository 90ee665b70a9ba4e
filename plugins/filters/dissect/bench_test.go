package dissect

import (
	"context"
	"testing"

	_ "github.com/gostash/gostash/plugins/filters/grok" // the side-by-side benchmark
	"github.com/gostash/gostash/plugins/filters/grok/benchdata"
	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
)

// apacheMapping is %{COMBINEDAPACHELOG} written as a dissection, with the
// ECS names grok's v8 patterns give (grok leaves out "-" captures and
// converts the byte count too; dissect keeps "-" as text).
const apacheMapping = `%{[source][address]} %{[apache][access][user][identity]} %{[user][name]} [%{timestamp}] "%{[http][request][method]} %{[url][original]} HTTP/%{[http][version]}" %{[http][response][status_code]} %{[http][response][body][bytes]} "%{[http][request][referrer]}" "%{[user_agent][original]}"`

// apacheMappingLegacy is the same with the legacy (ecs_compatibility
// "disabled") names, top-level fields.
const apacheMappingLegacy = `%{clientip} %{ident} %{auth} [%{timestamp}] "%{verb} %{request} HTTP/%{httpversion}" %{response} %{bytes} "%{referrer}" "%{agent}"`

const apacheLine = `127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"`

// filterFor builds a registered filter as a pipeline would.
func filterFor(b testing.TB, name string, settings map[string]any) sdk.Filter {
	comp := sdktest.Lookup(b, sdk.KindFilter, name)
	f, err := comp.NewFilter(context.Background(), sdktest.Config(b, comp, settings), sdktest.Env(b, name))
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// apacheFilters are the two filters on the same lines: dissect with the
// mappings above and the status code converted, grok with
// %{COMBINEDAPACHELOG}; ECS names (nested) or legacy ones (top level).
func apacheFilters(b testing.TB, ecs bool) map[string]sdk.Filter {
	mapping, status, mode := apacheMappingLegacy, "response", "disabled"
	if ecs {
		mapping, status, mode = apacheMapping, "[http][response][status_code]", "v8"
	}
	return map[string]sdk.Filter{
		"Dissect": filterFor(b, "dissect", map[string]any{
			"mapping":          map[string]any{"message": mapping},
			"convert_datatype": map[string]any{status: "int"},
		}),
		"Grok": filterFor(b, "grok", map[string]any{"match": map[string]any{"message": "%{COMBINEDAPACHELOG}"}, "ecs_compatibility": mode}),
	}
}

// BenchmarkApache is dissect next to grok on benchdata's Apache combined
// lines (grok's own benchmark lines): an event made from the line (its
// cost is in the figure), then the filter.
func BenchmarkApache(b *testing.B) {
	lines := benchdata.Apache(1000)
	sideBySide(b, func(b *testing.B, name string, f sdk.Filter) {
		ctx := context.Background()
		for _, l := range lines[:50] {
			if got := f.Apply(ctx, sdk.NewEvent(l), nil); got != sdk.Matched {
				b.Fatalf("%s on %q: %v", name, l, got)
			}
		}
		sdktest.MeasureCPU(b, func(i int) {
			f.Apply(ctx, sdk.NewEvent(lines[i%len(lines)]), nil)
		})
	})
}

// sideBySide runs bench for dissect and grok on the same lines, with
// legacy names and with ECS names (sub-benchmarks Legacy/Dissect,
// Legacy/Grok, ECS/Dissect, ECS/Grok).
func sideBySide(b *testing.B, bench func(b *testing.B, name string, f sdk.Filter)) {
	for _, c := range []struct {
		name string
		ecs  bool
	}{{"Legacy", false}, {"ECS", true}} {
		fs := apacheFilters(b, c.ecs)
		for _, name := range []string{"Dissect", "Grok"} {
			f := fs[name]
			b.Run(c.name+"/"+name, func(b *testing.B) { bench(b, name, f) })
		}
	}
}

// BenchmarkMatch is the scan alone, on one line: no event.
func BenchmarkMatch(b *testing.B) {
	d, err := compile("message", apacheMapping)
	if err != nil {
		b.Fatal(err)
	}
	spans := make([]sdk.Span, len(d.fields))
	sdktest.MeasureCPU(b, func(int) { d.match(apacheLine, spans) })
}

// BenchmarkApacheBatch is the same as a plugin process runs it: events
// decoded from a 125-event batch by the SDK's Decoder (whose maps and
// values are reused from batch to batch), then the filter; per event.
func BenchmarkApacheBatch(b *testing.B) {
	lines := benchdata.Apache(1000)
	sideBySide(b, func(b *testing.B, _ string, f sdk.Filter) { sdktest.BenchFilterBatches(b, f, lines, sdk.Matched) })
}

// BenchmarkApacheFilter is BenchmarkApacheBatch with the decoding of each
// batch left out of the figures: the filters' own work on the same line
// (issue #12's "at least 5× faster than grok", inside the filter). The
// decode, the same for both, is in BenchmarkApacheBatch.
func BenchmarkApacheFilter(b *testing.B) {
	lines := benchdata.Apache(1000)
	sideBySide(b, func(b *testing.B, _ string, f sdk.Filter) { sdktest.BenchFilterAlone(b, f, lines, sdk.Matched) })
}
