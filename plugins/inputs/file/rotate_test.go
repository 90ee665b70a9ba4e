package file

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// writer appends numbered lines to a log as a program does, and rotates
// it the way logrotate does.
type writer struct {
	t    testing.TB
	path string
	mu   sync.Mutex
	f    *os.File
	next int
}

func newWriter(t testing.TB, path string) *writer {
	w := &writer{t: t, path: path}
	w.reopen()
	return w
}

func (w *writer) reopen() {
	if w.f != nil {
		w.f.Close()
	}
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		w.t.Fatal(err)
	}
	w.f = f
}

func (w *writer) write(n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "line %d\n", w.next)
		w.next++
	}
	if _, err := w.f.WriteString(b.String()); err != nil {
		w.t.Fatal(err)
	}
}

// rename rotation: the log is renamed and the program reopens its path.
func (w *writer) renameRotate(to string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := os.Rename(w.path, to); err != nil {
		w.t.Fatal(err)
	}
	w.reopen()
}

// copytruncate rotation: the log is copied, then truncated in place; the
// program keeps writing to the same file. (logrotate can lose lines
// written between the copy and the truncation; here the writer waits.)
func (w *writer) copyTruncate(to string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	src, err := os.Open(w.path)
	if err != nil {
		w.t.Fatal(err)
	}
	dst, err := os.Create(to)
	if err != nil {
		w.t.Fatal(err)
	}
	io.Copy(dst, src)
	src.Close()
	dst.Close()
	if err := os.Truncate(w.path, 0); err != nil {
		w.t.Fatal(err)
	}
}

// countLines checks that every line 0..n-1 arrived and returns how many
// arrived more than once and how many are not lines the writer wrote.
func countLines(t *testing.T, msgs []string, n int) (dups, foreign int) {
	t.Helper()
	seen := make([]int, n)
	for _, m := range msgs {
		num, err := strconv.Atoi(strings.TrimPrefix(m, "line "))
		if err != nil || !strings.HasPrefix(m, "line ") || num < 0 || num >= n {
			foreign++
			continue
		}
		seen[num]++
	}
	var missing []int
	for i, c := range seen {
		if c == 0 {
			missing = append(missing, i)
		}
		if c > 1 {
			dups += c - 1
		}
	}
	if len(missing) > 0 {
		t.Fatalf("%d lines never arrived, first %v", len(missing), missing[:min(10, len(missing))])
	}
	return dups, foreign
}

// Rename rotation under continuous writes: lines written to the old file
// after it was renamed (the program had not reopened yet) still arrive,
// and so does every line of each new file. Only the live name matches
// the glob.
func TestRenameRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	w := newWriter(t, path)
	h := start(t, fast(map[string]any{"path": []any{path}}), t.TempDir(), false)
	time.Sleep(40 * time.Millisecond)
	const rotations, perStep = 5, 200
	for r := 0; r < rotations; r++ {
		for i := 0; i < 10; i++ {
			w.write(perStep / 10)
			time.Sleep(10 * time.Millisecond)
		}
		// The input has seen the file under its name before it is renamed
		// away: one renamed before any discovery saw it under the glob is
		// never seen at all (tail mode follows files it knows). Waiting
		// for its lines keeps a loaded box from timing that out; the lines
		// written after the rename still race the reader.
		h.waitFor(w.lines(), 10*time.Second)
		// Renamed, but the program writes a few more lines to the old
		// file before it reopens (as with a delayed SIGHUP).
		w.mu.Lock()
		os.Rename(path, filepath.Join(dir, fmt.Sprintf("app.log.%d", r)))
		w.mu.Unlock()
		w.write(5)
		w.renameRotateDone()
	}
	w.write(perStep)
	total := w.next
	h.waitFor(total, 10*time.Second)
	h.quiet(total, 100*time.Millisecond)
	msgs := h.messages()
	if dups, foreign := countLines(t, msgs, total); dups > 0 || foreign > 0 {
		t.Errorf("%d duplicate and %d foreign lines", dups, foreign)
	}
	// Within each file, lines come in order.
	checkOrderedRuns(t, msgs)
}

