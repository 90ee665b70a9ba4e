package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/gostash/gostash/core/config"
	"github.com/gostash/gostash/core/pipeline"
	"github.com/gostash/gostash/core/pluginhost"
	"github.com/gostash/gostash/sdk"
	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// loggers returns the core's logger and the one go-plugin writes plugin
// logs through, both to stderr in the chosen format.
func loggers(o *options, stderr io.Writer) (*slog.Logger, hclog.Logger) {
	var level slog.Level
	_ = level.UnmarshalText([]byte(o.logLevel))
	if o.logFormat == "json" {
		log := slog.New(jsonHandler(stderr, level))
		return warnDeprecated(o, log), newSlogHclog(log, "plugin", hclog.LevelFromString(o.logLevel))
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	hl := hclog.New(&hclog.LoggerOptions{
		Name:   "plugin",
		Level:  hclog.LevelFromString(o.logLevel),
		Output: stderr,
	})
	return warnDeprecated(o, log), hl
}

// warnDeprecated logs the warnings about old flag spellings, once.
func warnDeprecated(o *options, log *slog.Logger) *slog.Logger {
	for _, w := range o.deprecated {
		log.Warn(w)
	}
	o.deprecated = nil // said once
	return log
}

// loaded is a checked configuration and what it takes to run it.
type loaded struct {
	cfg      *config.Pipeline
	registry *pluginhost.Registry
}

// load reads and checks the configuration: structure, every block against
// its plugin's settings, then the plugins' own checks. It reports every
// problem at once; ok is false when there was an error.
func load(ctx context.Context, o *options, hl hclog.Logger, stderr io.Writer) (*loaded, bool) {
	cfg, diags := config.Load(o.paths, o.inline)
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "cannot find the gostash binary to start built-in plugins:", err)
		return nil, false
	}
	reg := pluginhost.NewRegistry(self, sdk.Catalog())
	if !o.noLock {
		lock, err := readLock(o)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return nil, false
		}
		reg.SetLock(lock)
	}
	for _, decl := range cfg.Plugins {
		if decl.Invalid {
			continue // reported; an unchecked binary is not started
		}
		if err := reg.AddBinary(ctx, decl.Name, decl.Path, decl.SHA256, hl); err != nil {
			r := decl.Range
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Plugin cannot be loaded", Detail: err.Error(), Subject: &r})
		}
	}
	if unknownTypes(cfg, reg) {
		for _, err := range reg.Discover(ctx, pluginDirs(o), hl) {
			hl.Warn("plugin discovery", "error", err)
		}
	}
	diags = append(diags, cfg.Decode(reg)...)
	// Blocks that decoded are checked by their plugins even when others
	// failed: --configtest reports every problem at once.
	diags = append(diags, validate(ctx, cfg, reg, hl)...)
	if len(diags) > 0 && o.logFormat == "json" && !o.configTest {
		logDiagnostics(stderr, diags)
	} else if len(diags) > 0 {
		config.WriteDiagnostics(stderr, cfg, diags)
	}
	return &loaded{cfg: cfg, registry: reg}, !diags.HasErrors()
}

// pluginDirs is where third-party plugins are looked for: --path.plugins,
// $GOSTASH_PLUGIN_PATH (colon-separated) and ./plugins.
func pluginDirs(o *options) []string {
	dirs := append([]string(nil), o.pluginPath...)
	if env := os.Getenv("GOSTASH_PLUGIN_PATH"); env != "" {
		dirs = append(dirs, filepath.SplitList(env)...)
	}
	return append(dirs, "plugins")
}

func unknownTypes(cfg *config.Pipeline, reg *pluginhost.Registry) bool {
	for _, b := range cfg.Blocks() {
		if _, ok := reg.Get(b.Kind, b.Type); !ok {
			return true
		}
	}
	return false
}

