package main

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/host"
)

// The command line is cobra's (with pflag): POSIX --long and -s flags,
// help per command (gostash dlq replay --help), shell completion
// (gostash completion bash|zsh|fish) and one error line for a mistake.
// Flag names and exit statuses are Logstash's and gostash's own: the
// run flags are in flags.go.

// exitCode carries a command's exit status through cobra.
type exitCode int

func (e exitCode) Error() string { return "exit status " + strconv.Itoa(int(e)) }

func status(code int) error {
	if code == 0 {
		return nil
	}
	return exitCode(code)
}

// usageError is a mistake on the command line: an unknown flag or
// command, a bad value, a missing argument. It exits 2, as the flag
// package's errors did, after one line and a hint.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitUsage is the status of a command-line mistake (the convention of
// getopt tools and of Go's flag package; cobra itself would exit 1).
const exitUsage = 2

func run(args []string, stdout, stderr io.Writer) int {
	c := &cli{stdout: stdout, stderr: stderr}
	root := c.rootCmd()
	cmd, _, err := root.Find(args)
	if err != nil || cmd == nil {
		cmd = root
	}
	args, c.warnings = modernFlags(args, cmd.Flags())
	if cmd.Flags().Lookup("log.format") == nil {
		// No log: say it here. A run logs them, in its log format.
		for _, w := range c.warnings {
			fmt.Fprintln(stderr, "gostash: warning:", w)
		}
	}
	root.SetArgs(args)
	cmd, err = root.ExecuteC()
	var code exitCode
	switch {
	case err == nil:
		return 0
	case errors.As(err, &code):
		return int(code)
	}
	// Any other error is cobra's or pflag's about the command line.
	fmt.Fprintf(stderr, "%s: %v\nSee '%s --help'.\n", cmd.CommandPath(), err, cmd.CommandPath())
	return exitUsage
}

const rootLong = `gostash runs a pipeline: inputs, filters and outputs in HCL.

  gostash -f PIPELINE [flags]       run a pipeline (a file, a directory or a glob)
  gostash -t -f PIPELINE            check a pipeline's configuration and exit
  gostash -e 'HCL' [flags]          run a pipeline given inline
  gostash -r -f PIPELINE [flags]    run a pipeline, reloading it when its files change
  gostash --path.settings DIR       run the pipelines of DIR/pipelines.yml

On a terminal, a status line (events/s in and out, lag, retries) is kept
under the log; it is never written to a file or a pipe.
A mistake on the command line exits 2; a configuration error or a failed
start 1; a stop whose drain deadline passed 3.`

// cli is one execution of the command line.
type cli struct {
	stdout, stderr io.Writer
	// warnings are about old flag spellings, for the run's log.
	warnings []string
}

func (c *cli) rootCmd() *cobra.Command {
	stdout, stderr := c.stdout, c.stderr
	root := &cobra.Command{
		Use:           "gostash",
		Short:         "Run log and event pipelines, as Logstash does",
		Long:          rootLong,
		Args:          rootArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	rf := c.runFlagsOf(root)
	showVersion := root.Flags().BoolP("version", "V", false, "print the version and exit")
	root.RunE = func(cmd *cobra.Command, _ []string) error {
		if *showVersion {
			printVersion(stdout)
			return nil
		}
		o, err := rf.options()
		if err != nil {
			return usageError{err}
		}
		if o.configTest {
			return status(configTest(o, stdout, stderr))
		}
		defer host.StartCPUProfile("core")()
		return status(runPipeline(o, stdout, stderr))
	}
	root.AddCommand(
		c.pluginCommand(),
		c.dlqCommand(),
		c.docsCommand(),
		&cobra.Command{
			Use:   "version",
			Short: "Print the version",
			Args:  noArgs("takes no argument, got %q"),
			Run:   func(*cobra.Command, []string) { printVersion(stdout) },
		},
	)
	if grokCommand != nil {
		root.AddCommand(grokCommand(stdout, stderr))
	}
	return root
}

func (c *cli) docsCommand() *cobra.Command {
	docs := &cobra.Command{
		Use:   "docs",
		Short: "Print every plugin's settings as one Markdown document",
		Args:  noArgs("takes no argument, got %q"),
	}
	flags := c.runFlagsOf(docs)
	docs.RunE = flags.run(func(o *options) int { return docsCmd(o, c.stdout, c.stderr) })
	return docs
}

func printVersion(stdout io.Writer) {
	fmt.Fprintf(stdout, "gostash %s (%s, protocol v1.%d)\n", version, runtime.Version(), host.ProtocolMinor)
}

// runFlagsOf gives cmd the run flags, in the order they are defined, with
// completion of their values.
func (c *cli) runFlagsOf(cmd *cobra.Command) *runFlags {
	fs := cmd.Flags()
	fs.SortFlags = false
	rf := addRunFlags(fs)
	rf.warnings = &c.warnings
	_ = cmd.MarkFlagFilename("path.config")
	_ = cmd.MarkFlagDirname("path.data")
	_ = cmd.MarkFlagDirname("path.plugins")
	_ = cmd.MarkFlagFilename("plugin.lock")
	for name, values := range map[string][]string{
		"log.level":                        {"debug", "info", "warn", "error"},
		"log.format":                       {"plain", "json"},
		"dead_letter_queue.storage_policy": {"drop_newer", "drop_older"},
	} {
		_ = cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
	}
	return rf
}

// run is a RunE that checks the run flags and calls fn with them.
func (r *runFlags) run(fn func(*options) int) func(*cobra.Command, []string) error {
	return func(*cobra.Command, []string) error {
		o, err := r.options()
		if err != nil {
			return usageError{err}
		}
		return status(fn(o))
	}
}

// noArgs refuses any argument with msg (which quotes the first one).
func noArgs(msg string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usagef(msg, args[0])
		}
		return nil
	}
}

