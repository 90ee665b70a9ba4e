package pipeline

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/deadletter"
	"github.com/gostash/gostash/sdk/host"
	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

func testRunner(dataDir string) *outputRunner {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := &Pipeline{log: log}
	p.dlq = newDeadLetters(dataDir, "main", log, &p.stats.DeadLetterDropped)
	return &outputRunner{p: p, block: Block{Name: "out"}}
}

func rejectAll(n int) []*pluginv1.ItemResult {
	var rs []*pluginv1.ItemResult
	for i := 0; i < n; i++ {
		rs = append(rs, &pluginv1.ItemResult{Index: uint32(i), Code: pluginv1.ItemResult_REJECT, Reason: "bad path"})
	}
	return rs
}

// A dead letter file whose last line was cut short (a crash mid-write)
// gets its next entry on a line of its own, not glued onto the torn one.
func TestDeadLetterAfterTornLine(t *testing.T) {
	data := t.TempDir()
	dir := filepath.Join(data, "dead_letter_queue", "main")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "out.jsonl")
	if err := os.WriteFile(file, []byte(`{"output":"out","reason":"x"}`+"\n"+`{"output":"out","rea`), 0o644); err != nil {
		t.Fatal(err)
	}
	o := testRunner(data)
	retry, _, rejected := o.sort(host.EncodeBatch([]*sdk.Event{sdk.NewEvent("one")}), rejectAll(1), 1)
	o.p.dlq.close()
	if len(retry) != 0 || rejected != 1 || o.p.stats.DeadLettered.Load() != 1 {
		t.Fatalf("retry %v, rejected %d, dead-lettered %d; want the event dead-lettered", retry, rejected, o.p.stats.DeadLettered.Load())
	}
	f, _ := os.Open(file)
	defer f.Close()
	var lines []string
	for sc := bufio.NewScanner(f); sc.Scan(); {
		lines = append(lines, sc.Text())
	}
	if len(lines) != 3 || lines[1] != `{"output":"out","rea` {
		t.Fatalf("dead letter file:\n%s", strings.Join(lines, "\n"))
	}
	var entry struct {
		Reason string
		Event  map[string]any
	}
	if err := json.Unmarshal([]byte(lines[2]), &entry); err != nil || entry.Reason != "bad path" || entry.Event["message"] != "one" {
		t.Fatalf("new entry %q: %v", lines[2], err)
	}
}

