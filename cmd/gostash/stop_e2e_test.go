package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The stop contract (docs/architecture.md, "Stopping"): a first signal
// drains within --pipeline.drain_timeout, then what is left is cancelled,
// logged and the exit status is exitNotDrained; a second signal exits at
// once with 128 + its number.

const stopPipeline = `
pipeline { workers = 1 }
input "generator" "gen" {
  lines = ["a line"]
  rate  = 2000
}
filter "expr" "f" { set = { "[n]" = "1" } }
output "stdout" "out" { codec = "json_lines" }
`

// stopped SIGSTOPs a plugin process of gostash, and lets it go at the end
// of the test, should it outlive the core.
func stopped(t *testing.T, core int, name string) int {
	t.Helper()
	pid := waitChild(t, core, name)
	time.Sleep(500 * time.Millisecond) // events flow first
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	time.Sleep(300 * time.Millisecond) // batches pile up behind it
	return pid
}

// exitStatus waits at most within for cmd and returns its exit status.
func exitStatus(t *testing.T, cmd *exec.Cmd, within time.Duration, stderr fmt.Stringer) int {
	t.Helper()
	err := waitExit(cmd, within)
	if err != nil && strings.Contains(err.Error(), "still running") {
		t.Fatalf("gostash still running %v after the stop\n%v", within, stderr)
	}
	return cmd.ProcessState.ExitCode()
}

func checkNotDelivered(t *testing.T, stderr string) {
	t.Helper()
	if strings.Contains(stderr, "panic") {
		t.Fatalf("gostash panicked:\n%s", stderr)
	}
	if !strings.Contains(stderr, "did not drain in time") || !strings.Contains(stderr, "not delivered") || !strings.Contains(stderr, "input=gen") {
		t.Fatalf("the log does not say what was not delivered:\n%s", stderr)
	}
}

// An output that hangs (here SIGSTOPped) cannot hold a stop: past the
// deadline gostash cancels its batches, says so, and exits non-zero.
func TestStopWithAStuckOutputEndsAtTheDeadline(t *testing.T) {
	cfg := writeFile(t, "p.hcl", stopPipeline)
	cmd, _, errb := startGostash(t, "-f", cfg, "--pipeline.drain_timeout", "1s")
	stopped(t, cmd.Process.Pid, "builtin-outputs")
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code := exitStatus(t, cmd, 12*time.Second, errb)
	t.Logf("stopped in %v", time.Since(start).Round(time.Millisecond))
	if code != exitNotDrained {
		t.Fatalf("exit status %d, want %d\n%s", code, exitNotDrained, errb.String())
	}
	checkNotDelivered(t, errb.String())
}

// A filter process that hangs used to make the stop panic ("send on
// closed channel"): the core closed its work queue while an input still
// sent to it.
func TestStopWithAStuckFilterDoesNotPanic(t *testing.T) {
	cfg := writeFile(t, "p.hcl", stopPipeline)
	cmd, _, errb := startGostash(t, "-f", cfg, "--pipeline.drain_timeout", "1s")
	stopped(t, cmd.Process.Pid, "builtin-filters")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := exitStatus(t, cmd, 12*time.Second, errb); code != exitNotDrained {
		t.Fatalf("exit status %d, want %d\n%s", code, exitNotDrained, errb.String())
	}
	checkNotDelivered(t, errb.String())
}

// stdin's end starts the drain too: with a stdout nobody reads, gostash
// ends at the deadline instead of waiting for ever.
func TestStdinEndWithUnreadStdoutEndsAtTheDeadline(t *testing.T) {
	// 300 lines of 1 KB: fewer than the credits (4 batches of 125 with
	// one worker), so stdin reaches its end; far more than a pipe holds.
	var in strings.Builder
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&in, "%04d %s\n", i, strings.Repeat("x", 1000))
	}
	cmd := exec.Command(gostashBin, "-w", "1", "-b", "125", "--pipeline.drain_timeout", "1s", "-e", `
input "stdin" "gen" {}
output "stdout" "out" { codec = "line" }
`)
	cmd.Dir = t.TempDir()
	cmd.Stdin = strings.NewReader(in.String())
	var errb bytes.Buffer
	cmd.Stderr = &errb
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close() // kept open and never read
	cmd.Stdout = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	// The deadline is 1 s and the close after it at most 5 s more; the
	// rest of the budget is for starting four processes on a loaded box
	// (it once took more than 15 s in all there). Without the deadline it
	// would never exit.
	if code := exitStatus(t, cmd, 25*time.Second, &errb); code != exitNotDrained {
		t.Fatalf("exit status %d, want %d\n%s", code, exitNotDrained, errb.String())
	}
	checkNotDelivered(t, errb.String())
}

