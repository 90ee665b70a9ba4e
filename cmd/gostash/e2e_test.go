package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// These tests run the real binary, the way a user does: plugin processes,
// gRPC streams, signals and all.

var gostashBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gostash-e2e")
	if err != nil {
		panic(err)
	}
	gostashBin = filepath.Join(dir, "gostash")
	if out, err := exec.Command("go", "build", "-o", gostashBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build gostash: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// gostash runs the binary to completion.
func gostash(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, gostashBin, args...)
	cmd.Dir = t.TempDir()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run gostash: %v", err)
	}
	return out.String(), errb.String(), code
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// jsonEvents parses json_lines output, skipping lines that are not JSON
// objects (another output's lines).
func jsonEvents(t *testing.T, out string) []map[string]any {
	t.Helper()
	var events []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("output line is not JSON: %q: %v", line, err)
		}
		events = append(events, m)
	}
	return events
}

func sequence(t *testing.T, e map[string]any) int {
	t.Helper()
	ev, _ := e["event"].(map[string]any)
	n, ok := ev["sequence"].(float64)
	if !ok {
		t.Fatalf("event without [event][sequence]: %v", e)
	}
	return int(n)
}

const twoFilterPipeline = `
pipeline { workers = 2 }

input "generator" "gen" {
  lines = ["alpha 1", "beta 2", "gamma 3", "delta 4"]
  count = %d
  %s
}

filter "expr" "compute" {
  set = {
    "[word]"       = "split(message, ' ')[0]"
    "[num]"        = "int(split(message, ' ')[1])"
    "[calc][twice]" = "int(split(message, ' ')[1]) * 2"
  }
}

filter "expr" "dropper" {
  drop = "word == 'delta'"
}

output "stdout" "all" {
  codec = "json_lines"
}

output "stdout" "guarded" {
  when   = "num == 2"
  codec  = "line"
  format = "GUARDED %%{[event][sequence]}"
}
`

func TestEndToEndGeneratorFiltersStdout(t *testing.T) {
	const n = 2000
	cfg := writeFile(t, "p.hcl", fmt.Sprintf(twoFilterPipeline, n, ""))
	stdout, stderr, code := gostash(t, "", "-f", cfg)
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, stderr)
	}
	events := jsonEvents(t, stdout)
	seen := map[int]int{}
	for _, e := range events {
		seq := sequence(t, e)
		seen[seq]++
		word, msg := e["word"], e["message"].(string)
		if want := strings.Fields(msg)[0]; word != want {
			t.Fatalf("event %d: word = %v, want %q", seq, word, want)
		}
		num, _ := e["num"].(float64)
		calc, _ := e["calc"].(map[string]any)
		if calc["twice"] != num*2 {
			t.Fatalf("event %d: [calc][twice] = %v, want %v", seq, calc["twice"], num*2)
		}
		if word == "delta" {
			t.Fatalf("event %d should have been dropped: %v", seq, e)
		}
		if _, ok := e["@metadata"]; ok {
			t.Fatalf("@metadata must never be output: %v", e)
		}
	}
	// Every fourth line is "delta ..." and dropped; the rest arrive once.
	for seq := 0; seq < n; seq++ {
		want := 1
		if seq%4 == 3 {
			want = 0
		}
		if seen[seq] != want {
			t.Fatalf("event %d arrived %d times, want %d", seq, seen[seq], want)
		}
	}
	// The guarded output got exactly the num == 2 events.
	guarded := map[int]bool{}
	for _, line := range strings.Split(stdout, "\n") {
		if rest, ok := strings.CutPrefix(line, "GUARDED "); ok {
			seq, err := strconv.Atoi(rest)
			if err != nil {
				t.Fatalf("bad guarded line %q", line)
			}
			if seq%4 != 1 {
				t.Fatalf("guarded output got event %d, whose num is not 2", seq)
			}
			guarded[seq] = true
		}
	}
	if len(guarded) != n/4 {
		t.Fatalf("guarded output got %d events, want %d", len(guarded), n/4)
	}
}

// children returns the pids of processes whose parent is pid.
func children(pid int) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cpid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) > 1 {
			if ppid, _ := strconv.Atoi(fields[1]); ppid == pid {
				out = append(out, cpid)
			}
		}
	}
	return out
}

func cmdline(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.ReplaceAll(string(b), "\x00", " ")
}

func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

// waitExit waits for a started gostash to exit; it reports a non-zero
// exit, or the deadline passing.
func waitExit(cmd *exec.Cmd, within time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(within):
		return fmt.Errorf("still running after %v", within)
	}
}

