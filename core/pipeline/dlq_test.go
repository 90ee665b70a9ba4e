package pipeline

import (
	"bufio"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gostash/gostash/sdk"
	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

func testRunner(dataDir string) *outputRunner {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := &Pipeline{log: log, dlq: newDeadLetters(dataDir, "main", log)}
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
	retry, _, rejected := o.sort(sdk.EncodeBatch([]*sdk.Event{sdk.NewEvent("one")}), rejectAll(1))
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
	batch := sdk.EncodeBatch([]*sdk.Event{sdk.NewEvent("one"), sdk.NewEvent("two")})
	results := append(rejectAll(1), &pluginv1.ItemResult{Index: 1, Code: pluginv1.ItemResult_RETRY, Reason: "busy"})
	retry, _, rejected := o.sort(batch, results)
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
	retry, _, rejected = o.sort(batch, rejectAll(1))
	o.p.dlq.close()
	if len(retry) != 0 || rejected != 1 || o.p.stats.DeadLettered.Load() != 1 {
		t.Errorf("after the queue came back: retry %v, rejected %d, dead-lettered %d", retry, rejected, o.p.stats.DeadLettered.Load())
	}
}
