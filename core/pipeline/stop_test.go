package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk"
)

// stuckPipeline is an input of batches of three events and an output that
// accepts nothing until gate exists.
func stuckPipeline(t *testing.T, input string, drain time.Duration, workers int) (p *Pipeline, logs *safeBuffer, ackFile, gateFile string) {
	t.Helper()
	dir := t.TempDir()
	ackFile, gateFile = filepath.Join(dir, "ack"), filepath.Join(dir, "gate")
	in, out := startSelf(t, "inputs"), startSelf(t, "outputs")
	logs = &safeBuffer{}
	p = New(Settings{ID: "t", Workers: workers, DataDir: dir, DrainTimeout: drain, ReportEvery: -1}, []Block{
		{Kind: sdk.KindInput, Type: "once", Name: "in", ConfigJSON: []byte(`{"ack_file":"` + ackFile + `"` + input + `}`), Proc: in},
		{Kind: sdk.KindOutput, Type: "gate", Name: "out", ConfigJSON: []byte(`{"file":"` + gateFile + `"}`), Proc: out},
	}, slog.New(slog.NewTextHandler(logs, nil)))
	return p, logs, ackFile, gateFile
}

// stopOnceIn cancels the stop once the pipeline has read n events: a stop
// that comes before the input published (a loaded machine starts plugin
// processes slowly) would test nothing.
func stopOnceIn(p *Pipeline, n int64, stop func(), then func()) {
	go func() {
		for p.Stats().In.Load() < n {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond)
		stop()
		if then != nil {
			then()
		}
	}()
}

// runFor runs the pipeline and fails the test when it has not returned
// within d.
func runFor(t *testing.T, p *Pipeline, ctx context.Context, d time.Duration) (error, time.Duration) {
	t.Helper()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	select {
	case err := <-done:
		return err, time.Since(start)
	case <-time.After(d):
		t.Fatalf("the pipeline was still running %v after it started", d)
		return nil, 0
	}
}

// A stop while an output holds its batches ends at the drain deadline: the
// write is cancelled, nothing is acked, and the log says what was left.
func TestStopCancelsWhatDoesNotDrainInTime(t *testing.T) {
	p, logs, ackFile, _ := stuckPipeline(t, `,"batches":2`, 500*time.Millisecond, 1)
	ctx, stop := context.WithCancel(context.Background())
	stopOnceIn(p, 6, stop, nil)
	err, took := runFor(t, p, ctx, 10*time.Second)
	if !errors.Is(err, ErrNotDrained) {
		t.Fatalf("Run = %v, want ErrNotDrained\n%s", err, logs.String())
	}
	if took > 3*time.Second {
		t.Errorf("the stop took %v with a drain timeout of 500ms", took)
	}
	if _, err := os.Stat(ackFile); err == nil {
		t.Fatal("a batch no output accepted was acked")
	}
	if !strings.Contains(logs.String(), "input=in batches=2 events=6") {
		t.Fatalf("the log does not say what was not delivered:\n%s", logs.String())
	}
}

