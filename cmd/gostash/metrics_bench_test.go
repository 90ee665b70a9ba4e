package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// BenchmarkPipelineMetrics runs the spine benchmark (generator → three
// filters → stdout dots, a million events) with the monitoring API off, on
// and scraped every second (/metrics and /_node/stats/pipelines: more often
// than Prometheus's default 15 s), and on and scraped every 100 ms (a
// stress figure), in rounds whose order rotates so the box's load falls
// on every side alike:
//
//	go test ./cmd/gostash -run '^$' -bench PipelineMetrics -benchtime 9x
//
// GOSTASH_BENCH_BASELINE=/path/to/gostash adds a binary built before the
// pipeline counted anything: the cost of counting itself, which runs
// whether the API is on or not. Every side logs at info, as the scraped
// ones must (the API's address is in the log).
func BenchmarkPipelineMetrics(b *testing.B) {
	cfg := writeFileB(b, "bench.hcl", benchPipeline(3))
	type side struct {
		name string
		run  func() runStats
	}
	scraped := func(every time.Duration) func() runStats {
		return func() runStats {
			return measureBin(b, gostashBin, scrapeEvery(every), "-f", cfg, "--api.http.port", "9650-9699")
		}
	}
	sides := []side{
		{"api-off", func() runStats { return measureBin(b, gostashBin, nil, "-f", cfg, "--api.enabled=false") }},
		{"api-on-scraped-1s", scraped(time.Second)},
		{"api-on-scraped-100ms", scraped(100 * time.Millisecond)},
	}
	if base := os.Getenv("GOSTASH_BENCH_BASELINE"); base != "" {
		sides = append(sides, side{"no-counting", func() runStats { return measureBin(b, base, nil, "-f", cfg) }})
	}
	stats := make([][]runStats, len(sides))
	ratios := make([][]float64, len(sides)) // CPU per event against api-off, per round
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		round := make([]runStats, len(sides))
		for k := range sides {
			s := (i + k) % len(sides)
			round[s] = sides[s].run()
		}
		for s := range sides {
			stats[s] = append(stats[s], round[s])
			ratios[s] = append(ratios[s], round[s].cpu.Seconds()/round[0].cpu.Seconds())
		}
	}
	for s, side := range sides {
		b.ReportMetric(median(stats[s], func(st runStats) float64 { return benchEvents / st.wall.Seconds() }), side.name+"-events/s")
		b.ReportMetric(median(stats[s], func(st runStats) float64 { return float64(st.cpu.Microseconds()) / benchEvents }), side.name+"-cpu-µs/event")
		if s > 0 {
			b.ReportMetric(medianOf(ratios[s]), side.name+"/api-off-cpu")
		}
	}
}

// scrapeEvery returns a scraper for measureBin: it finds the API's
// address in the log and reads it every d until the run ends.
func scrapeEvery(d time.Duration) func(stderr *lockedBuffer, done <-chan struct{}) {
	return func(stderr *lockedBuffer, done <-chan struct{}) {
		var base string
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			if base == "" {
				m := apiAddress.FindStringSubmatch(stderr.String())
				if m == nil {
					continue
				}
				base = m[1]
			}
			for _, path := range []string{"/metrics", "/_node/stats/pipelines"} {
				if resp, err := http.Get(base + path); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}
	}
}

// measureBin is measure for any binary, with an optional scraper running
// beside it.
func measureBin(b *testing.B, bin string, scrape func(*lockedBuffer, <-chan struct{}), args ...string) runStats {
	b.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = b.TempDir()
	errb := &lockedBuffer{}
	cmd.Stderr = errb
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		if scrape != nil {
			scrape(errb, done)
		}
	}()
	st, err := measureCmd(cmd, nil)
	close(done)
	<-finished
	if err != nil {
		b.Fatalf("%s: %v\n%s", bin, err, errb.String())
	}
	if scrape != nil && !strings.Contains(errb.String(), "monitoring API listening") {
		b.Fatalf("the API did not start:\n%s", errb.String())
	}
	return st
}
