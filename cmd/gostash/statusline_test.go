package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gostash/gostash/core/config"
	"github.com/gostash/gostash/core/pipeline"
)

func TestRenderStatus(t *testing.T) {
	t0 := time.Unix(1000, 0)
	prev := statusSample{at: t0, in: 1000, out: 900, retries: 2}
	cur := statusSample{at: t0.Add(2 * time.Second), in: 25000, out: 24900, retries: 7}
	if got, want := renderStatus(prev, cur, 200), "in 12k/s  out 12k/s  retries 7  (total in 25k, out 25k)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	// Kafka's lag and dead letters appear when there are any.
	cur.lag, cur.hasLag, cur.deadLetters = 1530, true, 3
	if got, want := renderStatus(prev, cur, 200), "in 12k/s  out 12k/s  lag 1.5k  retries 7  dead-lettered 3  (total in 25k, out 25k)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	// A reload starts the counts again: no negative rate.
	if got := renderStatus(cur, statusSample{at: cur.at.Add(time.Second), in: 10}, 200); !strings.HasPrefix(got, "in -/s  out -/s") {
		t.Errorf("after a reload: %q", got)
	}
	// Never as wide as the terminal: a wrapped line cannot be redrawn.
	if got := renderStatus(prev, cur, 20); len(got) != 19 {
		t.Errorf("cut to %d: %q", len(got), got)
	}
}

// The status sums what the monitoring API shows: events, the outputs'
// retries and the inputs' lag gauges (not their other gauges).
func TestStatusSample(t *testing.T) {
	snap := pipeline.Snapshot{In: 10, Out: 20, DeadLettered: 1,
		Inputs: []pipeline.PluginStats{{Gauges: []pipeline.Gauge{
			{Name: "lag", Value: 5, Lag: true}, {Name: "lag", Value: 7, Lag: true}, {Name: "bytes_read", Value: 1e6}}}},
		Outputs: []pipeline.PluginStats{{Retried: 3}, {Retried: 4}},
	}
	got := sampleOf([]pipeline.Snapshot{snap, {In: 1}}, time.Time{})
	if got.in != 11 || got.out != 20 || got.retries != 7 || got.lag != 12 || !got.hasLag || got.deadLetters != 1 {
		t.Errorf("%+v", got)
	}
	if sampleOf([]pipeline.Snapshot{{In: 1}}, time.Time{}).hasLag {
		t.Error("no lag gauge, yet a lag")
	}
}

// A log line written while the status is shown erases it, is written on
// its own line, and the status is drawn again under it.
func TestStatusLineKeepsUnderTheLog(t *testing.T) {
	var term bytes.Buffer
	s := &statusLine{w: &term, width: 80, stop: func() {}}
	_, _ = s.Write([]byte("first\n"))
	s.set("in 5/s")
	_, _ = s.Write([]byte("second\n"))
	s.set("")
	if got, want := term.String(), "first\n\r\x1b[Kin 5/s\r\x1b[Ksecond\nin 5/s\r\x1b[K"; got != want {
		t.Errorf("terminal got %q, want %q", got, want)
	}
}

// The status line is for a person at a terminal: not for a file, a pipe
// or a buffer, not with JSON logs, not with TERM=dumb.
func TestStatusLineOnlyOnATerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	plain, json := &options{logFormat: "plain"}, &options{logFormat: "json"}
	if newStatusLine(f, plain) != nil || newStatusLine(&bytes.Buffer{}, plain) != nil {
		t.Error("a status line on a file or a buffer")
	}
	old := isTerminal
	defer func() { isTerminal = old }()
	isTerminal = func(*os.File) bool { return true }
	t.Setenv("TERM", "xterm")
	if newStatusLine(f, plain) == nil {
		t.Error("no status line on a terminal")
	}
	if newStatusLine(f, json) != nil {
		t.Error("a status line with --log.format json")
	}
	t.Setenv("TERM", "dumb")
	if newStatusLine(f, plain) != nil {
		t.Error("a status line with TERM=dumb")
	}
}

// Events written to a terminal stdout, or typed on a terminal stdin,
// would mix with a status line redrawn there: none then.
func TestStatusLineStepsAsideForATerminalStdio(t *testing.T) {
	old := isTerminal
	defer func() { isTerminal = old }()
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tc := range []struct {
		cfg      string
		terminal bool
		want     bool
	}{
		{`input "generator" "g" {}
output "stdout" "o" {}`, true, true},
		{`input "stdin" "i" {}
output "null" "o" {}`, true, true},
		{`input "generator" "g" {}
output "null" "o" {}`, true, false},
		{`input "stdin" "i" {}
output "stdout" "o" {}`, false, false},
	} {
		cfg, diags := config.Load(nil, tc.cfg)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		isTerminal = func(*os.File) bool { return tc.terminal }
		if got := sharesTerminal(cfg, f); got != tc.want {
			t.Errorf("terminal %v, %q: %v, want %v", tc.terminal, tc.cfg, got, tc.want)
		}
	}
}
