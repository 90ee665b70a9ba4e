package file

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/codecs"
	"github.com/gostash/gostash/sdk/sdktest"
)

// Read mode reads each file whole (the last line needs no newline) and
// applies file_completed_action only once every line is acked; with
// exit_after_read, Run then returns.
func TestReadModeCompletedAction(t *testing.T) {
	tests := []struct {
		action          string
		deleted, logged bool
	}{
		{"delete", true, false},
		{"log", false, true},
		{"log_and_delete", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			dir := t.TempDir()
			a, b := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv")
			writeFile(t, a, numbered(0, 300))
			writeFile(t, b, "only line, no newline")
			logPath := filepath.Join(t.TempDir(), "completed.log")
			h := start(t, fast(map[string]any{"path": []any{filepath.Join(dir, "*.csv")}, "mode": "read",
				"file_completed_action": tt.action, "file_completed_log_path": logPath, "exit_after_read": true}), t.TempDir(), true)
			h.waitFor(301, 5*time.Second)
			time.Sleep(50 * time.Millisecond)
			// Nothing acked yet: both files must still be there.
			for _, p := range []string{a, b} {
				if _, err := os.Stat(p); err != nil {
					t.Fatalf("%s gone before its lines were delivered: %v", p, err)
				}
			}
			select {
			case <-h.done:
				t.Fatal("Run returned before the lines were delivered")
			default:
			}
			h.release()
			select {
			case err := <-h.done:
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				h.cancel = nil
				h.in.Close(nil)
			case <-time.After(5 * time.Second):
				t.Fatal("exit_after_read: Run did not return")
			}
			msgs := h.messages()
			if !contains(msgs, "only line, no newline") || !contains(msgs, "line 299") || len(msgs) != 301 {
				t.Errorf("got %d messages", len(msgs))
			}
			for _, p := range []string{a, b} {
				_, err := os.Stat(p)
				if gone := errors.Is(err, os.ErrNotExist); gone != tt.deleted {
					t.Errorf("%s deleted = %v, want %v", p, gone, tt.deleted)
				}
			}
			logged, _ := os.ReadFile(logPath)
			if got := strings.Count(string(logged), "\n"); (got == 2) != tt.logged || (tt.logged && !strings.Contains(string(logged), a+"\n")) {
				t.Errorf("completed log %q", logged)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// New files and directories matching a ** glob are found while running;
// excluded names and a directory that does not exist yet are no problem.
func TestGlobDiscoveryWhileRunning(t *testing.T) {
	root := filepath.Join(t.TempDir(), "logs") // does not exist yet
	h := start(t, fast(map[string]any{"path": []any{filepath.Join(root, "**", "*.log")}, "exclude": []any{"*.old.log"}}), t.TempDir(), false)
	time.Sleep(50 * time.Millisecond)
	writeFile(t, filepath.Join(root, "a.log"), "a1\n")
	writeFile(t, filepath.Join(root, "x", "y", "b.log"), "b1\n")
	writeFile(t, filepath.Join(root, "x", "c.old.log"), "excluded\n")
	writeFile(t, filepath.Join(root, "x", "d.txt"), "not matched\n")
	h.waitFor(2, 5*time.Second)
	appendFile(t, filepath.Join(root, "a.log"), "a2\n")
	h.waitFor(3, 5*time.Second)
	h.quiet(3, 100*time.Millisecond)
	got := h.messages()
	for _, want := range []string{"a1", "b1", "a2"} {
		if !contains(got, want) {
			t.Errorf("missing %q in %q", want, got)
		}
	}
}

func TestGlob(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"a.log", "b.txt", "s/c.log", "s/t/d.log", "u/e.log"} {
		writeFile(t, filepath.Join(dir, p), "")
	}
	tests := []struct {
		pattern string
		want    []string
	}{
		{"*.log", []string{"a.log"}},
		{"**/*.log", []string{"a.log", "s/c.log", "s/t/d.log", "u/e.log"}},
		{"s/**/*.log", []string{"s/c.log", "s/t/d.log"}},
		{"{s,u}/*.log", []string{"s/c.log", "u/e.log"}},
		{"*.{log,txt}", []string{"a.log", "b.txt"}},
		{"missing/**/*.log", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, p := range glob(filepath.Join(dir, tt.pattern)) {
			rel, _ := filepath.Rel(dir, p)
			got = append(got, filepath.ToSlash(rel))
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("glob(%q) = %q, want %q", tt.pattern, got, tt.want)
		}
	}
}

// A Java stack trace is one event; the last one comes out after the quiet
// interval even though no next event starts it off.
func TestMultilineStackTraces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	trace := "2024-01-02 03:04:05 ERROR request failed\n" +
		"java.lang.NullPointerException: null\n" +
		"\tat com.example.Handler.handle(Handler.java:42)\n" +
		"\tat com.example.Server.run(Server.java:7)\n"
	writeFile(t, path, trace+"2024-01-02 03:04:06 INFO ok\n"+trace)
	h := start(t, fast(map[string]any{"path": []any{path}, "start_position": "beginning", "codec": "multiline",
		"multiline": map[string]any{"pattern": `^\d{4}-\d{2}-\d{2} `, "negate": true, "what": "previous", "auto_flush_interval": "150ms"}}), t.TempDir(), false)
	ev := h.waitFor(2, 5*time.Second)
	if ev[0].Message() != strings.TrimSuffix(trace, "\n") || !ev[0].HasTag("multiline") {
		t.Errorf("first event %q tags %v", ev[0].Message(), ev[0].Tags())
	}
	if ev[1].Message() != "2024-01-02 03:04:06 INFO ok" || ev[1].HasTag("multiline") {
		t.Errorf("second event %q", ev[1].Message())
	}
	start := time.Now()
	ev = h.waitFor(3, 5*time.Second)
	if waited := time.Since(start); waited < 80*time.Millisecond {
		t.Errorf("the last trace came after %s, before its quiet interval", waited)
	}
	if ev[2].Message() != strings.TrimSuffix(trace, "\n") {
		t.Errorf("last event %q", ev[2].Message())
	}
	if off := ev[2].Metadata()["offset"]; off != int64(2*len(trace)-len(trace)+len("2024-01-02 03:04:06 INFO ok\n")) {
		t.Errorf("offset of the last trace = %v", off)
	}
}

// Lines that are not JSON keep their text, tagged; good ones are decoded.
func TestJSONFailures(t *testing.T) {
	for _, codec := range []string{"json", "json_lines"} {
		t.Run(codec, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "app.json")
			writeFile(t, path, `{"level":"info","n":1}`+"\n"+`not json at all`+"\n"+`{"cut": `+"\n"+`[{"a":1},{"a":2}]`+"\n")
			h := start(t, fast(map[string]any{"path": []any{path}, "start_position": "beginning", "codec": codec}), t.TempDir(), false)
			ev := h.waitFor(5, 5*time.Second)
			h.quiet(5, 50*time.Millisecond)
			if ev[0].Fields()["level"] != "info" || ev[0].Fields()["n"] != int64(1) || ev[0].HasTag(codecs.TagJSONParseFailure) {
				t.Errorf("good line: %v", ev[0].ToMap(false))
			}
			for i, want := range []string{"not json at all", `{"cut": `} {
				e := ev[1+i]
				if e.Message() != want || !e.HasTag(codecs.TagJSONParseFailure) {
					t.Errorf("bad line %d: %v", i, e.ToMap(false))
				}
				if p, _ := e.Get("[log][file][path]"); p != path {
					t.Errorf("bad line %d has no path: %v", i, e.ToMap(false))
				}
			}
			if ev[3].Fields()["a"] != int64(1) || ev[4].Fields()["a"] != int64(2) {
				t.Errorf("array: %v %v", ev[3].ToMap(false), ev[4].ToMap(false))
			}
		})
	}
}

// Invalid UTF-8 is kept (replaced), a 10 MiB line is cut at
// max_line_bytes and tagged, and the lines around it arrive whole.
func TestInvalidUTF8AndHugeLine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	huge := strings.Repeat("x", 10<<20)
	writeFile(t, path, "caf\xe9 latin-1\n"+huge+"\nafter\n\xff\xfe\n")
	h := start(t, fast(map[string]any{"path": []any{path}, "start_position": "beginning"}), t.TempDir(), false)
	ev := h.waitFor(4, 10*time.Second)
	if ev[0].Message() != "caf\uFFFD latin-1" {
		t.Errorf("latin-1 line = %q", ev[0].Message())
	}
	if m := ev[1].Message(); len(m) != 1<<20 || !ev[1].HasTag(codecs.TagLineTooLong) {
		t.Errorf("huge line: %d bytes, tags %v", len(m), ev[1].Tags())
	}
	if ev[2].Message() != "after" || ev[2].HasTag(codecs.TagLineTooLong) {
		t.Errorf("line after the huge one: %q %v", ev[2].Message(), ev[2].Tags())
	}
	if ev[3].Message() != "\uFFFD\uFFFD" {
		t.Errorf("binary line = %q", ev[3].Message())
	}
	if want := int64(len("caf\xe9 latin-1\n") + len(huge) + 1); ev[2].Metadata()["offset"] != want {
		t.Errorf("offset after the huge line = %v, want %d", ev[2].Metadata()["offset"], want)
	}
	h.stop()
	if h.in.cutLines != 1 {
		t.Errorf("cut lines counted: %d", h.in.cutLines)
	}
}