// lines is how many lines were written so far.
func (w *writer) lines() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.next
}

func (w *writer) renameRotateDone() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.reopen()
}

// checkOrderedRuns checks that lines arrive in increasing order except
// where a new file starts (a few lines of the old file may follow).
func checkOrderedRuns(t *testing.T, msgs []string) {
	t.Helper()
	nums := make([]int, 0, len(msgs))
	for _, m := range msgs {
		n, _ := strconv.Atoi(strings.TrimPrefix(m, "line "))
		nums = append(nums, n)
	}
	if !sort.IntsAreSorted(nums) {
		back := 0
		for i := 1; i < len(nums); i++ {
			if nums[i] < nums[i-1] {
				back++
			}
		}
		if back > 10 {
			t.Errorf("lines out of order %d times", back)
		}
	}
}

// copytruncate rotation under continuous writes: after each truncation the
// file is read again from its start, and each copy (which the glob
// matches) is read from where the original was left, so the lines
// written between the last read and the truncation are not lost and
// nothing is read twice.
func TestCopytruncateRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	w := newWriter(t, path)
	h := start(t, fast(map[string]any{"path": []any{path + "*"}, "start_position": "beginning"}), t.TempDir(), false)
	const rotations = 8
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			w.write(3)
			time.Sleep(time.Millisecond)
		}
	}()
	for r := 0; r < rotations; r++ {
		time.Sleep(100 * time.Millisecond)
		w.copyTruncate(filepath.Join(dir, fmt.Sprintf("app.log.%d", r)))
	}
	time.Sleep(20 * time.Millisecond)
	close(stop)
	wg.Wait()
	total := w.next
	h.waitFor(total, 10*time.Second)
	time.Sleep(100 * time.Millisecond)
	msgs := h.messages()
	dups, foreign := countLines(t, msgs, total)
	// A truncation noticed only after the file grew past the old position
	// again can repeat what was read of the new content in between, and
	// read one line from its middle.
	if foreign > rotations || dups > rotations*10 {
		t.Errorf("%d duplicates and %d foreign lines over %d rotations of %d lines", dups, foreign, rotations, total)
	}
	t.Logf("%d lines, %d rotations: %d duplicates, %d foreign", total, rotations, dups, foreign)
}

// A file truncated and rewritten past the old position between two looks
// is told apart by its first bytes.
func TestRewrittenPastPositionIsReadAgain(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	writeFile(t, path, "first line of the old content\n")
	h := start(t, map[string]any{"path": []any{path}, "start_position": "beginning", "stat_interval": "200ms", "discover_interval": "1s"}, t.TempDir(), false)
	h.waitFor(1, 5*time.Second)
	// Within one stat interval: truncated and written again, longer.
	writeFile(t, path, "new content, first line\nnew content, second line\n")
	ev := h.waitFor(3, 5*time.Second)
	if got := ev[1].Message() + "|" + ev[2].Message(); got != "new content, first line|new content, second line" {
		t.Errorf("after the rewrite: %q", got)
	}
}

// A deleted file is read to its end through the open handle, then
// forgotten.
func TestDeletedFileIsReadToItsEnd(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	w := newWriter(t, path)
	h := start(t, fast(map[string]any{"path": []any{path}}), t.TempDir(), false)
	time.Sleep(40 * time.Millisecond)
	w.write(10)
	h.waitFor(10, 5*time.Second)
	os.Remove(path)
	w.write(10) // still writing to the deleted file
	h.waitFor(20, 5*time.Second)
	checkSequence(t, h.messages(), 0, 20)
	time.Sleep(200 * time.Millisecond)
	h.in.mu.Lock()
	n := len(h.in.db)
	h.in.mu.Unlock()
	if n != 0 {
		t.Errorf("a deleted file's position is kept (%d entries): its inode may be reused", n)
	}
}
