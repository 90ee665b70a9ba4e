package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/gostash/gostash/core/pluginhost"
	"github.com/gostash/gostash/sdk"
)

// The test binary doubles as a plugin binary (see TestMain): these
// components let the tests watch acks and hold outputs back, across real
// process boundaries.
const envServe = "GOSTASH_PIPELINE_TEST_SERVE"

// once publishes batches (one unless told) of three events each and
// records their acks in a file. It ends once they are acked, or at once
// with end_early, as stdin does at its end of file.
type once struct {
	ackFile  string
	batches  int
	endEarly bool
}

func (o once) Run(ctx context.Context, p sdk.Publisher) error {
	n := max(o.batches, 1)
	var acks sync.WaitGroup
	for i := 0; i < n; i++ {
		events := []*sdk.Event{sdk.NewEvent("a"), sdk.NewEvent("b"), sdk.NewEvent("c")}
		acks.Add(1)
		if err := p.Publish(ctx, events, func() {
			_ = os.WriteFile(o.ackFile, []byte("acked"), 0o644)
			acks.Done()
		}); err != nil {
			return err
		}
	}
	if o.endEarly {
		return nil
	}
	acked := make(chan struct{})
	go func() { acks.Wait(); close(acked) }()
	select { // an input ends only when what it published is acked
	case <-acked:
	case <-ctx.Done():
	}
	return nil
}

// gate accepts a batch only once its file exists.
type gate struct{ file string }