// A file that cannot be opened is retried and does not hold up others.
func TestUnreadableFileIsRetried(t *testing.T) {
	dir := t.TempDir()
	bad, good := filepath.Join(dir, "bad.log"), filepath.Join(dir, "good.log")
	writeFile(t, bad, "bad 1\n")
	writeFile(t, good, "good 1\n")
	var failing atomic.Bool
	failing.Store(true)
	open = func(name string) (*os.File, error) {
		if name == bad && failing.Load() {
			return nil, &os.PathError{Op: "open", Path: name, Err: os.ErrPermission}
		}
		return os.Open(name)
	}
	defer func() { open = os.Open }()
	h := start(t, fast(map[string]any{"path": []any{filepath.Join(dir, "*.log")}, "start_position": "beginning"}), t.TempDir(), false)
	h.waitFor(1, 5*time.Second)
	h.quiet(1, 100*time.Millisecond)
	failing.Store(false)
	ev := h.waitFor(2, 5*time.Second)
	if ev[0].Message() != "good 1" || ev[1].Message() != "bad 1" {
		t.Errorf("got %q", []string{ev[0].Message(), ev[1].Message()})
	}
}

// A sincedb entry for the same inode but other first bytes is another
// file (a reused inode): it is read from the start.
func TestReusedInodeIsANewFile(t *testing.T) {
	dir, data := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "app.log")
	writeFile(t, path, "a brand new file\n")
	fi, _ := os.Stat(path)
	id, _, _ := identify(fi)
	in, _ := newInput(t, fast(map[string]any{"path": []any{path}}), data)
	db := map[fileID]*entry{id: {pos: 5, path: "/old/file", fpLen: 17, fpSum: 12345}}
	if err := writeAtomic(in.dbPath, appendSincedb(nil, db)); err != nil {
		t.Fatal(err)
	}
	h := start(t, fast(map[string]any{"path": []any{path}, "start_position": "beginning"}), data, false)
	if ev := h.waitFor(1, 5*time.Second); ev[0].Message() != "a brand new file" {
		t.Errorf("got %q", ev[0].Message())
	}
}