// An input that ended (stdin at its end of file) starts the same deadline:
// the pipeline does not wait for ever on an output that accepts nothing.
func TestInputEndStartsTheDrainDeadline(t *testing.T) {
	p, logs, _, _ := stuckPipeline(t, `,"end_early":true`, 500*time.Millisecond, 1)
	err, _ := runFor(t, p, context.Background(), 10*time.Second)
	if !errors.Is(err, ErrNotDrained) {
		t.Fatalf("Run = %v, want ErrNotDrained\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), "input=in batches=1 events=3") {
		t.Fatalf("the log does not say what was not delivered:\n%s", logs.String())
	}
}

// A stop that drains in time is clean: no error, everything acked.
func TestStopThatDrainsIsClean(t *testing.T) {
	p, logs, ackFile, gateFile := stuckPipeline(t, ``, 5*time.Second, 1)
	ctx, stop := context.WithCancel(context.Background())
	stopOnceIn(p, 3, stop, func() {
		_ = os.WriteFile(gateFile, nil, 0o644) // the output recovers during the drain
	})
	if err, _ := runFor(t, p, ctx, 10*time.Second); err != nil {
		t.Fatalf("Run = %v after a drain in time\n%s", err, logs.String())
	}
	if _, err := os.Stat(ackFile); err != nil {
		t.Fatal("the drained batch was not acked")
	}
	if strings.Contains(logs.String(), "not delivered") {
		t.Fatalf("a clean drain logged undelivered events:\n%s", logs.String())
	}
}

// One output process crash breaks every writer's stream; it is one
// restart, not one per stream.
func TestRestartsCountProcessesNotStreams(t *testing.T) {
	p, logs, _, gateFile := stuckPipeline(t, `,"batches":2`, 5*time.Second, 2)
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background()) }()
	time.Sleep(500 * time.Millisecond) // both writers hold a batch
	out := p.outputs[0].block.Proc
	if err := syscall.Kill(out.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if err := os.WriteFile(gateFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v\n%s", err, logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("the pipeline did not finish after the output's restart\n%s", logs.String())
	}
	if n := strings.Count(logs.String(), "output process failed"); n < 2 {
		t.Fatalf("want both writers' streams broken by the crash, saw %d:\n%s", n, logs.String())
	}
	if got := p.Stats().Restarts.Load(); got != 1 {
		t.Fatalf("restarts = %d after one process crash, want 1\n%s", got, logs.String())
	}
}

// A stop in the middle of a fan-out, while the output holds the first
// pieces of a batch and the worker waits to queue the next, keeps the stop
// contract: past the deadline the batch is cancelled and not acked; a
// drain in time acks it once every piece is written.
func TestStopDuringFanOut(t *testing.T) {
	for _, drains := range []bool{false, true} {
		t.Run(map[bool]string{false: "deadline", true: "drains"}[drains], func(t *testing.T) {
			dir := t.TempDir()
			ackFile, gateFile := filepath.Join(dir, "ack"), filepath.Join(dir, "gate")
			in, filters, out := startSelf(t, "inputs"), startSelf(t, "filters"), startSelf(t, "outputs")
			logs := &safeBuffer{}
			drain := 500 * time.Millisecond
			if drains {
				drain = 5 * time.Second
			}
			// 3 events, 100 copies each, in pieces of 10: 30 pieces.
			p := New(Settings{ID: "t", Workers: 1, BatchSize: 10, DataDir: dir, DrainTimeout: drain, ReportEvery: -1}, []Block{
				{Kind: sdk.KindInput, Type: "once", Name: "in", ConfigJSON: []byte(`{"ack_file":"` + ackFile + `"}`), Proc: in},
				{Kind: sdk.KindFilter, Type: "fanout_clone", Name: "clone", ConfigJSON: []byte(`{"copies":100,"file":"` + filepath.Join(dir, "peak") + `"}`), Proc: filters},
				{Kind: sdk.KindOutput, Type: "gate", Name: "out", ConfigJSON: []byte(`{"file":"` + gateFile + `"}`), Proc: out},
			}, slog.New(slog.NewTextHandler(logs, nil)))
			ctx, stop := context.WithCancel(context.Background())
			stopOnceIn(p, 3, stop, func() {
				if drains {
					_ = os.WriteFile(gateFile, nil, 0o644)
				}
			})
			err, took := runFor(t, p, ctx, 15*time.Second)
			_, acked := os.Stat(ackFile)
			if drains {
				if err != nil || acked != nil {
					t.Fatalf("Run = %v, acked = %v after a drain in time\n%s", err, acked == nil, logs.String())
				}
				if got := p.Stats().Out.Load(); got != 300 {
					t.Fatalf("out = %d, want every piece written once (300)\n%s", got, logs.String())
				}
				return
			}
			if !errors.Is(err, ErrNotDrained) {
				t.Fatalf("Run = %v, want ErrNotDrained\n%s", err, logs.String())
			}
			if took > 3*time.Second || strings.Contains(logs.String(), "did not end in time") {
				t.Errorf("the stop took %v with a drain timeout of %v: the worker queuing pieces was not cancelled\n%s", took, drain, logs.String())
			}
			if acked == nil {
				t.Fatal("a batch whose pieces were not all written was acked")
			}
			if !strings.Contains(logs.String(), "input=in batches=1 events=3") {
				t.Fatalf("the log does not say what was not delivered:\n%s", logs.String())
			}
		})
	}
}
