package pluginhost

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// A killed core's socket directory is removed by the next core; a running
// core's, and anything else in the temp directory, stay.
func TestSweepRemovesOnlyDeadCoresDirectories(t *testing.T) {
	tmp := t.TempDir()
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	mk := func(name string) string {
		p := filepath.Join(tmp, name)
		if err := os.MkdirAll(filepath.Join(p, "plugin-dir1"), 0o700); err != nil {
			t.Fatal(err)
		}
		return p
	}
	dead := mk(fmt.Sprintf("%s%d-123", runDirPrefix, gone.Process.Pid))
	// A core in another pid namespace sharing the temp directory: its
	// pid means nothing here, its lock is held.
	elsewhere := mk(fmt.Sprintf("%s%d-321", runDirPrefix, gone.Process.Pid))
	if l := holdLock(filepath.Join(elsewhere, "lock")); l == nil {
		t.Fatal("cannot take a lock")
	} else {
		defer l.Close()
	}
	keep := []string{
		elsewhere,
		mk(fmt.Sprintf("%s%d-456", runDirPrefix, os.Getpid())),  // this core
		mk(fmt.Sprintf("%s%d-789", runDirPrefix, os.Getppid())), // another, running
		mk(runDirPrefix + "notapid-1"),
		mk(fmt.Sprintf("gostash-data-%d", gone.Process.Pid)),
	}
	if err := os.WriteFile(filepath.Join(tmp, fmt.Sprintf("%s%d-file", runDirPrefix, gone.Process.Pid)), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	sweepRunDirs(tmp)
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("the directory of a core that is gone is still there (%v)", err)
	}
	for _, p := range keep {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", filepath.Base(p), err)
		}
	}
	if _, err := os.Stat(filepath.Join(tmp, fmt.Sprintf("%s%d-file", runDirPrefix, gone.Process.Pid))); err != nil {
		t.Errorf("a file named like a run directory was removed: %v", err)
	}
}

// The plugins' sockets, go-plugin's and the data plane's, are made in the
// core's run directory, which is this process's and private.
func TestSocketsGoInTheRunDirectory(t *testing.T) {
	dir, err := RunDir()
	if err != nil {
		t.Fatal(err)
	}
	if pid, ok := runDirPid(filepath.Base(dir)); !ok || pid != os.Getpid() {
		t.Fatalf("run directory %s is not named after this process (%d)", dir, os.Getpid())
	}
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o700 {
		t.Errorf("run directory mode %v, want 0700", info.Mode().Perm())
	}
	p := startSelf(t)
	p.mu.Lock()
	data := p.dataDir
	p.mu.Unlock()
	if data == "" || filepath.Dir(data) != dir {
		t.Errorf("the data plane's directory %q is not in the run directory %s", data, dir)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "plugin-dir*"))
	if len(matches) == 0 {
		t.Errorf("go-plugin's socket directory is not in the run directory %s", dir)
	}
}

// A run directory removed under a running core (by hand, by a sweep that
// guessed wrong) is made again: plugin processes must still start.
func TestRunDirectoryIsMadeAgain(t *testing.T) {
	dir, err := RunDir()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	again, err := RunDir()
	if err != nil || again != dir {
		t.Fatalf("RunDir after removal: %q, %v; want %q", again, err, dir)
	}
	if !locked(filepath.Join(dir, "lock")) {
		t.Error("the directory made again is not locked: a sweep would take it")
	}
	p := startSelf(t)
	openNoop(t, p)
}