// startGostash starts the binary in the background.
func startGostash(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(gostashBin, args...)
	cmd.Dir = t.TempDir()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	return cmd, &out, &errb
}

// waitChild waits for a child whose command line contains name.
func waitChild(t *testing.T, pid int, name string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, c := range children(pid) {
			if strings.Contains(cmdline(c), name) {
				return c
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no child process %q of %d", name, pid)
	return 0
}

func TestFilterProcessKilledMidRunLosesNothing(t *testing.T) {
	const n = 3000
	// rate keeps the run going long enough to kill the filter mid-way.
	cfg := writeFile(t, "p.hcl", fmt.Sprintf(twoFilterPipeline, n, "rate = 2000"))
	cmd, out, errb := startGostash(t, "-f", cfg)
	filterPid := waitChild(t, cmd.Process.Pid, "builtin-filters")
	time.Sleep(500 * time.Millisecond)
	if err := syscall.Kill(filterPid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := waitExit(cmd, 45*time.Second); err != nil {
		t.Fatalf("gostash failed: %v\n%s", err, errb.String())
	}
	if !strings.Contains(errb.String(), "restarting") {
		t.Fatalf("the filter process was not restarted:\n%s", errb.String())
	}
	seen := map[int]int{}
	for _, e := range jsonEvents(t, out.String()) {
		seen[sequence(t, e)]++
	}
	dups := 0
	for seq := 0; seq < n; seq++ {
		if seq%4 == 3 {
			continue
		}
		if seen[seq] == 0 {
			t.Fatalf("event %d was lost when the filter process died", seq)
		}
		dups += seen[seq] - 1
	}
	t.Logf("duplicates after the crash: %d", dups)
}

func TestSIGKILLedCoreLeavesNoPluginProcess(t *testing.T) {
	cfg := writeFile(t, "p.hcl", fmt.Sprintf(twoFilterPipeline, 0, "rate = 1000"))
	cmd, _, _ := startGostash(t, "-f", cfg)
	waitChild(t, cmd.Process.Pid, "builtin-outputs")
	waitChild(t, cmd.Process.Pid, "builtin-filters")
	waitChild(t, cmd.Process.Pid, "builtin-inputs")
	plugins := children(cmd.Process.Pid)
	if len(plugins) < 3 {
		t.Fatalf("expected 3 plugin processes, found %v", plugins)
	}
	// Only the stdin input may read the core's stdin; these get /dev/null.
	for _, p := range plugins {
		if in, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/0", p)); in != "/dev/null" {
			t.Errorf("plugin %d (%s) has stdin %q, want /dev/null", p, cmdline(p), in)
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_, _ = cmd.Process.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var left []int
		for _, p := range plugins {
			if alive(p) {
				left = append(left, p)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("plugin processes outlived a SIGKILLed core: %v", left)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSIGTERMDrainsAndExitsZero(t *testing.T) {
	cfg := writeFile(t, "p.hcl", fmt.Sprintf(twoFilterPipeline, 0, "rate = 5000"))
	cmd, out, errb := startGostash(t, "-f", cfg)
	waitChild(t, cmd.Process.Pid, "builtin-inputs")
	time.Sleep(700 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := waitExit(cmd, 20*time.Second); err != nil {
		t.Fatalf("SIGTERM: want exit 0, got %v\n%s", err, errb.String())
	}
	// Drained: what was read got out, with no gap before the last one.
	seen := map[int]bool{}
	maxSeq := -1
	for _, e := range jsonEvents(t, out.String()) {
		s := sequence(t, e)
		seen[s] = true
		if s > maxSeq {
			maxSeq = s
		}
	}
	if maxSeq < 100 {
		t.Fatalf("too few events before the stop: max sequence %d", maxSeq)
	}
	for s := 0; s <= maxSeq; s++ {
		if s%4 != 3 && !seen[s] {
			t.Fatalf("event %d missing after a graceful stop", s)
		}
	}
}

func TestConfigTest(t *testing.T) {
	good := writeFile(t, "good.hcl", fmt.Sprintf(twoFilterPipeline, 10, ""))
	stdout, stderr, code := gostash(t, "", "--configtest", "-f", good)
	if code != 0 || !strings.Contains(stdout, "Configuration OK") {
		t.Fatalf("configtest of a good file: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	bad := writeFile(t, "bad.hcl", `
input "generator" "gen" {
  count = "many"
}
filter "expr" "x" {
  set = { "[a]" = "1 +" }
}
output "stdout" "out" {
  codecc = "json_lines"
}
`)
	_, stderr, code = gostash(t, "", "-t", "-f", bad)
	if code != 1 {
		t.Fatalf("configtest of a bad file: exit %d, want 1\n%s", code, stderr)
	}
	for _, want := range []string{"bad.hcl:3", "bad.hcl:9", "codec"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("diagnostics lack %q:\n%s", want, stderr)
		}
	}
}

func TestPluginListAndDescribe(t *testing.T) {
	stdout, stderr, code := gostash(t, "", "plugin", "list")
	if code != 0 {
		t.Fatalf("plugin list: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"generator", "stdin", "expr", "stdout"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plugin list lacks %q:\n%s", want, stdout)
		}
	}
	stdout, stderr, code = gostash(t, "", "plugin", "describe", "generator")
	if code != 0 || !strings.Contains(stdout, "count") || !strings.Contains(stdout, "lines") {
		t.Fatalf("plugin describe generator: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

func TestInlineConfigAndStdin(t *testing.T) {
	stdout, stderr, code := gostash(t, "one\ntwo\nthree\n", "-e", `
input "stdin" "in" {}
output "stdout" "out" { codec = "json_lines" }
`)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	events := jsonEvents(t, stdout)
	if len(events) != 3 {
		t.Fatalf("want 3 events from stdin, got %d:\n%s", len(events), stdout)
	}
	for i, want := range []string{"one", "two", "three"} {
		if events[i]["message"] != want {
			t.Errorf("event %d message = %v, want %q", i, events[i]["message"], want)
		}
	}
}

func TestJSONLogs(t *testing.T) {
	_, stderr, code := gostash(t, "", "--log.format", "json", "-e", `
input "generator" "g" { count = 5 }
output "null" "n" {}
`)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) < 2 {
		t.Fatalf("expected log lines, got %q", stderr)
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Errorf("--log.format json printed a line that is not JSON: %q", l)
		}
	}
}

// Every example a user may copy must be a valid configuration.
func TestExamplePipelinesPassConfigTest(t *testing.T) {
	files, _ := filepath.Glob("../../pipelines/*.hcl")
	examples, _ := filepath.Glob("../../plugins/*/*/example.hcl")
	files = append(files, examples...)
	if len(files) < 5 {
		t.Fatalf("found only %d example pipelines", len(files))
	}
	for _, f := range files {
		abs, _ := filepath.Abs(f)
		t.Run(strings.TrimPrefix(f, "../../"), func(t *testing.T) {
			stdout, stderr, code := gostash(t, "", "-t", "-f", abs)
			if code != 0 || !strings.Contains(stdout, "Configuration OK") {
				t.Fatalf("configtest failed (exit %d):\n%s", code, stderr)
			}
		})
	}
}

func TestQuickstartRuns(t *testing.T) {
	abs, _ := filepath.Abs("../../pipelines/quickstart.hcl")
	stdout, stderr, code := gostash(t, "", "-f", abs)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if strings.Count(stdout, `"message" =>`) != 3 || strings.Count(stdout, `"error"`) != 2 {
		t.Fatalf("quickstart: want 3 events, 2 tagged error:\n%s", stdout)
	}
}

// The dots codec is served without decoding events; it must still print
// exactly one dot per event.
func TestDotsCountsEveryEvent(t *testing.T) {
	stdout, stderr, code := gostash(t, "", "-e", `
input "generator" "g" { count = 12345 }
output "stdout" "s" { codec = "dots" }
`)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if n := strings.Count(stdout, "."); n != 12345 || len(strings.TrimSpace(stdout)) != 12345 {
		t.Fatalf("want 12345 dots, got %d (output %d bytes)", n, len(stdout))
	}
}

// systemd and terminals signal the whole process group: plugins must
// outlive the signal long enough for the core to drain them.
func TestSIGTERMToProcessGroupStillDrains(t *testing.T) {
	cfg := writeFile(t, "p.hcl", fmt.Sprintf(twoFilterPipeline, 0, "rate = 5000"))
	cmd := exec.Command(gostashBin, "-f", cfg)
	cmd.Dir = t.TempDir()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	waitChild(t, cmd.Process.Pid, "builtin-outputs")
	time.Sleep(700 * time.Millisecond)
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := waitExit(cmd, 20*time.Second); err != nil {
		t.Fatalf("SIGTERM to the group: want exit 0, got %v\n%s", err, errb.String())
	}
	if strings.Contains(errb.String(), "closing an instance failed") || strings.Contains(errb.String(), "restarting") {
		t.Fatalf("plugins died with the group's signal instead of being drained:\n%s", errb.String())
	}
	m := statsLine.FindStringSubmatch(errb.String())
	if m == nil {
		t.Fatalf("no stats line:\n%s", errb.String())
	}
	in, _ := strconv.Atoi(m[1])
	// Every event read reached both outputs ("all" gets every event, the
	// guarded one only num == 2, a quarter) minus the dropped quarter.
	if got := len(jsonEvents(t, out.String())); got != in-in/4 && got != in-(in+3)/4 {
		t.Fatalf("read %d events but %d reached the output after the drain", in, got)
	}
}

// gRPC refuses messages over 4 MiB unless both sides raise the limit:
// batches of big events must still cross every plugin boundary.
func TestBatchesOverFourMiBCross(t *testing.T) {
	line := strings.Repeat("x", 1<<20)
	cfg := writeFile(t, "big.hcl", fmt.Sprintf(`
pipeline { batch_size = 10 }
input "generator" "g" {
  lines = [%q]
  count = 30
}
filter "expr" "f" { set = { "[len]" = "len(message)" } }
output "stdout" "s" {
  codec  = "line"
  format = "%%{len}"
}
`, line))
	stdout, stderr, code := gostash(t, "", "-f", cfg)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if n := strings.Count(stdout, "1048576\n"); n != 30 {
		t.Fatalf("want 30 events of 1 MiB through 10 MiB batches, got %d\n%s", n, stderr)
	}
}

// `gostash -f p.hcl | head` ends when head does, as any Unix tool: the
// stdout output can write nothing once the pipe's reader is gone, and
// used to retry its batch for ever.
func TestStdoutReaderGoneExits(t *testing.T) {
	cfg := writeFile(t, "p.hcl", `
input "generator" "gen" {
  lines = ["a line"]
}
output "stdout" "out" { codec = "line" }
`)
	cmd := exec.Command(gostashBin, "-f", cfg)
	cmd.Dir = t.TempDir()
	var errb bytes.Buffer
	cmd.Stderr = &errb
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	// Read a few lines, as head -3 would, then go away.
	br := bufio.NewReader(r)
	for i := 0; i < 3; i++ {
		if line, err := br.ReadString('\n'); err != nil || line != "a line\n" {
			t.Fatalf("line %d: %q, %v", i, line, err)
		}
	}
	r.Close()
	err = waitExit(cmd, 10*time.Second)
	if err != nil && strings.Contains(err.Error(), "still running") {
		_ = cmd.Process.Kill()
		t.Fatalf("gostash kept running after its stdout's reader left\n%s", errb.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != exitStdoutClosed {
		t.Errorf("exit status %d, want %d\n%s", code, exitStdoutClosed, errb.String())
	}
	if !strings.Contains(errb.String(), "standard output was closed by its reader") {
		t.Errorf("no word of why it stopped:\n%s", errb.String())
	}
}

// SIGTERM while standard input is still open and the multiline codec
// holds an event: the event was read from stdin, which cannot give it
// again, so the stop publishes it before the input ends. (It was lost:
// only "START 1" came out.)
func TestSIGTERMFlushesStdinMultiline(t *testing.T) {
	cfg := writeFile(t, "ml.hcl", `
input "stdin" "in" {
  codec     = "multiline"
  multiline = { pattern = "^START", negate = true, what = "previous", auto_flush_interval = "60s" }
}
output "stdout" "out" { codec = "json_lines" }
`)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close() // open until the end, as "(printf ...; sleep 10) |" keeps it
	cmd := exec.Command(gostashBin, "-f", cfg)
	cmd.Dir = t.TempDir()
	var out lockedBuffer // read while gostash writes it
	var errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = r, &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	if _, err := w.WriteString("START 1\n a\nSTART 2\n b\n"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "START 1") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := waitExit(cmd, 15*time.Second); err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, errb.String())
	}
	var got []any
	for _, e := range jsonEvents(t, out.String()) {
		got = append(got, e["message"])
	}
	if len(got) != 2 || got[0] != "START 1\n a" || got[1] != "START 2\n b" {
		t.Fatalf("events %q; want both multiline events\n%s", got, errb.String())
	}
}

// lockedBuffer is a bytes.Buffer a test may read while a process writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
