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
	"github.com/gostash/gostash/core/supervisor"
)

// runner is what a run's supervisor (core/supervisor) needs of the
// command: starting a checked pipeline's plugin processes, and reading the
// configuration again on a reload.
type runner struct {
	o              *options
	log            *slog.Logger
	hl             hclog.Logger
	dataDir        string
	stdout, stderr io.Writer
	// seen is the fingerprint of the configuration files last checked,
	// good or bad: a bad change is reported once, not every interval.
	seen     string
	watchMu  sync.Mutex
	watching bool // standard output is watched for its reader going away
}

// ID and Digest make a loaded configuration a supervisor.Config.
func (l *loaded) ID() string     { return l.cfg.ID() }
func (l *loaded) Digest() string { return l.digest }

func configs(ls []*loaded) []supervisor.Config {
	out := make([]supervisor.Config, len(ls))
	for i, l := range ls {
		out[i] = l
	}
	return out
}

// serve runs ls until a stop signal, reloading on -r's ticks and SIGHUP,
// and returns the exit status.
func (r *runner) serve(ctx context.Context, sup *supervisor.Supervisor, ls []*loaded, hup <-chan os.Signal) int {
	var tick <-chan time.Time
	if r.o.reload {
		t := time.NewTicker(r.o.reloadInterval)
		defer t.Stop()
		tick = t.C
		r.log.Info("watching the configuration files for changes", "interval", r.o.reloadInterval)
	}
	reload := make(chan bool)
	go func() {
		for {
			force := false
			select {
			case <-tick:
			case <-hup:
				force = true
			case <-ctx.Done():
				return
			}
			select {
			case reload <- force:
			case <-ctx.Done():
				return
			}
		}
	}()
	return statusOf(sup.Serve(ctx, configs(ls), reload, r.check))
}

// start starts a checked pipeline's plugin processes and builds its
// pipeline: the supervisor's Starter.
func (r *runner) start(ctx context.Context, c supervisor.Config) (*pipeline.Pipeline, func(), error) {
	l := c.(*loaded)
	blocks, procs, err := startProcesses(ctx, l, r.hl)
	if err != nil {
		killAll(procs)
		return nil, nil, err
	}
	s := settings(r.o, l.cfg, r.dataDir)
	if f, ok := r.stdout.(*os.File); ok && writesStdout(l.cfg) {
		r.watchStdout(f)
	}
	r.log.Debug("plugin processes started", "pipeline", s.ID, "processes", len(procs))
	return pipeline.New(s, blocks, r.log.With("pipeline", s.ID)), func() { killAll(procs) }, nil
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

// statusOf is the run's exit status for the supervisor's result.
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

// check reads the configuration again when its files changed (or force:
// a SIGHUP) and checks it as --configtest does. A problem of no one
// pipeline is reported, once per change, and nil returned: every pipeline
// keeps running.
func (r *runner) check(ctx context.Context, force bool) *supervisor.Update {
	if r.o.replay {
		r.log.Warn("SIGHUP ignored: a dead letter replay runs its pipeline once; stop it and run the replay again to change it")
		return nil
	}
	if r.o.inline != "" {
		r.log.Warn("SIGHUP ignored: a configuration given with -e cannot change; give it in a file with -f to reload it")
		return nil
	}
	fp := fingerprintOf(r.o)
	if fp == r.seen && !force {
		return nil
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
		return nil
	}
	return &supervisor.Update{Configs: configs(ls), Bad: bad}
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
