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
	mu   sync.Mutex
	path string
	lock *os.File // held (flock) while this core runs: the sweep's proof of life
}

// RunDir returns this core's socket directory (0700), made on first use
// (which also starts removing those of cores no longer running), and made
// again should it have been removed meanwhile (go-plugin makes each
// plugin process's socket directory in it).
func RunDir() (string, error) {
	runDir.mu.Lock()
	defer runDir.mu.Unlock()
	if runDir.path != "" {
		if _, err := os.Stat(runDir.path); err == nil {
			return runDir.path, nil
		}
		if err := os.Mkdir(runDir.path, 0o700); err != nil {
			return "", err
		}
	} else {
		// In the background: listing a temporary directory that holds
		// thousands of entries took 7 ms, before the first plugin
		// process could start.
		go sweepRunDirs(os.TempDir())
		path, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", runDirPrefix, os.Getpid()))
		if err != nil {
			return "", err
		}
		runDir.path = path
	}
	if runDir.lock != nil {
		runDir.lock.Close()
	}
	runDir.lock = holdLock(filepath.Join(runDir.path, "lock"))
	return runDir.path, nil
}

// RemoveRunDir removes this core's socket directory, if it made one; the
// core calls it as it exits, once its plugin processes are stopped.
func RemoveRunDir() {
	runDir.mu.Lock()
	defer runDir.mu.Unlock()
	if runDir.path != "" {
		_ = os.RemoveAll(runDir.path)
	}
}

// holdLock creates path and takes an exclusive flock on it, kept until
// the process ends (nil if it cannot: the pid alone then speaks for it).
func holdLock(path string) *os.File {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil
	}
	return f
}

// sweepRunDirs removes the socket directories in tmp of this user's cores
// that are no longer running: no process has the pid in the name, and
// nobody holds its lock (a core in another pid namespace sharing tmp has a
// pid we cannot see, and holds its lock).
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
		if info, err := os.Lstat(path); err != nil || !ownedByUs(info) || locked(filepath.Join(path, "lock")) {
			continue
		}
		_ = os.RemoveAll(path)
	}
}

// locked reports whether another process holds the lock file at path.
func locked(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false // none: a directory from before locks, or half made
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if err == nil {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return false
	}
	return errors.Is(err, syscall.EWOULDBLOCK)
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
