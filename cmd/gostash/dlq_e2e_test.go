package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk/sdktest/testenv"
)

// The must-show: a mapping error in the real Elasticsearch
// dead-letters events; `gostash dlq` shows them with the reason; a replay
// into the same mapping dead-letters them again; after the mapping is fixed (an index where n is a keyword), `gostash dlq replay`
// indexes them as they were, the queue then has nothing pending, a
// second replay indexes nothing more, and --clean_consumed empties it.
func TestDeadLettersReplayedIntoElasticsearch(t *testing.T) {
	base := testenv.Elasticsearch(t)
	prefix := fmt.Sprintf("test-dlq-%d", time.Now().UnixNano())
	t.Cleanup(func() { esCall(t, "DELETE", base+"/"+prefix+"-*") })
	esDo(t, "PUT", base+"/"+prefix+"-strict", `{"mappings":{"properties":{"n":{"type":"long"}}}}`)
	esDo(t, "PUT", base+"/"+prefix+"-fixed", `{"mappings":{"properties":{"n":{"type":"keyword"}}}}`)
	data := filepath.Join(t.TempDir(), "data")

	var in strings.Builder
	for i := range 6 {
		n := fmt.Sprint(i)
		if i%2 == 1 {
			n = fmt.Sprintf("%q", fmt.Sprintf("not a number %d", i))
		}
		fmt.Fprintf(&in, `{"@timestamp":"2026-03-0%dT10:00:00.000Z","message":"line %d","n":%s,"tags":["t%d"]}`+"\n", i+1, i, n, i)
	}
	cfg := writeFile(t, "p.hcl", fmt.Sprintf(`
input "stdin" "in" { codec = "json" }
output "elasticsearch" "es" {
  hosts = ["%s"]
  index = "%s-strict"
}`, base, prefix))
	if _, stderr, code := gostash(t, in.String(), "-f", cfg, "--path.data", data); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if c := esCount(t, base, prefix+"-strict"); c != 3 {
		t.Fatalf("%d documents in the strict index, want the 3 with a numeric n", c)
	}

	stats := func(output string) string {
		out, stderr, code := gostash(t, "", "dlq", "stats", "--path.data", data)
		if code != 0 {
			t.Fatalf("dlq stats: exit %d\n%s", code, stderr)
		}
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) > 4 && f[0] == output {
				return strings.Join(f[1:4], " ") // entries pending replayed
			}
		}
		t.Fatalf("dlq stats has no row for output %s:\n%s", output, out)
		return ""
	}
	if s := stats("es"); s != "3 3 0" {
		t.Fatalf("before the replay: entries, pending, replayed = %s; want 3 3 0", s)
	}
	out, _, _ := gostash(t, "", "dlq", "list", "--path.data", data)
	if strings.Count(out, "failed to parse field [n]") != 3 || strings.Count(out, "pending") != 3 {
		t.Fatalf("dlq list should show the 3 pending entries with Elasticsearch's reason:\n%s", out)
	}

	// Replayed into the same mapping, they are refused again: dead-lettered
	// anew (by the replay's output) with their attempts counted, and the
	// replay still ends.
	again := writeFile(t, "again.hcl", fmt.Sprintf(`
output "elasticsearch" "again" {
  hosts = ["%s"]
  index = "%s-strict"
}`, base, prefix))
	if _, stderr, code := gostash(t, "", "dlq", "replay", "-f", again, "--path.data", data); code != 0 {
		t.Fatalf("replay into the strict index: exit %d\n%s", code, stderr)
	}
	if s, a := stats("es"), stats("again"); s != "3 0 3" || a != "3 3 0" {
		t.Fatalf("after a refused replay: es %s, again %s; want 3 0 3 and 3 3 0", s, a)
	}
	if out, _, _ := gostash(t, "", "dlq", "show", "--path.data", data, "again:1"); !strings.Contains(out, `"attempts": 2`) {
		t.Errorf("an entry refused twice should count 2 attempts:\n%s", out)
	}

	replay := writeFile(t, "replay.hcl", fmt.Sprintf(`
output "elasticsearch" "fixed" {
  hosts = ["%s"]
  index = "%s-fixed"
}`, base, prefix))
	for round := 1; round <= 2; round++ {
		if _, stderr, code := gostash(t, "", "dlq", "replay", "-f", replay, "--path.data", data); code != 0 {
			t.Fatalf("replay %d: exit %d\n%s", round, code, stderr)
		}
		if c := esCount(t, base, prefix+"-fixed"); c != 3 {
			t.Fatalf("after replay %d: %d documents in the fixed index, want 3", round, c)
		}
		if s := stats("again"); s != "3 0 3" {
			t.Fatalf("after replay %d: entries, pending, replayed = %s; want 3 0 3", round, s)
		}
	}

	// --clean_consumed removes the files replayed to their end: the queue
	// is then empty.
	if _, stderr, code := gostash(t, "", "dlq", "replay", "--clean_consumed", "-f", replay, "--path.data", data); code != 0 {
		t.Fatalf("replay --clean_consumed: exit %d\n%s", code, stderr)
	}
	out, _, _ = gostash(t, "", "dlq", "stats", "--path.data", data)
	if !strings.Contains(strings.Join(strings.Fields(out), " "), "TOTAL 0 0 0 0 0") || esCount(t, base, prefix+"-fixed") != 3 {
		t.Fatalf("after replay --clean_consumed: want an empty queue and still 3 documents\n%s", out)
	}

	var r struct {
		Hits struct {
			Hits []struct {
				Source map[string]any `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(esCall(t, "GET", base+"/"+prefix+"-fixed/_search?size=10&sort=@timestamp:asc"), &r); err != nil || len(r.Hits.Hits) != 3 {
		t.Fatalf("search: %v, %d hits", err, len(r.Hits.Hits))
	}
	for k, h := range r.Hits.Hits {
		i := 2*k + 1
		want := map[string]any{"message": fmt.Sprintf("line %d", i), "n": fmt.Sprintf("not a number %d", i),
			"@timestamp": fmt.Sprintf("2026-03-0%dT10:00:00.000Z", i+1), "tags": []any{fmt.Sprintf("t%d", i)}}
		for f, v := range want {
			if fmt.Sprint(h.Source[f]) != fmt.Sprint(v) {
				t.Errorf("replayed document %d: %s = %v, want %v (the original event)", i, f, h.Source[f], v)
			}
		}
		if _, ok := h.Source["@metadata"]; ok {
			t.Errorf("replayed document %d holds @metadata: %v", i, h.Source)
		}
	}
}

// --dead_letter_queue.max_bytes bounds the queue through the binary: past
// it, drop_newer keeps the first entries, says so in the log, and the run
// still ends with every other event written.
func TestDeadLetterQueueMaxBytes(t *testing.T) {
	dir := t.TempDir()
	out, data := filepath.Join(dir, "out"), filepath.Join(dir, "data")
	var in strings.Builder
	for i := range 50 {
		fmt.Fprintf(&in, `{"n":"","i":%d}`+"\n", i) // an empty n makes the path the output's directory
	}
	in.WriteString(`{"n":"ok","i":50}` + "\n")
	_, stderr, code := gostash(t, in.String(), "--path.data", data, "--dead_letter_queue.max_bytes", "2kb", "-e", fmt.Sprintf(`
input "stdin" "in" { codec = "json" }
output "file" "o" {
  path   = "%s/%%{n}"
  codec  = "line"
  format = "%%{i}"
}`, out))
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "dead letter queue is full") || !strings.Contains(stderr, "max_bytes=2048") {
		t.Errorf("no log line says the queue is full:\n%s", stderr)
	}
	stats, _, _ := gostash(t, "", "dlq", "stats", "--path.data", data)
	var entries, bytes int
	for _, l := range strings.Split(stats, "\n") {
		if f := strings.Fields(l); len(f) > 5 && f[0] == "o" {
			fmt.Sscan(f[1], &entries)
			fmt.Sscan(f[5], &bytes)
		}
	}
	if entries == 0 || entries >= 50 || bytes > 2048 {
		t.Errorf("%d entries, %d bytes; want some, not all 50, within 2048 bytes\n%s", entries, bytes, stats)
	}
	if b, err := os.ReadFile(filepath.Join(out, "ok")); err != nil || string(b) != "50\n" {
		t.Errorf("the good event: %q %v", b, err)
	}
}
