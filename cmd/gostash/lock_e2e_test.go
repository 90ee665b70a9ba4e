package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const endlessPipeline = `
input "generator" "gen" {
  rate = 100
}
output "null" "out" {}
`

// waitLockedBy waits until dir/.lock names pid: that process holds it.
func waitLockedBy(t *testing.T, dir string, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, _ := os.ReadFile(filepath.Join(dir, ".lock")); string(bytes.TrimSpace(b)) == strconv.Itoa(pid) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s/.lock never named PID %d", dir, pid)
}

// Two processes on one --path.data would read the same files twice and
// overwrite each other's sincedb: the second refuses, naming the first.
func TestSecondProcessOnDataDirRefuses(t *testing.T) {
	cfg := writeFile(t, "p.hcl", endlessPipeline)
	data := t.TempDir()
	first, _, _ := startGostash(t, "-f", cfg, "--path.data", data)
	waitLockedBy(t, data, first.Process.Pid)

	start := time.Now()
	_, stderr, code := gostash(t, "", "-f", cfg, "--path.data", data)
	if code == 0 {
		t.Fatalf("second gostash on the same data directory exited 0\n%s", stderr)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the refusal took %v", took)
	}
	t.Logf("second gostash: exit %d\n%s", code, stderr)
	if pid := strconv.Itoa(first.Process.Pid); !strings.Contains(stderr, "PID "+pid) || !strings.Contains(stderr, "--path.data") {
		t.Errorf("the refusal should name PID %s and --path.data:\n%s", pid, stderr)
	}
	// Checking a configuration touches no state and takes no lock.
	if out, stderr, code := gostash(t, "", "-t", "-f", cfg, "--path.data", data); code != 0 {
		t.Errorf("--configtest while a run holds the data directory: exit %d\n%s%s", code, out, stderr)
	}

	// A lock file left by a killed process does not block: flock died with it.
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_, _ = first.Process.Wait()
	third, _, thirdErr := startGostash(t, "-f", cfg, "--path.data", data)
	waitLockedBy(t, data, third.Process.Pid)
	if err := third.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := waitExit(third, 20*time.Second); err != nil || !strings.Contains(thirdErr.String(), "pipeline started") {
		t.Fatalf("gostash after a kill -9 of the data directory's owner: %v\n%s", err, thirdErr)
	}
}