// An event the dead letter queue cannot take is neither counted as
// dead-lettered nor let go: it is retried, so its batch is not acked.
func TestFailedDeadLetterIsRetried(t *testing.T) {
	data := t.TempDir()
	// A file where the queue's directory should be: nothing can be written.
	if err := os.WriteFile(filepath.Join(data, "dead_letter_queue"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	o := testRunner(data)
	batch := host.EncodeBatch([]*sdk.Event{sdk.NewEvent("one"), sdk.NewEvent("two")})
	results := append(rejectAll(1), &pluginv1.ItemResult{Index: 1, Code: pluginv1.ItemResult_RETRY, Reason: "busy"})
	retry, _, rejected := o.sort(batch, results, 1)
	if rejected != 0 || o.p.stats.DeadLettered.Load() != 0 {
		t.Errorf("rejected %d, dead-lettered %d: a failed dead letter write was counted", rejected, o.p.stats.DeadLettered.Load())
	}
	if len(retry) != 2 || retry[0] != 0 || retry[1] != 1 {
		t.Errorf("retry %v; want both events retried", retry)
	}

	// Once the queue can be written, the next rejection lands there.
	if err := os.Remove(filepath.Join(data, "dead_letter_queue")); err != nil {
		t.Fatal(err)
	}
	retry, _, rejected = o.sort(batch, rejectAll(1), 1)
	o.p.dlq.close()
	if len(retry) != 0 || rejected != 1 || o.p.stats.DeadLettered.Load() != 1 {
		t.Errorf("after the queue came back: retry %v, rejected %d, dead-lettered %d", retry, rejected, o.p.stats.DeadLettered.Load())
	}
}

// readEntries reads the entries of the main pipeline's "out" dead letters.
func readEntries(t *testing.T, data string) []deadletter.Entry {
	t.Helper()
	var es []deadletter.Entry
	_, err := deadletter.Scan(filepath.Join(deadletter.Dir(data, "main"), "out.jsonl"), 0, func(l deadletter.Line) bool {
		if l.Err != nil {
			t.Fatalf("line at %d: %v", l.Offset, l.Err)
		}
		es = append(es, l.Entry)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// An entry says which pipeline and plugin refused the event, after how
// many writes, and where the event came from; a replayed event refused
// again adds its earlier attempts.
func TestDeadLetterEntryFields(t *testing.T) {
	data := t.TempDir()
	o := testRunner(data)
	e := sdk.NewEvent("one")
	sdk.SetSource(e, "kafka", map[string]any{"topic": "logs", "partition": int64(2), "offset": int64(41)})
	replayed := sdk.NewEvent("two")
	replayed.Metadata()[deadletter.MetadataKey] = map[string]any{"attempts": int64(3), "reason": "old"}
	o.sort(host.EncodeBatch([]*sdk.Event{e, replayed}), rejectAll(2), 4)
	o.p.dlq.close()
	es := readEntries(t, data)
	if len(es) != 2 {
		t.Fatalf("%d entries, want 2", len(es))
	}
	if es[0].Pipeline != "main" || es[0].PluginType != "output" || es[0].Output != "out" || es[0].Attempts != 4 || es[0].Reason != "bad path" {
		t.Errorf("entry %+v", es[0])
	}
	if es[0].Source["topic"] != "logs" || es[0].Source["offset"] != float64(41) {
		t.Errorf("source %v, want the Kafka coordinates", es[0].Source)
	}
	if es[1].Attempts != 7 || strings.Contains(string(es[1].Event), deadletter.MetadataKey) {
		t.Errorf("replayed entry: attempts %d (want 3+4), event %s (want no old dead letter metadata)", es[1].Attempts, es[1].Event)
	}
}

// Past max_bytes, drop_newer refuses new entries and drop_older drops the
// oldest; both count what they dropped, and neither retries the event.
func TestDeadLetterSizeBound(t *testing.T) {
	for _, policy := range []string{DropNewer, DropOlder} {
		t.Run(policy, func(t *testing.T) {
			data := t.TempDir()
			o := testRunner(data)
			o.p.dlq.policy = policy
			o.p.dlq.maxBytes = 1000
			var msgs []string
			for i := 0; i < 20; i++ {
				msg := fmt.Sprintf("event %02d", i)
				msgs = append(msgs, msg)
				retry, _, rejected := o.sort(host.EncodeBatch([]*sdk.Event{sdk.NewEvent(msg)}), rejectAll(1), 1)
				if len(retry) != 0 || rejected != 1 {
					t.Fatalf("event %d: retry %v rejected %d", i, retry, rejected)
				}
			}
			o.p.dlq.close()
			fi, err := os.Stat(filepath.Join(deadletter.Dir(data, "main"), "out.jsonl"))
			if err != nil || fi.Size() > 1000 {
				t.Fatalf("file over max_bytes: %v %v", fi.Size(), err)
			}
			es := readEntries(t, data)
			dropped := o.p.stats.DeadLetterDropped.Load()
			if len(es) == 0 || int(dropped)+len(es) != 20 {
				t.Fatalf("%d kept + %d dropped, want 20", len(es), dropped)
			}
			var kept []string
			for _, e := range es {
				var ev map[string]any
				_ = json.Unmarshal(e.Event, &ev)
				kept = append(kept, ev["message"].(string))
			}
			want := msgs[:len(kept)] // drop_newer keeps the first
			if policy == DropOlder {
				want = msgs[20-len(kept):]
			}
			if !slices.Equal(kept, want) {
				t.Errorf("kept %v, want %v", kept, want)
			}
		})
	}
}

// drop_older drops whole entries, however long: the file never starts
// with the tail of one.
func TestDropOldestLongLines(t *testing.T) {
	file := filepath.Join(t.TempDir(), "out.jsonl")
	long := strings.Repeat("x", 200<<10)
	if err := os.WriteFile(file, []byte(`{"a":"`+long+`"}`+"\n"+`{"b":1}`+"\n"+`{"c":2}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := dropOldest(file, 10)
	b, _ := os.ReadFile(file)
	first := int64(len(long) + 9)
	if err != nil || n != 1 || string(b) != string(deadletter.Header(first))+`{"b":1}`+"\n"+`{"c":2}`+"\n" {
		t.Fatalf("dropped %d (%v), left %.40q", n, err, b)
	}
	// A second rewrite adds to the count: the header is where the first
	// kept entry starts in offsets counted from the file's first entry.
	if n, err = dropOldest(file, 1); err != nil || n != 1 {
		t.Fatalf("second drop: %d, %v", n, err)
	}
	var got []string
	_, err = deadletter.Scan(file, 0, func(l deadletter.Line) bool {
		got = append(got, fmt.Sprint(l.Offset))
		return true
	})
	if want := fmt.Sprint(first + 8); err != nil || strings.Join(got, ",") != want {
		t.Errorf("after two rewrites the entry left starts at %v (%v), want %s", got, err, want)
	}
}

// A dead letter file removed under the writer (clean_consumed) is written
// anew: the next entry is not lost into the removed file.
func TestDeadLetterFileRemovedByReader(t *testing.T) {
	if !deadletter.CanClean {
		t.Skip("no flock here")
	}
	data := t.TempDir()
	o := testRunner(data)
	o.sort(host.EncodeBatch([]*sdk.Event{sdk.NewEvent("one")}), rejectAll(1), 1)
	file := filepath.Join(deadletter.Dir(data, "main"), "out.jsonl")
	fi, _ := os.Stat(file)
	if ok, err := deadletter.RemoveConsumed(file, fi.Size()); !ok || err != nil {
		t.Fatalf("remove: %v %v", ok, err)
	}
	o.sort(host.EncodeBatch([]*sdk.Event{sdk.NewEvent("two")}), rejectAll(1), 1)
	o.p.dlq.close()
	es := readEntries(t, data)
	if len(es) != 1 || !strings.Contains(string(es[0].Event), `"two"`) {
		t.Fatalf("entries after the removal: %v", es)
	}
}

// A full queue whose files a reader consumed and removed (clean_consumed)
// has room again: the writer does not go on counting the removed bytes and
// drop what would fit.
func TestDeadLetterRoomAfterReaderRemoved(t *testing.T) {
	if !deadletter.CanClean {
		t.Skip("no flock here")
	}
	data := t.TempDir()
	o := testRunner(data)
	o.p.dlq.maxBytes = 1000
	reject := func(msg string) {
		t.Helper()
		if retry, _, rejected := o.sort(host.EncodeBatch([]*sdk.Event{sdk.NewEvent(msg)}), rejectAll(1), 1); len(retry) != 0 || rejected != 1 {
			t.Fatalf("%s: retry %v rejected %d", msg, retry, rejected)
		}
	}
	for i := 0; o.p.stats.DeadLetterDropped.Load() == 0; i++ {
		reject(fmt.Sprintf("filler %d", i))
	}
	file := filepath.Join(deadletter.Dir(data, "main"), "out.jsonl")
	fi, _ := os.Stat(file)
	if ok, err := deadletter.RemoveConsumed(file, fi.Size()); !ok || err != nil {
		t.Fatalf("remove: %v %v", ok, err)
	}
	dropped := o.p.stats.DeadLetterDropped.Load()
	reject("after")
	o.p.dlq.close()
	if n := o.p.stats.DeadLetterDropped.Load(); n != dropped {
		t.Fatalf("%d more dropped after the queue was emptied", n-dropped)
	}
	if es := readEntries(t, data); len(es) != 1 || !strings.Contains(string(es[0].Event), `"after"`) {
		t.Fatalf("entries: %v", es)
	}
}

// A writer that outlived its pipeline (a write cancelled past the drain
// deadline) is refused: it must not reopen the files a reloaded pipeline
// now writes, and its event is not acked.
func TestDeadLetterClosedRefusesWrites(t *testing.T) {
	data := t.TempDir()
	o := testRunner(data)
	o.p.dlq.close()
	retry, _, rejected := o.sort(host.EncodeBatch([]*sdk.Event{sdk.NewEvent("late")}), rejectAll(1), 1)
	if len(retry) != 1 || rejected != 0 {
		t.Fatalf("retry %v rejected %d after close, want the event kept in the pipeline", retry, rejected)
	}
	if _, err := os.Stat(filepath.Join(deadletter.Dir(data, "main"), "out.jsonl")); err == nil {
		t.Fatal("a closed queue wrote a file")
	}
}
