package sdk

import (
	"fmt"
	"reflect"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// A plugin process decodes a batch, a filter changes some fields, and the
// batch is encoded again with the untouched fields copied as they came.
// What leaves must be what the filter made, as the generated code reads it.
func TestRawFieldsReencode(t *testing.T) {
	tests := []struct {
		name   string
		change func(e *Event)
		want   func(e *Event) // the same change on a fully decoded copy
	}{
		{"untouched", func(*Event) {}, nil},
		{"a new field", func(e *Event) { _ = e.Set("added", "yes") }, nil},
		{"a raw field replaced", func(e *Event) { _ = e.Set("message", "replaced") }, nil},
		{"a raw field removed", func(e *Event) { e.Delete("[message]") }, nil},
		{"inside a raw map", func(e *Event) { _ = e.Set("[nested][host][name]", "web-2") }, nil},
		{"removed inside a raw map", func(e *Event) { e.Delete("[nested][host]") }, nil},
		{"a tag added", func(e *Event) { e.AddTag("_new") }, nil},
		{"read only", func(e *Event) { _, _ = e.Get("[nested][list]"); _ = e.Message() }, nil},
		{"the whole map", func(e *Event) { e.Fields()["via-map"] = int64(7) }, nil},
		{"a clone kept", func(e *Event) { c := e.Clone(); _ = c.Set("message", "clone") }, nil},
	}
	data := encodeBatch(codecEvents())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dec batchDecoder
			lazy, err := dec.Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			eager, err := decodeBatch(data)
			if err != nil {
				t.Fatal(err)
			}
			for i := range lazy {
				tt.change(lazy[i])
				tt.change(eager[i])
			}
			var enc batchEncoder
			out := enc.Encode(lazy)
			// Every field name once per event, as the generated code sees it.
			var pb pluginv1.EventBatch
			if err := proto.Unmarshal(out, &pb); err != nil {
				t.Fatal(err)
			}
			for i, pe := range pb.Events {
				seen := map[string]bool{}
				for _, f := range pe.Fields {
					k := pb.Keys[f.Key]
					if seen[k] {
						t.Errorf("event %d: field %q written twice", i, k)
					}
					seen[k] = true
				}
			}
			got, err := decodeBatch(out)
			if err != nil {
				t.Fatal(err)
			}
			for i := range eager {
				sameEvent(t, fmt.Sprintf("event %d", i), got[i], eager[i])
			}
		})
	}
}

