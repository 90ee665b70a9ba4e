package generator

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
)

func TestCountAndSequence(t *testing.T) {
	res := sdktest.RunInput(t, t.Context(), sdktest.InputSpec{Name: "generator", Settings: map[string]any{"count": 1200}})
	if res.Err != nil {
		t.Fatalf("Run: %v", res.Err)
	}
	if len(res.Events) != 1200 {
		t.Fatalf("got %d events, want 1200", len(res.Events))
	}
	// Batches of the pipeline's batch size (500), the last one short.
	if !slices.Equal(res.Batches, []int{500, 500, 200}) {
		t.Errorf("batches %v, want [500 500 200]", res.Batches)
	}
	host, _ := os.Hostname()
	for i, e := range res.Events {
		if e.Message() != "Hello world!" {
			t.Fatalf("event %d message %q", i, e.Message())
		}
		if seq, _ := e.Get("[event][sequence]"); seq != int64(i) {
			t.Fatalf("event %d [event][sequence] = %v", i, seq)
		}
		if name, _ := e.Get("[host][name]"); name != host {
			t.Fatalf("event %d [host][name] = %v, want %q", i, name, host)
		}
		if v, _ := e.Get("@version"); v != "1" {
			t.Fatalf("event %d @version = %v", i, v)
		}
		if ts, ok := e.Timestamp(); !ok || time.Since(ts) > time.Minute {
			t.Fatalf("event %d @timestamp = %v, want about now", i, ts)
		}
	}
}

// count counts events, not rounds through the lines, and every event has
// its own sequence number.
func TestLinesCycleInOrder(t *testing.T) {
	res := sdktest.RunInput(t, t.Context(), sdktest.InputSpec{Name: "generator", Settings: map[string]any{
		"lines": []string{"a", "b", "c"}, "count": 7, "message": "ignored",
	}})
	var msgs []string
	var seqs []int64
	for _, e := range res.Events {
		msgs = append(msgs, e.Message())
		s, _ := e.Get("[event][sequence]")
		seqs = append(seqs, s.(int64))
	}
	if got := strings.Join(msgs, ""); got != "abcabca" {
		t.Errorf("messages %q, want abcabca", got)
	}
	if !slices.Equal(seqs, []int64{0, 1, 2, 3, 4, 5, 6}) {
		t.Errorf("sequences %v, want 0 to 6", seqs)
	}
}

func TestECSDisabled(t *testing.T) {
	res := sdktest.RunInput(t, t.Context(), sdktest.InputSpec{Name: "generator", Settings: map[string]any{
		"count": 2, "ecs_compatibility": "disabled",
	}})
	host, _ := os.Hostname()
	e := res.Events[1]
	if got := e.Fields()["host"]; got != host {
		t.Errorf("host = %#v, want %q", got, host)
	}
	if got := e.Fields()["sequence"]; got != int64(1) {
		t.Errorf("sequence = %#v, want 1", got)
	}
	if _, ok := e.Fields()["event"]; ok {
		t.Errorf("ECS field [event] set with ecs_compatibility disabled")
	}
}

func TestEndlessStopsWhenCancelled(t *testing.T) {
	start := time.Now()
	res := sdktest.RunInput(t, t.Context(), sdktest.InputSpec{Name: "generator", StopAfter: 1000})
	if res.Err != nil {
		t.Fatalf("Run after cancel: %v, want nil", res.Err)
	}
	// The input stops at the next batch boundary.
	if len(res.Events) < 1000 || len(res.Events) > 1000+125 {
		t.Errorf("got %d events after asking to stop at 1000", len(res.Events))
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("stopping took %v", time.Since(start))
	}
}

func TestRateLimits(t *testing.T) {
	start := time.Now()
	res := sdktest.RunInput(t, t.Context(), sdktest.InputSpec{Name: "generator", Settings: map[string]any{"count": 30, "rate": 100.0}})
	elapsed := time.Since(start)
	if len(res.Events) != 30 {
		t.Fatalf("got %d events, want 30", len(res.Events))
	}
	// 30 events at 100/s: batches of 10, the third due at 200ms.
	if elapsed < 150*time.Millisecond {
		t.Errorf("30 events at 100/s took %v, want about 200ms", elapsed)
	}
	if !slices.Equal(res.Batches, []int{10, 10, 10}) {
		t.Errorf("batches %v, want [10 10 10]", res.Batches)
	}
}

func TestValidate(t *testing.T) {
	comp := sdktest.Lookup(t, sdk.KindInput, "generator")
	tests := []struct {
		settings map[string]any
		path     string
	}{
		{map[string]any{"lines": []string{}}, "lines"},
		{map[string]any{"count": -1}, "count"},
		{map[string]any{"rate": -5.0}, "rate"},
		{map[string]any{"ecs_compatibility": "v9"}, "ecs_compatibility"},
	}
	for _, tt := range tests {
		ds := sdktest.Validate(comp, tt.settings)
		if len(ds) != 1 || strings.Join(ds[0].Path, ".") != tt.path {
			t.Errorf("Validate(%v) = %v, want one error at %s", tt.settings, ds, tt.path)
		}
	}
}

type discard struct{ n int }

func (d *discard) Publish(_ context.Context, events []*sdk.Event, _ func()) error {
	d.n += len(events)
	return nil
}

// BenchmarkGenerate measures the generator alone: making events and
// handing them over, nothing else. With ECS each event carries two nested
// maps ([host], [event]), which is most of its cost.
func BenchmarkGenerate(b *testing.B) {
	for _, ecs := range []string{"v8", "disabled"} {
		b.Run("ecs="+ecs, func(b *testing.B) {
			comp := sdktest.Lookup(b, sdk.KindInput, "generator")
			cfg := sdktest.Config(b, comp, map[string]any{"count": b.N, "ecs_compatibility": ecs})
			in, err := comp.NewInput(b.Context(), cfg, sdktest.Env(b, "bench"))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			p := &discard{}
			if err := in.Run(b.Context(), p); err != nil {
				b.Fatal(err)
			}
			if p.n != b.N {
				b.Fatalf("published %d, want %d", p.n, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
