package file

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
)

func event(msg, host string) *sdk.Event {
	e := sdktest.Event(map[string]any{"message": msg, "[host][name]": host})
	e.Metadata()["secret"] = "not written"
	return e
}

func open(t *testing.T, settings map[string]any) *Output {
	t.Helper()
	comp := sdktest.Lookup(t, sdk.KindOutput, "file")
	cfg := sdktest.Config(t, comp, settings)
	if ds := comp.Validate(cfg); ds.HasErrors() {
		t.Fatalf("settings: %v", ds)
	}
	out, err := comp.NewOutput(context.Background(), cfg, sdktest.Env(t, "file"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.(*Output).Close(context.Background()) })
	return out.(*Output)
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The example: a dated directory and a file per host, one JSON
// object a line, @metadata left out.
func TestJSONLinesPerHostAndDay(t *testing.T) {
	dir := t.TempDir()
	err := sdktest.RunOutput(t, context.Background(), sdktest.OutputSpec{Name: "file", Settings: map[string]any{
		"path": dir + "/%{+YYYY-MM-dd}/%{[host][name]}.log",
	}}, []*sdk.Event{event("one", "web-1"), event("two", "web-2"), event("three \"q\"", "web-1")})
	if err != nil {
		t.Fatal(err)
	}
	web1 := read(t, filepath.Join(dir, "2024-01-02", "web-1.log"))
	lines := strings.Split(strings.TrimSuffix(web1, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("web-1.log has %d lines: %q", len(lines), web1)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, lines[1])
	}
	if m["message"] != `three "q"` || m["@timestamp"] != "2024-01-02T03:04:05.000Z" || m["@metadata"] != nil {
		t.Errorf("line: %v", m)
	}
	if got := read(t, filepath.Join(dir, "2024-01-02", "web-2.log")); !strings.Contains(got, `"message":"two"`) {
		t.Errorf("web-2.log: %q", got)
	}
}

func TestLineCodec(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.txt")
	err := sdktest.RunOutput(t, context.Background(), sdktest.OutputSpec{Name: "file", Settings: map[string]any{
		"path": path, "codec": "line", "format": "%{[host][name]}: %{message}",
	}}, []*sdk.Event{event("a", "h1"), event("b", "h2")})
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, path); got != "h1: a\nh2: b\n" {
		t.Errorf("got %q", got)
	}
}

// A field cannot make the path leave the output directory.
func TestPathOutsideRootGoesToFailureFile(t *testing.T) {
	dir := t.TempDir()
	o := open(t, map[string]any{"path": dir + "/out/%{[host][name]}.log"})
	if err := o.Write(context.Background(), []*sdk.Event{event("evil", "../../etc/x"), event("fine", "ok")}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dir, "out", "_filepath_failures")); !strings.Contains(got, `"message":"evil"`) {
		t.Errorf("failure file: %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "etc", "x.log")); err == nil {
		t.Error("wrote outside the output directory")
	}
	if got := read(t, filepath.Join(dir, "out", "ok.log")); !strings.Contains(got, "fine") {
		t.Errorf("ok.log: %q", got)
	}
}

func TestCreateIfDeleted(t *testing.T) {
	for _, recreate := range []bool{true, false} {
		t.Run(fmt.Sprint(recreate), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "out.log")
			o := open(t, map[string]any{"path": path, "create_if_deleted": recreate, "codec": "line"})
			ctx := context.Background()
			o.Write(ctx, []*sdk.Event{event("before", "h")})
			os.Remove(path)
			if err := o.Write(ctx, []*sdk.Event{event("after", "h")}); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(path)
			failed, _ := os.ReadFile(filepath.Join(dir, "_filepath_failures"))
			if recreate && string(got) != "after\n" {
				t.Errorf("recreated file: %q", got)
			}
			if !recreate && (len(got) != 0 || string(failed) != "after\n") {
				t.Errorf("file %q, failure file %q", got, failed)
			}
		})
	}
}

// A file renamed away (logrotate) is reopened at its path.
func TestRenamedFileIsReopened(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.log")
	o := open(t, map[string]any{"path": path, "codec": "line"})
	ctx := context.Background()
	o.Write(ctx, []*sdk.Event{event("old", "h")})
	os.Rename(path, path+".1")
	o.Write(ctx, []*sdk.Event{event("new", "h")})
	if got := read(t, path); got != "new\n" {
		t.Errorf("new file: %q", got)
	}
	if got := read(t, path+".1"); got != "old\n" {
		t.Errorf("rotated file: %q", got)
	}
}

func TestModes(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "out.log")
	o := open(t, map[string]any{"path": path, "dir_mode": "0750", "file_mode": "0640", "fsync": true})
	if err := o.Write(context.Background(), []*sdk.Event{event("x", "h")}); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	di, _ := os.Stat(filepath.Dir(path))
	if fi.Mode().Perm() != 0o640 || di.Mode().Perm() != 0o750 {
		t.Errorf("file %v, dir %v", fi.Mode().Perm(), di.Mode().Perm())
	}
}

// A line cut short by a crash is ended before new lines are appended, so
// it never swallows the next one.
func TestTornLineIsEnded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.log")
	os.WriteFile(path, []byte("{\"message\":\"whole\"}\n{\"messa"), 0o644)
	o := open(t, map[string]any{"path": path, "codec": "line"})
	o.Write(context.Background(), []*sdk.Event{event("next", "h")})
	if got := read(t, path); got != "{\"message\":\"whole\"}\n{\"messa\nnext\n" {
		t.Errorf("got %q", got)
	}
}

