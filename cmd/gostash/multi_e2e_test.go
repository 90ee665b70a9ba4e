package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Several pipelines in one process, run through the binary: each gets
// exactly its own events, keeps its own state, and is neither stopped nor
// reloaded by another.

// put writes content to path, making its directory, and returns path.
func put(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// linesOnce fails unless path holds each of the n numbered lines once.
func linesOnce(t *testing.T, path string, n int) {
	t.Helper()
	seen, torn := countShipped(t, path, n)
	if torn > 0 {
		t.Fatalf("%s: %d lines that are not the input's", path, torn)
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("%s: line %d arrived %d times, want once", path, i, c)
		}
	}
}

// linesAll says whether every line of path is want, and how many there are.
func linesAll(t *testing.T, path, want string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	for _, l := range lines {
		if l != want {
			t.Fatalf("%s has %q, want only %q lines", path, l, want)
		}
	}
	return len(lines)
}

// Both pipelines name their blocks "in" and "out": names are unique per
// pipeline, and the file input's positions are kept per pipeline.
const twoPipelines = `
pipeline "gen" {
  workers = 1
  input "generator" "in" {
    count   = 300
    message = "from gen"
  }
  output "file" "out" {
    path   = "%s"
    codec  = "line"
    format = "%%{message}"
  }
}

pipeline "files" {
  batch_size = 50
  input "file" "in" {
    path            = ["%s"]
    mode            = "read"
    exit_after_read = true
    file_completed_action = "log"
    file_completed_log_path = "%s"
  }
  output "file" "out" {
    path   = "%s"
    codec  = "line"
    format = "%%{message}"
  }
}
`

func TestTwoPipelinesInOneFileEachDeliverTheirEvents(t *testing.T) {
	dir := t.TempDir()
	in, genOut, filesOut, data := filepath.Join(dir, "in.log"), filepath.Join(dir, "gen.out"), filepath.Join(dir, "files.out"), filepath.Join(dir, "data")
	numberedLines(t, in, 0, 1000)
	cfg := put(t, filepath.Join(dir, "p.hcl"), fmt.Sprintf(twoPipelines, genOut, in, filepath.Join(dir, "done.log"), filesOut))

	stdout, stderr, code := gostash(t, "", "-t", "-f", cfg)
	if code != 0 || !strings.Contains(stdout, "Configuration OK (pipelines gen, files)") {
		t.Fatalf("configtest: exit %d\n%s%s", code, stdout, stderr)
	}
	_, stderr, code = gostash(t, "", "-f", cfg, "--path.data", data, "--api.enabled=false")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if n := linesAll(t, genOut, "from gen"); n != 300 {
		t.Fatalf("gen delivered %d events, want 300", n)
	}
	linesOnce(t, filesOut, 1000)
	for _, id := range []string{"gen", "files"} {
		if !strings.Contains(stderr, "pipeline started\" pipeline="+id) || !strings.Contains(stderr, "pipeline stopped\" pipeline="+id) {
			t.Fatalf("the log does not show pipeline %s start and stop:\n%s", id, stderr)
		}
	}
	// The file input's positions are the files pipeline's, apart from
	// any other pipeline's "in".
	if _, err := os.Stat(filepath.Join(data, "pipelines", "files", "plugins", "inputs", "file", "in", "sincedb")); err != nil {
		t.Fatalf("the files pipeline's sincedb is not under its id: %v", err)
	}
	// A second run reads nothing again: the positions were found.
	_, stderr, code = gostash(t, "", "-f", cfg, "--path.data", data, "--api.enabled=false")
	if code != 0 {
		t.Fatalf("second run: exit %d\n%s", code, stderr)
	}
	linesOnce(t, filesOut, 1000)
}

// healthDoc is the part of /_health_report the tests read.
type healthDoc struct {
	Status     string
	Indicators map[string]struct {
		Indicators map[string]struct{ Status, Symptom string }
	}
}

