package pipeline

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk"
)

// Batches are read where gRPC received them and their buffers go back to
// the pool when the last output is done (and, in a filter process whose
// chain is transient, after the response is sent). Giving a buffer back
// too early shows as events whose bytes changed under them. This test runs
// many batches of recognizable events through every path that reads a
// batch's bytes late: two filter processes (one chain transient, one not),
// a filter process that crashes and gets the batch again, an output that
// asks for retries and rejects events (dead letters), an output that only
// counts, and an output that records everything.

// reviewPayload is the message of event i of batch b: its own number and
// a run of one letter, so a byte from another event shows.
func reviewPayload(b, i int) string {
	return fmt.Sprintf("b%03d-e%03d-", b, i) + strings.Repeat(string(rune('a'+(b*7+i)%26)), 150)
}

// reviewValid reports whether msg is an intact payload, or one with the
// split filter's "-clone" suffix.
func reviewValid(msg string) bool {
	msg = strings.TrimSuffix(msg, "-clone")
	var b, i int
	if _, err := fmt.Sscanf(msg, "b%03d-e%03d-", &b, &i); err != nil {
		return false
	}
	return msg == reviewPayload(b, i)
}

// reviewBatches publishes batches of reviewPayload events and ends when
// all are acked.
type reviewBatches struct{ batches, size int }

func (r reviewBatches) Run(ctx context.Context, p sdk.Publisher) error {
	var acked atomic.Int64
	all := make(chan struct{})
	for b := range r.batches {
		events := make([]*sdk.Event, r.size)
		for i := range events {
			e := sdk.NewEvent(reviewPayload(b, i))
			_ = e.Set("[n][b]", int64(b))
			_ = e.Set("[n][i]", int64(i))
			e.AddTag("in")
			events[i] = e
		}
		if err := p.Publish(ctx, events, func() {
			if acked.Add(1) == int64(r.batches) {
				close(all)
			}
		}); err != nil {
			return err
		}
	}
	select {
	case <-all:
	case <-ctx.Done():
	}
	return nil
}

// reviewStamp is transient: it reads and sets fields, and crashes its
// process once, on a given event, so the core restarts it and sends the
// batch again.
type reviewStamp struct{ crashOn, crashFile string }

func (reviewStamp) Transient() {}

func (s reviewStamp) Apply(_ context.Context, e *sdk.Event, _ func(*sdk.Event)) sdk.Result {
	msg := e.Message()
	if s.crashOn != "" && strings.HasPrefix(msg, s.crashOn) {
		if _, err := os.Stat(s.crashFile); err != nil {
			_ = os.WriteFile(s.crashFile, nil, 0o644)
			os.Exit(3)
		}
	}
	_ = e.Set("len", int64(len(msg)))
	e.AddTag("stamped")
	return sdk.Matched
}

// reviewSplit is not transient: it keeps a clone of the last event and
// writes its message into the next one, and emits a clone of every tenth.
type reviewSplit struct {
	mu   sync.Mutex
	last *sdk.Event
}

func (s *reviewSplit) Apply(_ context.Context, e *sdk.Event, emit func(*sdk.Event)) sdk.Result {
	s.mu.Lock()
	if s.last != nil {
		_ = e.Set("prev", s.last.Message())
	}
	s.last = e.Clone()
	s.mu.Unlock()
	if i, _ := e.Get("[n][i]"); i.(int64)%10 == 0 {
		c := e.Clone()
		_ = c.Set("message", e.Message()+"-clone")
		emit(c)
	}
	return sdk.Matched
}

// reviewRecord appends one JSON line per event to its file.
type reviewRecord struct {
	mu sync.Mutex
	f  *os.File
}

func (o *reviewRecord) Write(_ context.Context, events []*sdk.Event) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, e := range events {
		line, err := json.Marshal(e.ToMap(false))
		if err != nil {
			return err
		}
		if _, err := o.f.Write(append(line, '\n')); err != nil {
			return err
		}
	}
	return nil
}

// reviewFlaky accepts a batch of three or more events it has not seen
// only in part: it asks for event 1 again and rejects event 2.
type reviewFlaky struct {
	reviewRecord
	seen map[string]bool
}

func (o *reviewFlaky) Write(ctx context.Context, events []*sdk.Event) error {
	if len(events) < 3 {
		return o.reviewRecord.Write(ctx, events)
	}
	o.mu.Lock()
	first := strings.Clone(events[0].Message())
	again := o.seen[first]
	o.seen[first] = true
	o.mu.Unlock()
	if again {
		return o.reviewRecord.Write(ctx, events)
	}
	var keep []*sdk.Event
	for i, e := range events {
		if i != 1 && i != 2 {
			keep = append(keep, e)
		}
	}
	if err := o.reviewRecord.Write(ctx, keep); err != nil {
		return err
	}
	we := &sdk.WriteError{}
	we.Retry(1, time.Millisecond, "later")
	we.RejectItem(2, "never")
	return we
}

// reviewCount only counts, so its batches are released unread.
type reviewCount struct{ reviewRecord }

func (o *reviewCount) WriteCount(_ context.Context, n int) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	_, err := fmt.Fprintln(o.f, n)
	return err
}

