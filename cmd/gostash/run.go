package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/gostash/gostash/core/config"
	"github.com/gostash/gostash/core/pipeline"
	"github.com/gostash/gostash/core/pluginhost"
	"github.com/gostash/gostash/core/supervisor"
	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/host"
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
	digest   string // what a reload compares: config.Pipeline.Digest
}

// loadAll reads and checks every pipeline of the run: those of -f/-e
// (pipeline "ID" blocks, or one pipeline "main"), else those of
// pipelines.yml in --path.settings. Each pipeline is checked on its own
// and its problems are reported with its id; bad lists the pipelines with
// errors, ls the others. ok is false when nothing can run: a problem of
// no one pipeline (a file that does not parse, a duplicate id).
func loadAll(ctx context.Context, o *options, hl hclog.Logger, stderr io.Writer) (ls []*loaded, bad []string, ok bool) {
	set := loadSet(o)
	if len(set.Global) > 0 && o.logFormat == "json" && !o.configTest {
		logDiagnostics(stderr, set.Global)
	} else if len(set.Global) > 0 {
		set.Write(stderr, -1, set.Global)
	}
	ok = !set.Global.HasErrors()
	stdin := map[string]bool{}
	for i, cfg := range set.Pipelines {
		l, diags, err := prepare(ctx, o, cfg, set.Diags[i], hl)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return nil, nil, false
		}
		if len(diags) > 0 && o.logFormat == "json" && !o.configTest {
			logDiagnostics(stderr, diags)
		} else if len(diags) > 0 {
			set.Write(stderr, i, diags)
		}
		if diags.HasErrors() {
			bad = append(bad, cfg.ID())
			continue
		}
		if readsStdin(l) {
			stdin[cfg.ID()] = true
		}
		ls = append(ls, l)
	}
	if len(stdin) > 1 {
		ids := make([]string, 0, len(stdin))
		for id := range stdin {
			ids = append(ids, strconv.Quote(id))
		}
		sort.Strings(ids)
		fmt.Fprintf(stderr, "Error: pipelines %s each read standard input: a process has one, so only one pipeline can have a stdin input\n\n", strings.Join(ids, " and "))
		ok = false
	}
	return ls, bad, ok
}

// loadSet parses the run's pipelines: -f/-e win over pipelines.yml, as in
// Logstash (which warns that it ignores the file; see warnIgnored).
func loadSet(o *options) *config.Set {
	if o.usesPipelinesFile() {
		return config.LoadPipelinesFile(o.settingsDir)
	}
	return config.LoadSet(o.paths, o.inline)
}

// usesPipelinesFile says the run's pipelines come from pipelines.yml in
// --path.settings: it is given and -f/-e are not.
func (o *options) usesPipelinesFile() bool {
	return o.settingsDir != "" && len(o.paths) == 0 && o.inline == ""
}

// warnIgnored says, as Logstash does, that -f/-e win over a pipelines.yml
// that --path.settings names.
func warnIgnored(o *options, log *slog.Logger) {
	if o.settingsDir == "" || o.usesPipelinesFile() {
		return
	}
	path := filepath.Join(o.settingsDir, config.PipelinesFile)
	if _, err := os.Stat(path); err == nil {
		log.Warn("ignoring "+config.PipelinesFile+" because -f or -e gives the configuration", "path", path)
	}
}

// readsStdin reports whether a pipeline has an input that reads gostash's
// standard input.
func readsStdin(l *loaded) bool {
	for _, b := range l.cfg.Inputs {
		if e, ok := l.registry.Get(b.Kind, b.Type); ok && e.Component.WantsStdin {
			return true
		}
	}
	return false
}