// validate runs each plugin's own checks. Built-in components are checked
// with the same function their plugin process serves Validate with; a
// third-party plugin is started once and asked over the protocol.
func validate(ctx context.Context, cfg *config.Pipeline, reg *pluginhost.Registry, hl hclog.Logger) hcl.Diagnostics {
	var diags hcl.Diagnostics
	procs := map[*pluginhost.Source]*pluginhost.Process{}
	defer func() {
		for _, p := range procs {
			p.Kill()
		}
	}()
	for _, b := range cfg.Blocks() {
		e, ok := reg.Get(b.Kind, b.Type)
		if !ok || b.ConfigJSON == nil {
			continue
		}
		var ds sdk.Diagnostics
		if e.Source.Builtin {
			comp, _ := sdk.Lookup(b.Kind, b.Type)
			c, err := sdk.ParseConfig(b.ConfigJSON)
			if err != nil {
				ds.Errorf(nil, "%v", err)
			} else {
				ds = sdk.ValidateComponent(comp, c)
			}
		} else {
			proc := procs[e.Source]
			if proc == nil {
				var err error
				if proc, err = pluginhost.Start(ctx, e.Source.Spec(e.Source.Name, false), hl); err != nil {
					ds.Errorf(nil, "plugin %s cannot start: %v", e.Source.Name, err)
					diags = append(diags, b.Diagnostics(ds)...)
					continue
				}
				procs[e.Source] = proc
			}
			rpc, _ := proc.Client()
			resp, err := rpc.Validate(ctx, &pluginv1.ValidateRequest{Component: b.Type, Kind: sdk.KindToProto(b.Kind), ConfigJson: b.ConfigJSON})
			if err != nil {
				ds.Errorf(nil, "plugin %s: validate: %v", e.Source.Name, err)
			} else {
				ds = sdk.DiagnosticsFromProto(resp.Diagnostics)
			}
		}
		diags = append(diags, b.Diagnostics(ds)...)
	}
	return diags
}

func configTest(o *options, stdout, stderr io.Writer) int {
	_, hl := loggers(o, stderr)
	if _, ok := load(context.Background(), o, hl, stderr); !ok {
		return 1
	}
	fmt.Fprintln(stdout, "Configuration OK")
	return 0
}

// writesStdout reports whether the pipeline has a stdout output.
func writesStdout(cfg *config.Pipeline) bool { return hasBlock(cfg, sdk.KindOutput, "stdout") }

// hasBlock reports whether the pipeline has a block of that kind and type.
func hasBlock(cfg *config.Pipeline, kind sdk.Kind, typ string) bool {
	for _, b := range cfg.Blocks() {
		if b.Kind == kind && b.Type == typ {
			return true
		}
	}
	return false
}

// wantsSourceCoordinates says whether inputs attach where each event came
// from: a decorate_events filter writes it out, and an output that sets
// document_id_from_source (the elasticsearch output) makes ids of it.
func wantsSourceCoordinates(cfg *config.Pipeline) bool {
	if hasBlock(cfg, sdk.KindFilter, "decorate_events") {
		return true
	}
	for _, b := range cfg.Blocks() {
		if b.Kind == sdk.KindOutput && b.Config["document_id_from_source"] == true {
			return true
		}
	}
	return false
}

func runPipeline(o *options, stdout, stderr io.Writer) int {
	status := newStatusLine(stderr, o)
	if status != nil {
		stderr = status // log lines go above the status line
		defer func() { status.stop() }()
	}
	log, hl := loggers(o, stderr)
	ctx, stop := signalContext(log)
	defer stop()
	hup, stopHUP := hangups()
	defer stopHUP()
	seen := fingerprint(o.paths) // before load: a change made meanwhile is seen
	l, ok := load(ctx, o, hl, stderr)
	if !ok {
		return 1
	}
	dataDir, err := filepath.Abs(o.dataDir)
	if err == nil {
		err = os.MkdirAll(dataDir, 0o755)
	}
	var lock *os.File
	if err == nil {
		lock, err = lockDataDir(dataDir)
	}
	if err != nil {
		log.Error("cannot use --path.data", "path", o.dataDir, "error", err)
		return 1
	}
	defer lock.Close() // the lock lasts as long as this run, across reloads

	r := &runner{o: o, log: log, hl: hl, dataDir: dataDir, stdout: stdout, stderr: stderr, seen: seen}
	if status != nil && !sharesTerminal(l.cfg, stdout) {
		status.start(func() []pipeline.Snapshot { return []pipeline.Snapshot{r.current.Snapshot()} }, statusEvery)
	}
	if o.api.enabled {
		stopAPI, err := serveAPI(ctx, o, dataDir, l, log, &r.current)
		if err != nil {
			log.Error("cannot start the monitoring API", "error", err)
			return 1
		}
		defer stopAPI()
	}
	return r.serve(ctx, l, hup)
}

