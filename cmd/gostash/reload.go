package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/gostash/gostash/core/config"
	"github.com/gostash/gostash/core/pipeline"
	"github.com/gostash/gostash/core/pluginhost"
)

// A run is, per pipeline, a sequence of generations: one checked
// configuration, its plugin processes and the pipeline that moves batches
// through them. A reload (-r, or SIGHUP) drains a changed pipeline's
// running generation as a stop does — inputs stop reading, in-flight
// batches are delivered and acked, the instances close and keep their
// positions (the file input's sincedb, Kafka's committed offsets) — and
// then starts the next one, which reads on from those positions: nothing
// acked is lost or read twice. Pipelines that did not change keep running.
type generation struct {
	id       string
	l        *loaded
	p        *pipeline.Pipeline
	procs    []*pluginhost.Process
	drain    context.CancelFunc // asks the pipeline to stop reading and drain
	finished chan struct{}      // closed when the pipeline's Run returned err
	err      error
	started  time.Time
}

// slot is one pipeline id of the run: what it last loaded, and its
// running generation (nil once its inputs ended or it could not start).
type slot struct {
	l *loaded
	g *generation
}

// runner starts and replaces the generations of one run of gostash. Each
// pipeline has its own plugin processes, workers, acks and state, so one
// that is stuck (an output retrying an address that never answers) or
// failed does not hold up the others.
type runner struct {
	o              *options
	log            *slog.Logger
	hl             hclog.Logger
	dataDir        string
	stdout, stderr io.Writer
	// seen is the fingerprint of the configuration files last checked,
	// good or bad: a bad change is reported once, not every interval.
	seen     string
	watching bool // standard output is watched for its reader going away
	watchMu  sync.Mutex
	pipes    map[string]*slot
	order    []string // ids, in configuration order
	ended    chan *generation
	// failed is set when a pipeline failed to start or failed running,
	// notDrained when a stop's deadline passed: the run's exit status.
	failed, notDrained bool
	// views is what the monitoring API reads.
	views *pipelineViews
}

func newRunner(o *options, log *slog.Logger, hl hclog.Logger, dataDir string, stdout, stderr io.Writer, seen string) *runner {
	return &runner{o: o, log: log, hl: hl, dataDir: dataDir, stdout: stdout, stderr: stderr, seen: seen,
		pipes: map[string]*slot{}, ended: make(chan *generation, 16), views: &pipelineViews{}}
}

// serve runs the pipelines until a stop signal, replacing those whose
// configuration changed (-r) or on SIGHUP. A pipeline whose inputs have
// all ended stops; the run ends when none runs, unless -r waits for a
// change, as Logstash does. It returns the exit status: 1 when a pipeline
// failed to start or failed, 3 when a stop's deadline passed.
func (r *runner) serve(ctx context.Context, ls []*loaded, hup <-chan os.Signal) int {
	for _, l := range ls {
		id := l.cfg.ID()
		r.order = append(r.order, id)
		r.pipes[id] = &slot{l: l}
		r.views.set(id, nil)
	}
	r.startAll(ctx, ls)
	if r.running() == 0 && (r.failed || !r.o.reload) {
		return r.status() // nothing could start: -r has nothing to reload
	}
	var tick <-chan time.Time
	if r.o.reload {
		t := time.NewTicker(r.o.reloadInterval)
		defer t.Stop()
		tick = t.C
		r.log.Info("watching the configuration files for changes", "interval", r.o.reloadInterval)
	}
	for {
		// Once nothing runs, only a change (-r) or a stop signal is left.
		var stopped <-chan struct{}
		if r.running() == 0 {
			if ctx.Err() != nil || !r.o.reload {
				return r.status()
			}
			stopped = ctx.Done()
		}
		select {
		case g := <-r.ended:
			s := r.pipes[g.id]
			if s == nil || s.g != g {
				continue // drained by a reload, which ended it
			}
			s.g = nil
			r.record(r.end(g))
			if r.o.reload && ctx.Err() == nil {
				r.log.Info("every input of the pipeline has ended: waiting for its configuration to change (-r)", "pipeline", g.id)
			}
		case <-stopped:
			return r.status()
		case <-tick:
			r.reload(ctx, false)
		case <-hup:
			r.reload(ctx, true)
		}
	}
}

