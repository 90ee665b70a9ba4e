package main

import (
	"bufio"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gostash/gostash/plugins/filters/grok/benchdata"
)

// The filters issue #12 adds after grok, as Logstash's classic access-log
// pipeline has them: the line's time as @timestamp, the numbers made
// numbers, a field renamed, two removed.
const shapingFilters = `filter "date" "ts" {
  match        = ["timestamp", "dd/MMM/yyyy:HH:mm:ss Z"]
  remove_field = ["timestamp"]
}
filter "mutate" "shape" {
  convert      = { response = "integer", bytes = "integer" }
  rename       = { agent = "[user_agent][original]" }
  remove_field = ["ident", "auth"]
}
`

// BenchmarkShapingPipeline runs file → grok → date → mutate → null beside
// file → grok → null (legacy COMBINEDAPACHELOG, grok's benchdata lines, so
// the second is BenchmarkGrokPipeline's gostash/combined-legacy row), in
// interleaved pairs, each pair in alternating order, so that the box's
// moment-to-moment load falls on both alike:
//
//	go test ./cmd/gostash -run '^$' -bench ShapingPipeline -benchtime 5x
//
// The figure is what date and mutate add to the CPU of the whole process
// tree per event (issue #12: under a quarter). Both pipelines are first
// run on verifyLines lines with an output that shows their result.
func BenchmarkShapingPipeline(b *testing.B) {
	n := grokLines
	if testing.Short() {
		n /= 10
	}
	grok := "filter \"grok\" \"g\" {\n  match = { message = \"%{COMBINEDAPACHELOG}\" }\n  ecs_compatibility = \"disabled\"\n}\n"
	pipeline := func(data, filters, output string) string {
		return fileInput(b, data) + grok + filters + output
	}
	verify := writeLines(b, benchdata.Apache(verifyLines))
	stdout := `output "stdout" "out" { codec = "json_lines" }` + "\n"
	verifyGostash(b, grokCase{name: "grok", matching: true}, pipeline(verify, "", stdout), "")
	verifyShaped(b, pipeline(verify, shapingFilters, stdout))

	data := writeLines(b, benchdata.Apache(n))
	null := `output "null" "out" {}` + "\n"
	base := writeFileB(b, "grok.hcl", pipeline(data, "", null))
	shaped := writeFileB(b, "shaped.hcl", pipeline(data, shapingFilters, null))
	run := func(cfg string) time.Duration { return measure(b, "-f", cfg, "--log.level", "warn").cpu }

	b.ResetTimer()
	var cpuBase, cpuShaped time.Duration
	for i := 0; i < b.N; i++ {
		var cb, cs time.Duration
		if i%2 == 0 {
			cb = run(base)
			cs = run(shaped)
		} else {
			cs = run(shaped)
			cb = run(base)
		}
		b.Logf("pair %d: grok %.0f, grok+date+mutate %.0f events/CPU-s: +%.1f%% CPU", i,
			float64(n)/cb.Seconds(), float64(n)/cs.Seconds(), 100*(cs.Seconds()/cb.Seconds()-1))
		cpuBase += cb
		cpuShaped += cs
	}
	events := float64(n) * float64(b.N)
	b.ReportMetric(events/cpuBase.Seconds(), "grok-events/CPU-s")
	b.ReportMetric(events/cpuShaped.Seconds(), "shaped-events/CPU-s")
	b.ReportMetric(100*(cpuShaped.Seconds()/cpuBase.Seconds()-1), "extra-CPU-%")
}

// verifyShaped runs the shaping pipeline on verifyLines lines and checks
// each event: no failure tag, @timestamp the line's time, response a JSON
// number, the renamed and removed fields done.
func verifyShaped(b *testing.B, pipeline string) {
	b.Helper()
	cfg := writeFileB(b, "verify-shaped.hcl", pipeline)
	cmd := exec.Command(gostashBin, "-f", cfg, "--log.level", "warn")
	cmd.Dir = b.TempDir()
	var errb strings.Builder
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("gostash: %v\n%s", err, errb.String())
	}
	total := 0
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e struct {
			Timestamp string         `json:"@timestamp"`
			Message   string         `json:"message"`
			Tags      []string       `json:"tags"`
			Response  any            `json:"response"`
			UserAgent map[string]any `json:"user_agent"`
			Stamp     *string        `json:"timestamp"`
			Ident     *string        `json:"ident"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			b.Fatalf("not a JSON event: %q", sc.Text())
		}
		total++
		open, close := strings.IndexByte(e.Message, '['), strings.IndexByte(e.Message, ']')
		if open < 0 || close < open {
			b.Fatalf("no time in %q", e.Message)
		}
		t, err := time.Parse("02/Jan/2006:15:04:05 -0700", e.Message[open+1:close])
		if err != nil {
			b.Fatal(err)
		}
		want := t.UTC().Format("2006-01-02T15:04:05.000Z")
		if _, isNum := e.Response.(float64); len(e.Tags) > 0 || e.Timestamp != want || !isNum ||
			e.UserAgent["original"] == nil || e.Stamp != nil || e.Ident != nil {
			b.Fatalf("event not shaped as it should be (want @timestamp %s): %s", want, sc.Text())
		}
	}
	if total != verifyLines {
		b.Fatalf("%d events out of %d lines", total, verifyLines)
	}
}
