package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The monitoring API, read while the real binary runs, as an operator's
// curl or Prometheus would.

// A numbered-event pipeline whose every count is known: n events in; the
// first filter keeps all, the second drops every fourth, the third tags
// only the odd ones; two outputs, one of which takes only the odd.
const apiPipeline = `
pipeline { workers = 2 }
input "stdin" "in" {}
filter "expr" "number" { set = { "[n]" = "int(message)" } }
filter "expr" "drop_fourths" { drop = "n % 4 == 0" }
filter "mutate" "tag_odd" {
  when    = "n % 2 == 1"
  add_tag = ["odd"]
}
output "stdout" "all" { codec = "dots" }
output "stdout" "odd" {
  when  = "'odd' in tags"
  codec = "dots"
}
`

// apiRun is a gostash reading stdin, with its API's address.
type apiRun struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	base  string
	errb  *lockedBuffer
}

var apiAddress = regexp.MustCompile(`monitoring API listening" address=(http://\S+)`)

// startAPIRun starts gostash on cfg and waits for its API to listen.
func startAPIRun(t *testing.T, cfg string, args ...string) *apiRun {
	t.Helper()
	cmd := exec.Command(gostashBin, append([]string{"-f", cfg}, args...)...)
	cmd.Dir = t.TempDir()
	r := &apiRun{cmd: cmd, errb: &lockedBuffer{}}
	var err error
	if r.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	cmd.Stderr = r.errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if m := apiAddress.FindStringSubmatch(r.errb.String()); m != nil {
			r.base = m[1]
			return r
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no API address logged:\n%s", r.errb.String())
	return nil
}

func (r *apiRun) get(t *testing.T, path string) []byte {
	t.Helper()
	resp, err := http.Get(r.base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", path, resp.Status, b)
	}
	return b
}

// The parts of /_node/stats/pipelines the test reads.
type eventCounts struct {
	In, Filtered, Out, Dropped int64
	Duration                   int64 `json:"duration_in_millis"`
}
type pluginDoc struct {
	ID, Name      string
	Events        eventCounts
	Skipped       int64 `json:"skipped_events"`
	Chain         []string
	ChainDuration int64 `json:"chain_duration_in_millis"`
	Restarts      int64
}
type pipelineDoc struct {
	Events  eventCounts
	Plugins struct{ Inputs, Filters, Outputs []pluginDoc }
	Queue   struct {
		Type        string
		EventsCount int64 `json:"events_count"`
	}
}
type statsDoc struct {
	Status, Version, ID string
	HTTPAddress         string `json:"http_address"`
	Pipelines           map[string]pipelineDoc
}

func (r *apiRun) stats(t *testing.T) statsDoc {
	t.Helper()
	var s statsDoc
	if err := json.Unmarshal(r.get(t, "/_node/stats/pipelines"), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func byID(ps []pluginDoc) map[string]pluginDoc {
	m := map[string]pluginDoc{}
	for _, p := range ps {
		m[p.ID] = p
	}
	return m
}

func TestMonitoringAPICountsWhatWentThrough(t *testing.T) {
	const n = 1000
	r := startAPIRun(t, writeFile(t, "api.hcl", apiPipeline))
	var lines strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&lines, "%d\n", i)
	}
	if _, err := io.WriteString(r.stdin, lines.String()); err != nil {
		t.Fatal(err)
	}

	// stdin stays open: the pipeline runs while the counts are read.
	var s statsDoc
	deadline := time.Now().Add(20 * time.Second)
	for {
		s = r.stats(t)
		if s.Pipelines["main"].Events.Out == 1250 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	main := s.Pipelines["main"]
	if main.Events.In != n || main.Events.Filtered != 750 || main.Events.Out != 750+500 {
		t.Fatalf("pipeline events %+v; want in %d, filtered 750, out 1250", main.Events, n)
	}
	if main.Queue.Type != "memory" || main.Queue.EventsCount != 0 {
		t.Errorf("queue %+v; want memory and empty once everything is out", main.Queue)
	}
	if in := byID(main.Plugins.Inputs)["in"]; in.Name != "stdin" || in.Events.Out != n {
		t.Errorf("input %+v; want stdin with %d out", in, n)
	}
	filters := byID(main.Plugins.Filters)
	for id, want := range map[string]eventCounts{
		"number":       {In: n, Out: n},
		"drop_fourths": {In: n, Out: 750, Dropped: 250},
		"tag_odd":      {In: 500, Out: 500}, // only the odd ones reach it: its `when`
	} {
		got := filters[id].Events
		if got.In != want.In || got.Out != want.Out || got.Dropped != want.Dropped {
			t.Errorf("filter %s events %+v; want %+v", id, got, want)
		}
		if len(filters[id].Chain) != 3 {
			t.Errorf("filter %s chain %v; the three run as one chain in one process", id, filters[id].Chain)
		}
	}
	outputs := byID(main.Plugins.Outputs)
	if o := outputs["all"]; o.Events.In != 750 || o.Events.Out != 750 {
		t.Errorf("output all %+v; want 750 in and out", o.Events)
	}
	if o := outputs["odd"]; o.Events.In != 750 || o.Events.Out != 500 || o.Skipped != 250 {
		t.Errorf("output odd %+v skipped %d; want 750 in, 500 out, 250 skipped by its when", o.Events, o.Skipped)
	}
	if s.Status != "green" || s.ID == "" || !strings.HasPrefix(r.base, "http://"+s.HTTPAddress) {
		t.Errorf("header status %q id %q http_address %q (API at %s)", s.Status, s.ID, s.HTTPAddress, r.base)
	}

	// The same counts at /metrics, in Prometheus's text format.
	fams := r.metrics(t)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"gostash_pipeline_events_in_total", map[string]string{"pipeline": "main"}, n},
		{"gostash_pipeline_events_out_total", map[string]string{"pipeline": "main"}, 1250},
		{"gostash_plugin_events_out_total", map[string]string{"plugin_id": "in", "plugin_type": "input", "plugin": "stdin"}, n},
		{"gostash_plugin_events_in_total", map[string]string{"plugin_id": "tag_odd", "plugin_type": "filter", "plugin": "mutate"}, 500},
		{"gostash_plugin_events_dropped_total", map[string]string{"plugin_id": "drop_fourths"}, 250},
		{"gostash_plugin_events_out_total", map[string]string{"plugin_id": "odd", "plugin_type": "output"}, 500},
		{"gostash_plugin_events_skipped_total", map[string]string{"plugin_id": "odd"}, 250},
		{"gostash_plugin_restarts_total", map[string]string{"plugin_id": "all"}, 0},
	} {
		if got, ok := metricValue(fams, c.name, c.labels); !ok || got != c.want {
			t.Errorf("%s%v = %v (found %v); want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	// Every batch read was acked: the histogram saw them all.
	h := fams["gostash_pipeline_batch_latency_seconds"]
	if h == nil || h.GetType() != dto.MetricType_HISTOGRAM || h.Metric[0].GetHistogram().GetSampleCount() == 0 {
		t.Errorf("no batch latency histogram: %v", h)
	}
	if _, ok := metricValue(fams, "process_resident_memory_bytes", nil); !ok {
		t.Error("no process metrics")
	}

	var health struct {
		Status     string
		Indicators map[string]struct {
			Status     string
			Indicators map[string]struct{ Status, Symptom string }
		}
	}
	if err := json.Unmarshal(r.get(t, "/_health_report"), &health); err != nil {
		t.Fatal(err)
	}
	if p := health.Indicators["pipelines"].Indicators["main"]; health.Status != "green" || p.Status != "green" {
		t.Errorf("health %+v; want green", health)
	}
	var plugins struct {
		Total   int
		Plugins []struct{ Name, Type string }
	}
	if err := json.Unmarshal(r.get(t, "/_node/plugins"), &plugins); err != nil {
		t.Fatal(err)
	}
	if plugins.Total < 10 || !strings.Contains(fmt.Sprint(plugins.Plugins), "{grok filter}") {
		t.Errorf("/_node/plugins: %+v", plugins)
	}

	r.stdin.Close()
	if err := waitExit(r.cmd, 20*time.Second); err != nil {
		t.Fatalf("after stdin closed: %v\n%s", err, r.errb.String())
	}
}

func (r *apiRun) metrics(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(r.get(t, "/metrics"))))
	if err != nil {
		t.Fatalf("/metrics is not Prometheus text: %v", err)
	}
	return fams
}

// metricValue finds the counter, gauge or untyped value of the sample of
// name whose labels include want.
func metricValue(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

func TestMonitoringAPIRefusesNonLocalBindUnlessTold(t *testing.T) {
	cfg := writeFile(t, "api.hcl", `
input "generator" "gen" { count = 1 }
output "stdout" "out" { codec = "dots" }
`)
	_, stderr, code := gostash(t, "", "-f", cfg, "--api.http.host", "0.0.0.0")
	if code != 1 || !strings.Contains(stderr, "not a loopback address") || !strings.Contains(stderr, "--api.http.allow_remote") {
		t.Fatalf("exit %d; want 1 with the reason and the flag that allows it:\n%s", code, stderr)
	}
	// Told explicitly, it binds (and this run ends by itself).
	_, stderr, code = gostash(t, "", "-f", cfg, "--api.http.host", "0.0.0.0", "--api.http.allow_remote")
	if code != 0 || !apiAddress.MatchString(stderr) {
		t.Fatalf("with --api.http.allow_remote: exit %d\n%s", code, stderr)
	}
	// Off, nothing listens.
	_, stderr, code = gostash(t, "", "-f", cfg, "--api.enabled=false")
	if code != 0 || apiAddress.MatchString(stderr) {
		t.Fatalf("with --api.enabled=false: exit %d\n%s", code, stderr)
	}
}

// Two runs on one port range: the second takes the next free port, as
// Logstash does with 9600-9700.
func TestMonitoringAPITakesTheNextFreePort(t *testing.T) {
	cfg := writeFile(t, "api.hcl", "input \"stdin\" \"in\" {}\noutput \"stdout\" \"out\" { codec = \"dots\" }\n")
	a := startAPIRun(t, cfg, "--api.http.port", "9690-9699")
	b := startAPIRun(t, cfg, "--api.http.port", "9690-9699")
	if a.base == b.base {
		t.Fatalf("both on %s", a.base)
	}
	if sa, sb := a.stats(t), b.stats(t); sa.HTTPAddress == sb.HTTPAddress {
		t.Fatalf("http_address %s twice", sa.HTTPAddress)
	}
}

// A filter process killed mid-run is restarted: the API counts the
// restart on each filter it hosts, and the health report is yellow and
// says which process, until the restart is a minute old.
func TestMonitoringAPIShowsAPluginRestart(t *testing.T) {
	r := startAPIRun(t, writeFile(t, "api.hcl", apiPipeline))
	if _, err := io.WriteString(r.stdin, "1\n2\n3\n"); err != nil {
		t.Fatal(err)
	}
	if !waitFor(10*time.Second, func() bool { return r.stats(t).Pipelines["main"].Events.Out == 3+2 }) { // all 3, and the odd 1 and 3
		t.Fatalf("the first events did not go through: %+v", r.stats(t).Pipelines["main"].Events)
	}
	pid := waitChild(t, r.cmd.Process.Pid, "builtin-filters")
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// The next batch finds the process gone and restarts it.
	if _, err := io.WriteString(r.stdin, "5\n"); err != nil {
		t.Fatal(err)
	}
	if !waitFor(15*time.Second, func() bool { return r.stats(t).Pipelines["main"].Events.Out == 4+3 }) {
		t.Fatalf("no event after the restart: %+v\n%s", r.stats(t).Pipelines["main"].Events, r.errb.String())
	}
	main := r.stats(t).Pipelines["main"]
	for _, f := range main.Plugins.Filters {
		if f.Restarts != 1 {
			t.Errorf("filter %s restarts %d; want 1", f.ID, f.Restarts)
		}
	}
	if in := main.Plugins.Inputs[0]; in.Restarts != 0 {
		t.Errorf("input restarts %d; its process did not die", in.Restarts)
	}
	var health struct {
		Status     string
		Indicators map[string]struct {
			Indicators map[string]struct{ Status, Symptom string }
		}
	}
	if err := json.Unmarshal(r.get(t, "/_health_report"), &health); err != nil {
		t.Fatal(err)
	}
	p := health.Indicators["pipelines"].Indicators["main"]
	if health.Status != "yellow" || !strings.Contains(p.Symptom, "restarted") || strings.Count(p.Symptom, "restarted") != 1 {
		t.Fatalf("health %s: %q; want yellow, one line for the one process that restarted", health.Status, p.Symptom)
	}
	if v, ok := metricValue(r.metrics(t), "gostash_pipeline_plugin_restarts_total", map[string]string{"pipeline": "main"}); !ok || v != 1 {
		t.Fatalf("gostash_pipeline_plugin_restarts_total %v (%v); want 1", v, ok)
	}
}

// Events an output rejects for good are counted where they went: the
// output's dead_lettered_events, the pipeline's dead letter queue (with
// its size on disk, and what its size bound dropped), and /metrics.
func TestMonitoringAPICountsDeadLetters(t *testing.T) {
	t.Run("default bound", func(t *testing.T) { countsDeadLetters(t, "1024mb", 1<<30) })
	t.Run("full queue", func(t *testing.T) { countsDeadLetters(t, "1kb", 1<<10) })
}

func countsDeadLetters(t *testing.T, maxBytes string, bound int64) {
	out := t.TempDir()
	cfg := writeFile(t, "dlq.hcl", fmt.Sprintf(`
input "stdin" "in" { codec = "json" }
output "file" "o" {
  path   = "%s/%%{n}"
  codec  = "line"
  format = "%%{n}"
}
`, out))
	r := startAPIRun(t, cfg, "--dead_letter_queue.max_bytes", maxBytes)
	// Every fifth event has an empty n: its path is the output's
	// directory, which no event can be written to.
	var lines strings.Builder
	for i := 1; i <= 50; i++ {
		n := fmt.Sprint(i)
		if i%5 == 0 {
			n = ""
		}
		fmt.Fprintf(&lines, "{\"n\":%q}\n", n)
	}
	if _, err := io.WriteString(r.stdin, lines.String()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Pipelines map[string]struct {
			Events          eventCounts
			DeadLetterQueue struct {
				Events  int64
				Size    int64  `json:"queue_size_in_bytes"`
				Dropped int64  `json:"dropped_events"`
				Max     int64  `json:"max_queue_size_in_bytes"`
				Policy  string `json:"storage_policy"`
			} `json:"dead_letter_queue"`
			Plugins struct {
				Outputs []struct {
					ID           string
					Events       eventCounts
					DeadLettered int64 `json:"dead_lettered_events"`
				}
			}
		}
	}
	if !waitFor(15*time.Second, func() bool {
		_ = json.Unmarshal(r.get(t, "/_node/stats/pipelines"), &doc)
		return doc.Pipelines["main"].Events.Out+doc.Pipelines["main"].DeadLetterQueue.Events == 50
	}) {
		t.Fatalf("not everything accounted for: %+v\n%s", doc, r.errb.String())
	}
	p := doc.Pipelines["main"]
	o := p.Plugins.Outputs[0]
	if p.DeadLetterQueue.Events != 10 || p.DeadLetterQueue.Size == 0 || o.DeadLettered != 10 || o.Events.Out != 40 || o.Events.In != 50 {
		t.Fatalf("dead letter queue %+v, output %+v; want 10 dead-lettered (on disk), 40 written of 50", p.DeadLetterQueue, o)
	}
	metrics := r.metrics(t)
	if v, ok := metricValue(metrics, "gostash_plugin_events_dead_lettered_total", map[string]string{"plugin_id": "o"}); !ok || v != 10 {
		t.Fatalf("gostash_plugin_events_dead_lettered_total %v (%v); want 10", v, ok)
	}
	// An entry is a few hundred bytes: 1kb holds some of the ten, and
	// drop_newer (the default) drops the rest.
	q := p.DeadLetterQueue
	if q.Max != bound || q.Policy != "drop_newer" || (bound > 1<<20) != (q.Dropped == 0) || q.Dropped >= 10 {
		t.Fatalf("dead letter queue %+v with --dead_letter_queue.max_bytes %s", q, maxBytes)
	}
	if v, ok := metricValue(metrics, "gostash_pipeline_dead_letter_dropped_total", map[string]string{"pipeline": "main"}); !ok || int64(v) != q.Dropped {
		t.Fatalf("gostash_pipeline_dead_letter_dropped_total %v (%v); want %d", v, ok, q.Dropped)
	}
}

// Filters that one process runs as a chain each get their own time: the
// operator sees which filter of the chain is the slow one, as Logstash's
// per-plugin duration_in_millis shows it, and the chain's time beside it.
func TestMonitoringAPITimesEachFilterOfAChain(t *testing.T) {
	const n = 600
	r := startAPIRun(t, writeFile(t, "chain.hcl", `
input "stdin" "in" {}
filter "expr" "number" { set = { "[n]" = "int(message)" } }
filter "expr" "slow" { set = { "[s]" = "sum(map(1..(3000 + n % 2), # * n))" } }
filter "mutate" "quick" { add_tag = ["seen"] }
output "stdout" "out" { codec = "dots" }
`))
	var lines strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&lines, "%d\n", i)
	}
	if _, err := io.WriteString(r.stdin, lines.String()); err != nil {
		t.Fatal(err)
	}
	var s statsDoc
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if s = r.stats(t); s.Pipelines["main"].Events.Out == n {
			break
		}
	}
	filters := byID(s.Pipelines["main"].Plugins.Filters)
	slow, quick, number := filters["slow"], filters["quick"], filters["number"]
	if slow.Events.Out != n || quick.Events.Out != n {
		t.Fatalf("filters %+v; want %d events through each", filters, n)
	}
	if slow.Events.Duration < 20 || slow.Events.Duration <= quick.Events.Duration || slow.Events.Duration <= number.Events.Duration {
		t.Errorf("durations slow %d ms, quick %d ms, number %d ms: the slow filter should stand out", slow.Events.Duration, quick.Events.Duration, number.Events.Duration)
	}
	if slow.ChainDuration < slow.Events.Duration/2 || len(slow.Chain) != 3 {
		t.Errorf("chain %v took %d ms, its slow filter %d ms", slow.Chain, slow.ChainDuration, slow.Events.Duration)
	}
}
