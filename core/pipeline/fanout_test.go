package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk"
)

// fanoutClone emits copies-1 clones of every event, numbered in [copy],
// and writes its process's peak heap to a file when it closes.
type fanoutClone struct {
	copies int
	file   string
	mu     sync.Mutex
	peak   uint64
}

func (f *fanoutClone) Apply(_ context.Context, e *sdk.Event, emit func(*sdk.Event)) sdk.Result {
	f.sample()
	_ = e.Set("copy", int64(0))
	for k := 1; k < f.copies; k++ {
		c := e.Clone()
		_ = c.Set("copy", int64(k))
		emit(c)
	}
	return sdk.Matched
}

func (f *fanoutClone) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	f.mu.Lock()
	f.peak = max(f.peak, ms.HeapInuse)
	f.mu.Unlock()
}

func (f *fanoutClone) Close(context.Context) error {
	f.sample()
	return os.WriteFile(f.file, []byte(fmt.Sprint(f.peak)), 0o644)
}

// fanoutCheck counts every (batch, event, copy) it is given and writes,
// when it closes, how many it got, how many twice, and its largest write.
type fanoutCheck struct {
	file, size, copies int
	path               string
	mu                 sync.Mutex
	seen               map[int]bool
	res                fanoutResult
}

type fanoutResult struct{ Events, Twice, MaxWrite int }

func (o *fanoutCheck) Write(_ context.Context, events []*sdk.Event) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.res.MaxWrite = max(o.res.MaxWrite, len(events))
	for _, e := range events {
		b, _ := e.Get("[n][b]")
		i, _ := e.Get("[n][i]")
		k, _ := e.Get("copy")
		id := (int(b.(int64))*o.size+int(i.(int64)))*o.copies + int(k.(int64))
		if o.seen[id] {
			o.res.Twice++
		}
		o.seen[id] = true
		o.res.Events++
	}
	return nil
}

func (o *fanoutCheck) Close(context.Context) error {
	b, _ := json.Marshal(o.res)
	return os.WriteFile(o.path, b, 0o644)
}

func init() {
	sdk.RegisterFilter("fanout_clone", sdk.NewSpec("").Field(sdk.Int("copies")).Field(sdk.String("file")),
		func(_ context.Context, c *sdk.Config, _ sdk.Env) (sdk.Filter, error) {
			return &fanoutClone{copies: c.Int("copies"), file: c.String("file")}, nil
		})
	sdk.RegisterOutput("fanout_check", sdk.NewSpec("").Field(sdk.Int("size")).Field(sdk.Int("copies")).Field(sdk.String("file")),
		func(_ context.Context, c *sdk.Config, _ sdk.Env) (sdk.Output, error) {
			return &fanoutCheck{size: c.Int("size"), copies: c.Int("copies"), path: c.String("file"), seen: map[int]bool{}}, nil
		})
}

// A filter that clones every event 1000 times used to answer with one
// batch of everything it made (2.7 GB for a 500-event batch of logs). Its
// answer now comes in pieces of at most a batch, each delivered as it
// comes: every event arrives once, and neither the core nor the filter's
// process ever holds the whole fan-out.
func TestFanOutComesInBoundedPieces(t *testing.T) {
	const batches, size, copies = 3, 200, 1000
	dir := t.TempDir()
	file := func(name string) string { return filepath.Join(dir, name) }
	cfg := func(v any) []byte { b, _ := json.Marshal(v); return b }
	in, filters, out := startSelf(t, "inputs"), startSelf(t, "filters"), startSelf(t, "outputs")
	p := New(Settings{ID: "fanout", Workers: 2, BatchSize: size, DataDir: dir, ReportEvery: -1}, []Block{
		{Kind: sdk.KindInput, Type: "review_batches", Name: "in", ConfigJSON: cfg(map[string]any{"batches": batches, "size": size}), Proc: in},
		{Kind: sdk.KindFilter, Type: "fanout_clone", Name: "clone", ConfigJSON: cfg(map[string]any{"copies": copies, "file": file("peak")}), Proc: filters},
		{Kind: sdk.KindOutput, Type: "fanout_check", Name: "check", ConfigJSON: cfg(map[string]any{"size": size, "copies": copies, "file": file("result")}), Proc: out},
	}, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))

	// The core's peak heap, sampled while it runs.
	stop := make(chan struct{})
	var corePeak uint64
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			corePeak = max(corePeak, ms.HeapInuse)
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the pipeline did not finish")
	}
	close(stop)
	<-sampled

	var res fanoutResult
	b, err := os.ReadFile(file("result"))
	if err == nil {
		err = json.Unmarshal(b, &res)
	}
	if err != nil {
		t.Fatalf("the output wrote no result: %v", err)
	}
	if want := batches * size * copies; res.Events != want || res.Twice != 0 {
		t.Errorf("the output got %d events (%d twice), want each of %d once", res.Events, res.Twice, want)
	}
	if res.MaxWrite > size {
		t.Errorf("the output was handed %d events at once: pieces must hold at most a batch (%d)", res.MaxWrite, size)
	}
	var filterPeak uint64
	if b, err := os.ReadFile(file("peak")); err != nil {
		t.Fatal(err)
	} else {
		fmt.Sscan(string(b), &filterPeak)
	}
	// One batch's fan-out is 200,000 events of ~200 bytes: 40 MB encoded,
	// several times that decoded (unbounded, the core peaked at 335 MiB and
	// the filter process at 852 MiB). Pieces keep both far below. The
	// filter process holds a piece at a time; the core can also hold what
	// gRPC's flow control lets the filter send ahead of a slower output:
	// up to one stream window (16 MiB, core/pluginhost) per worker.
	coreBound, filterBound := uint64(2*16<<20+32<<20), uint64(32<<20)
	t.Logf("peak heap: core %d MiB, filter process %d MiB", corePeak>>20, filterPeak>>20)
	if corePeak > coreBound || filterPeak > filterBound {
		t.Errorf("peak heap: core %d MiB (bound %d), filter process %d MiB (bound %d)", corePeak>>20, coreBound>>20, filterPeak>>20, filterBound>>20)
	}
}
