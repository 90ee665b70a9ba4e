package sdk

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

type recordLogger struct {
	mu    sync.Mutex
	lines []string
}

func (r *recordLogger) log(level, msg string, args []any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, fmt.Sprintf("%s %s %v", level, msg, args))
}
func (r *recordLogger) Debug(msg string, args ...any) { r.log("DEBUG", msg, args) }
func (r *recordLogger) Info(msg string, args ...any)  { r.log("INFO", msg, args) }
func (r *recordLogger) Warn(msg string, args ...any)  { r.log("WARN", msg, args) }
func (r *recordLogger) Error(msg string, args ...any) { r.log("ERROR", msg, args) }

type tagFilter struct{}

func (tagFilter) Apply(_ context.Context, e *Event, _ func(*Event)) Result {
	e.AddTag("filtered")
	return Matched
}

// A `when` that fails on an event is false: the filter is skipped, the
// event goes on unchanged, and the failure is counted and logged without
// flooding the log.
func TestWhenFailingOnAnEventIsFalseCountedAndLoggedRateLimited(t *testing.T) {
	defer func(d time.Duration) { whenLogEvery = d }(whenLogEvery)
	whenLogEvery = 200 * time.Millisecond

	comp := &Component{Name: "tag", Kind: KindFilter, Spec: NewSpec("tags"),
		NewFilter: func(context.Context, *Config, Env) (Filter, error) { return tagFilter{}, nil }}
	cfg, err := ParseConfig([]byte(`{"when": "n > 2"}`))
	if err != nil {
		t.Fatal(err)
	}
	log := &recordLogger{}
	fi, err := openFilter(t.Context(), comp, cfg, Env{Name: "t", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	batch := func(n any) []*Event {
		var events []*Event
		for range 500 {
			e := NewEvent("m")
			_ = e.Set("n", n)
			events = append(events, e)
		}
		return events
	}

	out := runChain(t.Context(), []*filterInstance{fi}, batch("not a number"))
	if len(out) != 500 {
		t.Fatalf("a failing when must pass every event on: %d of 500 came out", len(out))
	}
	for _, e := range out {
		if e.HasTag("filtered") {
			t.Fatal("the filter ran on an event its when failed on")
		}
	}
	if got := fi.common.when.Failed(); got != 500 {
		t.Errorf("failures counted: %d, want 500", got)
	}
	if len(log.lines) != 1 || !strings.HasPrefix(log.lines[0], "WARN when failed") || !strings.Contains(log.lines[0], "n > 2") {
		t.Fatalf("want one warning naming the expression, got %q", log.lines)
	}

	// Later failures are logged again, with how many were left out.
	time.Sleep(250 * time.Millisecond)
	runChain(t.Context(), []*filterInstance{fi}, batch("still not"))
	if len(log.lines) != 2 || !strings.Contains(log.lines[1], "failed_total 501") || !strings.Contains(log.lines[1], "not_logged 499") {
		t.Fatalf("want a second warning counting 501 failures and 499 not logged, got %q", log.lines)
	}

	// A when that evaluates is unaffected.
	out = runChain(t.Context(), []*filterInstance{fi}, batch(3))
	if !out[0].HasTag("filtered") || fi.common.when.Failed() != 1000 {
		t.Fatalf("a when that holds must run the filter (tags %v, failures %d)", out[0].Tags(), fi.common.when.Failed())
	}
}
