package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const filePipeline = `
pipeline {
  workers    = 1
  batch_size = %d
}
input "file" "in" {
  path           = ["%s"]
  start_position = "beginning"
  stat_interval  = "20ms"
}
output "file" "out" {
  path   = "%s"
  codec  = "line"
  format = "%%{message}"
}
`

// numberedLines writes lines "n=<i> <padding>" for i in [from, to).
func numberedLines(t *testing.T, path string, from, to int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := from; i < to; i++ {
		fmt.Fprintf(w, "n=%d GET /some/path/of/a/typical/length?q=%d HTTP/1.1 200 1234\n", i, i)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// countShipped reads the output file: how often each line number arrived,
// and how many lines are torn (a write cut short by a kill).
func countShipped(t *testing.T, path string, n int) (seen []int, torn int) {
	t.Helper()
	seen = make([]int, n)
	f, err := os.Open(path)
	if err != nil {
		return seen, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		num, rest, ok := strings.Cut(strings.TrimPrefix(line, "n="), " ")
		i, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasPrefix(line, "n=") || i < 0 || i >= n || rest != fmt.Sprintf("GET /some/path/of/a/typical/length?q=%d HTTP/1.1 200 1234", i) {
			torn++
			continue
		}
		seen[i]++
	}
	return seen, torn
}

// gostash is killed with SIGKILL at random points, several times, while it
// ships a file to a file output; then it runs to the end. Every line must
// arrive, and what arrives twice is bounded by what can be in flight at a
// kill: the input's credits (2 × workers + 2 batches) plus the acked
// batches whose positions may not be on disk yet (the file input lets 4
// sincedb changes wait for its writer, plus the one being written).
func TestFileToFileSurvivesKill9(t *testing.T) {
	const (
		n       = 200000
		batch   = 125
		workers = 1
		kills   = 6
	)
	inflight := (2*workers + 2 + 4 + 1) * batch
	dir := t.TempDir()
	in, out, data := filepath.Join(dir, "in.log"), filepath.Join(dir, "out", "shipped.log"), filepath.Join(dir, "data")
	numberedLines(t, in, 0, n/2)
	cfg := writeFile(t, "p.hcl", fmt.Sprintf(filePipeline, batch, in, out))
	args := []string{"-f", cfg, "--path.data", data}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))

	progress := []int{}
	for k := 0; k < kills; k++ {
		cmd, _, errb := startGostash(t, args...)
		// Kill once some lines were shipped in this run, at a random point.
		before := shippedLines(out)
		deadline := time.Now().Add(20 * time.Second)
		for shippedLines(out) == before && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond)
		}
		time.Sleep(time.Duration(rng.IntN(60)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		if shippedLines(out) == before {
			t.Fatalf("run %d shipped nothing:\n%s", k, errb)
		}
		progress = append(progress, shippedLines(out))
		if k == kills/2 {
			numberedLines(t, in, n/2, n) // the log grows between crashes
		}
	}

	// The last run ships the rest; then a clean stop.
	cmd, _, errb := startGostash(t, args...)
	waitAllShipped(t, out, n, 60*time.Second, errb)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("clean stop: %v\n%s", err, errb)
	}

	seen, torn := countShipped(t, out, n)
	dups := 0
	for i, c := range seen {
		if c == 0 {
			t.Fatalf("line %d never arrived", i)
		}
		dups += c - 1
	}
	t.Logf("%d lines, %d kills (output lines after each: %v): %d duplicates (bound %d per kill), %d torn lines", n, kills, progress, dups, inflight, torn)
	if dups > kills*inflight {
		t.Errorf("%d duplicates: more than %d kills × %d lines in flight", dups, kills, inflight)
	}
	if torn > kills {
		t.Errorf("%d torn lines for %d kills", torn, kills)
	}

	// A clean stop re-reads nothing: one more run ships no line.
	size := shippedLines(out)
	cmd, _, _ = startGostash(t, args...)
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if after := shippedLines(out); after != size {
		t.Errorf("a run after a clean stop shipped %d lines again", after-size)
	}
}