// Events of two batches encoded together: the second batch's raw fields
// are numbered in another dictionary and must be re-encoded, not copied.
func TestRawFieldsFromTwoBatches(t *testing.T) {
	a := NewEvent("from a")
	_ = a.Set("[only][a]", int64(1))
	b := NewEvent("from b")
	_ = b.Set("[only][b]", "two")
	_ = b.Set("zzz", true)
	var da, db batchDecoder
	ea, err := da.Decode(encodeBatch([]*Event{a}))
	if err != nil {
		t.Fatal(err)
	}
	eb, err := db.Decode(encodeBatch([]*Event{b}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeBatch(encodeBatch([]*Event{ea[0], eb[0]}))
	if err != nil {
		t.Fatal(err)
	}
	sameEvent(t, "a", got[0], a)
	sameEvent(t, "b", got[1], b)
}

func TestRawFieldsRead(t *testing.T) {
	e := NewEvent("hello")
	e.AddTag("t1")
	_ = e.Set("[host][name]", "h")
	var dec batchDecoder
	evs, err := dec.Decode(encodeBatch([]*Event{e}))
	if err != nil {
		t.Fatal(err)
	}
	d := evs[0]
	if d.Message() != "hello" || !d.HasTag("t1") {
		t.Errorf("message %q, tags %v", d.Message(), d.Tags())
	}
	if v, ok := d.Get("[host][name]"); !ok || v != "h" {
		t.Errorf("[host][name] = %v, %v", v, ok)
	}
	if v, ok := d.Get("missing"); ok {
		t.Errorf("missing field found: %v", v)
	}
	want := e.ToMap(false)
	if got := d.ToMap(false); !reflect.DeepEqual(got, want) {
		t.Errorf("ToMap = %v, want %v", got, want)
	}
	// The same name written twice in one event keeps the last value, as
	// a map would.
	dup, err := proto.Marshal(&pluginv1.EventBatch{
		Keys: []string{"k"},
		Events: []*pluginv1.Event{{Fields: []*pluginv1.Field{
			{Key: 0, Value: &pluginv1.Value{Kind: &pluginv1.Value_Int{Int: 1}}},
			{Key: 0, Value: &pluginv1.Value{Kind: &pluginv1.Value_Int{Int: 2}}},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	evs, err = dec.Decode(dup)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := evs[0].Get("k"); v != int64(2) {
		t.Errorf("k = %v, want the last value 2", v)
	}
	var enc batchEncoder
	again, err := decodeBatch(enc.Encode(evs))
	if err != nil || len(again[0].Fields()) != 1 || again[0].Fields()["k"] != int64(2) {
		t.Errorf("re-encoded: %v, %v", again[0].Fields(), err)
	}
	// Removing it removes both copies: the first must not come back.
	evs, err = dec.Decode(dup)
	if err != nil {
		t.Fatal(err)
	}
	evs[0].Delete("k")
	again, err = decodeBatch(enc.Encode(evs))
	if err != nil || len(again[0].Fields()) != 0 {
		t.Errorf("after Delete, re-encoded: %v, %v", again[0].Fields(), err)
	}
}

// FuzzRawReencode: whatever decodes in full also survives the lazy path
// (decode, touch nothing, copy raw fields out) unchanged.
func FuzzRawReencode(f *testing.F) {
	f.Add(encodeBatch(codecEvents()))
	f.Add(encodeBatch(benchEvents(3)))
	f.Fuzz(func(t *testing.T, data []byte) {
		want, err := decodeBatch(data)
		if err != nil {
			return
		}
		var dec batchDecoder
		lazy, err := dec.Decode(data)
		if err != nil {
			t.Fatalf("lazy decode failed where the full one did not: %v", err)
		}
		var enc batchEncoder
		got, err := decodeBatch(enc.Encode(lazy))
		if err != nil {
			t.Fatalf("re-encoded raw fields: %v", err)
		}
		if len(got) != len(want) {
			t.Fatalf("%d events, want %d", len(got), len(want))
		}
		for i := range want {
			if !reflect.DeepEqual(got[i].ToMap(true), want[i].ToMap(true)) {
				t.Fatalf("event %d: %v, want %v", i, got[i].ToMap(true), want[i].ToMap(true))
			}
		}
	})
}

// Fields written apart (another encoder may interleave @metadata) are
// listed at once and copied one by one.
func TestRawFieldsInterleaved(t *testing.T) {
	field := func(key uint64, s string) []byte {
		v := protowire.AppendTag(nil, fvString, protowire.BytesType)
		v = protowire.AppendString(v, s)
		f := protowire.AppendTag(nil, ffKey, protowire.VarintType)
		f = protowire.AppendVarint(f, key)
		f = protowire.AppendTag(f, ffValue, protowire.BytesType)
		return protowire.AppendBytes(f, v)
	}
	var ev []byte
	ev = protowire.AppendTag(ev, feFields, protowire.BytesType)
	ev = protowire.AppendBytes(ev, field(0, "va"))
	ev = protowire.AppendTag(ev, feMeta, protowire.BytesType)
	ev = protowire.AppendBytes(ev, field(1, "vm"))
	ev = protowire.AppendTag(ev, feFields, protowire.BytesType)
	ev = protowire.AppendBytes(ev, field(2, "vb"))
	var batch []byte
	batch = protowire.AppendTag(batch, fbEvents, protowire.BytesType)
	batch = protowire.AppendBytes(batch, ev)
	for _, k := range []string{"a", "m", "b"} {
		batch = protowire.AppendTag(batch, fbKeys, protowire.BytesType)
		batch = protowire.AppendString(batch, k)
	}
	var dec batchDecoder
	evs, err := dec.Decode(batch)
	if err != nil {
		t.Fatal(err)
	}
	_ = evs[0].Set("c", "new")
	var enc batchEncoder
	got, err := decodeBatch(enc.Encode(evs))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": "va", "b": "vb", "c": "new"}
	if !reflect.DeepEqual(got[0].Fields(), want) || got[0].meta["m"] != "vm" {
		t.Errorf("fields %v, metadata %v; want %v and m=vm", got[0].Fields(), got[0].meta, want)
	}
}

// Objects a filter creates inside a decoded event come from the decoder
// and go back to it with the batch: the next batch must not see them.
func TestCreatedMapsGoBackWithTheBatch(t *testing.T) {
	var dec batchDecoder
	data := encodeBatch([]*Event{NewEvent("one"), NewEvent("two")})
	evs, err := dec.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		_ = e.Set("[http][request][method]", "GET")
	}
	var enc batchEncoder
	out, err := decodeBatch(enc.Encode(evs))
	if err != nil || out[1].Fields()["http"] == nil {
		t.Fatalf("the created object did not cross: %v %v", err, out[1].Fields())
	}
	before := len(dec.maps)
	evs, err = dec.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(dec.maps) <= before {
		t.Errorf("the decoder took back no maps (%d free before, %d after)", before, len(dec.maps))
	}
	for _, e := range evs {
		if v, ok := e.Get("[http]"); ok {
			t.Errorf("an object of the previous batch shows through: %v", v)
		}
		_ = e.Set("[http][version]", "1.1")
		if v, _ := e.Get("[http]"); len(v.(map[string]any)) != 1 {
			t.Errorf("a reused map was not empty: %v", v)
		}
	}
}