func (g gate) Write(ctx context.Context, events []*sdk.Event) error {
	for {
		if _, err := os.Stat(g.file); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestMain(m *testing.M) {
	if os.Getenv(envServe) == "1" {
		sdk.RegisterInput("once", sdk.NewSpec("").Field(sdk.String("ack_file")).Field(sdk.Int("batches")).Field(sdk.Bool("end_early")),
			func(_ context.Context, c *sdk.Config, _ sdk.Env) (sdk.Input, error) {
				return once{ackFile: c.String("ack_file"), batches: c.Int("batches"), endEarly: c.Bool("end_early")}, nil
			})
		sdk.RegisterOutput("gate", sdk.NewSpec("").Field(sdk.String("file")),
			func(_ context.Context, c *sdk.Config, _ sdk.Env) (sdk.Output, error) {
				return gate{file: c.String("file")}, nil
			})
		// env writes the batch settings it was opened with to a file and
		// ends at once.
		sdk.RegisterInput("env", sdk.NewSpec("").Field(sdk.String("file")),
			func(_ context.Context, c *sdk.Config, env sdk.Env) (sdk.Input, error) {
				got := fmt.Sprintf("%d %s", env.BatchSize, env.BatchDelay)
				return noInput{}, os.WriteFile(c.String("file"), []byte(got), 0o644)
			})
		sdk.Serve()
		return
	}
	os.Exit(m.Run())
}

type noInput struct{}

func (noInput) Run(context.Context, sdk.Publisher) error { return nil }

// Plugins get the pipeline's batch size and delay in Open, the defaults
// when the pipeline sets none: the core sends both, so no plugin needs a
// default of its own.
func TestOpenSendsBatchSettings(t *testing.T) {
	in, out := startSelf(t, "inputs"), startSelf(t, "outputs")
	for _, c := range []struct {
		s    Settings
		want string
	}{
		{Settings{ID: "t"}, fmt.Sprintf("%d %s", sdk.DefaultBatchSize, sdk.DefaultBatchDelay)},
		{Settings{ID: "t", BatchSize: 7, BatchDelay: 3 * time.Millisecond}, "7 3ms"},
	} {
		dir := t.TempDir()
		c.s.DataDir = dir
		envFile, gateFile := filepath.Join(dir, "env"), filepath.Join(dir, "gate")
		p := New(c.s, []Block{
			{Kind: sdk.KindInput, Type: "env", Name: "in", ConfigJSON: []byte(`{"file":"` + envFile + `"}`), Proc: in},
			{Kind: sdk.KindOutput, Type: "gate", Name: "out", ConfigJSON: []byte(`{"file":"` + gateFile + `"}`), Proc: out},
		}, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
		if err := p.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(envFile)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != c.want {
			t.Errorf("settings %+v: the input was opened with %q, want %q", c.s, got, c.want)
		}
		snap := p.Snapshot()
		if fmt.Sprintf("%d %s", snap.BatchSize, snap.BatchDelay) != c.want {
			t.Errorf("settings %+v: the pipeline reports batch size %d and delay %s, want %q", c.s, snap.BatchSize, snap.BatchDelay, c.want)
		}
	}
}

func startSelf(t *testing.T, name string) *pluginhost.Process {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p, err := pluginhost.Start(context.Background(), pluginhost.Spec{Name: name, Path: self, Env: []string{envServe + "=1"}},
		hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: os.Stderr}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	return p
}

// A batch is acked to its input only when every output has accepted it:
// here one output takes it at once and the other is held back.
func TestAckWaitsForEveryOutput(t *testing.T) {
	dir := t.TempDir()
	ackFile, openGate, shutGate := filepath.Join(dir, "ack"), filepath.Join(dir, "open"), filepath.Join(dir, "never")
	if err := os.WriteFile(openGate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	in, out := startSelf(t, "inputs"), startSelf(t, "outputs")
	p := New(Settings{ID: "t", Workers: 2, DataDir: dir}, []Block{
		{Kind: sdk.KindInput, Type: "once", Name: "in", ConfigJSON: []byte(`{"ack_file":"` + ackFile + `"}`), Proc: in},
		{Kind: sdk.KindOutput, Type: "gate", Name: "fast", ConfigJSON: []byte(`{"file":"` + openGate + `"}`), Proc: out},
		{Kind: sdk.KindOutput, Type: "gate", Name: "held", ConfigJSON: []byte(`{"file":"` + shutGate + `"}`), Proc: out},
	}, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background()) }()

	time.Sleep(500 * time.Millisecond)
	if _, err := os.Stat(ackFile); err == nil {
		t.Fatal("the batch was acked while an output still held it")
	}
	if got := p.Stats().Out.Load(); got != 3 {
		t.Fatalf("the fast output should have accepted 3 events, stats say %d", got)
	}
	if err := os.WriteFile(shutGate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the pipeline did not finish once both outputs had the batch")
	}
	if _, err := os.Stat(ackFile); err != nil {
		t.Fatal("the batch was never acked after both outputs accepted it")
	}
	if got := p.Stats().Out.Load(); got != 6 {
		t.Fatalf("want 6 events out (3 per output), got %d", got)
	}
}

// A long run logs its throughput periodically.
func TestReportsThroughput(t *testing.T) {
	dir := t.TempDir()
	ackFile, gateFile := filepath.Join(dir, "ack"), filepath.Join(dir, "gate")
	in, out := startSelf(t, "inputs"), startSelf(t, "outputs")
	var logs safeBuffer
	p := New(Settings{ID: "t", Workers: 1, DataDir: dir, ReportEvery: 50 * time.Millisecond}, []Block{
		{Kind: sdk.KindInput, Type: "once", Name: "in", ConfigJSON: []byte(`{"ack_file":"` + ackFile + `"}`), Proc: in},
		{Kind: sdk.KindOutput, Type: "gate", Name: "out", ConfigJSON: []byte(`{"file":"` + gateFile + `"}`), Proc: out},
	}, slog.New(slog.NewTextHandler(&logs, nil)))
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background()) }()
	time.Sleep(300 * time.Millisecond) // the output holds the batch; 3 events are in
	if err := os.WriteFile(gateFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "msg=throughput events_in=3") {
		t.Fatalf("no throughput line in the log:\n%s", logs.String())
	}
}

type safeBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type countingRelease struct{ n *int }

func (r countingRelease) Release() { *r.n++ }

// A batch's received buffers go back to the pool only when the last
// output is done with them: an output still writing reads those bytes.
func TestBatchReleasesAfterLastOutput(t *testing.T) {
	var released int
	p := &Pipeline{}
	p.inflight.Add(1)
	s := &readSession{dead: true} // acks go nowhere
	s.unacked.Add(1)
	b := &batch{session: s, held: []interface{ Release() }{countingRelease{&released}, countingRelease{&released}}}
	b.pending.Store(3)
	b.done(p)
	b.done(p)
	if released != 0 {
		t.Fatalf("released %d buffers with an output still writing", released)
	}
	b.done(p)
	if released != 2 {
		t.Fatalf("released %d buffers after the last output, want 2", released)
	}
}
