package wire

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
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
