package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// Flag values that would be ignored (a 0 read as "unset", an unknown log
// level read as info) or are surely typos are refused before anything
// starts, with exit 2 like any other flag error.
func TestFlagValuesRejected(t *testing.T) {
	tests := []struct {
		args    []string
		mention string
	}{
		{[]string{"-w", "0"}, "-w (--pipeline.workers) must be at least 1, got 0"},
		{[]string{"--pipeline.workers", "-3"}, "must be at least 1, got -3"},
		{[]string{"-w", "40000"}, "at most 1024, got 40000"},
		{[]string{"-b", "0"}, "-b (--pipeline.batch.size) must be at least 1, got 0"},
		{[]string{"-u", "-1"}, "cannot be negative"},
		{[]string{"--log.level", "bogus"}, `--log.level takes debug, info, warn or error, got "bogus"`},
		{[]string{"--log.format", "bogus"}, `--log.format takes plain or json, got "bogus"`},
		{[]string{"--config.reload.interval", "0s"}, "--config.reload.interval 0s: give a positive duration"},
		{[]string{"--dead_letter_queue.max_bytes", "lots"}, `give a positive size such as 1024mb`},
		{[]string{"--dead_letter_queue.max_bytes", "0"}, `give a positive size`},
		{[]string{"--dead_letter_queue.storage_policy", "drop_all"}, `takes drop_newer or drop_older, got "drop_all"`},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		args := append(append([]string(nil), tt.args...), "-e", `input "stdin" "in" {}
output "stdout" "out" {}`)
		if code := run(args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", tt.args, code, stderr.String())
		}
		if !strings.Contains(stderr.String(), tt.mention) {
			t.Errorf("%v: stderr %q should say %q", tt.args, stderr.String(), tt.mention)
		}
	}
}

// Sizes are written as in logstash.yml; the default is Logstash's 1024mb.
func TestDeadLetterQueueFlags(t *testing.T) {
	for in, want := range map[string]int64{"": 1 << 30, "512mb": 512 << 20, "2GB": 2 << 30, "64kb": 64 << 10, "1000": 1000} {
		args := []string{"-e", "x"}
		if in != "" {
			args = append(args, "--dead_letter_queue.max_bytes", in)
		}
		o, err := parseFlags(args)
		if err != nil {
			t.Errorf("%q: %v", in, err)
		} else if o.dlqMaxBytes != want || o.dlqPolicy != "drop_newer" {
			t.Errorf("%q: %d bytes, policy %q; want %d, drop_newer", in, o.dlqMaxBytes, o.dlqPolicy, want)
		}
	}
}

func TestFlagValuesAccepted(t *testing.T) {
	for _, args := range [][]string{
		{"-w", "1", "-b", "1", "-u", "0"},
		{"-w", "1024", "--log.level", "DEBUG", "--log.format", "json"},
		{"--log.level", "warn", "--log.format", "plain"},
	} {
		o, err := parseFlags(append(args, "-e", "x"))
		if err != nil {
			t.Errorf("%v: %v", args, err)
			continue
		}
		if o.logLevel != strings.ToLower(o.logLevel) {
			t.Errorf("%v: log level %q not normalised", args, o.logLevel)
		}
	}
}

// Standard input can be read once: the built-in registry says which
// inputs read it, and -t refuses a second one.
func TestConfigTestRefusesTwoStdinInputs(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"-t", "-e", `input "stdin" "a" {}
input "stdin" "b" {}
output "stdout" "out" {}`}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "<inline>:2:7: Error: Second input reading standard input") {
		t.Fatalf("exit %d, want 1 and the second stdin input pointed at\n%s%s", code, stdout.String(), stderr.String())
	}
}

// parseFlags parses a run's flags alone, as the root command does.
func parseFlags(args []string) (*options, error) {
	fs := newFlagSet()
	r := addRunFlags(fs)
	args, warnings := modernFlags(args, fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: give the pipeline with -f FILE or -e 'HCL'", fs.Arg(0))
	}
	o, err := r.options()
	if err != nil {
		return nil, err
	}
	o.deprecated = warnings
	return o, nil
}
