package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk/sdktest/testenv"
)

// reloadPipeline reads a growing file and writes its lines to out; the
// input keeps its name across versions, so its positions carry over.
const reloadPipeline = `
pipeline { workers = 2 }
input "file" "in" {
  path           = ["%s"]
  start_position = "beginning"
  stat_interval  = "20ms"
}
%s
output "file" "out" {
  path   = "%s"
  codec  = "line"
  format = "%%{message}"
}
`

// replaceFile writes content to path in one step, as editors that save
// through a temporary file do.
func replaceFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// appendLines appends numbered lines to path, a few each millisecond,
// whole lines per write, until stop is closed; it returns how many it
// wrote through n.
func appendLines(path string, stop <-chan struct{}, n *atomic.Int64, errs chan<- error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		errs <- err
		return
	}
	defer f.Close()
	var b bytes.Buffer
	for i := 0; ; {
		select {
		case <-stop:
			errs <- nil
			return
		default:
		}
		b.Reset()
		for j := 0; j < 20; j++ {
			fmt.Fprintf(&b, "n=%d GET /some/path/of/a/typical/length?q=%d HTTP/1.1 200 1234\n", i, i)
			i++
		}
		if _, err := f.Write(b.Bytes()); err != nil {
			errs <- err
			return
		}
		n.Store(int64(i))
		time.Sleep(time.Millisecond)
	}
}

