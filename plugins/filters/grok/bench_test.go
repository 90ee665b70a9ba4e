package grok

import (
	"context"
	"strings"
	"testing"

	gogrok "github.com/elastic/go-grok"

	"github.com/gostash/gostash/plugins/filters/grok/benchdata"
	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
)

// The tests' names for benchdata's lines (engine_test.go and grok_test.go
// use them too).
var (
	apacheLines = benchdata.Apache
	syslogLines = benchdata.Syslog
	jsonLines   = benchdata.Miss
)

type benchCase struct {
	name     string
	ecs      string
	patterns []string
	lines    []string
	matching bool
	// miss, when set, says which lines must not match (matching is
	// then ignored)
	miss func(i int) bool
}

// wantMatch says whether line i of the case must match.
func (bc benchCase) wantMatch(i int) bool {
	if bc.miss != nil {
		return !bc.miss(i)
	}
	return bc.matching
}

// benchCases are the four cases of issue #3, on the synthetic lines of
// benchdata (cmd/gostash's BenchmarkGrokPipeline runs the same
// cases through the whole pipeline). The miss case is a 3-pattern match
// list on JSON lines that match none of them.
func benchCases() []benchCase {
	return []benchCase{
		{"CombinedApacheECS", "v8", []string{"%{COMBINEDAPACHELOG}"}, benchdata.Apache(1000), true, nil},
		{"CombinedApacheLegacy", "disabled", []string{"%{COMBINEDAPACHELOG}"}, benchdata.Apache(1000), true, nil},
		{"SyslogLineECS", "v8", []string{"%{SYSLOGLINE}"}, benchdata.Syslog(1000), true, nil},
		{"Miss3PatternsECS", "v8", benchdata.MissPatterns, benchdata.Miss(1000), false, nil},
		{"AccessLogECS", "v8", []string{"%{COMBINEDAPACHELOG}"}, benchdata.AccessLog(1000), false, benchdata.AccessLogMiss},
		{"AccessLogLegacy", "disabled", []string{"%{COMBINEDAPACHELOG}"}, benchdata.AccessLog(1000), false, benchdata.AccessLogMiss},
	}
}

// BenchmarkFilter is the filter alone, as a pipeline runs it: an event
// made from the line (its cost is in the figure), then the filter.
func BenchmarkFilter(b *testing.B) {
	for _, bc := range benchCases() {
		b.Run(bc.name, func(b *testing.B) {
			comp := sdktest.Lookup(b, sdk.KindFilter, "grok")
			cfg := sdktest.Config(b, comp, map[string]any{"match": map[string]any{"message": toAny(bc.patterns)}, "ecs_compatibility": bc.ecs})
			f, err := comp.NewFilter(context.Background(), cfg, sdktest.Env(b, "grok"))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			// check once that the case is what it says
			for i, l := range bc.lines[:50] {
				if got := f.Apply(ctx, sdk.NewEvent(l), nil); (got == sdk.Matched) != bc.wantMatch(i) {
					b.Fatalf("%q: result %v", l, got)
				}
			}
			sdktest.MeasureCPU(b, func(i int) {
				f.Apply(ctx, sdk.NewEvent(bc.lines[i%len(bc.lines)]), nil)
			})
		})
	}
}

// goGroks compiles a case's patterns with github.com/elastic/go-grok and
// its own definitions (go-grok's ECS set; for the legacy case Logstash's
// legacy access-log text on go-grok's base patterns).
func goGroks(b *testing.B, bc benchCase) []*gogrok.Grok {
	legacy := standardPatterns("disabled")
	var gs []*gogrok.Grok
	for _, p := range bc.patterns {
		g, err := gogrok.NewComplete()
		if err != nil {
			b.Fatal(err)
		}
		if bc.ecs == "disabled" {
			// Logstash's legacy access log, down to the e-mail user
			for _, name := range []string{"EMAILLOCALPART", "HTTPDUSER", "HTTPD_COMMONLOG", "HTTPD_COMBINEDLOG", "COMMONAPACHELOG", "COMBINEDAPACHELOG"} {
				if err := g.AddPattern(name, legacy[name]); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := g.Compile(p, true); err != nil {
			b.Fatal(err)
		}
		gs = append(gs, g)
	}
	for i, l := range bc.lines[:50] {
		matched := false
		for _, g := range gs {
			if m, _ := g.ParseString(l); len(m) > 0 {
				matched = true
			}
		}
		if matched != bc.wantMatch(i) {
			b.Fatalf("go-grok on %q: matched %v", l, matched)
		}
	}
	return gs
}

// BenchmarkGoGrokParse is go-grok's engine on the same lines: the match
// and its map[string]string of captures (compare with BenchmarkMatch).
func BenchmarkGoGrokParse(b *testing.B) {
	for _, bc := range benchCases() {
		b.Run(bc.name, func(b *testing.B) {
			gs := goGroks(b, bc)
			sdktest.MeasureCPU(b, func(i int) {
				l := bc.lines[i%len(bc.lines)]
				for _, g := range gs {
					if m, _ := g.ParseString(l); len(m) > 0 {
						break
					}
				}
			})
		})
	}
}

// BenchmarkGoGrokFilter is what a grok filter built on go-grok would do
// per line (compare with BenchmarkFilter): make the event, parse with
// types, set each capture as a field (go-grok names ECS fields with dots),
// tag a failure.
func BenchmarkGoGrokFilter(b *testing.B) {
	for _, bc := range benchCases() {
		b.Run(bc.name, func(b *testing.B) {
			gs := goGroks(b, bc)
			refs := map[string]sdk.FieldRef{}
			sdktest.MeasureCPU(b, func(i int) {
				e := sdk.NewEvent(bc.lines[i%len(bc.lines)])
				for _, g := range gs {
					m, _ := g.ParseTypedString(e.Message())
					if len(m) == 0 {
						continue
					}
					for k, v := range m {
						ref, ok := refs[k]
						if !ok {
							ref, _ = sdk.ParseFieldRef(dotsToRef(k))
							refs[k] = ref
						}
						_ = ref.Set(e, v)
					}
					return
				}
				e.AddTag("_grokparsefailure")
			})
		})
	}
}

// BenchmarkMatch is the engine alone: the match and its offsets, no event.
func BenchmarkMatch(b *testing.B) {
	for _, bc := range benchCases() {
		b.Run(bc.name, func(b *testing.B) {
			var ps []*Pattern
			for _, src := range bc.patterns {
				p, err := compile(src, compileOptions{defs: standardPatterns(bc.ecs), namedCapturesOnly: true})
				if err != nil {
					b.Fatal(err)
				}
				ps = append(ps, p)
			}
			sdktest.MeasureCPU(b, func(i int) {
				l := bc.lines[i%len(bc.lines)]
				for _, p := range ps {
					_, m, ok, _ := p.exec(l, 0)
					if m != nil {
						m.Release()
					}
					if ok {
						break
					}
				}
			})
		})
	}
}

// dotsToRef turns go-grok's dotted ECS names (http.request.method) into
// field references ([http][request][method]).
func dotsToRef(name string) string {
	if !strings.Contains(name, ".") {
		return name
	}
	return "[" + strings.ReplaceAll(name, ".", "][") + "]"
}
