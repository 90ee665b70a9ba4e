package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/gostash/gostash/core/config"
	"github.com/gostash/gostash/core/pipeline"
	"github.com/gostash/gostash/sdk"
)

// On a terminal, a run keeps one status line under its log: events/s in
// and out, the inputs' lag, the outputs' retries. It reads the counters
// the monitoring API serves, redraws in place every second, and is erased
// when the run ends. It is never written when standard error is not a
// terminal (a file, a pipe, the journal), nor with --log.format json
// (lines for machines), nor when the pipeline writes events to a
// terminal stdout or reads a terminal stdin: they would mix.

// statusEvery is how often the status line is redrawn.
const statusEvery = time.Second

// isTerminal reports whether f is a terminal; tests replace it.
var isTerminal = func(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// sharesTerminal reports whether the pipeline writes events to a terminal
// stdout or reads what a person types on a terminal stdin: a status line
// redrawn there would mix with them.
func sharesTerminal(cfg *config.Pipeline, stdout io.Writer) bool {
	f, ok := stdout.(*os.File)
	return ok && isTerminal(f) && writesStdout(cfg) ||
		isTerminal(os.Stdin) && hasBlock(cfg, sdk.KindInput, "stdin")
}

// statusLine is stderr with a status line kept under what is written to
// it: a log line erases the status, is written, and the status is drawn
// again below it.
type statusLine struct {
	mu    sync.Mutex
	w     io.Writer
	width int
	shown string // the status drawn now, "" when none
	stop  func()
}

// newStatusLine returns the status line for stderr, or nil when there is
// to be none.
func newStatusLine(stderr io.Writer, o *options) *statusLine {
	f, ok := stderr.(*os.File)
	if !ok || !isTerminal(f) || o.logFormat == "json" || os.Getenv("TERM") == "dumb" {
		return nil
	}
	width := 80
	if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
		width = w
	}
	return &statusLine{w: f, width: width, stop: func() {}}
}

// Write writes p above the status line.
func (s *statusLine) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shown != "" {
		_, _ = io.WriteString(s.w, "\r\x1b[K")
	}
	n, err := s.w.Write(p)
	if s.shown != "" && bytes.HasSuffix(p, []byte("\n")) {
		_, _ = io.WriteString(s.w, s.shown)
	}
	return n, err
}

// set draws line in place of the status shown.
func (s *statusLine) set(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _ = io.WriteString(s.w, "\r\x1b[K"+line)
	s.shown = line
}

// start redraws the status every interval from snapshots (the run's
// pipelines) until the returned func is called, which erases it.
func (s *statusLine) start(snapshots func() []pipeline.Snapshot, every time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		prev := sampleOf(snapshots(), time.Now())
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				cur := sampleOf(snapshots(), now)
				s.set(renderStatus(prev, cur, s.width))
				prev = cur
			}
		}
	}()
	s.stop = func() {
		cancel()
		<-done
		s.set("") // erased: the status is no part of the log
	}
}

// statusSample is what the status line shows, summed over pipelines.
type statusSample struct {
	at                   time.Time
	in, out              int64
	retries, deadLetters int64
	lag                  float64
	hasLag               bool
}

func sampleOf(snaps []pipeline.Snapshot, at time.Time) statusSample {
	st := statusSample{at: at}
	for _, s := range snaps {
		st.in += s.In
		st.out += s.Out
		st.deadLetters += s.DeadLettered
		for _, o := range s.Outputs {
			st.retries += o.Retried
		}
		for _, in := range s.Inputs {
			for _, g := range in.Gauges {
				if g.Lag {
					st.lag += g.Value
					st.hasLag = true
				}
			}
		}
	}
	return st
}

// renderStatus is the status line between two samples, cut to width
// (a wrapped line could not be redrawn in place).
func renderStatus(prev, cur statusSample, width int) string {
	secs := cur.at.Sub(prev.at).Seconds()
	rate := func(a, b int64) string {
		if secs <= 0 || b < a { // a reload starts the counts again
			return "-"
		}
		return human(float64(b-a) / secs)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "in %s/s  out %s/s", rate(prev.in, cur.in), rate(prev.out, cur.out))
	if cur.hasLag {
		fmt.Fprintf(&b, "  lag %s", human(cur.lag))
	}
	fmt.Fprintf(&b, "  retries %s", human(float64(cur.retries)))
	if cur.deadLetters > 0 {
		fmt.Fprintf(&b, "  dead-lettered %s", human(float64(cur.deadLetters)))
	}
	fmt.Fprintf(&b, "  (total in %s, out %s)", human(float64(cur.in)), human(float64(cur.out)))
	line := b.String()
	if width > 1 && len(line) > width-1 {
		line = line[:width-1]
	}
	return line
}

// human writes n with a k, M or G suffix past a thousand.
func human(n float64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1fG", n/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1fM", n/1e6)
	case n >= 1e4:
		return fmt.Sprintf("%.0fk", n/1e3)
	case n >= 1e3:
		return fmt.Sprintf("%.1fk", n/1e3)
	}
	return fmt.Sprintf("%.0f", n)
}
