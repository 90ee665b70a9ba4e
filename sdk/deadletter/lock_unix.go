//go:build unix

package deadletter

import (
	"os"
	"syscall"
)

// lock takes f's exclusive flock(2) until the returned func: the writer
// holds it while it appends, the cleaner while it checks and removes.
func lock(f *os.File) (func(), error) {
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return nil, err
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }, nil
}

// CanClean says whether RemoveConsumed works on this system.
const CanClean = true