func (r *apiRun) health(t *testing.T) healthDoc {
	t.Helper()
	var h healthDoc
	if err := json.Unmarshal(r.get(t, "/_health_report"), &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// blackhole accepts connections and never answers: an Elasticsearch that
// hangs.
func blackhole(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// The stuck pipeline's output retries an Elasticsearch that never
// answers; the other pipeline delivers every event meanwhile, the API
// counts each pipeline's own events, and a stop exits 3 because the stuck
// one could not drain, while the other's events are all there.
func TestStuckOutputInOnePipelineDoesNotStopAnother(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "flowing.out")
	cfg := put(t, filepath.Join(dir, "p.hcl"), fmt.Sprintf(`
pipeline "stuck" {
  workers = 1
  input "generator" "in" { count = 2000 }
  output "elasticsearch" "es" {
    hosts           = ["http://%s"]
    flavor          = "elasticsearch"
    manage_template = false
    ilm_enabled     = "false"
    timeout         = 1
  }
}
pipeline "flowing" {
  workers = 1
  input "generator" "in" {
    count   = 5000
    message = "flows"
  }
  output "file" "out" {
    path   = "%s"
    codec  = "line"
    format = "%%{message}"
  }
}
`, blackhole(t), out))
	r := startAPIRun(t, cfg, "--path.data", filepath.Join(dir, "data"), "--pipeline.drain_timeout", "2s")
	deadline := time.Now().Add(30 * time.Second)
	var s statsDoc
	for {
		s = r.stats(t)
		if s.Pipelines["flowing"].Events.Out == 5000 && s.Pipelines["stuck"].Events.In > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("flowing did not deliver its 5000 events beside the stuck pipeline: %+v\n%s", s.Pipelines, r.errb)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := linesAll(t, out, "flows"); n != 5000 {
		t.Fatalf("flowing wrote %d events, want 5000", n)
	}
	flowing, stuck := s.Pipelines["flowing"], s.Pipelines["stuck"]
	if flowing.Events.In != 5000 || flowing.Events.Filtered != 5000 {
		t.Fatalf("flowing counts %+v, want 5000 in and filtered", flowing.Events)
	}
	if stuck.Events.Out != 0 || stuck.Events.In > 2000 {
		t.Fatalf("stuck counts %+v: nothing can be out, at most 2000 in", stuck.Events)
	}
	fams := r.metrics(t)
	for id, want := range map[string]float64{"flowing": 5000, "stuck": 0} {
		if v, ok := metricValue(fams, "gostash_pipeline_events_out_total", map[string]string{"pipeline": id}); !ok || v != want {
			t.Fatalf("/metrics: pipeline %s out %v (found %t), want %v", id, v, ok, want)
		}
	}
	if ps := r.health(t).Indicators["pipelines"].Indicators; len(ps) != 2 || ps["flowing"].Status == "" || ps["stuck"].Status == "" {
		t.Fatalf("/_health_report lists %v, want both pipelines", ps)
	}

	// The output's own log lines carry the id of the pipeline it serves.
	if !waitFor(20*time.Second, func() bool {
		for _, l := range strings.Split(r.errb.String(), "\n") {
			if strings.Contains(l, "@module=plugin.output.es") && strings.Contains(l, "pipeline=stuck") {
				return true
			}
		}
		return false
	}) {
		t.Fatalf("no log line of the stuck output names its pipeline:\n%s", r.errb)
	}

	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := waitExit(r.cmd, 20*time.Second)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitNotDrained {
		t.Fatalf("stop with a stuck pipeline: %v, want exit %d\n%s", err, exitNotDrained, r.errb)
	}
	if !strings.Contains(r.errb.String(), "pipeline stopped\" pipeline=flowing") {
		t.Fatalf("the log does not show flowing stopping:\n%s", r.errb)
	}
}

// pipelines.yml in --path.settings declares two pipelines, one from a
// glob relative to the file, one inline, each with its own settings; -f
// wins over it, with a warning.
func TestPipelinesYmlRunsEveryEntry(t *testing.T) {
	dir := t.TempDir()
	settings, in := filepath.Join(dir, "settings"), filepath.Join(dir, "in.log")
	oneOut, twoOut := filepath.Join(dir, "one.out"), filepath.Join(dir, "two.out")
	numberedLines(t, in, 0, 700)
	put(t, filepath.Join(settings, "conf.d", "one.hcl"), fmt.Sprintf(`
input "file" "in" {
  path = ["%s"]
  mode = "read"
  exit_after_read = true
  file_completed_action = "log"
  file_completed_log_path = "%s"
}
output "file" "out" {
  path   = "%s"
  codec  = "line"
  format = "%%{message}"
}
`, in, filepath.Join(dir, "done.log"), oneOut))
	put(t, filepath.Join(settings, "pipelines.yml"), fmt.Sprintf(`
- pipeline.id: one
  path.config: "conf.d/*.hcl"
  pipeline.workers: 1
  pipeline.batch.size: 25
- pipeline.id: two
  pipeline.batch.delay: 5
  config.string: |
    input "generator" "in" {
      count   = 40
      message = "two"
    }
    output "file" "out" {
      path   = "%s"
      codec  = "line"
      format = "%%{message}"
    }
`, twoOut))
	stdout, stderr, code := gostash(t, "", "-t", "--path.settings", settings)
	if code != 0 || !strings.Contains(stdout, "Configuration OK (pipelines one, two)") {
		t.Fatalf("configtest: exit %d\n%s%s", code, stdout, stderr)
	}
	_, stderr, code = gostash(t, "", "--path.settings", settings, "--path.data", filepath.Join(dir, "data"), "--api.enabled=false")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	linesOnce(t, oneOut, 700)
	if n := linesAll(t, twoOut, "two"); n != 40 {
		t.Fatalf("two delivered %d events, want 40", n)
	}
	if !strings.Contains(stderr, `pipeline=one workers=1 batch_size=25`) {
		t.Fatalf("pipeline one did not take its pipelines.yml settings:\n%s", stderr)
	}

	// -e wins, and says it ignores the file.
	stdout, stderr, code = gostash(t, "", "--path.settings", settings, "--api.enabled=false", "--path.data", filepath.Join(dir, "data2"),
		"-e", `input "generator" "g" { count = 1 }
output "stdout" "o" { codec = "line" }`)
	if code != 0 || strings.Count(stdout, "\n") != 1 || !strings.Contains(stderr, "ignoring pipelines.yml because -f or -e gives the configuration") {
		t.Fatalf("-e with --path.settings: exit %d\n%s%s", code, stdout, stderr)
	}
}

// --configtest checks every pipeline and names it in each problem, in a
// file of pipeline blocks and in pipelines.yml alike.
func TestConfigTestNamesThePipelineOfEachProblem(t *testing.T) {
	dir := t.TempDir()
	cfg := put(t, filepath.Join(dir, "p.hcl"), `
pipeline "web" {
  workerz = 2
  input "generator" "in" {}
  output "stdout" "out" { codex = "line" }
}
pipeline "db" {
  input "generator" "in" { cont = 3 }
  output "stdout" "out" {}
}
pipeline "web" {
  input "generator" "in" {}
  output "stdout" "out" {}
}
`)
	_, stderr, code := gostash(t, "", "-t", "-f", cfg)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, stderr)
	}
	for _, want := range []string{
		`p.hcl:3:3: Error: pipeline "web": Unknown setting "workerz"`,
		`p.hcl:5:27: Error: pipeline "web": Unknown setting "codex"`,
		`p.hcl:8:28: Error: pipeline "db": Unknown setting "cont"`,
		`p.hcl:11:10: Error: Duplicate pipeline id "web"`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("configtest output lacks %q:\n%s", want, stderr)
		}
	}

	settings := filepath.Join(dir, "settings")
	put(t, filepath.Join(settings, "pipelines.yml"), `
- pipeline.id: ok
  config.string: "input \"generator\" \"in\" {}\noutput \"stdout\" \"out\" {}"
- pipeline.id: bad
  pipeline.workers: 0
  config.string: "input \"generator\" \"in\" { cont = 3 }\noutput \"stdout\" \"out\" {}"
- pipeline.id: ok
  config.string: "input \"generator\" \"in\" {}\noutput \"stdout\" \"out\" {}"
- pipeline.id: two_stdin_a
  config.string: "input \"stdin\" \"in\" {}\noutput \"stdout\" \"out\" {}"
- pipeline.id: two_stdin_b
  config.string: "input \"stdin\" \"in\" {}\noutput \"stdout\" \"out\" {}"
`)
	_, stderr, code = gostash(t, "", "-t", "--path.settings", settings)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, stderr)
	}
	for _, want := range []string{
		`pipelines.yml:5:21: Error: pipeline "bad": Invalid value for "pipeline.workers"`,
		`<inline>:1:26: Error: pipeline "bad": Unknown setting "cont"`,
		`pipelines.yml:7:3: Error: Duplicate pipeline id "ok"`,
		`pipelines "two_stdin_a" and "two_stdin_b" each read standard input`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("configtest output lacks %q:\n%s", want, stderr)
		}
	}
}

