package main

import (
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

const statusPipeline = `input "stdin" "in" {}
output "null" "out" {}`

// With standard error on a terminal, a run shows its counts on a status
// line redrawn in place, keeps log lines whole above it and erases it at
// the end.
func TestStatusLineOnATerminal(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	defer ptmx.Close()
	cmd := exec.Command(gostashBin, "-e", statusPipeline, "--path.data", t.TempDir(), "--api.enabled=false")
	cmd.Env = append(cmd.Environ(), "TERM=xterm")
	cmd.Stderr = tty
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	var screen lockedBuffer
	read := make(chan struct{})
	go func() { _, _ = io.Copy(&screen, ptmx); close(read) }() // ends with EIO once gostash exits
	fmt.Fprint(stdin, "a\nb\nc\nd\ne\n")
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(screen.String(), "(total in 5, out 5)") {
		if time.Now().After(deadline) {
			stdin.Close()
			_ = cmd.Wait()
			t.Fatalf("no status line with the 5 events after 15s:\n%q", screen.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	stdin.Close() // the input ends, then the run
	if err := cmd.Wait(); err != nil {
		t.Fatalf("gostash: %v\n%q", err, screen.String())
	}
	<-read
	out := screen.String()
	if !strings.Contains(out, "\r\x1b[Kin ") {
		t.Errorf("the status line is not redrawn in place:\n%q", out)
	}
	if !strings.HasSuffix(out, "\r\x1b[K") {
		t.Errorf("the status line was left on the terminal at the end:\n%q", out)
	}
	// What the terminal shows of a line is what follows its last erase:
	// every log line is whole, never after the status.
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSuffix(l, "\r") // the terminal's CR LF
		if i := strings.LastIndex(l, "\r\x1b[K"); i >= 0 {
			l = l[i+len("\r\x1b[K"):]
		}
		if strings.Contains(l, "level=") && !strings.HasPrefix(l, "time=") {
			t.Errorf("a log line mixed with the status line: %q", l)
		}
	}
	if !strings.Contains(out, `msg="pipeline stopped" events_in=5 events_out=5`) {
		t.Errorf("the log is missing from the terminal:\n%q", out)
	}
}

// Standard error to a pipe (a service, a log file, a test): no status
// line, no control characters.
func TestNoStatusLineWithoutATerminal(t *testing.T) {
	_, stderr, code := gostash(t, "a\nb\n", "-e", statusPipeline, "--path.data", t.TempDir(), "--api.enabled=false", "--pipeline.batch.delay", "1")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if strings.ContainsAny(stderr, "\r\x1b") || strings.Contains(stderr, "total in") {
		t.Errorf("a status line on a pipe:\n%q", stderr)
	}
}
