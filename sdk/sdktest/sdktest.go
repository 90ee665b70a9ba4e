// Package sdktest runs gostash components in-process, for plugin tests.
//
// It goes through the same SDK paths as a pipeline: settings are checked
// against the component's schema and its defaults applied, filters run
// through host.OpenFilter and host.Chain (so `when`, add_tag, add_field,
// remove_field and remove_tag behave as in a pipeline), inputs get their
// common options applied as they publish, outputs see only the events
// their `when` selects, and every event crosses the wire encoding once
// on its way out, as it would between two processes. A value a plugin
// sets that the encoding cannot carry shows up in the test.
//
//	out := sdktest.RunFilters(t, ctx, []sdktest.FilterSpec{
//		{Name: "expr", Settings: map[string]any{"set": map[string]any{"[n]": "len(message)"}}},
//	}, []*sdk.Event{sdk.NewEvent("hello")})
package sdktest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/host"
)

// Lookup returns the registered component, failing the test when there is
// none: import the plugin's package (or run the test inside it).
func Lookup(t testing.TB, kind sdk.Kind, name string) *sdk.Component {
	t.Helper()
	comp, ok := sdk.Lookup(kind, name)
	if !ok {
		t.Fatalf("no %s %q is registered: import its package", kind, name)
	}
	return comp
}

// Config checks settings against the component's schema (unknown names,
// missing required settings, wrong types) and returns them with the
// defaults applied, shaped as the core sends them (JSON: numbers are
// float64, lists []any). Problems fail the test. The component's own
// Validate is not run: use Validate to test it.
func Config(t testing.TB, comp *sdk.Component, settings map[string]any) *sdk.Config {
	t.Helper()
	cfg, ds := config(comp, settings)
	if ds.HasErrors() {
		t.Fatalf("settings of %s %q: %v", comp.Kind, comp.Name, errorList(ds))
	}
	return cfg
}

// Validate returns what `gostash --configtest` would report for these
// settings: schema problems first, then the common options' and the
// component's own checks.
func Validate(comp *sdk.Component, settings map[string]any) sdk.Diagnostics {
	cfg, ds := config(comp, settings)
	if ds.HasErrors() {
		return ds
	}
	return append(ds, host.ValidateComponent(comp, cfg)...)
}

func config(comp *sdk.Component, settings map[string]any) (*sdk.Config, sdk.Diagnostics) {
	var ds sdk.Diagnostics
	fields := comp.Fields()
	values := make(map[string]any, len(fields))
	for name, v := range settings {
		i := slices.IndexFunc(fields, func(f sdk.Field) bool { return f.Name == name })
		if i < 0 {
			ds.Errorf([]string{name}, "unknown setting %q for %s %q", name, comp.Kind, comp.Name)
			continue
		}
		if err := checkType(fields[i], v); err != nil {
			ds.Errorf([]string{name}, "%s: %v", name, err)
			continue
		}
		values[name] = v
	}
	for _, f := range fields {
		if _, set := values[f.Name]; set {
			continue
		}
		if f.Required {
			if _, bad := settings[f.Name]; !bad {
				ds.Errorf([]string{f.Name}, "missing required setting %q", f.Name)
			}
			continue
		}
		if f.Default != nil {
			values[f.Name] = f.Default
			if d, ok := f.Default.(time.Duration); ok {
				values[f.Name] = d.String() // as the core sends it
			}
		}
	}
	if ds.HasErrors() {
		return nil, ds
	}
	data, err := json.Marshal(values)
	if err != nil {
		ds.Errorf(nil, "settings are not JSON-encodable: %v", err)
		return nil, ds
	}
	cfg, err := sdk.ParseConfig(data)
	if err != nil {
		ds.Errorf(nil, "%v", err)
		return nil, ds
	}
	return cfg, ds
}

