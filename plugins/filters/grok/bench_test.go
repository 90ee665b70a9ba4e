package grok

import (
	"context"
	"fmt"
	"math/rand"
	"syscall"
	"testing"
	"time"

	gogrok "github.com/elastic/go-grok"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
)

// Benchmark inputs: deterministic synthetic lines shaped like real ones
// (Apache combined lines average ~190 bytes, as in the research data).
var (
	agents = []string{
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
		"curl/8.5.0",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
		"Go-http-client/1.1",
	}
	paths = []string{"/", "/index.html", "/api/v1/items?page=2&size=50", "/static/app.3f2a1c.js", "/login", "/images/logo.png"}
	verbs = []string{"GET", "GET", "GET", "POST", "PUT", "HEAD"}
)

func apacheLines(n int) []string {
	rng := rand.New(rand.NewSource(42))
	out := make([]string, n)
	for i := range out {
		ip := fmt.Sprintf("%d.%d.%d.%d", 10+rng.Intn(200), rng.Intn(256), rng.Intn(256), 1+rng.Intn(254))
		user := "-"
		if rng.Intn(4) == 0 {
			user = "frank"
		}
		size := "-"
		if rng.Intn(10) > 0 {
			size = fmt.Sprint(rng.Intn(50000))
		}
		ref := "-"
		if rng.Intn(2) == 0 {
			ref = "https://www.example.com" + paths[rng.Intn(len(paths))]
		}
		out[i] = fmt.Sprintf(`%s - %s [%02d/Nov/2026:%02d:%02d:%02d +0000] "%s %s HTTP/1.1" %d %s "%s" "%s"`,
			ip, user, 1+rng.Intn(28), rng.Intn(24), rng.Intn(60), rng.Intn(60),
			verbs[rng.Intn(len(verbs))], paths[rng.Intn(len(paths))], []int{200, 200, 200, 304, 404, 500}[rng.Intn(6)],
			size, ref, agents[rng.Intn(len(agents))])
	}
	return out
}

func syslogLines(n int) []string {
	rng := rand.New(rand.NewSource(7))
	progs := []string{"sshd", "CRON", "systemd", "kernel", "postfix/smtpd"}
	msgs := []string{"Accepted publickey for deploy from 203.0.113.9 port 51122 ssh2",
		"(root) CMD (run-parts /etc/cron.hourly)", "Started Session 42 of user deploy.",
		"connect from unknown[198.51.100.7]"}
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("Nov %2d %02d:%02d:%02d web-%02d %s[%d]: %s", 1+rng.Intn(28), rng.Intn(24), rng.Intn(60), rng.Intn(60),
			rng.Intn(20), progs[rng.Intn(len(progs))], 100+rng.Intn(30000), msgs[rng.Intn(len(msgs))])
	}
	return out
}

// jsonLines match none of the three patterns of the miss case.
func jsonLines(n int) []string {
	rng := rand.New(rand.NewSource(9))
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(`{"@timestamp":"2026-11-22T08:%02d:%02d.123Z","level":"info","service":"checkout","msg":"order placed","order_id":%d,"duration_ms":%.1f,"path":"/api/v1/orders"}`,
			rng.Intn(60), rng.Intn(60), rng.Intn(1000000), rng.Float64()*100)
	}
	return out
}

// missPatterns is a typical 3-pattern match list.
var missPatterns = []string{"%{COMBINEDAPACHELOG}", "%{SYSLOGLINE}", "%{TIMESTAMP_ISO8601:ts} %{LOGLEVEL:level} %{GREEDYDATA:msg}"}

type benchCase struct {
	name     string
	ecs      string
	patterns []string
	lines    []string
	matching bool
}

func benchCases() []benchCase {
	return []benchCase{
		{"CombinedApacheECS", "v8", []string{"%{COMBINEDAPACHELOG}"}, apacheLines(1000), true},
		{"CombinedApacheLegacy", "disabled", []string{"%{COMBINEDAPACHELOG}"}, apacheLines(1000), true},
		{"SyslogLineECS", "v8", []string{"%{SYSLOGLINE}"}, syslogLines(1000), true},
		{"Miss3PatternsECS", "v8", missPatterns, jsonLines(1000), false},
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
			for _, l := range bc.lines[:50] {
				if got := f.Filter(ctx, sdk.NewEvent(l), nil); (got == sdk.Matched) != bc.matching {
					b.Fatalf("%q: result %v", l, got)
				}
			}
			measure(b, func(i int) {
				f.Filter(ctx, sdk.NewEvent(bc.lines[i%len(bc.lines)]), nil)
			})
		})
	}
}

// goGroks compiles a case's patterns with github.com/elastic/go-grok and
// its own definitions (go-grok's ECS set; for the legacy case the legacy
// COMBINEDAPACHELOG text on go-grok's base patterns).
func goGroks(b *testing.B, bc benchCase) []*gogrok.Grok {
	legacy := standardPatterns("disabled")
	var gs []*gogrok.Grok
	for _, p := range bc.patterns {
		g, err := gogrok.NewComplete()
		if err != nil {
			b.Fatal(err)
		}
		if bc.ecs == "disabled" {
			for _, name := range []string{"COMMONAPACHELOG", "COMBINEDAPACHELOG"} {
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
	for _, l := range bc.lines[:50] {
		matched := false
		for _, g := range gs {
			if m, _ := g.ParseString(l); len(m) > 0 {
				matched = true
			}
		}
		if matched != bc.matching {
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
			measure(b, func(i int) {
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
			measure(b, func(i int) {
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
			measure(b, func(i int) {
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

// cpuTime is this process's user+system CPU time. The machine is shared,
// so wall-clock ns/op swings with the neighbours' load; CPU time per op
// (reported as cpu-ns/op) swings much less.
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
