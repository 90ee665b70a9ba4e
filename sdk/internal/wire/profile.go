package wire

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
)

// EnvCPUProfileDir names a directory where every gostash process (core and
// plugins) writes a CPU profile, <dir>/<process>-<pid>.pprof, for
// performance work: GOSTASH_CPUPROFILE_DIR=/tmp/prof gostash -f p.hcl.
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
	return func() { pprof.StopCPUProfile(); f.Close() }
}
