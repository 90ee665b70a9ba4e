package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gostash/gostash/plugins/filters/grok"
)

func init() { grokCmd = grokDebug }

const grokUsage = `usage: gostash grok [flags] PATTERN [FILE]

Runs a grok pattern on each line of FILE (or standard input) and prints
what it captures, one JSON object a line, or "no match".

  echo '10.0.0.1 GET /' | gostash grok '%{IP:client} %{WORD:verb} %{NOTSPACE:path}'
  gostash grok --ecs disabled '%{COMBINEDAPACHELOG}' access.log

flags:
`

// grokDebug is `gostash grok`, for people writing patterns.
func grokDebug(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gostash grok", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, grokUsage)
		fs.PrintDefaults()
	}
	ecs := fs.String("ecs", "v8", "standard patterns: v8 or v1 (ECS field names), disabled (legacy names)")
	var defs, dirs stringList
	fs.Var(&defs, "p", "an extra pattern, NAME=REGEX (repeatable), as pattern_definitions")
	fs.Var(&dirs, "patterns-dir", "a directory or file of patterns, as patterns_dir (repeatable)")
	all := fs.Bool("all-captures", false, "also capture %{SYNTAX} without a field name (named_captures_only = false)")
	showExpr := fs.Bool("expr", false, "print the expanded regular expression before the results")
	timeout := fs.Duration("timeout", 30*time.Second, "give up on a line after this long (timeout_millis)")

	// Flags may come before or after the pattern.
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return 0
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(rest) < 1 || len(rest) > 2 {
		fs.Usage()
		return 2
	}
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