// rootArgs refuses an argument: gostash takes its pipeline with -f or
// -e, and a word is a mistyped command.
func rootArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	cmd.SuggestionsMinimumDistance = 2
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		return usagef("unknown command %q (did you mean %s?)", args[0], strings.Join(s, " or "))
	}
	return usagef("unexpected argument %q: give the pipeline with -f FILE or -e 'HCL'", args[0])
}

// argsBetween wants min to max arguments, and says how to give them.
func argsBetween(min, max int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < min || len(args) > max {
			want := strings.TrimPrefix(cmd.Use, cmd.Name()+" ")
			return usagef("takes %s, got %d argument(s)", want, len(args))
		}
		return nil
	}
}

// group makes cmd a set of commands: run alone or with an unknown
// command it is a usage error, not its help with status 0.
func group(cmd *cobra.Command) *cobra.Command {
	cmd.Args = cobra.ArbitraryArgs
	cmd.SuggestionsMinimumDistance = 2
	cmd.RunE = func(c *cobra.Command, args []string) error {
		var names []string
		for _, s := range c.Commands() {
			if s.IsAvailableCommand() {
				names = append(names, s.Name())
			}
		}
		if len(args) == 0 {
			return usagef("give a command: %s", strings.Join(names, ", "))
		}
		hint := ""
		if s := c.SuggestionsFor(args[0]); len(s) > 0 {
			hint = fmt.Sprintf(" (did you mean %s?)", strings.Join(s, " or "))
		}
		return usagef("unknown command %q%s: give one of %s", args[0], hint, strings.Join(names, ", "))
	}
	return cmd
}