// checkType accepts what the core's decoder accepts for a setting's type.
func checkType(f sdk.Field, v any) error {
	bad := func() error { return fmt.Errorf("expects %s, got %T", f.Type, v) }
	switch f.Type {
	case sdk.TypeString, sdk.TypeDuration:
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		if f.Type == sdk.TypeDuration {
			if _, err := time.ParseDuration(s); err != nil {
				return fmt.Errorf("%q is not a duration", s)
			}
		}
		if len(f.OneOf) > 0 && !slices.Contains(f.OneOf, s) {
			return fmt.Errorf("%q is not one of %v", s, f.OneOf)
		}
	case sdk.TypeInt:
		switch n := v.(type) {
		case int, int64, int32:
		case float64:
			if n != float64(int64(n)) {
				return bad()
			}
		default:
			return bad()
		}
	case sdk.TypeFloat:
		switch v.(type) {
		case int, int64, float64, float32:
		default:
			return bad()
		}
	case sdk.TypeBool:
		if _, ok := v.(bool); !ok {
			return bad()
		}
	case sdk.TypeStringList:
		if !isStringList(v) {
			if _, ok := v.(string); !ok { // a single value, as Logstash allows
				return bad()
			}
		}
	case sdk.TypeStringMap, sdk.TypeStringOrListMap:
		switch m := v.(type) {
		case map[string]string:
		case map[string][]string:
			if f.Type == sdk.TypeStringMap {
				return bad()
			}
		case map[string]any:
			for k, x := range m {
				if _, ok := x.(string); ok {
					continue
				}
				if f.Type == sdk.TypeStringOrListMap && isStringList(x) {
					continue
				}
				return fmt.Errorf("[%q] expects a string, got %T", k, x)
			}
		default:
			return bad()
		}
	}
	return nil
}

func isStringList(v any) bool {
	switch l := v.(type) {
	case []string:
		return true
	case []any:
		for _, x := range l {
			if _, ok := x.(string); !ok {
				return false
			}
		}
		return true
	}
	return false
}

func errorList(ds sdk.Diagnostics) []string {
	var out []string
	for _, d := range ds {
		if !d.Warning {
			out = append(out, d.Error())
		}
	}
	return out
}

// Errors lists the errors among ds (warnings left out), one a line as
// "[path]: message", for a test to search.
func Errors(ds sdk.Diagnostics) string {
	var b strings.Builder
	for _, d := range ds {
		if !d.Warning {
			fmt.Fprintf(&b, "%v: %s\n", d.Path, d.Error())
		}
	}
	return b.String()
}

// Env is the environment components get in tests: the pipeline's default
// batch size and delay, a temporary data directory and a logger writing to
// t.Log.
func Env(t testing.TB, name string) sdk.Env {
	return sdk.Env{Name: name, Pipeline: "test", Logger: logger{t}, DataDir: t.TempDir(),
		BatchSize: sdk.DefaultBatchSize, BatchDelay: sdk.DefaultBatchDelay}
}

type logger struct{ t testing.TB }

func (l logger) log(level, msg string, args []any) {
	l.t.Helper()
	l.t.Logf("%s %s %v", level, msg, args)
}
func (l logger) Debug(msg string, args ...any) { l.log("DEBUG", msg, args) }
func (l logger) Info(msg string, args ...any)  { l.log("INFO", msg, args) }
func (l logger) Warn(msg string, args ...any)  { l.log("WARN", msg, args) }
func (l logger) Error(msg string, args ...any) { l.log("ERROR", msg, args) }

