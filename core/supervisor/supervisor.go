// Package supervisor runs the pipelines of one gostash process side by
// side and applies reloads to them one by one.
//
// Per pipeline id, a run is a sequence of generations: one checked
// configuration, its plugin processes and the pipeline that moves batches
// through them. A reload drains a changed pipeline's running generation as
// a stop does — inputs stop reading, in-flight batches are delivered and
// acked, the instances close and keep their positions (the file input's
// sincedb, Kafka's committed offsets) — and then starts the next one, which
// reads on from those positions: nothing acked is lost or read twice.
// Pipelines that did not change keep running. Pipelines share nothing on
// the event path, so one that is stuck (an output retrying an address that
// never answers) or failed does not hold up the others.
package supervisor

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gostash/gostash/core/api"
	"github.com/gostash/gostash/core/pipeline"
)

// Config is one pipeline's checked configuration.
type Config interface {
	ID() string
	// Digest identifies what the pipeline runs: a reload replaces a
	// running pipeline only when its digest changed.
	Digest() string
}

// Starter prepares c's pipeline: it starts its plugin processes and
// returns the pipeline, not yet run, and what stops those processes.
type Starter func(ctx context.Context, c Config) (p *pipeline.Pipeline, stop func(), err error)

// Update is a reload's outcome: the pipelines whose new configuration is
// good, and the ids of those whose new configuration has errors (already
// reported), which keep running as they were.
type Update struct {
	Configs []Config
	Bad     []string
}

// Check reads the configuration again after a reload trigger (force: a
// SIGHUP). It returns nil when there is nothing to apply: the files did
// not change, or a problem of no one pipeline (reported) stops the reload.
type Check func(ctx context.Context, force bool) *Update

// ErrFailed is Serve's result when a pipeline could not start or failed.
var ErrFailed = errors.New("a pipeline failed to start or failed")

// Supervisor starts, replaces and stops the generations of one run.
type Supervisor struct {
	start Starter
	log   *slog.Logger
	// wait (-r): once no pipeline runs, wait for a change instead of
	// ending the run, as Logstash does.
	wait bool

	slots map[string]*slot
	order []string // ids, in configuration order
	ended chan *generation
	// failed is set when a pipeline failed to start or failed running,
	// notDrained when a stop's deadline passed: Serve's result.
	failed, notDrained bool
	views              views
}

// slot is one pipeline id: what it last loaded, and its running
// generation (nil once its inputs ended or it could not start).
type slot struct {
	c Config
	g *generation
}

type generation struct {
	id       string
	p        *pipeline.Pipeline
	stop     func()             // stops the plugin processes
	drain    context.CancelFunc // asks the pipeline to stop reading and drain
	finished chan struct{}      // closed when Run returned err
	err      error
	started  time.Time
}

// New returns a supervisor that starts pipelines with start. With wait,
// a run in which no pipeline runs waits for a reload rather than ending.
func New(start Starter, log *slog.Logger, wait bool) *Supervisor {
	return &Supervisor{start: start, log: log, wait: wait, slots: map[string]*slot{}, ended: make(chan *generation, 16)}
}

// Pipelines is what the monitoring API reads, at each request: every
// pipeline id of the run, in configuration order.
func (s *Supervisor) Pipelines() []api.Pipeline { return s.views.list() }

// Serve runs initial until ctx is cancelled (a stop: every pipeline
// drains within its deadline) or, without wait, until no pipeline runs.
// Each value from reload (true: forced, a SIGHUP) calls check and applies
// its update. It returns nil, ErrFailed when a pipeline failed to start
// or failed, else pipeline.ErrNotDrained when a stop's deadline passed.
func (s *Supervisor) Serve(ctx context.Context, initial []Config, reload <-chan bool, check Check) error {
	for _, c := range initial {
		s.order = append(s.order, c.ID())
		s.slots[c.ID()] = &slot{c: c}
		s.views.set(c.ID(), nil)
	}
	s.startAll(ctx, initial)
	if s.running() == 0 && (s.failed || !s.wait) {
		return s.result() // nothing could start: there is nothing to reload
	}
	for {
		// Once nothing runs, only a change (-r) or a stop is left.
		var stopped <-chan struct{}
		if s.running() == 0 {
			if ctx.Err() != nil || !s.wait {
				return s.result()
			}
			stopped = ctx.Done()
		}
		select {
		case g := <-s.ended:
			sl := s.slots[g.id]
			if sl == nil || sl.g != g {
				continue // a reload drained it, and ended it
			}
			sl.g = nil
			s.record(s.end(g))
			if s.wait && ctx.Err() == nil {
				s.log.Info("every input has ended: waiting for the pipeline's configuration to change (-r)", "pipeline", g.id)
			}
		case <-stopped:
			return s.result()
		case force := <-reload:
			if u := check(ctx, force); u != nil {
				s.apply(ctx, u, force)
			}
		}
	}
}

