package wire

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"runtime/trace"
)

// EnvCPUProfileDir names a directory where every gostash process (core and
// plugins) writes a CPU profile, <dir>/<process>-<pid>.pprof, and on exit
// what it allocated, <dir>/<process>-<pid>.allocs.pprof, for performance
// work: GOSTASH_CPUPROFILE_DIR=/tmp/prof gostash -f p.hcl.
const EnvCPUProfileDir = "GOSTASH_CPUPROFILE_DIR"

// EnvTraceDir names a directory where every gostash process writes an
// execution trace, <dir>/<process>-<pid>.trace, for `go tool trace`: where
// the CPU profile says what costs, the trace says who waited on whom.
const EnvTraceDir = "GOSTASH_TRACE_DIR"

// StartCPUProfile starts a CPU profile when EnvCPUProfileDir is set, and
// an execution trace when EnvTraceDir is, and returns the function that
// stops them.
func StartCPUProfile(name string) (stop func()) {
	stopTrace := startTrace(name)
	dir := os.Getenv(EnvCPUProfileDir)
	if dir == "" {
		return stopTrace
	}
	// Whatever becomes of the profile, the trace started above is stopped.
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%d.pprof", name, os.Getpid())))
	if err != nil {
		return stopTrace
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return stopTrace
	}
	return func() {
		stopTrace()
		pprof.StopCPUProfile()
		f.Close()
		// Allocations are sampled anyway (runtime.MemProfileRate): the
		// garbage collector's share of a CPU profile says where to look.
		if a, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%d.allocs.pprof", name, os.Getpid()))); err == nil {
			_ = pprof.Lookup("allocs").WriteTo(a, 0)
			a.Close()
		}
	}
}

func startTrace(name string) (stop func()) {
	dir := os.Getenv(EnvTraceDir)
	if dir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%d.trace", name, os.Getpid())))
	if err != nil {
		return func() {}
	}
	if err := trace.Start(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() {
		trace.Stop()
		f.Close()
	}
}
