//go:build unix

package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// lockDataDir takes <dir>/.lock for the life of the process, as Logstash
// does: two processes on one data directory would read the same files and
// overwrite each other's sincedb. The lock is flock(2), which the kernel
// releases when the process dies however it dies, so a lock file left by
// a killed gostash never blocks. The file holds the owner's PID so the
// refusal can name it. The descriptor is close-on-exec: plugin processes
// must not keep the lock after the core is gone.
func lockDataDir(dir string) (*os.File, error) {
	name := filepath.Join(dir, ".lock")
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock %s: %w", name, err)
		}
		owner := "another gostash process"
		if b, _ := os.ReadFile(name); len(bytes.TrimSpace(b)) > 0 {
			if pid, err := strconv.Atoi(string(bytes.TrimSpace(b))); err == nil {
				owner = fmt.Sprintf("another gostash process (PID %d)", pid)
			}
		}
		return nil, fmt.Errorf("%s is already using this data directory (lock %s): stop it, or give this one its own --path.data", owner, name)
	}
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("write %s: %w", name, err)
	}
	return f, nil
}
