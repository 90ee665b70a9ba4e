package wire

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime/trace"
	"testing"
)

// With both directories set, a process leaves a CPU profile, its
// allocations and an execution trace that `go tool trace` can read.
func TestProfileAndTraceFiles(t *testing.T) {
	prof, trace := t.TempDir(), t.TempDir()
	t.Setenv(EnvCPUProfileDir, prof)
	t.Setenv(EnvTraceDir, trace)
	stop := StartCPUProfile("test")
	for i := 0; i < 1000; i++ {
		_ = fmt.Sprint(i) // something to see
	}
	stop()
	pid := os.Getpid()
	for _, f := range []string{
		filepath.Join(prof, fmt.Sprintf("test-%d.pprof", pid)),
		filepath.Join(prof, fmt.Sprintf("test-%d.allocs.pprof", pid)),
		filepath.Join(trace, fmt.Sprintf("test-%d.trace", pid)),
	} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) == 0 {
			t.Fatalf("%s is empty", f)
		}
		if filepath.Ext(f) == ".trace" && !bytes.HasPrefix(b, []byte("go 1.")) {
			t.Fatalf("%s does not start as an execution trace: %q", f, b[:min(len(b), 16)])
		}
	}
}

// A CPU profile that cannot be written (its directory is missing, or a
// profile already runs) must not leave the execution trace running with
// nothing to stop it: the trace file is then never flushed or closed.
func TestTraceStopsWhenTheCPUProfileCannotStart(t *testing.T) {
	t.Setenv(EnvTraceDir, t.TempDir())
	t.Setenv(EnvCPUProfileDir, filepath.Join(t.TempDir(), "missing"))
	stop := StartCPUProfile("test")
	if !trace.IsEnabled() {
		t.Fatal("no trace started")
	}
	stop()
	if trace.IsEnabled() {
		trace.Stop()
		t.Fatal("the trace still runs after stop: StartCPUProfile returned a stop that does not stop it")
	}
}
