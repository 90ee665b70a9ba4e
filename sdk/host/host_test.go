package host_test

import (
	"context"
	"testing"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/host"
	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// upper upper-cases nothing: it marks the events it saw, so the chain's
// common options (when, add_tag) can be told apart from the filter.
type upper struct{}

func (upper) Apply(_ context.Context, e *sdk.Event, _ func(*sdk.Event)) sdk.Result {
	e.Set("seen", true)
	return sdk.Matched
}

func init() {
	sdk.RegisterFilter("host_test_mark", sdk.NewSpec("marks events").Field(sdk.String("note").Doc("a note")),
		func(context.Context, *sdk.Config, sdk.Env) (sdk.Filter, error) { return upper{}, nil })
}

func events(n int) []*sdk.Event {
	out := make([]*sdk.Event, n)
	for i := range out {
		e := sdk.NewEvent("line")
		e.Set("n", int64(i))
		e.Set("host", map[string]any{"name": "web-1"})
		out[i] = e
	}
	return out
}

// The host's batch functions reach package sdk's codec: what one side
// encodes the other decodes, counts and selects from without decoding.
func TestBatchRoundTrip(t *testing.T) {
	var enc host.Encoder // the zero values are ready
	var dec host.Decoder
	data := enc.Encode(events(5))
	if n, err := host.CountEvents(data); err != nil || n != 5 {
		t.Fatalf("CountEvents = %d, %v; want 5", n, err)
	}
	got, err := dec.Decode(data)
	if err != nil || len(got) != 5 {
		t.Fatalf("Decode = %d events, %v", len(got), err)
	}
	if v, _ := got[3].Get("n"); v != int64(3) {
		t.Errorf("event 3 n = %v, want 3", v)
	}
	dec.Release()
	two, err := host.SelectEvents(data, []uint32{1, 4})
	if err != nil {
		t.Fatal(err)
	}
	sel, err := host.DecodeBatch(two)
	if err != nil || len(sel) != 2 {
		t.Fatalf("DecodeBatch(SelectEvents) = %d events, %v", len(sel), err)
	}
	if v, _ := sel[1].Get("n"); v != int64(4) {
		t.Errorf("selected event 1 n = %v, want 4", v)
	}
	if _, err := host.DecodeBatch([]byte{0x12, 0x05, 0x01}); err == nil {
		t.Error("DecodeBatch of a truncated batch: no error")
	}
}

// An event decoded from a batch and untouched shows its fields raw; one
// read field moves to the decoded map.
func TestRawViews(t *testing.T) {
	var dec host.Decoder // DecodeBatch decodes every field at once
	evs, err := dec.Decode(host.EncodeBatch(events(1)))
	if err != nil {
		t.Fatal(err)
	}
	e := evs[0]
	dict, _ := host.RawDict(e)
	span, _ := host.RawSpan(e)
	if len(dict) == 0 || len(span) == 0 {
		t.Fatalf("untouched decoded event: dict %v, span %d bytes; want both", dict, len(span))
	}
	e.Get("n")
	fields, dict, raw := host.RawView(e, nil)
	if _, ok := fields["n"]; !ok {
		t.Errorf("read field n not among the decoded fields %v", fields)
	}
	names := map[string]bool{}
	for _, r := range raw {
		names[dict[r.Key]] = true
	}
	if names["n"] || !names["host"] || !names["message"] {
		t.Errorf("raw names %v: want host and message, not n", names)
	}
}

// A RawBuilder's events read like decoded ones and cross as they are.
func TestRawBuilder(t *testing.T) {
	var b host.RawBuilder
	key, ok := b.Key("msg")
	if !ok || b.Name(key) != "msg" {
		t.Fatalf("Key = %d, %v; Name = %q", key, ok, b.Name(key))
	}
	// One Event.fields entry: Field{key, Value{string "hi"}}.
	value := []byte{0x0a, 0x02, 'h', 'i'}
	field := append([]byte{0x08, byte(key), 0x12, byte(len(value))}, value...)
	entry := append([]byte{0x12, byte(len(field))}, field...)
	e := b.Event(1, entry, 1)
	if v, _ := e.Get("msg"); v != "hi" {
		t.Fatalf("built event msg = %v, want hi", v)
	}
	out, err := host.DecodeBatch(host.EncodeBatch([]*sdk.Event{b.Event(2, entry, 1)}))
	if err != nil || len(out) != 1 {
		t.Fatal(len(out), err)
	}
	if v, _ := out[0].Get("msg"); v != "hi" {
		t.Errorf("built event after a crossing: msg = %v, want hi", v)
	}
}

// A chain runs the filter and its common options, as a plugin process
// does: `when` skips the filter, add_tag follows a match.
func TestChain(t *testing.T) {
	comp, ok := sdk.Lookup(sdk.KindFilter, "host_test_mark")
	if !ok {
		t.Fatal("test filter not registered")
	}
	cfg := sdk.NewConfig(map[string]any{"when": `n == 1`, "add_tag": []any{"marked"}})
	fi, err := host.OpenFilter(t.Context(), comp, cfg, sdk.Env{Name: "m", Logger: nopLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	if fi.Name != "m" || fi.Filter == nil {
		t.Fatalf("instance %q, filter %v", fi.Name, fi.Filter)
	}
	out := host.NewChain(fi).Run(t.Context(), events(2))
	if len(out) != 2 {
		t.Fatalf("%d events out, want 2", len(out))
	}
	if has(out[0], "seen") || out[0].HasTag("marked") {
		t.Error("event 0 failed `when` but was filtered")
	}
	if !has(out[1], "seen") || !out[1].HasTag("marked") {
		t.Error("event 1 passed `when` but was not filtered and tagged")
	}
}

// The catalog and diagnostics are what a plugin process sends the core.
func TestCatalogAndDiagnostics(t *testing.T) {
	var found *pluginv1.Component
	cat := host.Catalog()
	for _, c := range cat.Components {
		if c.Name == "host_test_mark" {
			found = c
		}
	}
	if found == nil || found.Kind != pluginv1.Kind_FILTER || len(found.Attributes) == 0 {
		t.Fatalf("catalog entry %v", found)
	}
	if cat.ProtocolMinor != host.ProtocolMinor || cat.SdkVersion != host.SDKVersion {
		t.Errorf("catalog versions %d %q, want %d %q", cat.ProtocolMinor, cat.SdkVersion, host.ProtocolMinor, host.SDKVersion)
	}
	if k := host.KindFromProto(host.KindToProto(sdk.KindOutput)); k != sdk.KindOutput {
		t.Errorf("kind round trip gave %v", k)
	}
	comp, _ := sdk.Lookup(sdk.KindFilter, "host_test_mark")
	ds := host.ValidateComponent(comp, sdk.NewConfig(map[string]any{"when": `n ==`}))
	if !ds.HasErrors() {
		t.Fatal("a `when` that does not parse: no error")
	}
	back := host.DiagnosticsFromProto(host.DiagnosticsToProto(ds))
	if len(back) != len(ds) || back[0].Summary != ds[0].Summary || back[0].Warning != ds[0].Warning {
		t.Errorf("diagnostics round trip: %v, want %v", back, ds)
	}
}

type nopLogger struct{}

func (nopLogger) Debug(string, ...any) {}
func (nopLogger) Info(string, ...any)  {}
func (nopLogger) Warn(string, ...any)  {}
func (nopLogger) Error(string, ...any) {}

func has(e *sdk.Event, name string) bool { _, ok := e.Get(name); return ok }
