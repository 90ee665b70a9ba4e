package file

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk"
)

// Lines appended while the input tails a file arrive once each, in order,
// even when a line is written in two parts.
func TestTailWhileAppending(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	writeFile(t, path, numbered(0, 3))
	h := start(t, fast(map[string]any{"path": []any{path}, "start_position": "beginning"}), t.TempDir(), false)
	h.waitFor(3, 5*time.Second)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 3; i < 2000; i++ {
			line := fmt.Sprintf("line %d\n", i)
			if i%100 == 0 {
				// Half a line, then the rest: the half must not be an event.
				appendFile(t, path, line[:3])
				time.Sleep(15 * time.Millisecond)
				appendFile(t, path, line[3:])
				continue
			}
			appendFile(t, path, line)
		}
	}()
	<-done
	h.waitFor(2000, 10*time.Second)
	h.quiet(2000, 50*time.Millisecond)
	checkSequence(t, h.messages(), 0, 2000)

	// Every event says where it came from.
	content, _ := os.ReadFile(path)
	host, _ := os.Hostname()
	for _, e := range h.snapshot()[:50] {
		if p, _ := e.Get("[log][file][path]"); p != path {
			t.Fatalf("[log][file][path] = %v", p)
		}
		if hn, _ := e.Get("[host][name]"); hn != host {
			t.Fatalf("[host][name] = %v", hn)
		}
		off, _ := e.Metadata()["offset"].(int64)
		if !strings.HasPrefix(string(content[off:]), e.Message()+"\n") {
			t.Fatalf("offset %d of %q points at %q", off, e.Message(), content[off:off+10])
		}
		if e.Metadata()["path"] != path {
			t.Fatalf("[@metadata][path] = %v", e.Metadata()["path"])
		}
	}
}

// Another process appends; the input follows.
func TestTailAnotherProcessAppends(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	writeFile(t, path, "")
	h := start(t, fast(map[string]any{"path": []any{path}}), t.TempDir(), false)
	time.Sleep(50 * time.Millisecond) // found while empty: start_position end is 0
	cmd := exec.Command("sh", "-c", `i=0; while [ $i -lt 500 ]; do echo "line $i"; i=$((i+1)); done >> "$0"`, path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("writer: %v %s", err, out)
	}
	h.waitFor(500, 10*time.Second)
	h.quiet(500, 50*time.Millisecond)
	checkSequence(t, h.messages(), 0, 500)
}

func TestStartPosition(t *testing.T) {
	tests := []struct {
		position string
		want     []string
	}{
		{"beginning", []string{"old 1", "old 2", "new 1", "later file"}},
		{"end", []string{"new 1", "later file"}},
	}
	for _, tt := range tests {
		t.Run(tt.position, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "a.log"), "old 1\nold 2\n")
			h := start(t, fast(map[string]any{"path": []any{filepath.Join(dir, "*.log")}, "start_position": tt.position}), t.TempDir(), false)
			time.Sleep(60 * time.Millisecond)
			appendFile(t, filepath.Join(dir, "a.log"), "new 1\n")
			h.waitFor(len(tt.want)-1, 5*time.Second)
			// A file that appears later is read from its beginning whatever
			// start_position says: it is new, not one we joined midway.
			writeFile(t, filepath.Join(dir, "b.log"), "later file\n")
			h.waitFor(len(tt.want), 5*time.Second)
			h.quiet(len(tt.want), 50*time.Millisecond)
			if got := h.messages(); strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// A clean stop re-reads nothing: the restarted input sends only the lines
// added while it was down.
func TestRestartResumes(t *testing.T) {
	dir, data := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "app.log")
	writeFile(t, path, numbered(0, 300))
	settings := fast(map[string]any{"path": []any{path}, "start_position": "beginning"})
	h := start(t, settings, data, false)
	h.waitFor(300, 5*time.Second)
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, numbered(300, 310))
	// A half-written line at the end waits for its newline.
	appendFile(t, path, "line 3")
	h2 := start(t, settings, data, false)
	h2.waitFor(10, 5*time.Second)
	h2.quiet(10, 60*time.Millisecond)
	appendFile(t, path, "10\n")
	h2.waitFor(11, 5*time.Second)
	checkSequence(t, h2.messages(), 300, 311)
}

// Positions advance only over lines whose batches are acked, in file
// order, whatever order the acks come in.
func TestPositionsFollowAcks(t *testing.T) {
	dir, data := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "app.log")
	writeFile(t, path, numbered(0, 10))
	settings := fast(map[string]any{"path": []any{path}, "start_position": "beginning"})
	in, _ := newInput(t, settings, data)
	in.batch = 2 // five batches of two 7-byte lines
	h := &harness{t: t, in: in, hold: true, changed: make(chan struct{}, 1)}
	h.dec, _ = sdk.NewInputDecorator(sdk.NewConfig(nil))
	ctx, cancel := contextWithCancel()
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- in.Run(ctx, h) }()
	t.Cleanup(func() { h.stop() })
	h.waitFor(10, 5*time.Second)

	pos := func() int64 {
		in.mu.Lock()
		defer in.mu.Unlock()
		for _, e := range in.db {
			return e.pos
		}
		return -1
	}
	if p := pos(); p != 0 {
		t.Fatalf("position %d before any ack", p)
	}
	h.release(1, 2) // batches 2 and 3 delivered, batch 1 not
	if p := pos(); p != 0 {
		t.Fatalf("position %d with the first batch unacked", p)
	}
	h.release(0) // batch 1: now 1-3 are delivered in a row
	if p := pos(); p != 3*14 {
		t.Fatalf("position %d after batches 1-3, want %d", p, 3*14)
	}
	h.release()
	if p := pos(); p != 5*14 {
		t.Fatalf("position %d after every batch, want %d", p, 5*14)
	}
	h.stop()
	db, err := readSincedb(in.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range db {
		if e.pos != 70 || e.path != path {
			t.Errorf("sincedb on disk: %+v", e)
		}
	}
}