// settings are the pipeline's settings: its file's, else the flags', else
// the defaults.
func settings(o *options, cfg *config.Pipeline, dataDir string) pipeline.Settings {
	s := cfg.Settings.Or(config.Settings{
		ID: "main", Workers: o.workers, BatchSize: o.batchSize, BatchDelay: o.batchDelay,
		HasWorkers: o.workers > 0, HasBatchSize: o.batchSize > 0, HasBatchDelay: o.batchDelay > 0,
	})
	if !s.HasWorkers {
		s.Workers = runtime.NumCPU()
	}
	if !s.HasBatchSize {
		s.BatchSize = sdk.DefaultBatchSize
	}
	if !s.HasBatchDelay {
		s.BatchDelay = 50 * time.Millisecond
	}
	if s.ID == "" {
		s.ID = "main"
	}
	return pipeline.Settings{
		ID: s.ID, Workers: s.Workers, BatchSize: s.BatchSize, BatchDelay: s.BatchDelay, DataDir: dataDir,
		SourceCoordinates:  wantsSourceCoordinates(cfg),
		DrainTimeout:       o.drainTimeout,
		DeadLetterMaxBytes: o.dlqMaxBytes, DeadLetterStoragePolicy: o.dlqPolicy,
	}
}

// exitNotDrained is the status when a stop's deadline passed before every
// batch was delivered: what was left is not acked and will be read again.
// It is not 1 (a configuration or start error) so a supervisor can tell
// the two apart.
const exitNotDrained = 3

// killAll stops the plugin processes in parallel: each may take a few
// seconds when it does not exit when asked.
func killAll(procs []*pluginhost.Process) {
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() { defer wg.Done(); p.Kill() }()
	}
	wg.Wait()
}

// startProcesses starts one plugin process per binary and kind (the stdin
// input gets its own, the only one with stdin), in parallel, and binds
// every block to its process. Consecutive filters in one process then run
// as one chain.
func startProcesses(ctx context.Context, l *loaded, hl hclog.Logger) ([]pipeline.Block, []*pluginhost.Process, error) {
	type group struct {
		spec pluginhost.Spec
		proc *pluginhost.Process
		err  error
	}
	groups := map[string]*group{}
	var order []string
	keys := make([]string, 0)
	for _, b := range l.cfg.Blocks() {
		e, _ := l.registry.Get(b.Kind, b.Type)
		stdin := e.Component.WantsStdin
		name := e.Source.Name + "-" + b.Kind.String() + "s"
		if stdin {
			name = e.Source.Name + "-stdin"
		}
		key := e.Source.Path + "|" + name
		if groups[key] == nil {
			groups[key] = &group{spec: e.Source.Spec(name, stdin)}
			order = append(order, key)
		}
		keys = append(keys, key)
	}
	var wg sync.WaitGroup
	for _, k := range order {
		g := groups[k]
		wg.Add(1)
		go func() { defer wg.Done(); g.proc, g.err = pluginhost.Start(ctx, g.spec, hl) }()
	}
	wg.Wait()
	var procs []*pluginhost.Process
	var errs []string
	for _, k := range order {
		if g := groups[k]; g.err != nil {
			errs = append(errs, g.err.Error())
		} else {
			procs = append(procs, g.proc)
		}
	}
	if len(errs) > 0 {
		return nil, procs, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	var blocks []pipeline.Block
	for i, b := range l.cfg.Blocks() {
		blocks = append(blocks, pipeline.Block{Kind: b.Kind, Type: b.Type, Name: b.Name, ConfigJSON: b.ConfigJSON, Proc: groups[keys[i]].proc})
	}
	return blocks, procs, nil
}
