package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/gostash/gostash/core/config"
	"github.com/gostash/gostash/plugins/inputs/dead_letter_queue"
	"github.com/gostash/gostash/sdk/deadletter"
)

// replayInput names the dead_letter_queue input `dlq replay` adds: its
// saved positions are what list and stats call replayed.
const replayInput = "replay"

// dlqRead is `gostash dlq list|show|stats`; args are show's ids.
func dlqRead(cmd, dataDir, pipelineID string, args []string, stdout, stderr io.Writer) int {
	q, err := readDLQ(dataDir, pipelineID)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	switch cmd {
	case "list":
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTIME\tOUTPUT\tATTEMPTS\tSTATE\tREASON")
		for _, e := range q.entries {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.Time, e.Output, attempts(e.Attempts), e.State, oneLine(e.Reason, 100))
		}
		_ = tw.Flush()
		return 0
	case "show":
		want := map[string]bool{}
		for _, id := range args {
			want[id] = true
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		all := len(want) == 0
		for _, e := range q.entries {
			if all || want[e.ID] {
				_ = enc.Encode(e)
				delete(want, e.ID)
			}
		}
		for _, id := range args {
			if want[id] {
				fmt.Fprintf(stderr, "no dead letter %q in %s (ids are OUTPUT:LINE, as `gostash dlq list` shows them)\n", id, q.dir)
			}
		}
		if len(want) > 0 {
			return 1
		}
		return 0
	case "stats":
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "OUTPUT\tENTRIES\tPENDING\tREPLAYED\tUNREADABLE\tBYTES\tOLDEST\tNEWEST")
		var total dlqStats
		for _, s := range q.stats {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", s.output, s.entries, s.pending, s.replayed, s.unreadable, s.bytes, dash(s.oldest), dash(s.newest))
			total.add(s)
		}
		fmt.Fprintf(tw, "TOTAL\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", total.entries, total.pending, total.replayed, total.unreadable, total.bytes, dash(total.oldest), dash(total.newest))
		_ = tw.Flush()
		return 0
	}
	panic("gostash dlq: no command " + cmd)
}

// dlqEntry is an entry as list and show present it.
type dlqEntry struct {
	// ID is OUTPUT:LINE, the entry's line in its file.
	ID    string `json:"id"`
	State string `json:"state"` // pending or replayed
	deadletter.Entry
}

type dlqStats struct {
	output                                        string
	entries, pending, replayed, unreadable, bytes int64
	oldest, newest                                string
}

func (t *dlqStats) add(s dlqStats) {
	t.entries += s.entries
	t.pending += s.pending
	t.replayed += s.replayed
	t.unreadable += s.unreadable
	t.bytes += s.bytes
	if s.oldest != "" && (t.oldest == "" || s.oldest < t.oldest) {
		t.oldest = s.oldest
	}
	if s.newest > t.newest {
		t.newest = s.newest
	}
}

type dlq struct {
	dir     string
	entries []dlqEntry
	stats   []dlqStats
}

// readDLQ reads every entry of a pipeline's dead letter queue, and which
// of them `dlq replay` has replayed.
func readDLQ(dataDir, pipelineID string) (*dlq, error) {
	q := &dlq{dir: deadletter.Dir(dataDir, pipelineID)}
	files, err := deadletter.Files(q.dir)
	if err != nil {
		return nil, fmt.Errorf("cannot read the dead letter queue: %w", err)
	}
	replayed, err := dead_letter_queue.ReadSincedb(replaySincedb(dataDir))
	if err != nil {
		return nil, err
	}
	for _, file := range files {
		base := filepath.Base(file)
		s := dlqStats{output: strings.TrimSuffix(base, deadletter.Ext)}
		if fi, err := os.Stat(file); err == nil {
			s.bytes = fi.Size()
		}
		done := replayed[base]
		if done > s.bytes {
			done = 0 // the file was replaced: the replay reads it anew
		}
		line := 0
		_, err := deadletter.Scan(file, 0, func(l deadletter.Line) bool {
			line++
			if l.Err != nil {
				s.unreadable++
				return true
			}
			e := dlqEntry{ID: s.output + ":" + strconv.Itoa(line), State: "pending", Entry: l.Entry}
			if l.Next <= done {
				e.State = "replayed"
				s.replayed++
			} else {
				s.pending++
			}
			s.entries++
			if s.oldest == "" || e.Time < s.oldest {
				s.oldest = e.Time
			}
			if e.Time > s.newest {
				s.newest = e.Time
			}
			q.entries = append(q.entries, e)
			return true
		})
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", file, err)
		}
		q.stats = append(q.stats, s)
	}
	return q, nil
}

// replaySincedb is where `dlq replay`'s input keeps its positions: its
// instance directory under the data directory.
func replaySincedb(dataDir string) string {
	return filepath.Join(dataDir, "plugins", "inputs", "dead_letter_queue", replayInput, "sincedb")
}

// dlqReplay runs the pipeline of -f with a dead_letter_queue input in read
// mode: it ends once every pending entry is acked (or dead-lettered again).
func dlqReplay(o *options, pipelineID string, clean bool, stdout, stderr io.Writer) int {
	if o.reload {
		fmt.Fprintln(stderr, "gostash dlq replay: -r does not apply: a replay reads the queue once and ends")
		return 2
	}
	if len(o.paths) == 0 || o.inline != "" {
		fmt.Fprintln(stderr, "gostash dlq replay: give the pipeline to replay through with -f FILE (its filters and outputs; no inputs)")
		return 2
	}
	if cfg, diags := config.Load(o.paths, ""); !diags.HasErrors() && len(cfg.Inputs) > 0 {
		fmt.Fprintf(stderr, "gostash dlq replay: %s has input %q; the dead letter queue is the replay's input: remove the pipeline's inputs\n", strings.Join(o.paths, ", "), cfg.Inputs[0].Name)
		return 2
	}
	dataDir, err := filepath.Abs(o.dataDir)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if _, err := os.Stat(deadletter.Dir(dataDir, pipelineID)); err != nil {
		fmt.Fprintf(stderr, "gostash dlq replay: no dead letter queue for pipeline %q under --path.data %s (%v)\n", pipelineID, dataDir, err)
		return 1
	}
	o.replay = true
	o.inline = fmt.Sprintf("input %q %q {\n  path = %q\n  pipeline_id = %q\n  mode = \"read\"\n  clean_consumed = %t\n}\n",
		"dead_letter_queue", replayInput, filepath.Join(dataDir, "dead_letter_queue"), pipelineID, clean)
	return runPipeline(o, stdout, stderr)
}

func attempts(n int) string {
	if n == 0 {
		return "-" // an entry written before attempts were counted
	}
	return strconv.Itoa(n)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine shortens a reason to a table cell.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