// Batches written from several streams at once keep every line whole.
func TestConcurrentWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.log")
	o := open(t, map[string]any{"path": path})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := 0; b < 50; b++ {
				batch := make([]*sdk.Event, 20)
				for i := range batch {
					batch[i] = event(fmt.Sprintf("w%d-b%d-%d", w, b, i), "h")
				}
				if err := o.Write(context.Background(), batch); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(read(t, path), "\n"), "\n")
	if len(lines) != 4*50*20 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("torn line %q", l)
		}
	}
}

// An event whose path can never be a file is rejected alone, with the
// reason, to be dead-lettered; the others of its batch are written, once.
// (The whole batch used to fail: the core retried it for ever, rewriting
// the events before the bad one each time and never the ones after.)
func TestBadPathRejectedAlone(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	o := open(t, map[string]any{"path": dir + "/%{n}", "codec": "line", "format": "%{n}"})
	bad := map[int]string{
		1: "",                              // "out/": the directory itself
		2: "nul\x00byte",                   // no file name holds a NUL
		3: strings.Repeat("z", 256),        // over NAME_MAX
		5: ".",                             // the directory again
		6: strings.Repeat("d", 300) + "/x", // a directory name over NAME_MAX
	}
	names := []string{"a", "", "", "", "b", "", "", "a"}
	events := make([]*sdk.Event, len(names))
	for i := range names {
		n := names[i]
		if b, ok := bad[i]; ok {
			n = b
		}
		events[i] = sdktest.Event(map[string]any{"n": n})
	}
	err := o.Write(context.Background(), events)
	var werr *sdk.WriteError
	if !errors.As(err, &werr) {
		t.Fatalf("Write returned %v; want per-event outcomes (*sdk.WriteError)", err)
	}
	rejected := map[int]bool{}
	for _, it := range werr.Items {
		if !it.Reject || it.Reason == "" {
			t.Errorf("event %d: %+v; want rejected with a reason", it.Index, it)
		}
		rejected[it.Index] = true
	}
	for i := range events {
		if _, isBad := bad[i]; isBad != rejected[i] {
			t.Errorf("event %d (%q): rejected %v, want %v", i, names[i], rejected[i], isBad)
		}
	}
	if got := read(t, filepath.Join(dir, "a")); got != "a\na\n" {
		t.Errorf("a: %q", got)
	}
	if got := read(t, filepath.Join(dir, "b")); got != "b\n" {
		t.Errorf("b: %q", got)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Errorf("the output directory is not a directory any more: %v", err)
	}
}

// A file that cannot be written for a reason that may pass (here a full
// disk, /dev/full) has its events retried; the others are accepted.
func TestFullDiskRetriedAlone(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	o := open(t, map[string]any{"path": "/dev/%{n}"})
	err := o.Write(context.Background(), []*sdk.Event{
		sdktest.Event(map[string]any{"n": "null"}), sdktest.Event(map[string]any{"n": "full"}), sdktest.Event(map[string]any{"n": "null"}),
	})
	var werr *sdk.WriteError
	if !errors.As(err, &werr) || len(werr.Items) != 1 || werr.Items[0].Index != 1 || werr.Items[0].Reject || !strings.Contains(werr.Items[0].Reason, "no space") {
		t.Fatalf("Write: %#v; want event 1 alone retried (no space left)", err)
	}
}

func TestStaleFilesAreClosed(t *testing.T) {
	dir := t.TempDir()
	o := open(t, map[string]any{"path": dir + "/%{[host][name]}.log", "stale_cleanup_interval": "50ms"})
	ctx := context.Background()
	o.Write(ctx, []*sdk.Event{event("a", "h1"), event("b", "h2")})
	time.Sleep(60 * time.Millisecond)
	o.Write(ctx, []*sdk.Event{event("c", "h1")})
	o.mu.Lock()
	n := len(o.files)
	o.mu.Unlock()
	if n != 1 {
		t.Errorf("%d files open, want 1 (h2.log went stale)", n)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]any
		path     string
	}{
		{"relative path", map[string]any{"path": "out/x.log"}, "path"},
		{"bad mode", map[string]any{"path": "/tmp/x", "file_mode": "rw-r--r--"}, "file_mode"},
		{"failure name with a directory", map[string]any{"path": "/tmp/x", "filename_failure": "a/b"}, "filename_failure"},
	}
	comp, _ := sdk.Lookup(sdk.KindOutput, "file")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := comp.Validate(sdktest.Config(t, comp, tt.settings))
			if !ds.HasErrors() || ds[0].Path[0] != tt.path {
				t.Errorf("diagnostics %v, want an error at %q", ds, tt.path)
			}
		})
	}
}

func BenchmarkWriteJSONLines(b *testing.B) {
	path := filepath.Join(b.TempDir(), "out.log")
	comp, _ := sdk.Lookup(sdk.KindOutput, "file")
	out, _ := comp.NewOutput(context.Background(), sdktest.Config(b, comp, map[string]any{"path": path}), sdktest.Env(b, "file"))
	batch := make([]*sdk.Event, 125)
	for i := range batch {
		batch[i] = event(`83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /presentations/logstash-monitorama-2013/images/kibana-search.png HTTP/1.1" 200 203023`, "web-1")
	}
	b.ReportAllocs()
	for b.Loop() {
		out.Write(context.Background(), batch)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/event")
}
