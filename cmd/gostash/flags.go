package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/gostash/gostash/core/config"
	"github.com/gostash/gostash/sdk"
)

// Every flag of a pipeline run is defined here, in runFlags, with
// Logstash's spelling: the long name is the logstash.yml setting, the
// short one Logstash's (-f -e -t -w -b -u -r). The run itself (gostash
// -f ...), `plugin list|describe|lock`, `docs` and `dlq replay` take the
// same set. A new run flag is a field of options, a line in addRunFlags
// and, when it needs one, a check in runFlags.options.

// options are the command-line flags, spelled as Logstash spells them.
type options struct {
	paths  []string
	inline string
	// settingsDir (--path.settings) holds pipelines.yml, read when
	// neither -f nor -e is given.
	settingsDir string
	// replay: a `gostash dlq replay` run, whose input is given inline
	// beside the -f files.
	replay     bool
	configTest bool
	workers    int
	batchSize  int
	batchDelay time.Duration
	logLevel   string
	logFormat  string
	dataDir    string
	pluginPath []string
	// lockFile pins plugin binaries (gostash plugin lock); lockFileSet
	// says it was named, so it must exist. noLock ignores it.
	lockFile    string
	lockFileSet bool
	noLock      bool
	// drainTimeout bounds a stop's drain (0: the pipeline's default).
	drainTimeout time.Duration
	api          apiOptions
	// reload (-r) checks the configuration files every reloadInterval
	// and replaces the pipeline when they changed and are good.
	reload         bool
	reloadInterval time.Duration
	// dlqMaxBytes and dlqPolicy bound the dead letter queue.
	dlqMaxBytes int64
	dlqPolicy   string
	// deprecated are warnings about the flags' spelling (-configtest for
	// --configtest), logged once the log format is known.
	deprecated []string
}

// runFlags holds what the flag set parses into before it is checked.
type runFlags struct {
	fs             *pflag.FlagSet
	o              options
	delayMS        int
	dlqMax         string
	verbose, debug bool
	// warnings are the command line's, about old spellings.
	warnings *[]string
}

