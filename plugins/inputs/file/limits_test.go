package file

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A file last changed long ago is not read when found; lines added to it
// later are.
func TestIgnoreOlder(t *testing.T) {
	dir := t.TempDir()
	old, fresh := filepath.Join(dir, "old.log"), filepath.Join(dir, "fresh.log")
	writeFile(t, old, "ancient 1\nancient 2\n")
	long := time.Now().Add(-2 * time.Hour)
	os.Chtimes(old, long, long)
	writeFile(t, fresh, "fresh 1\n")
	h := start(t, fast(map[string]any{"path": []any{filepath.Join(dir, "*.log")}, "start_position": "beginning", "ignore_older": "1h"}), t.TempDir(), false)
	h.waitFor(1, 5*time.Second)
	h.quiet(1, 100*time.Millisecond)
	appendFile(t, old, "new in old\n")
	ev := h.waitFor(2, 5*time.Second)
	if ev[0].Message() != "fresh 1" || ev[1].Message() != "new in old" {
		t.Errorf("got %q", h.messages())
	}
}

// An idle file is closed (its position kept) and opened again when it
// grows; with max_open_files = 1, files take turns and all are read.
func TestCloseOlderAndMaxOpenFiles(t *testing.T) {
	dir := t.TempDir()
	paths := []string{filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log"), filepath.Join(dir, "c.log")}
	for _, p := range paths {
		writeFile(t, p, filepath.Base(p)+" 1\n")
	}
	h := start(t, fast(map[string]any{"path": []any{filepath.Join(dir, "*.log")}, "start_position": "beginning",
		"close_older": "30ms", "max_open_files": 1.0}), t.TempDir(), false)
	h.waitFor(3, 5*time.Second)
	time.Sleep(100 * time.Millisecond)
	for _, p := range paths {
		appendFile(t, p, filepath.Base(p)+" 2\n")
	}
	h.waitFor(6, 5*time.Second)
	h.quiet(6, 100*time.Millisecond)
	for _, want := range []string{"a.log 1", "b.log 1", "c.log 1", "a.log 2", "b.log 2", "c.log 2"} {
		if !contains(h.messages(), want) {
			t.Errorf("missing %q in %q", want, h.messages())
		}
	}
}

// Positions of files gone for longer than sincedb_clean_after are dropped.
func TestSincedbCleanAfter(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.log")
	writeFile(t, path, "x\n")
	const cleanAfter = time.Second
	h := start(t, fast(map[string]any{"path": []any{filepath.Join(dir, "*.log")}, "start_position": "beginning", "sincedb_clean_after": cleanAfter.String()}), t.TempDir(), false)
	h.waitFor(1, 5*time.Second)
	read := time.Now()
	// Renamed out of the glob: not deleted, so its position is kept at
	// first, then forgotten.
	os.Rename(path, filepath.Join(dir, "a.old"))
	entries := func() int {
		h.in.mu.Lock()
		defer h.in.mu.Unlock()
		return len(h.in.db)
	}
	time.Sleep(150 * time.Millisecond) // a few discoveries see it gone
	// A loaded box may sleep past the clean-after age; only a check made
	// before it says anything.
	if n := entries(); n != 1 && time.Since(read) < cleanAfter*3/4 {
		t.Fatalf("%d positions right after the rename, want 1", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for entries() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the position was never forgotten")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A custom delimiter ends lines, and the last line of a read-mode file
// needs none.
func TestDelimiter(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "records.txt")
	writeFile(t, path, "one||two\n lines||three")
	h := start(t, fast(map[string]any{"path": []any{path}, "mode": "read", "delimiter": "||", "file_completed_action": "log",
		"file_completed_log_path": filepath.Join(t.TempDir(), "done")}), t.TempDir(), false)
	ev := h.waitFor(3, 5*time.Second)
	if ev[0].Message() != "one" || ev[1].Message() != "two\n lines" || ev[2].Message() != "three" {
		t.Errorf("got %q", h.messages())
	}
}