// startAll starts pipelines in parallel: one whose plugins are slow to
// start does not delay the others. One that cannot start is reported by
// id and the others run.
func (r *runner) startAll(ctx context.Context, ls []*loaded) {
	gens := make([]*generation, len(ls))
	errs := make([]error, len(ls))
	var wg sync.WaitGroup
	for i, l := range ls {
		wg.Add(1)
		go func() { defer wg.Done(); gens[i], errs[i] = r.start(ctx, l) }()
	}
	wg.Wait()
	for i, l := range ls {
		if errs[i] != nil {
			r.log.Error("cannot start the pipeline", "pipeline", l.cfg.ID(), "error", errs[i])
			r.failed = true
			continue
		}
		r.pipes[l.cfg.ID()].g = gens[i]
	}
}

func (r *runner) running() int {
	n := 0
	for _, s := range r.pipes {
		if s.g != nil {
			n++
		}
	}
	return n
}

// record counts a pipeline's end into the run's exit status.
func (r *runner) record(err error) {
	switch {
	case err == nil:
	case errors.Is(err, pipeline.ErrNotDrained):
		r.notDrained = true
	default:
		r.failed = true
	}
}

// status is the run's exit status.
func (r *runner) status() int {
	switch {
	case r.failed:
		return 1
	case r.notDrained:
		return exitNotDrained
	}
	return 0
}

// start starts l's plugin processes, opens its pipeline and runs it in
// the background. A pipeline whose instances do not open is an error
// here, so a reload can go back to the configuration that ran.
func (r *runner) start(ctx context.Context, l *loaded) (*generation, error) {
	blocks, procs, err := startProcesses(ctx, l, r.hl)
	if err != nil {
		killAll(procs)
		return nil, err
	}
	s := settings(r.o, l.cfg, r.dataDir)
	p := pipeline.New(s, blocks, r.log.With("pipeline", s.ID))
	if f, ok := r.stdout.(*os.File); ok && writesStdout(l.cfg) {
		r.watchStdout(f)
	}
	gctx, drain := context.WithCancel(ctx)
	g := &generation{id: s.ID, l: l, p: p, procs: procs, drain: drain, finished: make(chan struct{}), started: time.Now()}
	go func() {
		g.err = p.Run(gctx)
		close(g.finished)
		r.ended <- g
	}()
	select {
	case <-p.Opened():
	case <-g.finished:
		// Run fails only when an instance does not open; otherwise it
		// opened and a stop signal ended it at once.
		if g.err != nil && !errors.Is(g.err, pipeline.ErrNotDrained) {
			killAll(procs)
			drain()
			return nil, g.err
		}
	}
	r.views.set(s.ID, p)
	r.log.Info("pipeline started", "id", s.ID, "workers", s.Workers, "batch_size", s.BatchSize, "processes", len(procs))
	return g, nil
}

// watchStdout exits the run when the reader of standard output goes
// away, once for all pipelines.
func (r *runner) watchStdout(f *os.File) {
	r.watchMu.Lock()
	defer r.watchMu.Unlock()
	if r.watching {
		return
	}
	r.watching = true
	watchStdout(f, func() {
		r.log.Warn("standard output was closed by its reader: exiting (events not yet acknowledged will be read again)")
		os.Exit(exitStdoutClosed)
	})
}

// end stops g's plugin processes once its pipeline has returned, and
// logs what went through it. It returns the pipeline's result.
func (r *runner) end(g *generation) error {
	<-g.finished
	g.drain()
	killAll(g.procs)
	err := g.err
	if err != nil && !errors.Is(err, pipeline.ErrNotDrained) {
		r.log.Error("pipeline failed", "pipeline", g.id, "error", err)
		return err
	}
	st := g.p.Stats()
	r.log.Info("pipeline stopped", "pipeline", g.id, "events_in", st.In.Load(), "events_out", st.Out.Load(),
		"dead_lettered", st.DeadLettered.Load(), "restarts", st.Restarts.Load(), "elapsed", time.Since(g.started).Round(time.Millisecond))
	return err
}