func TestSincedbFormat(t *testing.T) {
	db := map[fileID]*entry{
		{dev: devJoin(259, 1), ino: 42}: {pos: 100, lastActive: 1700000000123000000, path: "/var/log/a b.log", fpLen: 1024, fpSum: 0xdeadbeef},
		{dev: devJoin(8, 300), ino: 7}:  {pos: 0, path: "/var/log/new\nline.log"},
	}
	path := filepath.Join(t.TempDir(), "sincedb")
	if err := writeAtomic(path, appendSincedb(nil, db)); err != nil {
		t.Fatal(err)
	}
	back, err := readSincedb(path)
	if err != nil {
		t.Fatal(err)
	}
	for id, e := range db {
		got := back[id]
		if got == nil || got.pos != e.pos || got.path != e.path || got.fpLen != e.fpLen || got.fpSum != e.fpSum || got.lastActive/1e6 != e.lastActive/1e6 {
			t.Errorf("entry %v: got %+v, want %+v", id, got, e)
		}
	}
	// Logstash's own sincedb lines are understood.
	ls := filepath.Join(t.TempDir(), "logstash")
	os.WriteFile(ls, []byte("42 259 1 1234 1700000000.5 /var/log/messages\n"), 0o644)
	back, err = readSincedb(ls)
	if e := back[fileID{dev: devJoin(259, 1), ino: 42}]; err != nil || e == nil || e.pos != 1234 || e.path != "/var/log/messages" {
		t.Errorf("Logstash sincedb: %+v, %v", e, err)
	}
	os.WriteFile(ls, []byte("garbage\n"), 0o644)
	if _, err := readSincedb(ls); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a corrupt sincedb: %v", err)
	}
}