// addRunFlags defines the run flags on fs.
func addRunFlags(fs *pflag.FlagSet) *runFlags {
	r := &runFlags{fs: fs}
	o := &r.o
	fs.StringArrayVarP(&o.paths, "path.config", "f", nil, "pipeline configuration: a file, a directory or a glob, `PATH` (repeatable)")
	fs.StringVarP(&o.inline, "config.string", "e", "", "pipeline configuration given inline, in `HCL`")
	fs.StringVar(&o.settingsDir, "path.settings", "", "directory of pipelines.yml, whose pipelines run when neither -f nor -e is given, `DIR`")
	fs.BoolVarP(&o.configTest, "config.test_and_exit", "t", false, "check the configuration, print \"Configuration OK\" or every problem, and exit (also --configtest)")
	fs.IntVarP(&o.workers, "pipeline.workers", "w", 0, "`N` pipeline workers (default: number of CPUs)")
	fs.IntVarP(&o.batchSize, "pipeline.batch.size", "b", 0, fmt.Sprintf("`N` events per batch (default %d)", sdk.DefaultBatchSize))
	fs.IntVarP(&r.delayMS, "pipeline.batch.delay", "u", 0, fmt.Sprintf("batch delay in milliseconds, `MS` (default %d)", sdk.DefaultBatchDelay.Milliseconds()))
	fs.DurationVar(&o.drainTimeout, "pipeline.drain_timeout", 30*time.Second, "`DURATION` a stop waits for in-flight events before it cancels them (they are read again on the next start) and exits with status 3")
	fs.StringVar(&o.logLevel, "log.level", "info", "log `LEVEL`: debug, info, warn, error")
	fs.BoolVar(&r.verbose, "verbose", false, "Logstash 2.x's spelling of --log.level info")
	fs.BoolVar(&r.debug, "debug", false, "Logstash 2.x's spelling of --log.level debug")
	fs.StringVar(&o.logFormat, "log.format", "plain", "log `FORMAT`: plain (key=value text) or json (one object per line)")
	fs.StringVar(&o.dataDir, "path.data", "data", "`DIR` for state: file positions, dead letters")
	fs.BoolVar(&o.api.enabled, "api.enabled", true, "serve the monitoring API (/_node/stats, /_health_report, /metrics); --api.enabled=false to not")
	fs.StringVar(&o.api.host, "api.http.host", "127.0.0.1", "`ADDRESS` the monitoring API binds; beyond loopback only with --api.http.allow_remote")
	fs.StringVar(&o.api.ports, "api.http.port", "9600-9700", "`PORT` of the monitoring API, or a range: the first free one is taken")
	fs.BoolVar(&o.api.allowRemote, "api.http.allow_remote", false, "let --api.http.host be an address other hosts reach (the API has no authentication)")
	fs.BoolVarP(&o.reload, "config.reload.automatic", "r", false, "reload the pipeline when its files change: a bad change is reported and the running pipeline keeps running")
	fs.DurationVar(&o.reloadInterval, "config.reload.interval", 3*time.Second, "how often (a `DURATION`) -r checks the configuration files for changes")
	fs.StringVar(&r.dlqMax, "dead_letter_queue.max_bytes", "1024mb", "`SIZE` bound of each pipeline's dead letter queue (such as 512mb, 2gb)")
	fs.StringVar(&o.dlqPolicy, "dead_letter_queue.storage_policy", "drop_newer", "`POLICY` when the dead letter queue is full: drop_newer refuses new entries, drop_older drops the oldest (both counted and logged)")
	fs.StringArrayVar(&o.pluginPath, "path.plugins", nil, "`DIR` searched for third-party plugins (repeatable)")
	fs.StringVar(&o.lockFile, "plugin.lock", "gostash.lock", "lock `FILE` of gostash plugin lock: when it exists, only the plugin binaries it names start, and only with their sha256")
	fs.SetNormalizeFunc(aliases)
	return r
}

// aliases are other names of run flags: Logstash 2.x's --configtest, and
// the 5.x names of settings that had one before.
func aliases(_ *pflag.FlagSet, name string) pflag.NormalizedName {
	switch name {
	case "configtest":
		name = "config.test_and_exit"
	}
	return pflag.NormalizedName(name)
}

// options checks the parsed flags: values that would otherwise be
// ignored or fail late (a 0 given on purpose, a log level slog would read
// as info) are refused here.
func (r *runFlags) options() (*options, error) {
	o, fs := &r.o, r.fs
	o.lockFileSet = fs.Changed("plugin.lock")
	if r.delayMS > 0 {
		o.batchDelay = time.Duration(r.delayMS) * time.Millisecond
	}
	for _, n := range []struct {
		short, long string
		v           int
	}{{"w", "pipeline.workers", o.workers}, {"b", "pipeline.batch.size", o.batchSize}} {
		if fs.Changed(n.long) && n.v < 1 {
			return nil, fmt.Errorf("-%s (--%s) must be at least 1, got %d", n.short, n.long, n.v)
		}
	}
	if o.workers > config.MaxWorkers {
		return nil, fmt.Errorf("-w (--pipeline.workers) can be at most %d, got %d: %s", config.MaxWorkers, o.workers, config.MaxWorkersWhy)
	}
	if r.delayMS < 0 {
		return nil, fmt.Errorf("-u (--pipeline.batch.delay) cannot be negative, got %d", r.delayMS)
	}
	if err := r.logLevel(); err != nil {
		return nil, err
	}
	if o.logFormat != "plain" && o.logFormat != "json" {
		return nil, fmt.Errorf("--log.format takes plain or json, got %q", o.logFormat)
	}
	var err error
	if o.dlqMaxBytes, err = parseBytes(r.dlqMax); err != nil || o.dlqMaxBytes <= 0 {
		return nil, fmt.Errorf("--dead_letter_queue.max_bytes %q: give a positive size such as 1024mb or 2gb", r.dlqMax)
	}
	if o.dlqPolicy != "drop_newer" && o.dlqPolicy != "drop_older" {
		return nil, fmt.Errorf("--dead_letter_queue.storage_policy takes drop_newer or drop_older, got %q", o.dlqPolicy)
	}
	if o.drainTimeout <= 0 {
		return nil, fmt.Errorf("--pipeline.drain_timeout %v: give a positive duration, such as 30s", o.drainTimeout)
	}
	if err := checkReloadFlags(o); err != nil {
		return nil, err
	}
	if r.warnings != nil {
		o.deprecated = *r.warnings
	}
	return o, nil
}

