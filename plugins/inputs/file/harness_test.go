package file

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/host"
	"github.com/gostash/gostash/sdk/sdktest"
)

// harness runs a file input as a pipeline does: Run in its own goroutine,
// batches crossing the wire encoding with the common options applied, and
// acks sent back (at once, or held for the test to release).
type harness struct {
	t      *testing.T
	in     *Input
	dec    *sdk.InputDecorator
	cancel context.CancelFunc
	done   chan error

	mu      sync.Mutex
	events  []*sdk.Event
	held    []func() // acks not yet sent, when holdAcks
	hold    bool
	batches int
	changed chan struct{}
}

// fast are settings that make a test quick: short intervals.
func fast(settings map[string]any) map[string]any {
	out := map[string]any{"stat_interval": "10ms", "discover_interval": "30ms"}
	for k, v := range settings {
		out[k] = v
	}
	return out
}

// newInput builds an input; env.DataDir is dataDir (so a restart can
// reuse it).
func newInput(t *testing.T, settings map[string]any, dataDir string) (*Input, *sdk.InputDecorator) {
	t.Helper()
	comp := sdktest.Lookup(t, sdk.KindInput, "file")
	cfg := sdktest.Config(t, comp, settings)
	if ds := comp.Validate(cfg); ds.HasErrors() {
		t.Fatalf("settings: %v", ds)
	}
	env := sdktest.Env(t, "file")
	env.DataDir = dataDir
	in, err := comp.NewInput(context.Background(), cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := sdk.NewInputDecorator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return in.(*Input), dec
}

func start(t *testing.T, settings map[string]any, dataDir string, holdAcks bool) *harness {
	t.Helper()
	in, dec := newInput(t, settings, dataDir)
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, in: in, dec: dec, cancel: cancel, done: make(chan error, 1), hold: holdAcks, changed: make(chan struct{}, 1)}
	go func() { h.done <- in.Run(ctx, h) }()
	t.Cleanup(func() { h.stop() })
	return h
}

func (h *harness) Publish(ctx context.Context, events []*sdk.Event, ack func()) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, e := range events {
		h.dec.Decorate(e)
	}
	got, err := host.DecodeBatch(host.EncodeBatch(events))
	if err != nil {
		h.t.Errorf("events do not survive the wire: %v", err)
	}
	h.mu.Lock()
	h.events = append(h.events, got...)
	h.batches++
	if h.hold {
		h.held = append(h.held, ack)
		ack = nil
	}
	h.mu.Unlock()
	if ack != nil {
		ack()
	}
	select {
	case h.changed <- struct{}{}:
	default:
	}
	return nil
}

// release sends the held acks in the order given by pick (indexes into
// the held acks), or all in order when pick is nil.
func (h *harness) release(pick ...int) {
	h.mu.Lock()
	held := h.held
	var send []func()
	if pick == nil {
		send, h.held = held, nil
	} else {
		rest := []func(){}
		picked := map[int]bool{}
		for _, i := range pick {
			send = append(send, held[i])
			picked[i] = true
		}
		for i, a := range held {
			if !picked[i] {
				rest = append(rest, a)
			}
		}
		h.held = rest
	}
	h.mu.Unlock()
	for _, a := range send {
		a()
	}
}

// stop cancels Run, waits for it and closes the input; it returns what
// Run returned.
func (h *harness) stop() error {
	if h.cancel == nil {
		return nil
	}
	h.cancel()
	h.cancel = nil
	var err error
	select {
	case err = <-h.done:
	case <-time.After(10 * time.Second):
		h.t.Fatal("Run did not return after its context was cancelled")
	}
	if cerr := h.in.Close(context.Background()); cerr != nil {
		h.t.Errorf("close: %v", cerr)
	}
	return err
}

// messages returns the messages received so far.
func (h *harness) messages() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, len(h.events))
	for i, e := range h.events {
		out[i] = e.Message()
	}
	return out
}

func (h *harness) snapshot() []*sdk.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*sdk.Event(nil), h.events...)
}

// waitFor waits until at least n events arrived and returns them.
func (h *harness) waitFor(n int, timeout time.Duration) []*sdk.Event {
	h.t.Helper()
	deadline := time.After(timeout)
	for {
		if ev := h.snapshot(); len(ev) >= n {
			return ev
		}
		select {
		case <-h.changed:
		case <-deadline:
			ev := h.snapshot()
			h.t.Fatalf("got %d events in %s, want %d; last: %v", len(ev), timeout, n, lastMessages(ev, 3))
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// quiet waits d and checks that no more than n events arrived.
func (h *harness) quiet(n int, d time.Duration) {
	h.t.Helper()
	time.Sleep(d)
	if ev := h.snapshot(); len(ev) != n {
		h.t.Fatalf("got %d events, want exactly %d; last: %v", len(ev), n, lastMessages(ev, 3))
	}
}

func lastMessages(ev []*sdk.Event, n int) []string {
	var out []string
	for _, e := range ev[max(0, len(ev)-n):] {
		out = append(out, e.Message())
	}
	return out
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t testing.TB, path, content string) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
}

func numbered(from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	return b.String()
}

// checkSequence asserts msgs are "line from" ... "line to-1", each once,
// in order.
func checkSequence(t *testing.T, msgs []string, from, to int) {
	t.Helper()
	if len(msgs) != to-from {
		t.Fatalf("got %d lines, want %d (first %q)", len(msgs), to-from, msgs[:min(3, len(msgs))])
	}
	for i, m := range msgs {
		if want := fmt.Sprintf("line %d", from+i); m != want {
			t.Fatalf("line %d is %q, want %q", i, m, want)
		}
	}
}

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}

func sdkConfig(t *testing.T, settings map[string]any) *sdk.Config {
	comp := sdktest.Lookup(t, sdk.KindInput, "file")
	return sdktest.Config(t, comp, settings)
}