// reloadTwo is a steady pipeline tailing a growing file and a pipeline
// that the test changes (%s: its generator's message and output).
const reloadTwo = `
pipeline "steady" {
  workers = 1
  input "file" "in" {
    path           = ["%s"]
    start_position = "beginning"
    stat_interval  = "20ms"
  }
  output "file" "out" {
    path   = "%s"
    codec  = "line"
    format = "%%{message}"
  }
}
%s
`

// With -r, changing one pipeline reloads only that one: the other's
// counters keep running (no restart, no reset) and it loses and repeats
// nothing. A bad change to one is reported with its id and both keep
// running; a pipeline can be added and removed.
func TestReloadOfOnePipelineLeavesTheOtherRunning(t *testing.T) {
	dir := t.TempDir()
	in, steadyOut, cfg := filepath.Join(dir, "in.log"), filepath.Join(dir, "steady.out"), filepath.Join(dir, "p.hcl")
	changing := func(version string, extra string) string {
		return fmt.Sprintf(`pipeline "changing" {
  input "generator" "in" {
    count   = 10
    message = "%s"
  }
  %s
  output "file" "out" {
    path   = "%s"
    codec  = "line"
    format = "%%{message}"
  }
}`, version, extra, filepath.Join(dir, "changing-"+version+".out"))
	}
	replaceFile(t, cfg, fmt.Sprintf(reloadTwo, in, steadyOut, changing("v1", "")))

	var written atomic.Int64
	stop, errs := make(chan struct{}), make(chan error, 1)
	go appendLines(in, stop, &written, errs)
	stopped := false
	defer func() {
		if !stopped {
			close(stop)
		}
	}()
	r := startAPIRun(t, cfg, "-r", "--config.reload.interval", "100ms", "--path.data", filepath.Join(dir, "data"))
	waitLog(t, r.errb, "pipeline started", 2, 20*time.Second)
	waitGrows(t, steadyOut, r.errb)
	before := r.stats(t).Pipelines["steady"].Events.In

	// v2 of changing: it restarts; steady does not.
	replaceFile(t, cfg, fmt.Sprintf(reloadTwo, in, steadyOut, changing("v2", "")))
	waitLog(t, r.errb, `pipeline started" pipeline=changing`, 2, 20*time.Second)
	waitGrows(t, steadyOut, r.errb)
	after := r.stats(t).Pipelines["steady"].Events.In
	if after <= before {
		t.Fatalf("steady's events in went from %d to %d across the other's reload: it was restarted or stalled", before, after)
	}
	v2 := filepath.Join(dir, "changing-v2.out")
	if !waitFor(20*time.Second, func() bool { return shippedLines(v2) >= 10 }) {
		t.Fatalf("changing v2 delivered %d events, want 10:\n%s", shippedLines(v2), r.errb)
	}
	if n := linesAll(t, v2, "v2"); n != 10 {
		t.Fatalf("changing v2 delivered %d events, want 10", n)
	}

	// A bad change to changing: reported with its id, both keep running.
	replaceFile(t, cfg, fmt.Sprintf(reloadTwo, in, steadyOut, changing("v3", `filter "mutate" "m" { no_such_setting = 1 }`)))
	waitLog(t, r.errb, `keeps running as it was" pipeline=changing`, 1, 20*time.Second)
	if !strings.Contains(r.errb.String(), `Error: pipeline "changing": Unknown setting "no_such_setting"`) {
		t.Fatalf("the bad change's diagnostic does not name the pipeline:\n%s", r.errb)
	}
	waitGrows(t, steadyOut, r.errb)

	// changing is removed, added is added.
	replaceFile(t, cfg, fmt.Sprintf(reloadTwo, in, steadyOut, strings.ReplaceAll(changing("added", ""), `"changing"`, `"added"`)))
	waitLog(t, r.errb, `pipeline removed from the configuration" pipeline=changing`, 1, 20*time.Second)
	waitLog(t, r.errb, `pipeline started" pipeline=added`, 1, 20*time.Second)
	waitGrows(t, steadyOut, r.errb)
	s := r.stats(t)
	if _, ok := s.Pipelines["changing"]; ok || len(s.Pipelines) != 2 {
		t.Fatalf("the API lists %v after the removal, want steady and added", s.Pipelines)
	}
	if s.Pipelines["steady"].Events.In < after {
		t.Fatalf("steady's counts were reset: %d after %d", s.Pipelines["steady"].Events.In, after)
	}
	if n := strings.Count(r.errb.String(), `pipeline started" pipeline=steady`); n != 1 {
		t.Fatalf("steady started %d times, want once:\n%s", n, r.errb)
	}

	close(stop)
	stopped = true
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	n := int(written.Load())
	deadline := time.Now().Add(30 * time.Second)
	for shippedLines(steadyOut) < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := waitExit(r.cmd, 20*time.Second); err != nil {
		t.Fatalf("stop: %v\n%s", err, r.errb)
	}
	linesOnce(t, steadyOut, n)
}