// startAll starts pipelines in parallel: one whose plugins are slow to
// start does not delay the others. One that cannot start is reported by
// id and the others run.
func (s *Supervisor) startAll(ctx context.Context, cs []Config) {
	gens := make([]*generation, len(cs))
	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() { defer wg.Done(); gens[i], errs[i] = s.run(ctx, c) }()
	}
	wg.Wait()
	for i, c := range cs {
		if errs[i] != nil {
			s.views.failed(c.ID(), errs[i]) // before the log: who reads it finds the API says so too
			s.log.Error("cannot start the pipeline", "pipeline", c.ID(), "error", errs[i])
			s.failed = true
			continue
		}
		s.slots[c.ID()].g = gens[i]
	}
}

func (s *Supervisor) running() int {
	n := 0
	for _, sl := range s.slots {
		if sl.g != nil {
			n++
		}
	}
	return n
}

// record counts a pipeline's end into the run's result.
func (s *Supervisor) record(err error) {
	switch {
	case err == nil:
	case errors.Is(err, pipeline.ErrNotDrained):
		s.notDrained = true
	default:
		s.failed = true
	}
}

func (s *Supervisor) result() error {
	switch {
	case s.failed:
		return ErrFailed
	case s.notDrained:
		return pipeline.ErrNotDrained
	}
	return nil
}

// run starts c and runs its pipeline in the background. A pipeline whose
// instances do not open is an error here, so a reload can go back to the
// configuration that ran.
func (s *Supervisor) run(ctx context.Context, c Config) (*generation, error) {
	p, stop, err := s.start(ctx, c)
	if err != nil {
		return nil, err
	}
	gctx, drain := context.WithCancel(ctx)
	g := &generation{id: c.ID(), p: p, stop: stop, drain: drain, finished: make(chan struct{}), started: time.Now()}
	go func() {
		g.err = p.Run(gctx)
		close(g.finished)
		s.ended <- g
	}()
	select {
	case <-p.Opened():
	case <-g.finished:
		// Run fails only when an instance does not open; otherwise it
		// opened and a stop ended it at once.
		if g.err != nil && !errors.Is(g.err, pipeline.ErrNotDrained) {
			stop()
			drain()
			return nil, g.err
		}
	}
	s.views.set(g.id, p)
	snap := p.Snapshot()
	s.log.Info("pipeline started", "pipeline", g.id, "workers", snap.Workers, "batch_size", snap.BatchSize)
	return g, nil
}

// end stops g's plugin processes once its pipeline has returned, and logs
// what went through it. It returns the pipeline's result.
func (s *Supervisor) end(g *generation) error {
	<-g.finished
	g.drain()
	g.stop()
	if g.err != nil && !errors.Is(g.err, pipeline.ErrNotDrained) {
		s.log.Error("pipeline failed", "pipeline", g.id, "error", g.err)
		return g.err
	}
	st := g.p.Stats()
	s.log.Info("pipeline stopped", "pipeline", g.id, "events_in", st.In.Load(), "events_out", st.Out.Load(),
		"dead_lettered", st.DeadLettered.Load(), "restarts", st.Restarts.Load(), "elapsed", time.Since(g.started).Round(time.Millisecond))
	return g.err
}

