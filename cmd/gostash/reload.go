package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/gostash/gostash/core/config"
	"github.com/gostash/gostash/core/pipeline"
	"github.com/gostash/gostash/core/pluginhost"
)

// A run is a sequence of generations: one checked configuration, its
// plugin processes and the pipeline that moves batches through them. A
// reload (-r, or SIGHUP) drains the running generation as a stop does —
// inputs stop reading, in-flight batches are delivered and acked, the
// instances close and keep their positions (the file input's sincedb,
// Kafka's committed offsets) — and then starts the next one, which reads
// on from those positions: nothing acked is lost or read twice.
type generation struct {
	l       *loaded
	p       *pipeline.Pipeline
	procs   []*pluginhost.Process
	drain   context.CancelFunc // asks the pipeline to stop reading and drain
	done    chan error         // the pipeline's Run result
	started time.Time
	log     *slog.Logger // the pipeline's: in JSON its lines name it
}

// runner starts and replaces generations for one run of gostash.
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
	// current is the pipeline the monitoring API reads.
	current currentPipeline
}

// serve runs l until a stop signal, replacing it when its files change
// (-r) or on SIGHUP. When every input has ended the run ends too, unless
// -r waits for a change, as Logstash does. It returns the exit status.
func (r *runner) serve(ctx context.Context, l *loaded, hup <-chan os.Signal) int {
	g, err := r.start(ctx, l)
	if err != nil {
		r.log.Error("cannot start the pipeline", "error", err)
		return 1
	}
	var tick <-chan time.Time
	if r.o.reload {
		t := time.NewTicker(r.o.reloadInterval)
		defer t.Stop()
		tick = t.C
		r.log.Info("watching the configuration files for changes", "interval", r.o.reloadInterval)
	}
	var last error // the last pipeline's result, for the exit status
	for {
		// g is nil once every input has ended (-r only): nothing runs
		// until a reload, and a stop signal ends the run.
		var done <-chan error
		var stopped <-chan struct{}
		if g != nil {
			done = g.done
		} else {
			stopped = ctx.Done()
		}
		var next *loaded
		select {
		case err := <-done:
			last = r.end(g, err)
			if !r.o.reload || ctx.Err() != nil {
				return statusOf(last)
			}
			r.log.Info("every input has ended: waiting for the configuration files to change (-r)")
			g = nil
			continue
		case <-stopped:
			return statusOf(last)
		case <-tick:
			next = r.check(ctx, false)
		case <-hup:
			next = r.check(ctx, true)
		}
		if next == nil {
			continue
		}
		var prev *loaded // what to go back to if next cannot start
		if g != nil {
			r.log.Info("reloading: the running pipeline drains, then the new one starts from where it stopped")
			g.drain()
			// A pipeline that opened ends with nil or ErrNotDrained: what
			// did not drain is not acked, and the next one reads it again.
			last = r.end(g, <-g.done)
			if ctx.Err() != nil {
				return statusOf(last) // a stop signal came during the drain
			}
			prev = g.l
		}
		if g, err = r.start(ctx, next); err == nil || ctx.Err() != nil {
			continue // a stop during the start: the next turn ends the run
		}
		if prev == nil {
			r.log.Error("the new configuration cannot start: waiting for the next change", "error", err)
			continue
		}
		r.log.Error("the new configuration cannot start: starting the previous one again", "error", err)
		if g, err = r.start(ctx, prev); err != nil {
			r.log.Error("cannot start the pipeline", "error", err)
			return 1
		}
	}
}

// start starts l's plugin processes, opens its pipeline and runs it in
// the background. A pipeline whose instances do not open is an error
// here, so a reload can go back to the configuration that ran.
func (r *runner) start(ctx context.Context, l *loaded) (*generation, error) {
	s := settings(r.o, l.cfg, r.dataDir)
	blocks, procs, err := startProcesses(ctx, l, pipelineHclog(r.o, r.hl, s.ID))
	if err != nil {
		killAll(procs)
		return nil, err
	}
	log := pipelineLog(r.o, r.log, s.ID)
	p := pipeline.New(s, blocks, log)
	if f, ok := r.stdout.(*os.File); ok && !r.watching && writesStdout(l.cfg) {
		r.watching = true
		watchStdout(f, func() {
			r.log.Warn("standard output was closed by its reader: exiting (events not yet acknowledged will be read again)")
			os.Exit(exitStdoutClosed)
		})
	}
	gctx, drain := context.WithCancel(ctx)
	g := &generation{l: l, p: p, procs: procs, drain: drain, done: make(chan error, 1), started: time.Now(), log: log}
	go func() { g.done <- p.Run(gctx) }()
	select {
	case <-p.Opened():
	case err := <-g.done:
		g.done <- err // for end
		// Run fails only when an instance does not open; otherwise it
		// opened and a stop signal ended it at once.
		if err != nil && !errors.Is(err, pipeline.ErrNotDrained) {
			killAll(procs)
			drain()
			return nil, err
		}
	}
	r.current.p.Store(p)
	log.Info("pipeline started", "id", s.ID, "workers", s.Workers, "batch_size", s.BatchSize, "processes", len(procs))
	return g, nil
}

// end stops g's plugin processes once its pipeline has returned err, and
// logs what went through it.
func (r *runner) end(g *generation, err error) error {
	g.drain()
	killAll(g.procs)
	if err != nil && !errors.Is(err, pipeline.ErrNotDrained) {
		g.log.Error("pipeline failed", "error", err)
		return err
	}
	st := g.p.Stats()
	g.log.Info("pipeline stopped", "events_in", st.In.Load(), "events_out", st.Out.Load(),
		"dead_lettered", st.DeadLettered.Load(), "restarts", st.Restarts.Load(), "elapsed", time.Since(g.started).Round(time.Millisecond))
	return err
}

// statusOf is the run's status after its last pipeline returned err.
func statusOf(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, pipeline.ErrNotDrained):
		return exitNotDrained
	default:
		return 1
	}
}

// check reads the configuration files again and returns them when they
// changed (or force: a SIGHUP) and pass the same checks as --configtest.
// A bad configuration is reported, once per change, and nil returned: the
// running pipeline keeps running.
func (r *runner) check(ctx context.Context, force bool) *loaded {
	if r.o.replay {
		r.log.Warn("SIGHUP ignored: a dead letter replay runs its pipeline once; stop it and run the replay again to change it")
		return nil
	}
	if r.o.inline != "" {
		r.log.Warn("SIGHUP ignored: a configuration given with -e cannot change; give it in a file with -f to reload it")
		return nil
	}
	fp := fingerprint(r.o.paths)
	if fp == r.seen && !force {
		return nil
	}
	r.seen = fp
	if force {
		r.log.Info("SIGHUP: checking the configuration files to reload them")
	} else {
		r.log.Info("the configuration files changed: checking them")
	}
	l, ok := load(ctx, r.o, r.hl, r.stderr)
	if !ok {
		r.log.Error("the new configuration has errors (above) and was not loaded: the running pipeline keeps running; fix the files and save them again")
		return nil
	}
	return l
}

// fingerprint is a digest of the configuration files -f names: their
// names and contents, and what is wrong with a path that names none.
func fingerprint(paths []string) string {
	h := sha256.New()
	files, diags := config.Files(paths)
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
