package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gostash/gostash/sdk/deadletter"
)

// dlqFixture writes two entries of output es (one already replayed), one
// torn line, and an entry of output file in the old format.
func dlqFixture(t *testing.T) string {
	t.Helper()
	data := t.TempDir()
	dir := deadletter.Dir(data, "main")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	line := func(e deadletter.Entry) string { b, _ := json.Marshal(e); return string(b) + "\n" }
	first := line(deadletter.Entry{Time: "2026-01-01T00:00:00.000Z", Pipeline: "main", PluginType: "output", Output: "es", Attempts: 1,
		Reason: "mapper_parsing_exception: failed to parse field [n] of type [long]", Source: map[string]any{"type": "kafka", "topic": "logs", "offset": 7},
		Event: json.RawMessage(`{"message":"one","n":"x"}`)})
	es := first + `{"output":"es","rea` + "\n" +
		line(deadletter.Entry{Time: "2026-01-02T00:00:00.000Z", Output: "es", Attempts: 3, Reason: "strict mapping\nsecond line", Event: json.RawMessage(`{"message":"two"}`)})
	old := `{"@timestamp":"2025-12-31T00:00:00.000Z","output":"file","reason":"path is a directory","event":{"message":"three"}}` + "\n"
	for name, text := range map[string]string{"es.jsonl": es, "file.jsonl": old} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// dlq replay has read es.jsonl's first entry.
	sincedb := replaySincedb(data)
	_ = os.MkdirAll(filepath.Dir(sincedb), 0o755)
	pos, _ := json.Marshal(map[string]int64{"es.jsonl": int64(len(first))})
	if err := os.WriteFile(sincedb, pos, 0o644); err != nil {
		t.Fatal(err)
	}
	return data
}

func runDLQ(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"dlq"}, args...), &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

func TestDLQList(t *testing.T) {
	data := dlqFixture(t)
	out, errs, code := runDLQ(t, "list", "--path.data", data)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := [][]string{
		{"ID", "TIME", "OUTPUT", "ATTEMPTS", "STATE", "REASON"},
		{"es:1", "2026-01-01T00:00:00.000Z", "es", "1", "replayed", "mapper_parsing_exception:"},
		{"es:3", "2026-01-02T00:00:00.000Z", "es", "3", "pending", "strict", "mapping", "second", "line"},
		{"file:1", "2025-12-31T00:00:00.000Z", "file", "-", "pending", "path"},
	}
	if len(lines) != len(want) {
		t.Fatalf("list:\n%s", out)
	}
	for i, w := range want {
		if got := strings.Fields(lines[i]); len(got) < len(w) || strings.Join(got[:len(w)], " ") != strings.Join(w, " ") {
			t.Errorf("line %d: %q, want it to start with %q", i, lines[i], w)
		}
	}
}

func TestDLQShow(t *testing.T) {
	data := dlqFixture(t)
	out, errs, code := runDLQ(t, "show", "--path.data", data, "es:1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var e struct {
		ID, State, Reason, Output, Pipeline string
		Attempts                            int
		Source                              map[string]any
		Event                               map[string]any
	}
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatalf("show: %v\n%s", err, out)
	}
	if e.ID != "es:1" || e.State != "replayed" || e.Pipeline != "main" || e.Attempts != 1 || e.Source["topic"] != "logs" || e.Event["n"] != "x" || !strings.Contains(e.Reason, "[long]") {
		t.Errorf("show es:1: %+v", e)
	}
	if _, errs, code := runDLQ(t, "show", "--path.data", data, "es:2"); code != 1 || !strings.Contains(errs, `no dead letter "es:2"`) {
		t.Errorf("show of the torn line: exit %d, %q; want a clear error", code, errs)
	}
}

func TestDLQStats(t *testing.T) {
	data := dlqFixture(t)
	out, errs, code := runDLQ(t, "stats", "--path.data", data)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	rows := map[string][]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(l)
		rows[f[0]] = f
	}
	// OUTPUT ENTRIES PENDING REPLAYED UNREADABLE BYTES OLDEST NEWEST
	if r := rows["es"]; len(r) != 8 || strings.Join(r[1:5], " ") != "2 1 1 1" {
		t.Errorf("es row %v", r)
	}
	if r := rows["TOTAL"]; len(r) != 8 || strings.Join(r[1:5], " ") != "3 2 1 1" || r[6] != "2025-12-31T00:00:00.000Z" || r[7] != "2026-01-02T00:00:00.000Z" {
		t.Errorf("total row %v", r)
	}
	// An empty or missing queue is no error: nothing is dead-lettered.
	out, _, code = runDLQ(t, "stats", "--path.data", t.TempDir())
	if code != 0 || !strings.Contains(strings.Join(strings.Fields(out), " "), "TOTAL 0 0 0 0 0") {
		t.Errorf("stats of no queue: exit %d\n%s", code, out)
	}
}

func TestDLQUsageErrors(t *testing.T) {
	// -r would wait for ever once the queue is read: a replay ends.
	for _, args := range [][]string{{}, {"bogus"}, {"list", "extra"}, {"replay"}, {"replay", "-r", "-f", "p.hcl"}} {
		if _, errs, code := runDLQ(t, args...); code != 2 || errs == "" {
			t.Errorf("dlq %v: exit %d, stderr %q; want 2 and a usage", args, code, errs)
		}
	}
}