// A file that shrinks is read again from its start.
func TestTruncatedFileIsReadAgain(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	writeFile(t, path, numbered(0, 100))
	h := start(t, fast(map[string]any{"path": []any{path}, "start_position": "beginning"}), t.TempDir(), false)
	h.waitFor(100, 5*time.Second)
	writeFile(t, path, "after 1\nafter 2\n")
	ev := h.waitFor(102, 5*time.Second)
	if ev[100].Message() != "after 1" || ev[101].Message() != "after 2" {
		t.Errorf("after truncation: %q", lastMessages(ev, 2))
	}
}

// Without ECS the path and host are plain top-level fields, and the
// common options apply.
func TestFieldsWithoutECS(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	writeFile(t, path, "hello\n")
	h := start(t, fast(map[string]any{"path": []any{path}, "start_position": "beginning", "ecs_compatibility": "disabled",
		"type": "syslog", "tags": []any{"t1"}, "add_field": map[string]any{"[log][env]": "prod"}}), t.TempDir(), false)
	e := h.waitFor(1, 5*time.Second)[0]
	host, _ := os.Hostname()
	f := e.Fields()
	if f["path"] != path || f["host"] != host || f["type"] != "syslog" || !e.HasTag("t1") || f["@version"] != "1" {
		t.Errorf("fields: %v", e.ToMap(true))
	}
	if v, _ := e.Get("[log][env]"); v != "prod" {
		t.Errorf("add_field: %v", e.ToMap(false))
	}
	if _, ok := f["log"].(map[string]any)["file"]; ok {
		t.Errorf("ECS path set with ECS disabled: %v", f["log"])
	}
}

// With add_field writing under [log], each event gets its own [log] map.
func TestAddFieldDoesNotLeakAcrossEvents(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	writeFile(t, path, "a\nb\n")
	h := start(t, fast(map[string]any{"path": []any{path}, "start_position": "beginning",
		"add_field": map[string]any{"[log][line]": "%{message}"}}), t.TempDir(), false)
	ev := h.waitFor(2, 5*time.Second)
	for _, e := range ev {
		if v, _ := e.Get("[log][line]"); v != e.Message() {
			t.Errorf("event %q has [log][line] %v", e.Message(), v)
		}
		if v, _ := e.Get("[log][file][path]"); v != path {
			t.Errorf("event %q has [log][file][path] %v", e.Message(), v)
		}
	}
}

// While the sincedb cannot be written, acks wait once a few changes are
// pending, so the input stops publishing: what a crash could repeat stays
// bounded. It goes on once the writer catches up.
func TestStuckSincedbWriterHoldsTheInput(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	writeFile(t, path, numbered(0, 100))
	unblock := make(chan struct{})
	writeSincedb = func(p string, data []byte) error {
		<-unblock
		return writeAtomic(p, data)
	}
	defer func() { writeSincedb = writeAtomic }()
	in, dec := newInput(t, fast(map[string]any{"path": []any{path}, "start_position": "beginning"}), t.TempDir())
	in.batch = 1
	h := &harness{t: t, in: in, dec: dec, changed: make(chan struct{}, 1), done: make(chan error, 1)}
	ctx, cancel := contextWithCancel()
	h.cancel = cancel
	go func() { h.done <- in.Run(ctx, h) }()
	defer func() {
		select {
		case <-unblock:
		default:
			close(unblock)
		}
		h.stop()
	}()
	time.Sleep(200 * time.Millisecond)
	h.mu.Lock()
	stuck := h.batches
	h.mu.Unlock()
	if stuck == 0 || stuck > maxUnwritten+1 {
		t.Fatalf("%d batches published while the sincedb could not be written; want 1 to %d", stuck, maxUnwritten+1)
	}
	close(unblock)
	h.waitFor(100, 5*time.Second)
}

// A stop publishes each file's pending multiline event instead of dropping
// it, and its position is committed only once it is acknowledged: a stop
// before the acknowledgement reads it again, one after does not.
func TestStopFlushesMultiline(t *testing.T) {
	dir, data := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "app.log")
	content := "START 1\n a\nSTART 2\n b\n"
	writeFile(t, path, content)
	settings := fast(map[string]any{"path": []any{path}, "start_position": "beginning", "codec": "multiline",
		"multiline": map[string]any{"pattern": "^START", "negate": true, "what": "previous", "auto_flush_interval": "60s"}})
	h := start(t, settings, data, true)
	h.waitFor(1, 5*time.Second)
	h.quiet(1, 100*time.Millisecond)
	h.cancel()
	h.cancel = nil
	if err := <-h.done; err != nil {
		t.Fatal(err)
	}
	if got, want := h.messages(), []string{"START 1\n a", "START 2\n b"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q: the stop must publish the pending event", got, want)
	}
	fi, _ := os.Stat(path)
	id, _, _ := identify(fi)
	pos := func() int64 {
		h.in.mu.Lock()
		defer h.in.mu.Unlock()
		return h.in.db[id].pos
	}
	if p := pos(); p != 0 {
		t.Errorf("position %d before any acknowledgement, want 0", p)
	}
	h.release(0)
	if p := pos(); p != int64(len("START 1\n a\n")) {
		t.Errorf("position %d after the first acknowledgement, want %d", p, len("START 1\n a\n"))
	}
	h.release()
	if p := pos(); p != int64(len(content)) {
		t.Errorf("position %d once the flushed event is acknowledged, want %d", p, len(content))
	}
	if err := h.in.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	again := start(t, settings, data, false)
	again.quiet(0, 300*time.Millisecond)
}