// waitAllShipped waits until every line number below n is in the output
// file, failing the test after within.
func waitAllShipped(t *testing.T, out string, n int, within time.Duration, errb *bytes.Buffer) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		seen, _ := countShipped(t, out, n)
		missing := 0
		for _, c := range seen {
			if c == 0 {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d lines still missing after %v:\n%s", missing, within, errb)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// shippedLines counts the output's lines (0 when it does not exist yet).
func shippedLines(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "\n")
}

// sincedbPipeline reads one file whole and ends.
const sincedbPipeline = `
input "file" "in" {
  path                    = ["%s"]
  mode                    = "read"
  exit_after_read         = true
  file_completed_action   = "log"
  file_completed_log_path = "%s"
  sincedb_path            = "%s"
}
output "stdout" "out" {
  codec  = "line"
  format = "%%{message}"
}
`

// A sincedb line in Logstash's old four-column format (inode major minor
// position) used to crash the file input, which then crash-looped and read
// nothing. Now the position is used; a sincedb that cannot be read at all
// stops gostash at once with a message naming it.
func TestFileInputLogstashOldSincedb(t *testing.T) {
	dir := t.TempDir()
	in, db, done := filepath.Join(dir, "in.log"), filepath.Join(dir, "sincedb"), filepath.Join(dir, "done.log")
	if err := os.WriteFile(in, []byte("read before\nline 1\nline 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(in, &st); err != nil {
		t.Fatal(err)
	}
	dev := uint64(st.Dev)
	major, minor := (dev>>8)&0xfff|(dev>>32)&0xfffff000, dev&0xff|(dev>>12)&0xffffff00
	if err := os.WriteFile(db, fmt.Appendf(nil, "%d %d %d %d\n", st.Ino, major, minor, len("read before\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := writeFile(t, "p.hcl", fmt.Sprintf(sincedbPipeline, in, done, db))
	stdout, stderr, code := gostash(t, "", "-f", cfg)
	if code != 0 || stdout != "line 1\nline 2\n" {
		t.Fatalf("exit %d, stdout %q; want the lines after the sincedb's position\n%s", code, stdout, stderr)
	}

	if err := os.WriteFile(db, []byte("not a sincedb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	stdout, stderr, code = gostash(t, "", "-f", cfg)
	if code == 0 || stdout != "" || !strings.Contains(stderr, db) || strings.Count(stderr, "cannot read the sincedb") != 1 {
		t.Fatalf("garbage sincedb: exit %d, stdout %q; want one error naming %s and a non-zero exit\n%s", code, stdout, db, stderr)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a garbage sincedb took %v to stop gostash", d)
	}
}

// An event whose output path cannot be a file (an empty field makes it the
// output's directory) used to fail its whole batch: the core retried it
// with backoff for ever, rewrote the other events' files at every retry
// and never wrote the ones after it. Now it alone goes to the dead letter
// file, with the reason, the others are written once, and the run ends.
func TestFileOutputBadPathIsDeadLetteredAlone(t *testing.T) {
	dir := t.TempDir()
	out, data := filepath.Join(dir, "out"), filepath.Join(dir, "data")
	start := time.Now()
	_, stderr, code := gostash(t, "{\"n\":\"a\"}\n{\"n\":\"\"}\n{\"n\":\"b\"}\n", "--path.data", data, "-e", fmt.Sprintf(`
input "stdin" "in" { codec = "json" }
output "file" "o" {
  path   = "%s/%%{n}"
  codec  = "line"
  format = "%%{n}"
}
`, out))
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("took %v: the bad event held the pipeline back", d)
	}
	for _, n := range []string{"a", "b"} {
		if b, err := os.ReadFile(filepath.Join(out, n)); err != nil || string(b) != n+"\n" {
			t.Errorf("%s: %q, %v; want it written once", n, b, err)
		}
	}
	dlq, err := os.ReadFile(filepath.Join(data, "dead_letter_queue", "main", "o.jsonl"))
	if err != nil {
		t.Fatalf("no dead letter file: %v\n%s", err, stderr)
	}
	entries := jsonEvents(t, string(dlq))
	if len(entries) != 1 {
		t.Fatalf("dead letter file:\n%s", dlq)
	}
	reason, _ := entries[0]["reason"].(string)
	event, _ := entries[0]["event"].(map[string]any)
	if !strings.Contains(reason, "directory") || event["n"] != "" {
		t.Errorf("dead letter entry: %v; want the event with n = \"\" and why its path is no file", entries[0])
	}
}
