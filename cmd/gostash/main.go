// Command gostash runs pipelines: `gostash -f pipeline.hcl`.
//
// The same binary serves the built-in plugins: the core re-executes it as
// `gostash plugin serve` for each plugin process it needs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gostash/gostash/core/config"
	"github.com/gostash/gostash/sdk"

	_ "github.com/gostash/gostash/plugins/all" // the built-in plugins
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "0.1.0-dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "plugin":
			return pluginCmd(args[1:], stdout, stderr)
		case "docs":
			return docsCmd(args[1:], stdout, stderr)
		case "dlq":
			return dlqCmd(args[1:], stdout, stderr)
		case "version", "--version", "-V":
			fmt.Fprintf(stdout, "gostash %s (%s, protocol v1.%d)\n", version, runtime.Version(), sdk.ProtocolMinor)
			return 0
		case "grok":
			if grokCmd != nil {
				return grokCmd(args[1:], stdout, stderr)
			}
		}
	}
	opts, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, err)
		return 2
	}
	if opts.configTest {
		return configTest(opts, stdout, stderr)
	}
	defer sdk.StartCPUProfile("core")()
	return runPipeline(opts, stdout, stderr)
}

// grokCmd is set by the grok debugging command when it is built in.
var grokCmd func(args []string, stdout, stderr io.Writer) int

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
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("gostash", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var paths stringList
	fs.Var(&paths, "f", "pipeline configuration: a file, a directory or a glob (repeatable)")
	fs.Var(&paths, "path.config", "same as -f")
	fs.StringVar(&o.inline, "e", "", "pipeline configuration given inline")
	fs.StringVar(&o.inline, "config.string", "", "same as -e")
	fs.StringVar(&o.settingsDir, "path.settings", "", "directory of pipelines.yml, whose pipelines run when neither -f nor -e is given")
	fs.BoolVar(&o.configTest, "configtest", false, "check the configuration, print `Configuration OK` or every problem, and exit")
	fs.BoolVar(&o.configTest, "t", false, "same as --configtest")
	fs.BoolVar(&o.configTest, "config.test_and_exit", false, "same as --configtest")
	fs.IntVar(&o.workers, "w", 0, "pipeline workers (default: number of CPUs)")
	fs.IntVar(&o.workers, "pipeline.workers", 0, "same as -w")
	fs.IntVar(&o.batchSize, "b", 0, fmt.Sprintf("events per batch (default %d)", sdk.DefaultBatchSize))
	fs.IntVar(&o.batchSize, "pipeline.batch.size", 0, "same as -b")
	var delayMS int
	fs.IntVar(&delayMS, "u", 0, "batch delay in milliseconds (default 50)")
	fs.IntVar(&delayMS, "pipeline.batch.delay", 0, "same as -u")
	fs.StringVar(&o.logLevel, "log.level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&o.logFormat, "log.format", "plain", "log format: plain or json")
	fs.StringVar(&o.dataDir, "path.data", "data", "directory for state: file positions, dead letters")
	fs.DurationVar(&o.drainTimeout, "pipeline.drain_timeout", 30*time.Second, "how long a stop waits for in-flight events before it cancels them (they are read again on the next start) and exits with status 3")
	fs.BoolVar(&o.api.enabled, "api.enabled", true, "serve the monitoring API (/_node/stats, /_health_report, /metrics)")
	fs.StringVar(&o.api.host, "api.http.host", "127.0.0.1", "address the monitoring API binds; beyond loopback only with --api.http.allow_remote")
	fs.StringVar(&o.api.ports, "api.http.port", "9600-9700", "port of the monitoring API, or a range: the first free one is taken")
	fs.BoolVar(&o.api.allowRemote, "api.http.allow_remote", false, "let --api.http.host be an address other hosts reach (the API has no authentication)")
	fs.BoolVar(&o.reload, "r", false, "reload the pipeline when its files change: a bad change is reported and the running pipeline keeps running")
	fs.BoolVar(&o.reload, "config.reload.automatic", false, "same as -r")
	fs.DurationVar(&o.reloadInterval, "config.reload.interval", 3*time.Second, "how often -r checks the configuration files for changes")
	dlqMax := fs.String("dead_letter_queue.max_bytes", "1024mb", "size bound of each pipeline's dead letter queue (such as 512mb, 2gb)")
	fs.StringVar(&o.dlqPolicy, "dead_letter_queue.storage_policy", "drop_newer", "when the dead letter queue is full: drop_newer refuses new entries, drop_older drops the oldest (both counted and logged)")
	var pluginPath stringList
	fs.Var(&pluginPath, "path.plugins", "directory searched for third-party plugins (repeatable)")
	fs.StringVar(&o.lockFile, "plugin.lock", "gostash.lock", "lock file of `gostash plugin lock`: when it exists, only the plugin binaries it names start, and only with their sha256")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `Usage:
  gostash -f PIPELINE [flags]       run a pipeline
  gostash -t -f PIPELINE            check a pipeline's configuration
  gostash -e 'HCL' [flags]          run a pipeline given inline
  gostash -r -f PIPELINE [flags]    run a pipeline, reloading it when its files change
  gostash --path.settings DIR       run the pipelines of DIR/pipelines.yml
  gostash plugin list               list built-in and discovered plugins
  gostash plugin describe NAME      show a plugin's settings (--format markdown for docs)
  gostash plugin new KIND NAME DIR  write a Go module for a new filter, input or output plugin
  gostash plugin lock -f PIPELINE   pin the pipeline's plugin binaries to their sha256 (gostash.lock)
  gostash dlq list|show|stats       read a pipeline's dead letter queue
  gostash dlq replay -f PIPELINE    send the dead letters through PIPELINE's filters and outputs
  gostash docs                      every plugin's settings as one Markdown document
  gostash version

Flags:
`)
		fs.PrintDefaults()
	}
	err := fs.Parse(args)
	if err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: give the pipeline with -f FILE or -e 'HCL'", fs.Arg(0))
	}
	o.paths = paths
	o.pluginPath = pluginPath
	fs.Visit(func(f *flag.Flag) { o.lockFileSet = o.lockFileSet || f.Name == "plugin.lock" })
	if delayMS > 0 {
		o.batchDelay = time.Duration(delayMS) * time.Millisecond
	}
	if err = checkFlags(fs, o, delayMS); err != nil {
		return nil, err
	}
	if o.dlqMaxBytes, err = parseBytes(*dlqMax); err != nil || o.dlqMaxBytes <= 0 {
		return nil, fmt.Errorf("--dead_letter_queue.max_bytes %q: give a positive size such as 1024mb or 2gb", *dlqMax)
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
	return o, nil
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

// checkFlags rejects values that would otherwise be ignored or fail late:
// a 0 given on purpose, a log level slog would read as info.
func checkFlags(fs *flag.FlagSet, o *options, delayMS int) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, n := range []struct {
		names []string
		v     int
	}{{[]string{"w", "pipeline.workers"}, o.workers}, {[]string{"b", "pipeline.batch.size"}, o.batchSize}} {
		if (set[n.names[0]] || set[n.names[1]]) && n.v < 1 {
			return fmt.Errorf("-%s (--%s) must be at least 1, got %d", n.names[0], n.names[1], n.v)
		}
	}
	if o.workers > config.MaxWorkers {
		return fmt.Errorf("-w (--pipeline.workers) can be at most %d, got %d: %s", config.MaxWorkers, o.workers, config.MaxWorkersWhy)
	}
	if delayMS < 0 {
		return fmt.Errorf("-u (--pipeline.batch.delay) cannot be negative, got %d", delayMS)
	}
	switch strings.ToLower(o.logLevel) {
	case "debug", "info", "warn", "error":
		o.logLevel = strings.ToLower(o.logLevel)
	default:
		return fmt.Errorf("--log.level takes debug, info, warn or error, got %q", o.logLevel)
	}
	if o.logFormat != "plain" && o.logFormat != "json" {
		return fmt.Errorf("--log.format takes plain or json, got %q", o.logFormat)
	}
	return nil
}

// signalContext is cancelled on the first SIGINT/SIGTERM
// (graceful stop); the second one exits at once.
func signalContext(log interface{ Warn(string, ...any) }) (context.Context, context.CancelFunc) {
	return notifyTwice(log)
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
