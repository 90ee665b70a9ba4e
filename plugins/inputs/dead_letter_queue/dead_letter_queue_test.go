package dead_letter_queue

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/deadletter"
	"github.com/gostash/gostash/sdk/sdktest"
)

// writeDLQ writes lines into dir/dead_letter_queue/main/out.jsonl.
func writeDLQ(t *testing.T, dir string, lines ...string) {
	t.Helper()
	d := deadletter.Dir(dir, "main")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(d, "out.jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(strings.Join(lines, "")); err != nil {
		t.Fatal(err)
	}
}

func entry(t *testing.T, when, reason string, event map[string]any) string {
	ev, _ := json.Marshal(event)
	line, _ := json.Marshal(deadletter.Entry{Time: when, Pipeline: "main", PluginType: "output", Output: "es", Reason: reason, Attempts: 2, Event: ev})
	return string(line) + "\n"
}

func settings(dir string) map[string]any {
	return map[string]any{"path": filepath.Join(dir, "dead_letter_queue"), "mode": "read", "sincedb_path": filepath.Join(dir, "sincedb")}
}

// The event comes back as it was (fields, @timestamp, tags) with why it was
// dead-lettered in [@metadata][dead_letter_queue]; a torn line and a line
// still being written are skipped and left in the file.
func TestRestoresEvents(t *testing.T) {
	dir := t.TempDir()
	writeDLQ(t, dir,
		entry(t, "2026-01-01T00:00:00.000Z", "mapper_parsing_exception: n", map[string]any{"message": "one", "n": "x", "@timestamp": "2020-05-06T07:08:09.123Z", "tags": []any{"a"}}),
		`{"output":"es","rea`+"\n",
		`{"@timestamp":"2026-01-01T00:00:01.000Z","output":"es","reason":"old entry","event":{"message":"two"}}`+"\n",
		`{"@timestamp":"2026-01-01T00:00:02.000Z","output":"es","rea`)
	res := sdktest.RunInput(t, context.Background(), sdktest.InputSpec{Name: "dead_letter_queue", Settings: settings(dir)})
	if res.Err != nil || len(res.Events) != 2 {
		t.Fatalf("err %v, %d events, want 2", res.Err, len(res.Events))
	}
	one := res.Events[0]
	if one.Fields()["n"] != "x" || one.Message() != "one" || !one.HasTag("a") || sdk.FormatTimestamp(one.TimestampNano()) != "2020-05-06T07:08:09.123Z" {
		t.Errorf("event %v: want the original fields, tags and @timestamp", one.ToMap(false))
	}
	meta, _ := one.Metadata()[deadletter.MetadataKey].(map[string]any)
	if meta["reason"] != "mapper_parsing_exception: n" || meta["plugin_id"] != "es" || meta["plugin_type"] != "output" || meta["entry_time"] != "2026-01-01T00:00:00.000Z" || meta["attempts"] != int64(2) {
		t.Errorf("[@metadata][dead_letter_queue] = %v", meta)
	}
	if m, _ := res.Events[1].Metadata()[deadletter.MetadataKey].(map[string]any); m["reason"] != "old entry" || m["attempts"] != int64(1) {
		t.Errorf("an entry of the old format: %v", m)
	}
}

// Acked entries are committed: the next run reads only what came after;
// commit_offsets = false reads everything again; start_timestamp skips
// older entries.
func TestCommitOffsets(t *testing.T) {
	dir := t.TempDir()
	writeDLQ(t, dir, entry(t, "2026-01-01T00:00:00Z", "r", map[string]any{"message": "one"}), entry(t, "2026-01-02T00:00:00Z", "r", map[string]any{"message": "two"}))
	run := func(extra map[string]any) []string {
		s := settings(dir)
		for k, v := range extra {
			s[k] = v
		}
		res := sdktest.RunInput(t, context.Background(), sdktest.InputSpec{Name: "dead_letter_queue", Settings: s})
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		var msgs []string
		for _, e := range res.Events {
			msgs = append(msgs, e.Message())
		}
		return msgs
	}
	if got := run(map[string]any{"commit_offsets": false}); strings.Join(got, ",") != "one,two" {
		t.Fatalf("commit_offsets false: %v", got)
	}
	if got := run(map[string]any{"start_timestamp": "2026-01-01T12:00:00"}); strings.Join(got, ",") != "two" {
		t.Fatalf("start_timestamp: %v", got)
	}
	if got := run(nil); len(got) != 0 {
		t.Fatalf("after a committed read: %v, want nothing", got)
	}
	writeDLQ(t, dir, entry(t, "2026-01-03T00:00:00Z", "r", map[string]any{"message": "three"}))
	if got := run(nil); strings.Join(got, ",") != "three" {
		t.Fatalf("after a new entry: %v", got)
	}
}

// unacked takes batches and never acks them: a crash before the outputs
// have the events.
type unacked struct{ published chan int }

func (u *unacked) Publish(_ context.Context, events []*sdk.Event, _ func()) error {
	u.published <- len(events)
	return nil
}