// waitLog waits until the log says want at least count times.
func waitLog(t *testing.T, errb *lockedBuffer, want string, count int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for strings.Count(errb.String(), want) < count {
		if time.Now().After(deadline) {
			t.Fatalf("the log says %q %d times after %v, want %d:\n%s", want, strings.Count(errb.String(), want), within, count, errb)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitGrows waits until the file at path has more lines than it has now.
func waitGrows(t *testing.T, path string, errb *lockedBuffer) {
	t.Helper()
	before := shippedLines(path)
	deadline := time.Now().Add(20 * time.Second)
	for shippedLines(path) <= before {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not grow from %d lines:\n%s", path, before, errb)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A pipeline is changed three times while it runs (-r) and lines keep
// coming: the output's path changes twice, a filter comes and goes, and
// one change is invalid. The invalid one is reported once and the running
// pipeline goes on; every line arrives exactly once in the union of the
// outputs, since each reload drains the old pipeline and the new one
// reads on from its acked positions.
func TestReloadChangedThreeTimesLosesAndRepeatsNothing(t *testing.T) {
	dir := t.TempDir()
	in, data, cfg := filepath.Join(dir, "in.log"), filepath.Join(dir, "data"), filepath.Join(dir, "p.hcl")
	outs := []string{filepath.Join(dir, "out1.log"), filepath.Join(dir, "out2.log"), filepath.Join(dir, "out3.log")}
	replaceFile(t, cfg, fmt.Sprintf(reloadPipeline, in, "", outs[0]))

	var written atomic.Int64
	stop, errs := make(chan struct{}), make(chan error, 1)
	go appendLines(in, stop, &written, errs)
	stopped := false
	defer func() {
		if !stopped {
			close(stop)
		}
	}()

	cmd := exec.Command(gostashBin, "-r", "--config.reload.interval", "100ms", "-f", cfg, "--path.data", data)
	cmd.Dir = dir
	var errb lockedBuffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	waitLog(t, &errb, "pipeline started", 1, 20*time.Second)
	waitGrows(t, outs[0], &errb)

	// 1: a new output path and a filter that does not change the line.
	replaceFile(t, cfg, fmt.Sprintf(reloadPipeline, in, `filter "mutate" "m" { add_field = { "v" = "2" } }`, outs[1]))
	waitLog(t, &errb, "pipeline started", 2, 20*time.Second)
	waitGrows(t, outs[1], &errb)

	// 2: invalid. It is reported, once, and version 1 keeps shipping.
	replaceFile(t, cfg, fmt.Sprintf(reloadPipeline, in, `filter "mutate" "m" { no_such_setting = 1 }`, outs[2]))
	waitLog(t, &errb, "was not loaded", 1, 20*time.Second)
	time.Sleep(500 * time.Millisecond) // five intervals
	waitGrows(t, outs[1], &errb)
	log := errb.String()
	if n := strings.Count(log, "no_such_setting"); n == 0 {
		t.Fatalf("the invalid change's diagnostics do not name the bad setting:\n%s", log)
	}
	if n := strings.Count(log, "was not loaded"); n != 1 {
		t.Fatalf("the invalid change was reported %d times, want once:\n%s", n, log)
	}
	if n := strings.Count(log, "pipeline started"); n != 2 {
		t.Fatalf("an invalid change restarted the pipeline:\n%s", log)
	}
	if _, err := os.Stat(outs[2]); err == nil {
		t.Fatalf("the invalid version wrote its output")
	}

	// 3: fixed, with the third output path.
	replaceFile(t, cfg, fmt.Sprintf(reloadPipeline, in, "", outs[2]))
	waitLog(t, &errb, "pipeline started", 3, 20*time.Second)
	waitGrows(t, outs[2], &errb)

	close(stop)
	stopped = true
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	n := int(written.Load())
	deadline := time.Now().Add(30 * time.Second)
	var seen []int
	for {
		seen = make([]int, n)
		torn := 0
		for _, out := range outs {
			s, tr := countShipped(t, out, n)
			torn += tr
			for i, c := range s {
				seen[i] += c
			}
		}
		if torn > 0 {
			t.Fatalf("%d torn lines", torn)
		}
		missing := 0
		for _, c := range seen {
			if c == 0 {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d lines never arrived:\n%s", missing, n, errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := waitExit(cmd, 20*time.Second); err != nil {
		t.Fatalf("stop after the reloads: %v\n%s", err, errb.String())
	}
	seen = make([]int, n)
	for _, out := range outs {
		s, _ := countShipped(t, out, n)
		for i, c := range s {
			seen[i] += c
		}
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("line %d arrived %d times, want once (outputs %d, %d, %d lines)", i, c, shippedLines(outs[0]), shippedLines(outs[1]), shippedLines(outs[2]))
		}
	}
	t.Logf("%d lines over three versions: %d, %d, %d", n, shippedLines(outs[0]), shippedLines(outs[1]), shippedLines(outs[2]))
}

// Logstash refuses automatic reload with a configuration given on the
// command line: there is no file to watch.
func TestReloadWithInlineConfigRefused(t *testing.T) {
	_, stderr, code := gostash(t, "", "-r", "-e", `input "stdin" "in" {}
output "stdout" "out" {}`)
	if code != 2 {
		t.Fatalf("exit %d, want 2\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "-r (--config.reload.automatic) cannot be used with -e") || !strings.Contains(stderr, "-f") {
		t.Fatalf("stderr does not explain the refusal: %q", stderr)
	}
}

// A change that passes the checks but whose plugins refuse to open (here
// a sincedb_path that is a directory) is reported, and the configuration
// that ran before starts again from where it stopped.
func TestReloadThatCannotOpenRestartsThePreviousPipeline(t *testing.T) {
	dir := t.TempDir()
	in, data, cfg, out := filepath.Join(dir, "in.log"), filepath.Join(dir, "data"), filepath.Join(dir, "p.hcl"), filepath.Join(dir, "out.log")
	replaceFile(t, cfg, fmt.Sprintf(reloadPipeline, in, "", out))
	var written atomic.Int64
	stop, errs := make(chan struct{}), make(chan error, 1)
	go appendLines(in, stop, &written, errs)
	defer func() { close(stop); <-errs }()

	cmd := exec.Command(gostashBin, "-r", "--config.reload.interval", "100ms", "-f", cfg, "--path.data", data)
	cmd.Dir = dir
	var errb lockedBuffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	waitLog(t, &errb, "pipeline started", 1, 20*time.Second)
	waitGrows(t, out, &errb)

	bad := fmt.Sprintf(`input "file" "other" {
  path         = ["%s"]
  sincedb_path = "%s"
}`, filepath.Join(dir, "other.log"), dir)
	replaceFile(t, cfg, fmt.Sprintf(reloadPipeline, in, bad, filepath.Join(dir, "never.log")))
	waitLog(t, &errb, "the new configuration cannot start", 1, 20*time.Second)
	waitLog(t, &errb, "pipeline started", 2, 20*time.Second)
	waitGrows(t, out, &errb)
	if !strings.Contains(errb.String(), "cannot read the sincedb") {
		t.Fatalf("the log does not say why the new configuration cannot start:\n%s", errb.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := waitExit(cmd, 20*time.Second); err != nil {
		t.Fatalf("stop: %v\n%s", err, errb.String())
	}
	seen, torn := countShipped(t, out, int(written.Load()))
	last := -1
	for i, c := range seen {
		if c > 1 || torn > 0 {
			t.Fatalf("line %d arrived %d times (%d torn)", i, c, torn)
		}
		if c == 1 {
			if last != i-1 {
				t.Fatalf("lines %d to %d are missing, before line %d", last+1, i-1, i)
			}
			last = i
		}
	}
}

// With -r, a pipeline whose inputs have all ended leaves gostash waiting
// for a change, as Logstash does; the changed pipeline then runs, and a
// stop signal ends the run.
func TestReloadAfterTheInputsEnded(t *testing.T) {
	const gen = `
input "generator" "g" {
  lines = ["%s"]
  count = %d
}
output "stdout" "out" { codec = "json_lines" }
`
	cfg := filepath.Join(t.TempDir(), "p.hcl")
	replaceFile(t, cfg, fmt.Sprintf(gen, "one", 3))
	cmd := exec.Command(gostashBin, "-r", "--config.reload.interval", "50ms", "-f", cfg)
	cmd.Dir = t.TempDir()
	var out, errb lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	waitLog(t, &errb, "every input has ended", 1, 20*time.Second)
	replaceFile(t, cfg, fmt.Sprintf(gen, "two", 2))
	waitLog(t, &errb, "every input has ended", 2, 20*time.Second)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := exitStatus(t, cmd, 10*time.Second, &errb); code != 0 {
		t.Fatalf("exit %d, want 0\n%s", code, errb.String())
	}
	got := map[string]int{}
	for _, e := range jsonEvents(t, out.String()) {
		got[fmt.Sprint(e["message"])]++
	}
	if got["one"] != 3 || got["two"] != 2 || len(got) != 2 {
		t.Fatalf("messages %v, want one×3 and two×2\n%s", got, errb.String())
	}
}

// Kafka keeps an input's position in the group's committed offsets: a
// reload drains the old pipeline, whose consumer commits what was acked
// before it leaves the group, and the new one's consumer reads on from
// there. Records produced before, during and between two reloads arrive
// exactly once in the union of the outputs.
func TestReloadKafkaInputReadsOnFromCommittedOffsets(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	bootstrap := strings.Join(brokers, ",")
	topic, group := kafkaName("reload"), kafkaName("g")
	kafkaTopic(t, brokers, topic, 3)
	const pipeline = `
input "kafka" "in" {
  bootstrap_servers = "%s"
  topics            = ["%s"]
  group_id          = "%s"
  consumer_threads  = 3
  auto_offset_reset = "earliest"
}
output "file" "out" {
  path   = "%s"
  codec  = "line"
  format = "%%{message}"
}
`
	dir := t.TempDir()
	cfg := filepath.Join(dir, "p.hcl")
	outs := []string{filepath.Join(dir, "out1.log"), filepath.Join(dir, "out2.log"), filepath.Join(dir, "out3.log")}
	produced := 0
	produce := func(n int) {
		var b strings.Builder
		for i := produced; i < produced+n; i++ {
			fmt.Fprintf(&b, "n=%d GET /some/path/of/a/typical/length?q=%d HTTP/1.1 200 1234\n", i, i)
		}
		testenv.Kcat(t, b.String(), "-b", bootstrap, "-P", "-t", topic)
		produced += n
	}
	produce(1000)
	replaceFile(t, cfg, fmt.Sprintf(pipeline, bootstrap, topic, group, outs[0]))
	cmd := exec.Command(gostashBin, "-r", "--config.reload.interval", "100ms", "-f", cfg, "--path.data", filepath.Join(dir, "data"))
	cmd.Dir = dir
	var errb lockedBuffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	waitGrows(t, outs[0], &errb)
	for v := 1; v < len(outs); v++ {
		produce(1000)
		replaceFile(t, cfg, fmt.Sprintf(pipeline, bootstrap, topic, group, outs[v]))
		produce(1000) // while the old pipeline drains or the new one joins
		waitLog(t, &errb, "pipeline started", v+1, 30*time.Second)
		produce(1000)
		if !waitFor(30*time.Second, func() bool { return shippedLines(outs[v]) > 0 }) {
			t.Fatalf("version %d shipped nothing:\n%s", v+1, errb.String())
		}
	}
	produce(1000)
	union := func() []int {
		seen := make([]int, produced)
		for _, out := range outs {
			s, torn := countShipped(t, out, produced)
			if torn > 0 {
				t.Fatalf("%d torn lines in %s", torn, out)
			}
			for i, c := range s {
				seen[i] += c
			}
		}
		return seen
	}
	if !waitFor(60*time.Second, func() bool { return !slices.Contains(union(), 0) }) {
		t.Fatalf("some of %d records never arrived:\n%s", produced, errb.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := waitExit(cmd, 30*time.Second); err != nil {
		t.Fatalf("stop: %v\n%s", err, errb.String())
	}
	for i, c := range union() {
		if c != 1 {
			t.Fatalf("record n=%d arrived %d times, want once (outputs: %d, %d, %d lines)", i, c, shippedLines(outs[0]), shippedLines(outs[1]), shippedLines(outs[2]))
		}
	}
	t.Logf("%d records over three versions: %d, %d, %d", produced, shippedLines(outs[0]), shippedLines(outs[1]), shippedLines(outs[2]))
}

// A reload keeps the stop contract: when the old pipeline cannot drain
// (its output process is stopped), the drain ends at
// --pipeline.drain_timeout, what it held is not acked, and the new
// pipeline reads it again: every line arrives, at least once.
func TestReloadWithAStuckOutputEndsTheDrainAndLosesNothing(t *testing.T) {
	dir := t.TempDir()
	in, data, cfg := filepath.Join(dir, "in.log"), filepath.Join(dir, "data"), filepath.Join(dir, "p.hcl")
	outs := []string{filepath.Join(dir, "out1.log"), filepath.Join(dir, "out2.log")}
	numberedLines(t, in, 0, 2000)
	replaceFile(t, cfg, fmt.Sprintf(reloadPipeline, in, "", outs[0]))
	cmd := exec.Command(gostashBin, "-r", "--config.reload.interval", "100ms", "--pipeline.drain_timeout", "1s", "-f", cfg, "--path.data", data)
	cmd.Dir = dir
	var errb lockedBuffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	waitLog(t, &errb, "pipeline started", 1, 20*time.Second)
	stopped(t, cmd.Process.Pid, "builtin-outputs")
	numberedLines(t, in, 2000, 4000) // read, but held behind the stopped output
	// The reload must find events in flight: wait until the input has
	// taken some of the new lines (a loaded machine may take a while).
	m := apiAddress.FindStringSubmatch(errb.String())
	if m == nil {
		t.Fatalf("no API address logged:\n%s", errb.String())
	}
	api := &apiRun{base: m[1], errb: &errb}
	if !waitFor(30*time.Second, func() bool { return api.stats(t).Pipelines["main"].Events.In > 2000 }) {
		t.Fatalf("the input did not read the lines written after the output stopped:\n%s", errb.String())
	}

	replaceFile(t, cfg, fmt.Sprintf(reloadPipeline, in, "", outs[1]))
	waitLog(t, &errb, "pipeline started", 2, 30*time.Second)
	if !strings.Contains(errb.String(), "did not drain in time") {
		t.Fatalf("the reload's drain did not end at its deadline:\n%s", errb.String())
	}
	numberedLines(t, in, 4000, 5000)
	const n = 5000
	if !waitFor(30*time.Second, func() bool {
		seen := make([]int, n)
		for _, out := range outs {
			s, _ := countShipped(t, out, n)
			for i, c := range s {
				seen[i] += c
			}
		}
		return !slices.Contains(seen, 0)
	}) {
		t.Fatalf("lines were lost across a reload whose drain timed out:\n%s", errb.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := exitStatus(t, cmd, 20*time.Second, &errb); code != 0 {
		t.Fatalf("exit %d after the new pipeline drained, want 0\n%s", code, errb.String())
	}
}