// apply applies a reload pipeline by pipeline: a changed pipeline is
// replaced, a new one started, a removed one stopped, an unchanged one
// left running (force also restarts one that is not running). A pipeline
// in u.Bad keeps running as it was.
func (s *Supervisor) apply(ctx context.Context, u *Update, force bool) {
	keep := map[string]bool{}
	for _, id := range u.Bad {
		keep[id] = true
		if s.slots[id] != nil {
			s.log.Error("the pipeline's new configuration has errors (above) and was not loaded: it keeps running as it was", "pipeline", id)
		} else {
			s.log.Error("the new pipeline's configuration has errors (above): it was not started", "pipeline", id)
		}
	}
	for _, c := range u.Configs {
		keep[c.ID()] = true
	}
	var order []string
	changed := len(u.Bad) > 0
	for _, id := range s.order {
		if keep[id] {
			order = append(order, id)
			continue
		}
		changed = true
		s.log.Info("pipeline removed from the configuration", "pipeline", id)
		if sl := s.slots[id]; sl.g != nil {
			sl.g.drain()
			s.end(sl.g)
		}
		delete(s.slots, id)
		s.views.remove(id)
	}
	s.order = order
	for _, c := range u.Configs {
		id := c.ID()
		sl := s.slots[id]
		if sl == nil || sl.c.Digest() != c.Digest() || sl.g == nil && force {
			changed = true
		}
		switch {
		case sl == nil:
			s.log.Info("pipeline added to the configuration: starting it", "pipeline", id)
			sl = &slot{c: c}
			s.slots[id] = sl
			s.order = append(s.order, id)
			s.views.set(id, nil)
		case sl.c.Digest() == c.Digest() && (sl.g != nil || !force):
			continue // unchanged: it keeps running, or waits for a change
		}
		s.replace(ctx, sl, c)
		if ctx.Err() != nil {
			return // a stop came: Serve ends the run
		}
	}
	if !changed {
		s.log.Info("no pipeline's settings changed: nothing to reload")
	}
}

// replace drains sl's running generation, if any, and starts c in its
// place; when c cannot start, the previous configuration starts again.
func (s *Supervisor) replace(ctx context.Context, sl *slot, c Config) {
	id := c.ID()
	var prev Config // what to go back to if c cannot start
	if sl.g != nil {
		s.log.Info("reloading: the running pipeline drains, then the new one starts from where it stopped", "pipeline", id)
		sl.g.drain()
		// A pipeline that opened ends with nil or ErrNotDrained: what
		// did not drain is not acked, and the next one reads it again.
		s.end(sl.g)
		sl.g, prev = nil, sl.c
		if ctx.Err() != nil {
			return // a stop came during the drain
		}
	}
	sl.c = c
	g, err := s.run(ctx, c)
	if err == nil || ctx.Err() != nil {
		sl.g = g
		return
	}
	if prev == nil {
		s.views.failed(id, err)
		s.log.Error("the new configuration cannot start: waiting for the next change", "pipeline", id, "error", err)
		return
	}
	s.log.Error("the new configuration cannot start: starting the previous one again", "pipeline", id, "error", err)
	sl.c = prev
	if sl.g, err = s.run(ctx, prev); err != nil {
		s.views.failed(id, err)
		s.log.Error("cannot start the pipeline", "pipeline", id, "error", err)
		s.failed = true
	}
}

// views are the API's view of the run's pipelines, in configuration
// order: a reload swaps a pipeline under its id (its counts start again
// from zero: a counter reset, to Prometheus), adds and removes ids. A
// pipeline not yet open reports an empty one under its id.
type views struct {
	mu  sync.Mutex
	ids []string
	by  map[string]*view
}

type view struct {
	id string
	p  atomic.Pointer[pipeline.Pipeline]
	// startErr says why id is not running, once it could not start.
	startErr atomic.Pointer[string]
}

// set makes p the pipeline of id (nil: none open yet).
func (v *views) set(id string, p *pipeline.Pipeline) {
	pv := v.get(id)
	if p != nil {
		pv.p.Store(p)
		pv.startErr.Store(nil)
	}
}

// failed records that id could not start: until a pipeline of id opens,
// it shows with err (its previous pipeline's counts, if any, are gone).
func (v *views) failed(id string, err error) {
	pv := v.get(id)
	pv.p.Store(nil)
	msg := err.Error()
	pv.startErr.Store(&msg)
}

func (v *views) get(id string) *view {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.by == nil {
		v.by = map[string]*view{}
	}
	pv := v.by[id]
	if pv == nil {
		pv = &view{id: id}
		v.by[id] = pv
		v.ids = append(v.ids, id)
	}
	return pv
}

func (v *views) remove(id string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.by, id)
	v.ids = slices.DeleteFunc(v.ids, func(s string) bool { return s == id })
}

func (v *views) list() []api.Pipeline {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]api.Pipeline, 0, len(v.ids))
	for _, id := range v.ids {
		out = append(out, v.by[id])
	}
	return out
}

func (c *view) Snapshot() pipeline.Snapshot {
	if p := c.p.Load(); p != nil {
		return p.Snapshot()
	}
	snap := pipeline.Snapshot{ID: c.id}
	if err := c.startErr.Load(); err != nil {
		snap.StartError = *err
	}
	return snap
}

func (c *view) Histograms() []prometheus.Collector {
	if p := c.p.Load(); p != nil {
		return p.Histograms()
	}
	return nil
}
