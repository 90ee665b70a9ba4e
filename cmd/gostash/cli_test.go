package main

import (
	"bytes"
	"strings"
	"testing"
)

func runCLI(args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return out.String(), errb.String(), code
}

const okPipeline = `input "stdin" "in" {}
output "stdout" "out" {}`

// A mistake on the command line is one line and a hint, exit 2: not the
// usage printed twice, as the flag package did.
func TestUnknownFlagIsOneLineAndAHint(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--bogus", "-e", okPipeline}, "gostash: unknown flag: --bogus\nSee 'gostash --help'.\n"},
		{[]string{"-x"}, "gostash: unknown shorthand flag: 'x' in -x\nSee 'gostash --help'.\n"},
		{[]string{"dlq", "list", "--bogus"}, "gostash dlq list: unknown flag: --bogus\nSee 'gostash dlq list --help'.\n"},
		{[]string{"plgin", "list"}, "gostash: unknown command \"plgin\" (did you mean plugin?)\nSee 'gostash --help'.\n"},
		{[]string{"plugin", "lsit"}, "gostash plugin: unknown command \"lsit\" (did you mean list?): give one of describe, list, lock, new\nSee 'gostash plugin --help'.\n"},
		{[]string{"-w"}, "gostash: flag needs an argument: 'w' in -w\nSee 'gostash --help'.\n"},
	} {
		stdout, stderr, code := runCLI(tc.args...)
		if code != exitUsage || stderr != tc.want || stdout != "" {
			t.Errorf("%q: exit %d, stderr %q, stdout %q; want exit 2 and %q", tc.args, code, stderr, stdout, tc.want)
		}
	}
}

// Logstash's spellings, long and short, and the seeds' 2.x flags.
func TestLogstashSpellings(t *testing.T) {
	for _, args := range [][]string{
		{"--configtest", "--verbose"},
		{"-t"},
		{"--config.test_and_exit"},
		{"-t=true", "--debug"},
	} {
		stdout, stderr, code := runCLI(append(args, "-e", okPipeline)...)
		if code != 0 || stdout != "Configuration OK\n" {
			t.Errorf("%q: exit %d, stdout %q\n%s", args, code, stdout, stderr)
		}
	}
	for args, want := range map[string]string{
		"--verbose":                     "info",
		"--debug":                       "debug",
		"--debug --log.level debug":     "debug",
		"--log.level WARN":              "warn",
		"-w 3 -b 7 -u 20 --path.data d": "info",
	} {
		o, err := parseFlags(append(strings.Fields(args), "-e", "x"))
		if err != nil || o.logLevel != want {
			t.Errorf("%s: %v, level %v; want %s", args, err, o, want)
		}
	}
	o, err := parseFlags([]string{"-w", "3", "-b", "7", "-u", "20", "-f", "a.hcl", "--path.config", "b.hcl", "-r", "--config.reload.interval", "1s", "--api.enabled=false"})
	if err != nil || o.workers != 3 || o.batchSize != 7 || o.batchDelay.Milliseconds() != 20 || strings.Join(o.paths, ",") != "a.hcl,b.hcl" ||
		!o.reload || o.reloadInterval.Seconds() != 1 || o.api.enabled {
		t.Errorf("short and long flags: %v %+v", err, o)
	}
	if _, err := parseFlags([]string{"--debug", "--log.level", "warn", "-e", "x"}); err == nil || !strings.Contains(err.Error(), "give one of them") {
		t.Errorf("--debug with --log.level warn: %v, want a refusal", err)
	}
}

// gostash 0.1's Go-style single-dash long flags still work, with a
// warning that names the new spelling; values are never rewritten.
func TestOldSingleDashFlags(t *testing.T) {
	stdout, stderr, code := runCLI("-configtest", "-log.level", "warn", "-e", okPipeline)
	if code != 0 || stdout != "Configuration OK\n" {
		t.Fatalf("exit %d, stdout %q\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"-configtest is the old spelling of --configtest", "-log.level is the old spelling of --log.level"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	got, warnings := modernFlags([]string{"-path.data", "-debug", "-e", "-configtest", "-api.enabled=false", "-tr", "--", "-verbose"}, addRunFlags(newFlagSet()).fs)
	want := "--path.data -debug -e -configtest --api.enabled=false -tr -- -verbose"
	if strings.Join(got, " ") != want || len(warnings) != 2 {
		t.Errorf("got %q (%d warnings), want %q and 2", got, len(warnings), want)
	}
}

// Each command has its own help, on stdout with status 0.
func TestPerCommandHelp(t *testing.T) {
	for args, want := range map[string]string{
		"--help":                 "-f, --path.config PATH",
		"help dlq":               "replay",
		"dlq replay --help":      "--clean_consumed",
		"dlq list -h":            "--pipeline.id",
		"plugin new --help":      "gostash plugin new filter|input|output NAME DIR",
		"plugin describe --help": "--format",
		"grok --help":            "--ecs",
	} {
		stdout, stderr, code := runCLI(strings.Fields(args)...)
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("%s: exit %d, want %q in\n%s%s", args, code, want, stdout, stderr)
		}
	}
}

// gostash completion SHELL writes a script the shell loads; completing
// a flag's value offers the values it takes.
func TestCompletion(t *testing.T) {
	for shell, want := range map[string]string{"bash": "complete -o default -F __start_gostash gostash", "zsh": "#compdef gostash", "fish": "complete -c gostash"} {
		stdout, stderr, code := runCLI("completion", shell)
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("completion %s: exit %d, want %q\n%.300s%s", shell, code, want, stdout, stderr)
		}
	}
	stdout, _, _ := runCLI("__complete", "--log.format", "")
	if !strings.HasPrefix(stdout, "plain\njson\n") {
		t.Errorf("--log.format completes to %q, want plain and json", stdout)
	}
	stdout, _, _ = runCLI("__complete", "dl")
	if !strings.HasPrefix(stdout, "dlq\t") {
		t.Errorf("dl completes to %q, want dlq", stdout)
	}
}
