package supervisor

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/gostash/gostash/core/pipeline"
)

// The supervisor's bookkeeping, with pipelines that have no blocks: each
// opens and ends at once, as a pipeline whose inputs have all ended. The
// e2e tests in cmd/gostash run real ones side by side.

type cfg struct{ id, digest string }

func (c cfg) ID() string     { return c.id }
func (c cfg) Digest() string { return c.digest }

// fakeStarter counts starts and stops per id; ids in fail cannot start.
type fakeStarter struct {
	mu      sync.Mutex
	starts  map[string]int
	stops   map[string]int
	fail    map[string]bool
	dataDir string
}

func (f *fakeStarter) start(_ context.Context, c Config) (*pipeline.Pipeline, func(), error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail[c.ID()] {
		return nil, nil, errors.New("plugin refuses to open")
	}
	f.starts[c.ID()]++
	p := pipeline.New(pipeline.Settings{ID: c.ID(), DataDir: f.dataDir, ReportEvery: -1}, nil, slog.New(slog.DiscardHandler))
	return p, func() { f.mu.Lock(); f.stops[c.ID()]++; f.mu.Unlock() }, nil
}

func newFake(t *testing.T, fail ...string) *fakeStarter {
	f := &fakeStarter{starts: map[string]int{}, stops: map[string]int{}, fail: map[string]bool{}, dataDir: t.TempDir()}
	for _, id := range fail {
		f.fail[id] = true
	}
	return f
}

func ids(s *Supervisor) string {
	var out []string
	for _, p := range s.Pipelines() {
		out = append(out, p.Snapshot().ID)
	}
	return strings.Join(out, ",")
}

// Without -r the run ends once every pipeline has ended; one that cannot
// start is logged by id, the others run, and the result says it failed.
func TestServeStartsEveryPipelineAndReportsTheOneThatFails(t *testing.T) {
	f := newFake(t, "b")
	var logs bytes.Buffer
	s := New(f.start, slog.New(slog.NewTextHandler(&logs, nil)), false)
	err := s.Serve(context.Background(), []Config{cfg{"a", "1"}, cfg{"b", "1"}, cfg{"c", "1"}}, nil, nil)
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("Serve: %v, want ErrFailed", err)
	}
	if f.starts["a"] != 1 || f.starts["c"] != 1 || f.stops["a"] != 1 || f.stops["c"] != 1 {
		t.Fatalf("starts %v stops %v: a and c should each start and stop once", f.starts, f.stops)
	}
	if !strings.Contains(logs.String(), `msg="cannot start the pipeline" pipeline=b`) {
		t.Fatalf("the failure does not name b:\n%s", &logs)
	}
	if got := ids(s); got != "a,b,c" {
		t.Fatalf("the API lists %s, want a,b,c", got)
	}
	if e := s.Pipelines()[1].Snapshot().StartError; e != "plugin refuses to open" {
		t.Fatalf("b's snapshot says %q, want why it could not start", e)
	}

	f = newFake(t)
	if err := New(f.start, slog.New(slog.DiscardHandler), false).Serve(context.Background(), []Config{cfg{"a", "1"}, cfg{"b", "1"}}, nil, nil); err != nil {
		t.Fatalf("Serve: %v, want nil", err)
	}
}

// A reload restarts only what changed, starts what was added, drops what
// was removed, and leaves a pipeline whose change is bad as it was.
func TestApplyReloadsOnlyWhatChanged(t *testing.T) {
	f := newFake(t)
	var logs bytes.Buffer
	s := New(f.start, slog.New(slog.NewTextHandler(&logs, nil)), true)
	reload := make(chan bool)
	updates := make(chan *Update)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.Serve(ctx, []Config{cfg{"a", "1"}, cfg{"b", "1"}, cfg{"c", "1"}}, reload,
			func(context.Context, bool) *Update { return <-updates })
	}()
	step := func(force bool, u *Update) {
		reload <- force
		updates <- u
	}
	// b changes, c is bad, a is unchanged, d is new; nothing is removed.
	step(false, &Update{Configs: []Config{cfg{"a", "1"}, cfg{"b", "2"}, cfg{"d", "1"}}, Bad: []string{"c"}})
	// a is removed.
	step(false, &Update{Configs: []Config{cfg{"b", "2"}, cfg{"c", "1"}, cfg{"d", "1"}}})
	// The same again: nothing to do, and the log says so.
	step(false, &Update{Configs: []Config{cfg{"b", "2"}, cfg{"c", "1"}, cfg{"d", "1"}}})
	step(false, nil) // nothing to apply
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	want := map[string]int{"a": 1, "b": 2, "c": 1, "d": 1}
	for id, n := range want {
		if f.starts[id] != n {
			t.Errorf("%s started %d times, want %d (starts %v)", id, f.starts[id], n, f.starts)
		}
	}
	if got := ids(s); got != "b,c,d" {
		t.Fatalf("the API lists %s, want b,c,d", got)
	}
	for _, want := range []string{
		`msg="the pipeline's new configuration has errors (above) and was not loaded: it keeps running as it was" pipeline=c`,
		`msg="pipeline removed from the configuration" pipeline=a`,
		`msg="pipeline added to the configuration: starting it" pipeline=d`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %s:\n%s", want, &logs)
		}
	}
	if n := strings.Count(logs.String(), "nothing to reload"); n != 1 {
		t.Errorf("'nothing to reload' logged %d times, want once (the unchanged update):\n%s", n, &logs)
	}
}