// reload reads the configuration again when it changed (or force: a
// SIGHUP) and applies it pipeline by pipeline: a changed pipeline is
// replaced, a new one started, a removed one stopped, an unchanged one
// left running. A pipeline whose new configuration has errors is reported
// and keeps running as it was; a problem of no one pipeline (a file that
// does not parse) leaves every pipeline as it was.
func (r *runner) reload(ctx context.Context, force bool) {
	if r.o.replay {
		r.log.Warn("SIGHUP ignored: a dead letter replay runs its pipeline once; stop it and run the replay again to change it")
		return
	}
	if r.o.inline != "" {
		r.log.Warn("SIGHUP ignored: a configuration given with -e cannot change; give it in a file with -f to reload it")
		return
	}
	fp := fingerprintOf(r.o)
	if fp == r.seen && !force {
		return
	}
	r.seen = fp
	if force {
		r.log.Info("SIGHUP: checking the configuration files to reload them")
	} else {
		r.log.Info("the configuration files changed: checking them")
	}
	ls, bad, ok := loadAll(ctx, r.o, r.hl, r.stderr)
	if !ok {
		r.log.Error("the new configuration has errors (above) and was not loaded: every pipeline keeps running; fix the files and save them again")
		return
	}
	for _, id := range bad {
		if r.pipes[id] != nil {
			r.log.Error("the pipeline's new configuration has errors (above) and was not loaded: it keeps running as it was", "pipeline", id)
		} else {
			r.log.Error("the new pipeline's configuration has errors (above): it was not started", "pipeline", id)
		}
	}
	keep := map[string]bool{}
	for _, id := range bad {
		keep[id] = true
	}
	for _, l := range ls {
		keep[l.cfg.ID()] = true
	}
	var order []string
	for _, id := range r.order {
		if keep[id] {
			order = append(order, id)
			continue
		}
		r.log.Info("pipeline removed from the configuration", "pipeline", id)
		if s := r.pipes[id]; s.g != nil {
			s.g.drain()
			r.end(s.g)
		}
		delete(r.pipes, id)
		r.views.remove(id)
	}
	r.order = order
	for _, l := range ls {
		id := l.cfg.ID()
		s := r.pipes[id]
		switch {
		case s == nil:
			r.log.Info("pipeline added to the configuration: starting it", "pipeline", id)
			s = &slot{l: l}
			r.pipes[id] = s
			r.order = append(r.order, id)
			r.views.set(id, nil)
		case s.l.digest == l.digest && (s.g != nil || !force):
			continue // unchanged: it keeps running, or waits for a change
		}
		r.replace(ctx, s, l)
		if ctx.Err() != nil {
			return // a stop signal came: serve ends the run
		}
	}
}

// replace drains s's running generation, if any, and starts l in its
// place; when l cannot start, the previous configuration starts again.
func (r *runner) replace(ctx context.Context, s *slot, l *loaded) {
	id := l.cfg.ID()
	var prev *loaded // what to go back to if l cannot start
	if s.g != nil {
		r.log.Info("reloading: the running pipeline drains, then the new one starts from where it stopped", "pipeline", id)
		s.g.drain()
		// A pipeline that opened ends with nil or ErrNotDrained: what
		// did not drain is not acked, and the next one reads it again.
		r.end(s.g)
		s.g, prev = nil, s.l
		if ctx.Err() != nil {
			return // a stop signal came during the drain
		}
	}
	s.l = l
	g, err := r.start(ctx, l)
	if err == nil || ctx.Err() != nil {
		s.g = g
		return
	}
	if prev == nil {
		r.log.Error("the new configuration cannot start: waiting for the next change", "pipeline", id, "error", err)
		return
	}
	r.log.Error("the new configuration cannot start: starting the previous one again", "pipeline", id, "error", err)
	s.l = prev
	if s.g, err = r.start(ctx, prev); err != nil {
		r.log.Error("cannot start the pipeline", "pipeline", id, "error", err)
		r.failed = true
	}
}

// fingerprintOf is a digest of the files the run's configuration comes
// from: -f's, or pipelines.yml and the files its entries name.
func fingerprintOf(o *options) string {
	if o.usesPipelinesFile() {
		return digestFiles(config.PipelinesFileSources(o.settingsDir), nil)
	}
	return fingerprint(o.paths)
}

// fingerprint is a digest of the configuration files -f names: their
// names and contents, and what is wrong with a path that names none.
func fingerprint(paths []string) string {
	files, diags := config.Files(paths)
	return digestFiles(files, diags)
}

// digestFiles digests files' names and contents and what diags say is
// wrong with paths that name none.
func digestFiles(files []string, diags hcl.Diagnostics) string {
	h := sha256.New()
	for _, d := range diags {
		fmt.Fprintf(h, "%s\x00", d.Summary)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		fmt.Fprintf(h, "%s\x00%v\x00%d\x00", name, err, len(data))
		h.Write(data)
	}
	return string(h.Sum(nil))
}