// Event returns an event stamped 2024-01-02T03:04:05Z (so golden output
// does not change) with @version "1" and the given fields; keys are field
// references ("message", "[http][status]") and values are normalized.
func Event(fields map[string]any) *sdk.Event {
	e := sdk.NewEvent("")
	e.SetTimestamp(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
	for ref, v := range fields {
		if err := e.Set(ref, v); err != nil {
			panic(fmt.Sprintf("sdktest.Event: %v", err))
		}
	}
	return e
}

// crossWire encodes and decodes events as a process boundary does.
func crossWire(t testing.TB, events []*sdk.Event) []*sdk.Event {
	t.Helper()
	out, err := host.DecodeBatch(host.EncodeBatch(events))
	if err != nil {
		t.Fatalf("events do not survive the wire encoding: %v", err)
	}
	return out
}

// crossIn hands events over as a plugin process receives them: decoded
// from a batch by the runtime's Decoder, top-level fields still raw until
// the filter asks for them.
func crossIn(t testing.TB, events []*sdk.Event) []*sdk.Event {
	t.Helper()
	dec := new(host.Decoder)
	out, err := dec.Decode(host.EncodeBatch(events))
	if err != nil {
		t.Fatalf("events do not survive the wire encoding: %v", err)
	}
	return slices.Clone(out)
}

// FilterSpec names a filter and its settings.
type FilterSpec struct {
	Name     string
	Settings map[string]any
}

// RunFilters opens the filters (failing the test on a constructor error),
// runs events through them as one chain and returns the events that come
// out. The events cross the wire encoding on the way in and out, as in a
// plugin process: the filters get events whose fields are decoded when
// asked for. Filters that implement
// sdk.Closer are closed.
func RunFilters(t testing.TB, ctx context.Context, specs []FilterSpec, events []*sdk.Event) []*sdk.Event {
	t.Helper()
	chain := make([]*host.FilterInstance, 0, len(specs))
	for i, s := range specs {
		comp := Lookup(t, sdk.KindFilter, s.Name)
		fi, err := host.OpenFilter(ctx, comp, Config(t, comp, s.Settings), Env(t, s.Name+"-"+strconv.Itoa(i)))
		if err != nil {
			t.Fatalf("open filter %q: %v", s.Name, err)
		}
		chain = append(chain, fi)
	}
	out := host.NewChain(chain...).Run(ctx, crossIn(t, events))
	for _, fi := range chain {
		if c, ok := fi.Filter.(sdk.Closer); ok {
			if err := c.Close(ctx); err != nil {
				t.Errorf("close filter %q: %v", fi.Name, err)
			}
		}
	}
	return crossWire(t, out)
}

// InputSpec names an input, its settings, and when to stop it.
type InputSpec struct {
	Name     string
	Settings map[string]any
	// StopAfter cancels the input's context once this many events have
	// been published; 0 lets the input run until it returns (or until
	// the caller's ctx is done: give endless inputs one or the other).
	StopAfter int
}

// InputResult is what an input did.
type InputResult struct {
	Events  []*sdk.Event // every published event, in order
	Batches []int        // the size of each published batch
	Acked   int          // batches acked (all of them: the harness delivers at once)
	Err     error        // what Run returned
}

// RunInput opens the input and runs it with a Publisher that applies the
// input's common options (type, tags, add_field), collects every batch
// after a crossing of the wire encoding and acks it.
func RunInput(t testing.TB, ctx context.Context, spec InputSpec) *InputResult {
	t.Helper()
	comp := Lookup(t, sdk.KindInput, spec.Name)
	cfg := Config(t, comp, spec.Settings)
	in, err := comp.NewInput(ctx, cfg, Env(t, spec.Name))
	if err != nil {
		t.Fatalf("open input %q: %v", spec.Name, err)
	}
	dec, err := sdk.NewInputDecorator(cfg)
	if err != nil {
		t.Fatalf("input %q common options: %v", spec.Name, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p := &collector{t: t, dec: dec, stopAfter: spec.StopAfter, stop: cancel}
	p.res.Err = in.Run(ctx, p)
	if c, ok := in.(sdk.Closer); ok {
		if err := c.Close(context.WithoutCancel(ctx)); err != nil {
			t.Errorf("close input %q: %v", spec.Name, err)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return &p.res
}

type collector struct {
	t         testing.TB
	dec       *sdk.InputDecorator
	stopAfter int
	stop      func()

	mu  sync.Mutex
	res InputResult
}

func (p *collector) Publish(ctx context.Context, events []*sdk.Event, ack func()) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, e := range events {
		p.dec.Decorate(e)
	}
	got := crossWire(p.t, events)
	p.mu.Lock()
	p.res.Events = append(p.res.Events, got...)
	p.res.Batches = append(p.res.Batches, len(got))
	n := len(p.res.Events)
	if ack != nil {
		p.res.Acked++
	}
	p.mu.Unlock()
	if ack != nil {
		ack()
	}
	if p.stopAfter > 0 && n >= p.stopAfter {
		p.stop()
	}
	return nil
}

// OutputSpec names an output and its settings.
type OutputSpec struct {
	Name     string
	Settings map[string]any
}

// RunOutput opens the output, writes the events its `when` selects in one
// batch (after a crossing of the wire encoding), closes it and returns
// what Write returned.
func RunOutput(t testing.TB, ctx context.Context, spec OutputSpec, events []*sdk.Event) error {
	t.Helper()
	out, cfg := openOutput(t, ctx, spec)
	var when *sdk.Condition
	if src := cfg.String("when"); src != "" {
		var err error
		if when, err = sdk.CompileCondition(src); err != nil {
			t.Fatalf("output %q when: %v", spec.Name, err)
		}
	}
	selected := make([]*sdk.Event, 0, len(events))
	for _, e := range crossWire(t, events) {
		if when != nil {
			if ok, err := when.Match(e); err != nil || !ok {
				continue
			}
		}
		selected = append(selected, e)
	}
	var werr error
	if len(selected) > 0 {
		werr = out.Write(ctx, selected)
	}
	closeOutput(t, ctx, spec, out)
	return werr
}

// openOutput opens the output spec names; the test fails if it cannot.
func openOutput(t testing.TB, ctx context.Context, spec OutputSpec) (sdk.Output, *sdk.Config) {
	t.Helper()
	comp := Lookup(t, sdk.KindOutput, spec.Name)
	cfg := Config(t, comp, spec.Settings)
	out, err := comp.NewOutput(ctx, cfg, Env(t, spec.Name))
	if err != nil {
		t.Fatalf("open output %q: %v", spec.Name, err)
	}
	return out, cfg
}

// closeOutput closes out when it is a Closer; an error fails the test.
func closeOutput(t testing.TB, ctx context.Context, spec OutputSpec, out sdk.Output) {
	t.Helper()
	if c, ok := out.(sdk.Closer); ok {
		if err := c.Close(ctx); err != nil {
			t.Errorf("close output %q: %v", spec.Name, err)
		}
	}
}

// MeasureCPU runs fn b.N times and reports this process's user+system CPU
// per op ("cpu-ns/op") besides ns/op: on a shared machine CPU per op
// swings less than wall-clock time.
func MeasureCPU(b *testing.B, fn func(i int)) {
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	for i := 0; i < b.N; i++ {
		fn(i)
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// BenchFilterBatches measures f per event as a plugin process runs it:
// events made from lines are encoded in batches of 125 and decoded by one
// reused Decoder (whose cost is in the figure), then filtered; every event
// must give want. As in a plugin process, a Transient filter's batches are
// released to the decoder when done with.
func BenchFilterBatches(b *testing.B, f sdk.Filter, lines []string, want sdk.Result) {
	benchBatches(b, f, lines, want, true)
}

// BenchFilterAlone is BenchFilterBatches with the decoding of each batch
// left out of the figures (timer and CPU stopped around it): the filter's
// own work on events as a plugin process gets them, fields still raw.
func BenchFilterAlone(b *testing.B, f sdk.Filter, lines []string, want sdk.Result) {
	benchBatches(b, f, lines, want, false)
}

func benchBatches(b *testing.B, f sdk.Filter, lines []string, want sdk.Result, withDecode bool) {
	const size = 125
	var batches [][]byte
	for i := 0; i+size <= len(lines); i += size {
		evs := make([]*sdk.Event, 0, size)
		for _, l := range lines[i : i+size] {
			evs = append(evs, sdk.NewEvent(l))
		}
		batches = append(batches, host.EncodeBatch(evs))
	}
	if len(batches) == 0 {
		b.Fatalf("benchmarking a filter on batches needs at least %d lines", size)
	}
	ctx := context.Background()
	dec := new(host.Decoder)
	_, transient := f.(sdk.Transient)
	var evs []*sdk.Event
	decode := func(i int) {
		if transient && i > 0 {
			dec.Release()
		}
		var err error
		if evs, err = dec.Decode(batches[(i/size)%len(batches)]); err != nil {
			b.Fatal(err)
		}
	}
	if withDecode {
		MeasureCPU(b, func(i int) {
			if i%size == 0 {
				decode(i)
			}
			if got := f.Apply(ctx, evs[i%size], nil); got != want {
				b.Fatalf("event %d gave %v, want %v", i%size, got, want)
			}
		})
		return
	}
	b.ReportAllocs()
	b.ResetTimer()
	var cpu time.Duration
	for i := 0; i < b.N; {
		b.StopTimer()
		decode(i)
		b.StartTimer()
		from := cpuTime()
		for _, e := range evs[:min(size, b.N-i)] {
			if got := f.Apply(ctx, e, nil); got != want {
				b.Fatalf("event %d gave %v, want %v", i%size, got, want)
			}
			i++
		}
		cpu += cpuTime() - from
	}
	b.StopTimer()
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
}
