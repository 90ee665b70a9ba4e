package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gostash/gostash/plugins/filters/grok"
)

func init() { grokCommand = grokCmd }

// grokCmd is `gostash grok`, for people writing patterns.
func grokCmd(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "grok PATTERN [FILE]",
		Short: "Try a grok pattern on lines of a file or standard input",
		Long: `Runs a grok pattern on each line of FILE (or standard input) and prints
what it captures, one JSON object a line, or "no match".`,
		Example: `  echo '10.0.0.1 GET /' | gostash grok '%{IP:client} %{WORD:verb} %{NOTSPACE:path}'
  gostash grok --ecs disabled '%{COMBINEDAPACHELOG}' access.log`,
		Args: argsBetween(1, 2),
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	var g grokFlags
	fs.StringVar(&g.ecs, "ecs", "v8", "standard patterns: v8 or v1 (ECS field names), disabled (legacy names)")
	fs.StringArrayVarP(&g.defs, "pattern_definitions", "p", nil, "an extra pattern, NAME=REGEX (repeatable)")
	fs.StringArrayVar(&g.dirs, "patterns-dir", nil, "a directory or file of patterns, as patterns_dir (repeatable)")
	fs.BoolVar(&g.all, "all-captures", false, "also capture %{SYNTAX} without a field name (named_captures_only = false)")
	fs.BoolVar(&g.expr, "expr", false, "print the expanded regular expression before the results")
	fs.DurationVar(&g.timeout, "timeout", 30*time.Second, "give up on a line after this long (timeout_millis)")
	_ = cmd.RegisterFlagCompletionFunc("ecs", cobra.FixedCompletions([]string{"v8", "v1", "disabled"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.MarkFlagDirname("patterns-dir")
	cmd.RunE = func(_ *cobra.Command, args []string) error {
		return status(grokDebug(g, args, stdout, stderr))
	}
	return cmd
}

type grokFlags struct {
	ecs        string
	defs, dirs []string
	all, expr  bool
	timeout    time.Duration
}

// grokDebug runs pattern rest[0] on the lines of rest[1] or stdin.
func grokDebug(g grokFlags, rest []string, stdout, stderr io.Writer) int {
	ecs, defs, dirs, all, showExpr, timeout := &g.ecs, g.defs, g.dirs, &g.all, &g.expr, &g.timeout
	switch *ecs {
	case "v1", "v8", "disabled":
	default:
		fmt.Fprintf(stderr, "gostash grok: --ecs %q: use v8, v1 or disabled\n", *ecs)
		return 2
	}
	o := grok.Options{ECS: *ecs, PatternsDirs: dirs, AllCaptures: *all, Definitions: map[string]string{}}
	for _, d := range defs {
		name, re, ok := strings.Cut(d, "=")
		if !ok || name == "" {
			fmt.Fprintf(stderr, "gostash grok: -p %q: write NAME=REGEX\n", d)
			return 2
		}
		o.Definitions[name] = re
	}
	p, err := grok.Compile(rest[0], o)
	if err != nil {
		fmt.Fprintf(stderr, "gostash grok: %v\n", err)
		return 1
	}
	if p.Fallback != "" {
		fmt.Fprintf(stderr, "note: this pattern runs on the backtracking engine (%s)\n", p.Fallback)
	}

	in := io.Reader(os.Stdin)
	if len(rest) == 2 {
		f, err := os.Open(rest[1])
		if err != nil {
			fmt.Fprintf(stderr, "gostash grok: %v\n", err)
			return 1
		}
		defer f.Close()
		in = f
	}
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	if *showExpr {
		fmt.Fprintf(out, "expr: %s\n", p.Expr)
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		fields, ok, err := p.Fields(strings.TrimSuffix(sc.Text(), "\r"), *timeout)
		switch {
		case err != nil:
			fmt.Fprintf(out, "error: %v\n", err)
		case !ok:
			fmt.Fprintln(out, "no match")
		default:
			data, _ := json.Marshal(fields)
			fmt.Fprintf(out, "%s\n", data)
		}
	}
	if err := sc.Err(); err != nil {
		out.Flush()
		fmt.Fprintf(stderr, "gostash grok: reading input: %v\n", err)
		return 1
	}
	return 0
}