// logLevel settles --log.level with Logstash 2.x's --verbose and --debug.
func (r *runFlags) logLevel() error {
	o := &r.o
	old := ""
	switch {
	case r.debug:
		old = "debug"
	case r.verbose:
		old = "info"
	}
	if old != "" {
		if r.fs.Changed("log.level") && !strings.EqualFold(o.logLevel, old) {
			return fmt.Errorf("--verbose and --debug are --log.level info and debug: give one of them, not --log.level %s as well", o.logLevel)
		}
		o.logLevel = old
	}
	switch strings.ToLower(o.logLevel) {
	case "debug", "info", "warn", "error":
		o.logLevel = strings.ToLower(o.logLevel)
	default:
		return fmt.Errorf("--log.level takes debug, info, warn or error, got %q", o.logLevel)
	}
	return nil
}

// checkReloadFlags refuses -r with -e, as Logstash does: a configuration
// given on the command line cannot change.
func checkReloadFlags(o *options) error {
	if o.reload && o.inline != "" {
		return fmt.Errorf("-r (--config.reload.automatic) cannot be used with -e (--config.string): a configuration given on the command line cannot change; put it in a file and give it with -f")
	}
	if o.reloadInterval <= 0 {
		return fmt.Errorf("--config.reload.interval %v: give a positive duration, such as 3s", o.reloadInterval)
	}
	return nil
}

func newFlagSet() *pflag.FlagSet {
	fs := pflag.NewFlagSet("gostash", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// modernFlags rewrites the single-dash long flags of gostash 0.1, whose
// command line was Go's flag package (-configtest, -path.data DIR), to
// their POSIX spelling (--configtest), with a warning for each: pflag
// would read -configtest as -c -o -n... A single letter stays a short
// flag; an argument after a flag that takes a value is left alone.
func modernFlags(args []string, fs *pflag.FlagSet) (out []string, warnings []string) {
	out = make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		out = append(out, a)
		if a == "--" {
			return append(out, args[i+1:]...), warnings
		}
		if len(a) < 2 || a[0] != '-' {
			continue
		}
		long := strings.HasPrefix(a, "--")
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		var f *pflag.Flag
		switch {
		case long:
			f = fs.Lookup(name)
		case len(name) == 1:
			f = fs.ShorthandLookup(name)
		default:
			if f = fs.Lookup(name); f != nil || name == "help" || name == "version" {
				out[len(out)-1] = "-" + a
				warnings = append(warnings, fmt.Sprintf("-%s is the old spelling of --%s and will stop working: write --%s", name, name, name))
			}
		}
		if f != nil && !hasValue && f.NoOptDefVal == "" && i+1 < len(args) {
			i++
			out = append(out, args[i]) // the flag's value
		}
	}
	return out, warnings
}

// parseBytes reads a size as Logstash's settings write it: 1024mb, 2gb,
// 512kb, or plain bytes.
func parseBytes(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"tb", 1 << 40}, {"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}, {"b", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return 0, err
	}
	return n * mult, nil
}