// prepare checks one pipeline that config loaded with diags: every block
// against its plugin's settings, then the plugins' own checks. It returns
// every problem; err is one that stops the whole run (no binary, a bad
// lock file).
func prepare(ctx context.Context, o *options, cfg *config.Pipeline, diags hcl.Diagnostics, hl hclog.Logger) (*loaded, hcl.Diagnostics, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("cannot find the gostash binary to start built-in plugins: %w", err)
	}
	reg := pluginhost.NewRegistry(self, host.Catalog())
	if !o.noLock {
		lock, err := readLock(o)
		if err != nil {
			return nil, nil, err
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
	return &loaded{cfg: cfg, registry: reg, digest: cfg.Digest()}, diags, nil
}

// pluginDirs is where third-party plugins are looked for: --path.plugins,
// $GOSTASH_PLUGIN_PATH (colon-separated) and ./plugins.
func pluginDirs(o *options) []string {
	dirs := append([]string(nil), o.pluginPath...)
	if env := os.Getenv(config.EnvPluginPath); env != "" {
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
				ds = host.ValidateComponent(comp, c)
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
			resp, err := rpc.Validate(ctx, &pluginv1.ValidateRequest{Component: b.Type, Kind: host.KindToProto(b.Kind), ConfigJson: b.ConfigJSON})
			if err != nil {
				ds.Errorf(nil, "plugin %s: validate: %v", e.Source.Name, err)
			} else {
				ds = host.DiagnosticsFromProto(resp.Diagnostics)
			}
		}
		diags = append(diags, b.Diagnostics(ds)...)
	}
	return diags
}

func configTest(o *options, stdout, stderr io.Writer) int {
	log, hl := loggers(o, stderr)
	warnIgnored(o, log)
	ls, bad, ok := loadAll(context.Background(), o, hl, stderr)
	if !ok || len(bad) > 0 {
		return 1
	}
	if len(ls) > 1 {
		ids := make([]string, len(ls))
		for i, l := range ls {
			ids[i] = l.cfg.ID()
		}
		fmt.Fprintf(stdout, "Configuration OK (pipelines %s)\n", strings.Join(ids, ", "))
		return 0
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
	warnIgnored(o, log)
	seen := fingerprintOf(o) // before load: a change made meanwhile is seen
	ls, bad, ok := loadAll(ctx, o, hl, stderr)
	if !ok || len(bad) > 0 {
		if len(bad) > 0 {
			log.Error("pipelines have configuration errors (above): nothing started", "pipelines", strings.Join(bad, ","))
		}
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
	sup := supervisor.New(r.start, log, o.reload)
	if status != nil && !sharesTerminalAny(ls, stdout) {
		status.start(func() []pipeline.Snapshot {
			var snaps []pipeline.Snapshot
			for _, p := range sup.Pipelines() {
				snaps = append(snaps, p.Snapshot())
			}
			return snaps
		}, statusEvery)
	}
	if o.api.enabled {
		stopAPI, err := serveAPI(ctx, o, dataDir, ls, log, sup.Pipelines)
		if err != nil {
			log.Error("cannot start the monitoring API", "error", err)
			return 1
		}
		defer stopAPI()
	}
	return r.serve(ctx, sup, ls, hup)
}

// settings are the pipeline's settings: its file's, else the flags', else
// the defaults.
func settings(o *options, cfg *config.Pipeline, dataDir string) pipeline.Settings {
	s := cfg.Settings.Or(config.Settings{
		ID: sdk.DefaultPipelineID, Workers: o.workers, BatchSize: o.batchSize, BatchDelay: o.batchDelay,
		HasWorkers: o.workers > 0, HasBatchSize: o.batchSize > 0, HasBatchDelay: o.batchDelay > 0,
	})
	if !s.HasWorkers {
		s.Workers = runtime.NumCPU()
	}
	if !s.HasBatchSize {
		s.BatchSize = sdk.DefaultBatchSize
	}
	if !s.HasBatchDelay {
		s.BatchDelay = sdk.DefaultBatchDelay
	}
	if s.ID == "" {
		s.ID = sdk.DefaultPipelineID
	}
	state := pipeline.StateDir(dataDir, s.ID)
	if o.replay {
		state = dataDir // where `gostash dlq` reads the replay's positions
	}
	return pipeline.Settings{
		ID: s.ID, Workers: s.Workers, BatchSize: s.BatchSize, BatchDelay: s.BatchDelay, DataDir: dataDir, StateDir: state,
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