func (c *cli) pluginCommand() *cobra.Command {
	stdout, stderr := c.stdout, c.stderr
	plugin := group(&cobra.Command{
		Use:   "plugin",
		Short: "List, describe, write and lock plugins",
	})

	list := &cobra.Command{
		Use:   "list",
		Short: "List built-in and discovered plugins",
		Args:  noArgs("takes no argument, got %q"),
	}
	listFlags := c.runFlagsOf(list)
	list.RunE = listFlags.run(func(o *options) int { return listCmd(o, stdout, stderr) })

	describe := &cobra.Command{
		Use:   "describe NAME|PATH",
		Short: "Show a plugin's settings",
		Long: "Show a plugin's settings: NAME such as generator or output/file (when a name is used\n" +
			"by several kinds), or the path of a plugin binary.",
		Example: "  gostash plugin describe generator\n  gostash plugin describe output/stdout --format markdown\n  gostash plugin describe ./gostash-geoip",
		Args:    argsBetween(1, 1),
	}
	describeFlags := c.runFlagsOf(describe)
	format := describe.Flags().String("format", "text", "text for a terminal, markdown for docs")
	_ = describe.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"text", "markdown"}, cobra.ShellCompDirectiveNoFileComp))
	describe.RunE = func(_ *cobra.Command, args []string) error {
		if *format != "text" && *format != "markdown" {
			return usagef("--format %q: use text or markdown", *format)
		}
		o, err := describeFlags.options()
		if err != nil {
			return usageError{err}
		}
		return status(describeCmd(args[0], *format, o, stdout, stderr))
	}

	newCmd := &cobra.Command{
		Use:       "new filter|input|output NAME DIR",
		Short:     "Write a ready Go module for a new plugin",
		Args:      argsBetween(3, 3),
		ValidArgs: []string{"filter", "input", "output"},
	}
	module := newCmd.Flags().String("module", "", "the module path (default: the binary's name, gostash-NAME)")
	sdkDir := newCmd.Flags().String("sdk", "", "build against this gostash checkout (a replace in go.mod) instead of a release")
	_ = newCmd.MarkFlagDirname("sdk")
	newCmd.RunE = func(_ *cobra.Command, args []string) error {
		return status(newPluginCmd(args, *module, *sdkDir, stdout, stderr))
	}

	lock := &cobra.Command{
		Use:   "lock -f PIPELINE",
		Short: "Pin the plugin binaries a pipeline uses to their sha256 (gostash.lock)",
		Args:  noArgs("takes no argument, got %q: give the pipeline with -f"),
	}
	lockFlags := c.runFlagsOf(lock)
	lock.RunE = lockFlags.run(func(o *options) int { return lockCmd(o, stdout, stderr) })

	plugin.AddCommand(list, describe, newCmd, lock, &cobra.Command{
		Use:    "serve",
		Short:  "Serve the built-in plugins (the core starts this)",
		Hidden: true,
		// Started by the core as a plugin process: serve the built-ins.
		DisableFlagParsing: true,
		Run:                func(*cobra.Command, []string) { sdk.Serve() },
	})
	return plugin
}

func (c *cli) dlqCommand() *cobra.Command {
	stdout, stderr := c.stdout, c.stderr
	dlq := group(&cobra.Command{
		Use:   "dlq",
		Short: "Read and replay a pipeline's dead letter queue",
	})
	read := func(name, use, short string, args cobra.PositionalArgs) *cobra.Command {
		cmd := &cobra.Command{Use: use, Short: short, Args: args}
		dataDir := cmd.Flags().String("path.data", "data", "the --path.data of the gostash that dead-lettered the events")
		pipelineID := cmd.Flags().String("pipeline.id", sdk.DefaultPipelineID, "the pipeline whose dead letters to read")
		_ = cmd.MarkFlagDirname("path.data")
		cmd.RunE = func(_ *cobra.Command, args []string) error {
			return status(dlqRead(name, *dataDir, *pipelineID, args, stdout, stderr))
		}
		return cmd
	}
	replay := &cobra.Command{
		Use:   "replay -f PIPELINE",
		Short: "Send the pending dead letters through PIPELINE's filters and outputs, once",
		Long: `Send the pending entries through PIPELINE's filters and outputs, once: PIPELINE
has no input (the dead letter queue is its input); what is acked is marked
replayed (--clean_consumed: files wholly replayed are removed), what is
rejected again is dead-lettered again.`,
		Args: noArgs("takes no argument, got %q: give the pipeline with -f"),
	}
	replayFlags := c.runFlagsOf(replay)
	pipelineID := replay.Flags().String("pipeline.id", sdk.DefaultPipelineID, "the pipeline whose dead letters to replay")
	clean := replay.Flags().Bool("clean_consumed", false, "remove the queue's files once every entry in them is replayed")
	replay.RunE = replayFlags.run(func(o *options) int { return dlqReplay(o, *pipelineID, *clean, stdout, stderr) })
	dlq.AddCommand(
		read("list", "list", "One line per dead-lettered event: id, time, output, attempts, state, reason", noArgs("takes no argument, got %q")),
		read("show", "show [ID...]", "The entries in full (event, reason, source), all of them or those named", cobra.ArbitraryArgs),
		read("stats", "stats", "Entries, pending, replayed and bytes per output", noArgs("takes no argument, got %q")),
		replay,
	)
	return dlq
}

// grokCommand is set by the grok debugging command when it is built in.
var grokCommand func(stdout, stderr io.Writer) *cobra.Command