// The pipelines.yml example passes --configtest, as the .hcl ones do.
func TestExamplePipelinesYmlPassesConfigTest(t *testing.T) {
	abs, _ := filepath.Abs("../../pipelines/settings")
	stdout, stderr, code := gostash(t, "", "-t", "--path.settings", abs)
	if code != 0 || !strings.Contains(stdout, "Configuration OK (pipelines quickstart, archive)") {
		t.Fatalf("configtest failed (exit %d):\n%s%s", code, stdout, stderr)
	}
}

// A pipeline whose plugin refuses to open (a sincedb_path that is a
// directory) is reported by id, shows red in /_health_report with the
// reason, and the other pipeline runs; the run's exit status is 1.
func TestPipelineThatCannotStartIsReportedAndTheOthersRun(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "ok.out")
	cfg := put(t, filepath.Join(dir, "p.hcl"), fmt.Sprintf(`
pipeline "broken" {
  input "file" "in" {
    path         = ["%s"]
    sincedb_path = "%s"
  }
  output "stdout" "out" {}
}
pipeline "ok" {
  workers = 1
  input "generator" "in" {
    message = "ok"
    rate    = 500
  }
  output "file" "out" {
    path   = "%s"
    codec  = "line"
    format = "%%{message}"
  }
}
`, filepath.Join(dir, "in.log"), dir, out))
	r := startAPIRun(t, cfg, "--path.data", filepath.Join(dir, "data"))
	waitLog(t, r.errb, `msg="cannot start the pipeline" pipeline=broken`, 1, 20*time.Second)
	if !waitFor(20*time.Second, func() bool { return shippedLines(out) > 0 }) {
		t.Fatalf("ok delivered nothing beside the broken pipeline:\n%s", r.errb)
	}
	health := r.health(t)
	ps := health.Indicators["pipelines"].Indicators
	if health.Status != "red" || ps["broken"].Status != "red" || !strings.Contains(ps["broken"].Symptom, "could not start") || ps["ok"].Status != "green" {
		t.Fatalf("/_health_report: %s, pipelines %+v: want broken red with the reason, ok green", health.Status, ps)
	}
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := waitExit(r.cmd, 20*time.Second)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("stop after a pipeline could not start: %v, want exit 1\n%s", err, r.errb)
	}
	if n := linesAll(t, out, "ok"); n == 0 {
		t.Fatal("ok's output is empty")
	}
}
