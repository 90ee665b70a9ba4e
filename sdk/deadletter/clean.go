package deadletter

import (
	"errors"
	"os"
)

// Append writes line to f, the dead letter file at path, under its lock.
// When a reader removed the file meanwhile (RemoveConsumed), it returns
// ErrRemoved and writes nothing: reopen path and append again.
func Append(f *os.File, path string, line []byte) error {
	unlock, err := lock(f)
	if err != nil {
		return err
	}
	defer unlock()
	if a, err := f.Stat(); err == nil {
		if b, err := os.Stat(path); err != nil || !os.SameFile(a, b) {
			return ErrRemoved
		}
	}
	_, err = f.Write(line)
	return err
}

// Lock takes the dead letter file f's lock until the returned func: a
// writer that rewrites a file (the drop_older size bound) holds it, so an
// Append or a RemoveConsumed never runs in the middle.
func Lock(f *os.File) (func(), error) { return lock(f) }

var errCannotClean = errors.New("removing consumed dead letter files needs flock(2), which this system lacks")

// ErrRemoved says a dead letter file was removed under its writer.
var ErrRemoved = errors.New("the dead letter file was removed by its reader")

// RemoveConsumed removes the dead letter file at path if it ends at the
// logical offset consumed, all of it read and delivered; a writer appending at
// the same time either comes first (the file is longer: kept) or finds
// it gone and writes a new one (Append).
func RemoveConsumed(path string, consumed int64) (bool, error) {
	if !CanClean {
		return false, errCannotClean
	}
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	unlock, err := lock(f)
	if err != nil {
		return false, err
	}
	defer unlock()
	span, err := spanOf(f)
	if err != nil || span.End != consumed {
		return false, err
	}
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	// A rewrite (drop_older) may have replaced the file since it was
	// opened: the new one holds entries nobody read.
	if now, err := os.Stat(path); err != nil || !os.SameFile(fi, now) {
		return false, err
	}
	return true, os.Remove(path)
}