func openAppend(c *sdk.Config) (*os.File, error) {
	return os.OpenFile(c.String("file"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
}

func init() {
	sdk.RegisterInput("review_batches", sdk.NewSpec("").Field(sdk.Int("batches")).Field(sdk.Int("size")),
		func(_ context.Context, c *sdk.Config, _ sdk.Env) (sdk.Input, error) {
			return reviewBatches{batches: c.Int("batches"), size: c.Int("size")}, nil
		})
	sdk.RegisterFilter("review_stamp", sdk.NewSpec("").Field(sdk.String("crash_on")).Field(sdk.String("crash_file")),
		func(_ context.Context, c *sdk.Config, _ sdk.Env) (sdk.Filter, error) {
			return reviewStamp{crashOn: c.String("crash_on"), crashFile: c.String("crash_file")}, nil
		})
	sdk.RegisterFilter("review_split", sdk.NewSpec(""),
		func(context.Context, *sdk.Config, sdk.Env) (sdk.Filter, error) { return &reviewSplit{}, nil })
	sdk.RegisterOutput("review_record", sdk.NewSpec("").Field(sdk.String("file")),
		func(_ context.Context, c *sdk.Config, _ sdk.Env) (sdk.Output, error) {
			f, err := openAppend(c)
			return &reviewRecord{f: f}, err
		})
	sdk.RegisterOutput("review_flaky", sdk.NewSpec("").Field(sdk.String("file")),
		func(_ context.Context, c *sdk.Config, _ sdk.Env) (sdk.Output, error) {
			f, err := openAppend(c)
			return &reviewFlaky{reviewRecord: reviewRecord{f: f}, seen: map[string]bool{}}, err
		})
	sdk.RegisterOutput("review_count", sdk.NewSpec("").Field(sdk.String("file")),
		func(_ context.Context, c *sdk.Config, _ sdk.Env) (sdk.Output, error) {
			f, err := openAppend(c)
			return &reviewCount{reviewRecord{f: f}}, err
		})
}

func readJSONLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: %v: %q", path, err, sc.Text())
		}
		out = append(out, m)
	}
	return out
}

func TestReviewBatchesArriveIntact(t *testing.T) {
	const batches, size = 30, 100
	dir := t.TempDir()
	file := func(name string) string { return filepath.Join(dir, name) }
	cfg := func(kv ...any) []byte {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		b, _ := json.Marshal(m)
		return b
	}
	in, fa, fb, out := startSelf(t, "inputs"), startSelf(t, "filters-a"), startSelf(t, "filters-b"), startSelf(t, "outputs")
	p := New(Settings{ID: "review", Workers: 2, DataDir: dir, ReportEvery: -1}, []Block{
		{Kind: sdk.KindInput, Type: "review_batches", Name: "in", ConfigJSON: cfg("batches", batches, "size", size), Proc: in},
		{Kind: sdk.KindFilter, Type: "review_stamp", Name: "stamp", ConfigJSON: cfg("crash_on", "b007-e000-", "crash_file", file("crashed")), Proc: fa},
		{Kind: sdk.KindFilter, Type: "review_split", Name: "split", ConfigJSON: cfg(), Proc: fb},
		{Kind: sdk.KindOutput, Type: "review_record", Name: "record", ConfigJSON: cfg("file", file("record.jsonl")), Proc: out},
		{Kind: sdk.KindOutput, Type: "review_flaky", Name: "flaky", ConfigJSON: cfg("file", file("flaky.jsonl")), Proc: out},
		{Kind: sdk.KindOutput, Type: "review_count", Name: "count", ConfigJSON: cfg("file", file("count.txt")), Proc: out},
	}, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the pipeline did not finish")
	}
	if _, err := os.Stat(file("crashed")); err != nil {
		t.Fatal("the filter process never crashed: the resend path was not taken")
	}

	// Every event, and a clone of every tenth, exactly once and intact.
	want := map[string]bool{}
	for b := range batches {
		for i := range size {
			want[reviewPayload(b, i)] = true
			if i%10 == 0 {
				want[reviewPayload(b, i)+"-clone"] = true
			}
		}
	}
	check := func(name string, events []map[string]any, wantN int) map[string]bool {
		t.Helper()
		got := map[string]bool{}
		for _, m := range events {
			msg, _ := m["message"].(string)
			if !want[msg] || !reviewValid(msg) {
				t.Errorf("%s: an event that was not sent: %.60q", name, msg)
				continue
			}
			if got[msg] {
				t.Errorf("%s: %.20q twice", name, msg)
			}
			got[msg] = true
			base := strings.TrimSuffix(msg, "-clone")
			if l, _ := m["len"].(float64); int(l) != len(base) {
				t.Errorf("%s: %.20q has len %v, want %d", name, msg, m["len"], len(base))
			}
			if prev, ok := m["prev"].(string); ok && !reviewValid(prev) {
				t.Errorf("%s: %.20q has prev %.60q, not a message sent", name, msg, prev)
			}
			if tags := fmt.Sprint(m["tags"]); tags != "[in stamped]" {
				t.Errorf("%s: %.20q has tags %s", name, msg, tags)
			}
		}
		if len(got) != wantN {
			t.Errorf("%s: %d distinct events, want %d", name, len(got), wantN)
		}
		return got
	}
	check("record", readJSONLines(t, file("record.jsonl")), len(want))

	// The flaky output and the dead letters share them out.
	flaky := check("flaky", readJSONLines(t, file("flaky.jsonl")), len(want)-batches)
	var dead []map[string]any
	for _, m := range readJSONLines(t, filepath.Join(dir, "dead_letter_queue", "review", "flaky.jsonl")) {
		ev, _ := m["event"].(map[string]any)
		dead = append(dead, ev)
	}
	for msg := range check("dead letters", dead, batches) {
		if flaky[msg] {
			t.Errorf("%.20q both written and dead-lettered", msg)
		}
	}

	counts, err := os.ReadFile(file("count.txt"))
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, l := range strings.Fields(string(counts)) {
		var n int
		fmt.Sscan(l, &n)
		total += n
	}
	if total != len(want) {
		t.Errorf("the counting output counted %d events, want %d", total, len(want))
	}
}