// Entries published but never acked are read again by the next run.
func TestUnackedEntriesAreReadAgain(t *testing.T) {
	dir := t.TempDir()
	writeDLQ(t, dir, entry(t, "2026-01-01T00:00:00Z", "r", map[string]any{"message": "one"}))
	comp := sdktest.Lookup(t, sdk.KindInput, "dead_letter_queue")
	s := settings(dir)
	s["mode"] = "tail"
	in, err := comp.NewInput(context.Background(), sdktest.Config(t, comp, s), sdktest.Env(t, "dlq"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	u := &unacked{published: make(chan int, 1)}
	done := make(chan error)
	go func() { done <- in.Run(ctx, u) }()
	if n := <-u.published; n != 1 {
		t.Fatalf("published %d events, want 1", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	res := sdktest.RunInput(t, context.Background(), sdktest.InputSpec{Name: "dead_letter_queue", Settings: settings(dir)})
	if len(res.Events) != 1 || res.Events[0].Message() != "one" {
		t.Fatalf("%d events after an unacked read, want the entry again", len(res.Events))
	}
}

// clean_consumed removes a file once all of it is delivered; a writer
// that still had it open writes the next entry into a new file, which the
// next run reads. Without commit_offsets it is a configuration error.
func TestCleanConsumed(t *testing.T) {
	if !deadletter.CanClean {
		t.Skip("no flock here")
	}
	dir := t.TempDir()
	writeDLQ(t, dir, entry(t, "2026-01-01T00:00:00Z", "r", map[string]any{"message": "one"}))
	file := filepath.Join(deadletter.Dir(dir, "main"), "out.jsonl")
	w, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0o644) // the core's writer
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	s := settings(dir)
	s["clean_consumed"] = true
	if res := sdktest.RunInput(t, context.Background(), sdktest.InputSpec{Name: "dead_letter_queue", Settings: s}); len(res.Events) != 1 {
		t.Fatalf("%d events, want 1", len(res.Events))
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatalf("consumed file still there: %v", err)
	}
	if err := deadletter.Append(w, file, []byte(entry(t, "2026-01-02T00:00:00Z", "r", map[string]any{"message": "two"}))); err != deadletter.ErrRemoved {
		t.Fatalf("append to a removed file: %v, want ErrRemoved", err)
	}
	writeDLQ(t, dir, entry(t, "2026-01-02T00:00:00Z", "r", map[string]any{"message": "two"}))
	res := sdktest.RunInput(t, context.Background(), sdktest.InputSpec{Name: "dead_letter_queue", Settings: s})
	if len(res.Events) != 1 || res.Events[0].Message() != "two" {
		t.Fatalf("after the file was written anew: %d events", len(res.Events))
	}
	comp := sdktest.Lookup(t, sdk.KindInput, "dead_letter_queue")
	if ds := sdktest.Validate(comp, map[string]any{"path": dir, "clean_consumed": true, "commit_offsets": false}); !strings.Contains(sdktest.Errors(ds), "needs commit_offsets") {
		t.Errorf("clean_consumed without commit_offsets: %q", sdktest.Errors(ds))
	}
}

// rewrite does to the file what the core's drop_older bound does: drops
// its first n entries and says how many bytes they took in a header.
func rewrite(t *testing.T, dir string, n int) {
	t.Helper()
	file := filepath.Join(deadletter.Dir(dir, "main"), "out.jsonl")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	before, hdr, err := deadletter.ReadHeader(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	rest := b[hdr:]
	cut := 0
	for i := 0; i < n; i++ {
		cut += strings.IndexByte(string(rest[cut:]), '\n') + 1
	}
	out := append(deadletter.Header(before+int64(cut)), rest[cut:]...)
	if err := os.WriteFile(file+".tmp", out, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(file+".tmp", file); err != nil {
		t.Fatal(err)
	}
}

// A drop_older rewrite of the file keeps the saved position pointing at
// the same entry: the next run reads only the entries added since, none
// twice and none torn; entries dropped before they were read are skipped
// from the first one kept.
func TestPositionsSurviveDropOlderRewrite(t *testing.T) {
	dir := t.TempDir()
	msg := func(i int) string { return "m" + strconv.Itoa(i) }
	add := func(from, to int) {
		for i := from; i <= to; i++ {
			writeDLQ(t, dir, entry(t, "2026-01-01T00:00:00Z", "r", map[string]any{"message": msg(i), "pad": strings.Repeat("p", i*7)}))
		}
	}
	run := func() string {
		res := sdktest.RunInput(t, context.Background(), sdktest.InputSpec{Name: "dead_letter_queue", Settings: settings(dir)})
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		var msgs []string
		for _, e := range res.Events {
			msgs = append(msgs, e.Message())
		}
		return strings.Join(msgs, ",")
	}
	add(1, 5)
	if got := run(); got != "m1,m2,m3,m4,m5" {
		t.Fatalf("first read: %s", got)
	}
	add(6, 8)
	rewrite(t, dir, 2) // m1, m2 go: all read already
	if got := run(); got != "m6,m7,m8" {
		t.Fatalf("after a rewrite of read entries: %s, want m6,m7,m8", got)
	}
	add(9, 12)
	rewrite(t, dir, 8) // m3..m10 go: m9 and m10 were not read
	if got := run(); got != "m11,m12" {
		t.Fatalf("after a rewrite that dropped unread entries: %s, want m11,m12", got)
	}
	add(13, 13)
	if got := run(); got != "m13" {
		t.Fatalf("after appending to a rewritten file: %s, want m13", got)
	}
}
