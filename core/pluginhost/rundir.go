package pluginhost

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// The core keeps its plugins' sockets (go-plugin's and the data plane's)
// in one directory of its own, named after its pid: a core that was
// killed leaves it behind, and the next core to start sweeps it. Before,
// every kill -9 left a go-plugin "plugin-dir" per plugin process in the
// temp directory for good.

const runDirPrefix = "gostash-run-"

var runDir struct {
	once sync.Once
	path string
	err  error
}

// RunDir returns this core's socket directory (0700), made on first use
// after the ones of cores no longer running were removed.
func RunDir() (string, error) {
	runDir.once.Do(func() {
		sweepRunDirs(os.TempDir())
		runDir.path, runDir.err = os.MkdirTemp("", fmt.Sprintf("%s%d-", runDirPrefix, os.Getpid()))
	})
	return runDir.path, runDir.err
}

// RemoveRunDir removes this core's socket directory, if it made one; the
// core calls it as it exits, once its plugin processes are stopped.
func RemoveRunDir() {
	if runDir.path != "" {
		_ = os.RemoveAll(runDir.path)
	}
}

// sweepRunDirs removes the socket directories in tmp of this user's cores
// that are no longer running.
func sweepRunDirs(tmp string) {
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, ok := runDirPid(e.Name())
		if !ok || !e.IsDir() || pid == os.Getpid() || running(pid) {
			continue
		}
		path := filepath.Join(tmp, e.Name())
		if info, err := os.Lstat(path); err != nil || !ownedByUs(info) {
			continue
		}
		_ = os.RemoveAll(path)
	}
}

// runDirPid reads the pid out of a run directory's name.
func runDirPid(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, runDirPrefix)
	if !ok {
		return 0, false
	}
	digits, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(digits)
	return pid, err == nil && pid > 0
}

// running reports whether a process with this pid exists (a reused pid
// keeps a directory a little longer: harmless).
func running(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func ownedByUs(info os.FileInfo) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}