// A second SIGTERM exits at once with SIGTERM's status, as a shell
// reports a process it killed (130 is SIGINT's).
func TestSecondSIGTERMExits143(t *testing.T) {
	cfg := writeFile(t, "p.hcl", stopPipeline)
	cmd := exec.Command(gostashBin, "-f", cfg) // the default deadline, 30 s
	cmd.Dir = t.TempDir()
	errb := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = io.Discard, errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	stopped(t, cmd.Process.Pid, "builtin-outputs")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The second must come after gostash took the first: on a loaded box
	// both could otherwise be waiting when it looks, one delivery as far
	// as it can tell.
	waitLog(t, errb, "stopping: inputs stop reading", 1, 10*time.Second)
	time.Sleep(2 * duplicateWindow)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := exitStatus(t, cmd, 5*time.Second, errb); code != 143 {
		t.Fatalf("exit status %d after a second SIGTERM, want 143\n%s", code, errb.String())
	}
}

// SIGHUP reloads, as in Logstash, with or without -r: sent here to the
// whole process group, as a closed terminal sends it, it restarts the
// pipeline with the changed file (the plugins ignore it), and nothing read
// before or after is lost.
func TestSIGHUPReloads(t *testing.T) {
	cfg := writeFile(t, "p.hcl", stopPipeline)
	cmd := exec.Command(gostashBin, "-f", cfg)
	cmd.Dir = t.TempDir()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out, errb lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	waitLog(t, &errb, "pipeline started", 1, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	if err := os.WriteFile(cfg, []byte(strings.Replace(stopPipeline, `"[n]" = "1"`, `"[n]" = "2"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog(t, &errb, "pipeline started", 2, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := exitStatus(t, cmd, 20*time.Second, &errb); code != 0 {
		t.Fatalf("exit status %d after SIGHUP and SIGTERM, want 0\n%s", code, errb.String())
	}
	if strings.Contains(errb.String(), "restarting") {
		t.Fatalf("plugins died of the group's SIGHUP instead of being drained:\n%s", errb.String())
	}
	read := 0
	for _, m := range statsLine.FindAllStringSubmatch(errb.String(), -1) {
		n, _ := strconv.Atoi(m[1])
		read += n
	}
	byVersion := map[string]int{}
	events := jsonEvents(t, out.String())
	for _, e := range events {
		byVersion[fmt.Sprint(e["n"])]++
	}
	if len(events) != read || byVersion["1"] == 0 || byVersion["2"] == 0 {
		t.Fatalf("read %d events; %d reached the output, by version %v (want both versions)\n%s", read, len(events), byVersion, errb.String())
	}
}

// SIGHUP cannot reload a configuration given with -e: it says so and the
// pipeline runs on.
func TestSIGHUPWithInlineConfigIsExplained(t *testing.T) {
	cmd := exec.Command(gostashBin, "-e", `
input "generator" "g" { rate = 100 }
output "null" "o" {}`)
	cmd.Dir = t.TempDir()
	var errb lockedBuffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	waitLog(t, &errb, "pipeline started", 1, 10*time.Second)
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog(t, &errb, "SIGHUP ignored", 1, 10*time.Second)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := exitStatus(t, cmd, 10*time.Second, &errb); code != 0 || strings.Count(errb.String(), "pipeline started") != 1 {
		t.Fatalf("exit %d; want the one pipeline to run until SIGTERM and exit 0\n%s", code, errb.String())
	}
}

// timeout(1) sends its signal to the command and to its process group,
// so the core gets SIGTERM twice a moment apart: that is one stop, which
// drains (exit 0), not a second one that exits at once.
func TestSignalDeliveredTwiceAtOnceIsOneStop(t *testing.T) {
	cfg := writeFile(t, "p.hcl", `
input "generator" "g" { rate = 1000 }
output "null" "o" {}`)
	cmd, _, errb := startGostash(t, "-f", cfg)
	waitChild(t, cmd.Process.Pid, "builtin-outputs")
	time.Sleep(300 * time.Millisecond)
	for range 2 {
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond) // two deliveries, not one merged
	}
	if err := waitExit(cmd, 10*time.Second); err != nil {
		t.Fatalf("one stop delivered twice: %v (want a drain and exit 0)\n%s", err, errb.String())
	}
	if strings.Contains(errb.String(), "second stop signal") {
		t.Fatalf("one stop delivered twice was taken for a second stop:\n%s", errb.String())
	}
}
