package wire

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
)

// EnvCPUProfileDir names a directory where every gostash process (core and
// plugins) writes a CPU profile, <dir>/<process>-<pid>.pprof, and on exit
// what it allocated, <dir>/<process>-<pid>.allocs.pprof, for performance
// work: GOSTASH_CPUPROFILE_DIR=/tmp/prof gostash -f p.hcl.
const EnvCPUProfileDir = "GOSTASH_CPUPROFILE_DIR"

// StartCPUProfile starts a CPU profile when EnvCPUProfileDir is set and
// returns the function that stops it.
func StartCPUProfile(name string) (stop func()) {
	dir := os.Getenv(EnvCPUProfileDir)
	if dir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%d.pprof", name, os.Getpid())))
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() {
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