// Logstash's old sincedb lines have four columns (inode major minor
// position); they used to crash the input. Like Logstash, the position is
// taken and counts as changed now, so sincedb_clean_after keeps it.
func TestSincedbOldLogstashFormat(t *testing.T) {
	ls := filepath.Join(t.TempDir(), "logstash")
	os.WriteFile(ls, []byte("42 259 1 1234\n43 259 1 99 1700000000.5\n"), 0o644)
	before := time.Now().UnixNano()
	db, err := readSincedb(ls)
	if err != nil {
		t.Fatal(err)
	}
	old := db[fileID{dev: devJoin(259, 1), ino: 42}]
	if old == nil || old.pos != 1234 || old.path != "" || old.lastActive < before {
		t.Errorf("four columns: %+v", old)
	}
	if e := db[fileID{dev: devJoin(259, 1), ino: 43}]; e == nil || e.pos != 99 || e.lastActive != 1700000000500000000 {
		t.Errorf("five columns: %+v", e)
	}
	for _, bad := range []string{"42 259 1\n", "42 259 1 7 yesterday /x\n", "# gostash sincedb v1\n42 259 1 7 1.5 x y /p\n"} {
		os.WriteFile(ls, []byte(bad), 0o644)
		if _, err := readSincedb(ls); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// The input reads a file from the position an old-format line gives.
func TestSincedbOldFormatPositionIsUsed(t *testing.T) {
	dir, data := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "app.log")
	writeFile(t, path, "done\nline 0\nline 1\n")
	fi, _ := os.Stat(path)
	id, _, _ := identify(fi)
	major, minor := devParts(id.dev)
	db := filepath.Join(data, "sincedb")
	writeFile(t, db, fmt.Sprintf("%d %d %d 5\n", id.ino, major, minor))
	h := start(t, fast(map[string]any{"path": []any{path}, "start_position": "beginning", "sincedb_path": db}), data, false)
	h.waitFor(2, 5*time.Second)
	h.quiet(2, 100*time.Millisecond)
	checkSequence(t, h.messages(), 0, 2)
}

// A sincedb that cannot be read fails New, which the core reports once
// as a failed start, instead of Run failing and being restarted for ever.
func TestUnreadableSincedbFailsOpen(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage")
	writeFile(t, garbage, "this is not a sincedb\n")
	for name, db := range map[string]string{"garbage": garbage, "a directory": dir} {
		t.Run(name, func(t *testing.T) {
			comp := sdktest.Lookup(t, sdk.KindInput, "file")
			cfg := sdktest.Config(t, comp, map[string]any{"path": []any{"/var/log/x.log"}, "sincedb_path": db})
			_, err := comp.NewInput(context.Background(), cfg, sdktest.Env(t, "file"))
			if err == nil || !strings.Contains(err.Error(), db) || !strings.Contains(err.Error(), "sincedb") {
				t.Fatalf("New: %v; want an error naming the sincedb %s", err, db)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]any
		path     string
	}{
		{"relative path", map[string]any{"path": []any{"logs/*.log"}}, "path.0"},
		{"log action without log path", map[string]any{"path": []any{"/x"}, "mode": "read", "file_completed_action": "log"}, "file_completed_action"},
		{"zero stat interval", map[string]any{"path": []any{"/x"}, "stat_interval": "0s"}, "stat_interval"},
		{"bad exclude", map[string]any{"path": []any{"/x"}, "exclude": []any{"[a"}}, "exclude.0"},
		{"no files open", map[string]any{"path": []any{"/x"}, "max_open_files": 0.0}, "max_open_files"},
		{"multiline without rules", map[string]any{"path": []any{"/x"}, "codec": "multiline"}, "codec"},
	}
	comp, _ := sdk.Lookup(sdk.KindInput, "file")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := comp.Validate(sdkConfig(t, tt.settings))
			if !ds.HasErrors() {
				t.Fatal("no error")
			}
			if got := strings.Join(ds[0].Path, "."); got != tt.path {
				t.Errorf("error at %q: %s; want at %q", got, ds[0].Summary, tt.path)
			}
		})
	}
}

// Once a batch is published its events are filled again with later
// lines: every event must still carry its own line, offset and file.
func TestReusedEventsKeepTheirLines(t *testing.T) {
	dir := t.TempDir()
	paths := []string{filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")}
	for _, p := range paths {
		writeFile(t, p, numbered(0, 3000))
	}
	h := start(t, fast(map[string]any{"path": []any{filepath.Join(dir, "*.log")}, "mode": "read",
		"file_completed_action": "log", "file_completed_log_path": filepath.Join(dir, "done")}), t.TempDir(), false)
	h.waitFor(6000, 10*time.Second)
	h.quiet(6000, 50*time.Millisecond)
	byFile := map[string][]string{}
	for _, e := range h.snapshot() {
		p, _ := e.Get("[log][file][path]")
		path, _ := p.(string)
		content, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("[log][file][path] %v: %v", p, err)
		}
		off, _ := e.Metadata()["offset"].(int64)
		if !strings.HasPrefix(string(content[off:]), e.Message()+"\n") {
			t.Fatalf("offset %d of %q in %s points at %q", off, e.Message(), path, content[off:off+10])
		}
		if e.Metadata()["path"] != path {
			t.Fatalf("[@metadata][path] = %v, [log][file][path] %v", e.Metadata()["path"], path)
		}
		byFile[path] = append(byFile[path], e.Message())
	}
	for _, p := range paths {
		checkSequence(t, byFile[p], 0, 3000)
	}
}
