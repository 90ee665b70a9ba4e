package sdk

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// codecEvents covers every value type the wire carries, at several
// depths, with lengths on both sides of the one-byte length prefix the
// encoder reserves (127/128 bytes) and past 16 KiB (a three-byte prefix).
func codecEvents() []*Event {
	long := strings.Repeat("0123456789abcdef", 1300) // 20800 bytes
	e1 := NewEmptyEvent()
	e1.SetTimestamp(time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC))
	f := e1.Fields()
	f["message"] = "hello"
	f["empty"] = ""
	f["unicode"] = "héllo wörld 世界 🎉 \x00 nul"
	f["len127"] = strings.Repeat("x", 127)
	f["len128"] = strings.Repeat("y", 128)
	f["long"] = long
	f["zero"] = int64(0)
	f["neg"] = int64(-1)
	f["max"] = int64(math.MaxInt64)
	f["min"] = int64(math.MinInt64)
	f["half"] = 0.5
	f["negzero"] = math.Copysign(0, -1)
	f["inf"] = math.Inf(-1)
	f["yes"] = true
	f["no"] = false
	f["null"] = nil
	f["emptymap"] = map[string]any{}
	f["emptylist"] = []any{}
	f["nested"] = map[string]any{
		"host": map[string]any{"name": "web-1", "ip": "10.0.0.1"},
		"list": []any{int64(1), "two", 3.0, nil, true, []any{"deep", map[string]any{"k": "v"}}},
		"big":  []any{map[string]any{"text": long}, strings.Repeat("z", 200)},
	}
	f["tags"] = []any{"a", "b"}
	e1.Metadata()["index"] = "weblogs"
	e1.Metadata()["kafka"] = map[string]any{"partition": int64(3), "offset": int64(1 << 40)}

	e2 := NewEmptyEvent() // no timestamp, no fields, no metadata

	e3 := NewEmptyEvent()
	e3.SetTimestamp(time.Date(1969, 12, 31, 23, 59, 59, 1, time.UTC)) // negative ns
	e3.Fields()["message"] = "second"
	e3.Fields()["k"] = "only used at the top here" // also a nested key in e1

	e4 := NewEmptyEvent()
	e4.Metadata()["only"] = "metadata"

	return []*Event{e1, e2, e3, e4}
}

// sameEvent compares two events in full, NaN-free.
func sameEvent(t *testing.T, label string, got, want *Event) {
	t.Helper()
	if got.TimestampNano() != want.TimestampNano() {
		t.Errorf("%s: @timestamp %d, want %d", label, got.TimestampNano(), want.TimestampNano())
	}
	if !reflect.DeepEqual(got.Fields(), want.Fields()) {
		for k, w := range want.Fields() {
			if g, ok := got.Fields()[k]; !ok || !reflect.DeepEqual(g, w) {
				t.Errorf("%s: field %q = %s, want %s", label, k, short(g), short(w))
			}
		}
		for k := range got.Fields() {
			if _, ok := want.Fields()[k]; !ok {
				t.Errorf("%s: unexpected field %q", label, k)
			}
		}
	}
	if len(got.meta)+len(want.meta) > 0 && !reflect.DeepEqual(got.meta, want.meta) {
		t.Errorf("%s: @metadata %v, want %v", label, got.meta, want.meta)
	}
}

func short(v any) string {
	s := fmt.Sprintf("%#v", v)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func TestCodecRoundTrip(t *testing.T) {
	in := codecEvents()
	data := encodeBatch(in)
	out, err := decodeBatch(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("decoded %d events, want %d", len(out), len(in))
	}
	for i := range in {
		sameEvent(t, fmt.Sprintf("event %d", i), out[i], in[i])
	}
	if v := out[0].Fields()["negzero"].(float64); !math.Signbit(v) {
		t.Error("-0.0 lost its sign")
	}
	if _, ok := out[1].Timestamp(); ok {
		t.Error("an event without @timestamp got one")
	}
}

func TestCodecNaN(t *testing.T) {
	e := NewEmptyEvent()
	e.Fields()["nan"] = math.NaN()
	out, err := decodeBatch(encodeBatch([]*Event{e}))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := out[0].Fields()["nan"].(float64); !ok || !math.IsNaN(v) {
		t.Errorf("NaN came back as %#v", out[0].Fields()["nan"])
	}
}

func TestCodecNormalizesGoValues(t *testing.T) {
	type point struct{ X, Y int }
	e := NewEmptyEvent()
	f := e.Fields()
	f["int"] = 7
	f["int32"] = int32(-3)
	f["float32"] = float32(0.25)
	f["strings"] = []string{"a", "b"}
	f["stringmap"] = map[string]string{"k": "v"}
	f["time"] = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	f["struct"] = point{1, 2}
	want := map[string]any{
		"int": int64(7), "int32": int64(-3), "float32": 0.25,
		"strings": []any{"a", "b"}, "stringmap": map[string]any{"k": "v"},
		"time": "2024-01-02T03:04:05.000Z", "struct": "{1 2}",
	}
	out, err := decodeBatch(encodeBatch([]*Event{e}))
	if err != nil {
		t.Fatal(err)
	}
	if got := out[0].Fields(); !reflect.DeepEqual(got, want) {
		t.Errorf("decoded %#v\nwant    %#v", got, want)
	}
}

func TestEncoderReuse(t *testing.T) {
	// A reused batchEncoder must start each batch with a fresh dictionary.
	var enc batchEncoder
	a := NewEmptyEvent()
	a.Fields()["alpha"] = "1"
	a.Fields()["beta"] = map[string]any{"gamma": "2"}
	b := NewEmptyEvent()
	b.Fields()["gamma"] = "3"
	b.Fields()["delta"] = "4"

	first := append([]byte(nil), enc.Encode([]*Event{a})...)
	second := append([]byte(nil), enc.Encode([]*Event{b})...)
	third := enc.Encode([]*Event{a, b})
	for _, tc := range []struct {
		name string
		data []byte
		want []*Event
	}{{"first", first, []*Event{a}}, {"second", second, []*Event{b}}, {"third", third, []*Event{a, b}}} {
		out, err := decodeBatch(tc.data)
		if err != nil {
			t.Fatalf("%s batch: %v", tc.name, err)
		}
		if len(out) != len(tc.want) {
			t.Fatalf("%s batch: %d events, want %d", tc.name, len(out), len(tc.want))
		}
		for i := range out {
			sameEvent(t, fmt.Sprintf("%s batch event %d", tc.name, i), out[i], tc.want[i])
		}
	}
}

func TestAppendDecodeBatch(t *testing.T) {
	in := codecEvents()
	prev := NewEvent("already there")
	out, err := appendDecodeBatch([]*Event{prev}, encodeBatch(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in)+1 || out[0] != prev {
		t.Fatalf("got %d events (first %p), want the existing one and %d more", len(out), out[0], len(in))
	}
	sameEvent(t, "appended event", out[3], in[2])
}

func TestEmptyBatch(t *testing.T) {
	data := encodeBatch(nil)
	if n, err := countEvents(data); n != 0 || err != nil {
		t.Errorf("countEvents(empty) = %d, %v", n, err)
	}
	if out, err := decodeBatch(data); len(out) != 0 || err != nil {
		t.Errorf("decodeBatch(empty) = %d events, %v", len(out), err)
	}
}

func TestCountEvents(t *testing.T) {
	for _, n := range []int{1, 4, 125} {
		events := make([]*Event, n)
		for i := range events {
			events[i] = NewEvent(fmt.Sprintf("event %d", i))
		}
		got, err := countEvents(encodeBatch(events))
		if err != nil || got != n {
			t.Errorf("countEvents of %d events = %d, %v", n, got, err)
		}
	}
	if _, err := countEvents([]byte{0xff}); !errors.Is(err, errCorruptBatch) {
		t.Errorf("countEvents(garbage) error = %v, want errCorruptBatch", err)
	}
}

func TestSelectEvents(t *testing.T) {
	events := make([]*Event, 6)
	for i := range events {
		events[i] = NewEmptyEvent()
		events[i].Fields()["n"] = int64(i)
		events[i].Fields()[fmt.Sprintf("only%d", i)] = "x" // a name only this event uses
	}
	data := encodeBatch(events)
	tests := [][]uint32{{}, {0}, {5}, {1, 3, 4}, {0, 1, 2, 3, 4, 5}}
	for _, idx := range tests {
		sel, err := selectEvents(data, idx)
		if err != nil {
			t.Fatalf("selectEvents(%v): %v", idx, err)
		}
		if n, _ := countEvents(sel); n != len(idx) {
			t.Errorf("selectEvents(%v) holds %d events", idx, n)
		}
		out, err := decodeBatch(sel)
		if err != nil {
			t.Fatalf("decoding selectEvents(%v): %v", idx, err)
		}
		for i, want := range idx {
			sameEvent(t, fmt.Sprintf("selected %d", want), out[i], events[want])
		}
	}
	if _, err := selectEvents([]byte{0x12, 0x05, 0x01}, []uint32{0}); !errors.Is(err, errCorruptBatch) {
		t.Errorf("selectEvents(truncated) error = %v, want errCorruptBatch", err)
	}
}

func TestDecodeCorruptBatch(t *testing.T) {
	good := encodeBatch(codecEvents())
	// A key index past the dictionary.
	badKey := (&pluginv1.EventBatch{
		Keys:   []string{"a"},
		Events: []*pluginv1.Event{{Fields: []*pluginv1.Field{{Key: 5, Value: &pluginv1.Value{Kind: &pluginv1.Value_Int{Int: 1}}}}}},
	})
	badKeyData, err := proto.Marshal(badKey)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"truncated", good[:len(good)-1]},
		{"cut in the middle", good[:len(good)/2]},
		{"garbage tag", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"length past the end", []byte{0x12, 0x7f, 0x08}},
		{"key not in the dictionary", badKeyData},
	}
	for _, tt := range tests {
		if _, err := decodeBatch(tt.data); !errors.Is(err, errCorruptBatch) {
			t.Errorf("%s: decodeBatch error = %v, want errCorruptBatch", tt.name, err)
		}
	}
}

// ---- conformance with the generated code ----

// fromProto turns a generated Value back into an event value.
func fromProto(v *pluginv1.Value, keys []string) any {
	switch k := v.GetKind().(type) {
	case *pluginv1.Value_String_:
		return string(k.String_)
	case *pluginv1.Value_Int:
		return k.Int
	case *pluginv1.Value_Float:
		return k.Float
	case *pluginv1.Value_Bool:
		return k.Bool
	case *pluginv1.Value_Null:
		return nil
	case *pluginv1.Value_Map:
		m := map[string]any{}
		for _, f := range k.Map.GetFields() {
			m[keys[f.GetKey()]] = fromProto(f.GetValue(), keys)
		}
		return m
	case *pluginv1.Value_List:
		l := []any{}
		for _, x := range k.List.GetValues() {
			l = append(l, fromProto(x, keys))
		}
		return l
	}
	return nil
}

// toProto builds a generated Value, naming keys through key.
func toProto(v any, key func(string) uint32) *pluginv1.Value {
	switch t := v.(type) {
	case string:
		return &pluginv1.Value{Kind: &pluginv1.Value_String_{String_: []byte(t)}}
	case int64:
		return &pluginv1.Value{Kind: &pluginv1.Value_Int{Int: t}}
	case float64:
		return &pluginv1.Value{Kind: &pluginv1.Value_Float{Float: t}}
	case bool:
		return &pluginv1.Value{Kind: &pluginv1.Value_Bool{Bool: t}}
	case nil:
		return &pluginv1.Value{Kind: &pluginv1.Value_Null{Null: true}}
	case map[string]any:
		return &pluginv1.Value{Kind: &pluginv1.Value_Map{Map: &pluginv1.Map{Fields: toProtoFields(t, key)}}}
	case []any:
		l := &pluginv1.List{}
		for _, x := range t {
			l.Values = append(l.Values, toProto(x, key))
		}
		return &pluginv1.Value{Kind: &pluginv1.Value_List{List: l}}
	}
	panic(fmt.Sprintf("toProto: %T", v))
}

func toProtoFields(m map[string]any, key func(string) uint32) []*pluginv1.Field {
	var out []*pluginv1.Field
	for _, k := range SortedKeys(m) {
		out = append(out, &pluginv1.Field{Key: key(k), Value: toProto(m[k], key)})
	}
	return out
}

func TestCodecDecodedByGeneratedCode(t *testing.T) {
	in := codecEvents()
	var batch pluginv1.EventBatch
	if err := proto.Unmarshal(encodeBatch(in), &batch); err != nil {
		t.Fatalf("generated code rejects the SDK's encoding: %v", err)
	}
	if len(batch.Events) != len(in) {
		t.Fatalf("generated code sees %d events, want %d", len(batch.Events), len(in))
	}
	seen := map[string]bool{}
	for _, k := range batch.Keys {
		if seen[k] {
			t.Errorf("key %q is in the dictionary twice", k)
		}
		seen[k] = true
	}
	for i, pe := range batch.Events {
		got := NewEmptyEvent()
		got.SetTimestampNano(pe.GetTimestamp())
		for _, f := range pe.GetFields() {
			if int(f.GetKey()) >= len(batch.Keys) {
				t.Fatalf("event %d: key %d past the dictionary of %d", i, f.GetKey(), len(batch.Keys))
			}
			got.Fields()[batch.Keys[f.GetKey()]] = fromProto(f.GetValue(), batch.Keys)
		}
		for _, f := range pe.GetMetadata() {
			got.Metadata()[batch.Keys[f.GetKey()]] = fromProto(f.GetValue(), batch.Keys)
		}
		sameEvent(t, fmt.Sprintf("generated decode of event %d", i), got, in[i])
	}
}

func TestCodecDecodesGeneratedCode(t *testing.T) {
	in := codecEvents()
	var batch pluginv1.EventBatch
	index := map[string]uint32{}
	key := func(k string) uint32 {
		i, ok := index[k]
		if !ok {
			i = uint32(len(batch.Keys))
			index[k] = i
			batch.Keys = append(batch.Keys, k)
		}
		return i
	}
	for _, e := range in {
		batch.Events = append(batch.Events, &pluginv1.Event{
			Timestamp: e.TimestampNano(),
			Fields:    toProtoFields(e.Fields(), key),
			Metadata:  toProtoFields(e.meta, key),
		})
	}
	// An empty Value and a Field without a value are both null.
	batch.Events[3].Fields = append(batch.Events[3].Fields,
		&pluginv1.Field{Key: key("emptyvalue"), Value: &pluginv1.Value{}},
		&pluginv1.Field{Key: key("novalue")})
	data, err := proto.Marshal(&batch)
	if err != nil {
		t.Fatal(err)
	}
	out, err := decodeBatch(data)
	if err != nil {
		t.Fatalf("SDK rejects the generated encoding: %v", err)
	}
	if len(out) != len(in) {
		t.Fatalf("decoded %d events, want %d", len(out), len(in))
	}
	in[3].Fields()["emptyvalue"] = nil
	in[3].Fields()["novalue"] = nil
	for i := range in {
		sameEvent(t, fmt.Sprintf("SDK decode of generated event %d", i), out[i], in[i])
	}
}

// FuzzDecodeBatch: no input may crash the decoder, and what decodes
// must survive a round trip.
func FuzzDecodeBatch(f *testing.F) {
	f.Add(encodeBatch(codecEvents()))
	f.Add(encodeBatch(benchEvents(3)))
	f.Add([]byte{})
	f.Add([]byte{0x12, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		events, err := decodeBatch(data)
		if err != nil {
			return
		}
		again, err := decodeBatch(encodeBatch(events))
		if err != nil {
			t.Fatalf("re-encoding a decoded batch: %v", err)
		}
		if len(again) != len(events) {
			t.Fatalf("round trip changed the count: %d → %d", len(events), len(again))
		}
		_, _ = countEvents(data)
		_, _ = selectEvents(data, []uint32{0, 2})
	})
}

// ---- benchmarks ----

// benchEvents makes n events of about 300 bytes each, the size the
// performance targets are stated in: a log line, a host and a few fields.
func benchEvents(n int) []*Event {
	events := make([]*Event, n)
	base := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range events {
		e := NewEvent(fmt.Sprintf(`203.0.113.%d - - [02/Jan/2024:03:04:05 +0000] "GET /api/v1/items/%06d HTTP/1.1" 200 %d "-" "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"`, i%250, i, 1000+i))
		e.SetTimestamp(base.Add(time.Duration(i) * time.Millisecond))
		f := e.Fields()
		f["host"] = map[string]any{"name": "web-01.example.internal"}
		f["status"] = int64(200)
		f["bytes"] = int64(1000 + i)
		f["duration"] = 0.0123
		f["tags"] = []any{"web"}
		events[i] = e
	}
	return events
}

func BenchmarkCodec(b *testing.B) {
	const n = 125
	events := benchEvents(n)
	data := encodeBatch(events)
	b.Run("Encode", func(b *testing.B) {
		var enc batchEncoder
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			enc.Encode(events)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
		b.ReportMetric(float64(len(data))/n, "bytes/event")
	})
	b.Run("Decode", func(b *testing.B) {
		out := make([]*Event, 0, n)
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var err error
			if out, err = appendDecodeBatch(out[:0], data); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
	})
	b.Run("DecoderReuse", func(b *testing.B) {
		// What a plugin process does: the previous batch's events and
		// maps are reused.
		var dec batchDecoder
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := dec.Decode(data); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
	})
	b.Run("ProtoUnmarshal", func(b *testing.B) {
		// The generated code, for comparison.
		b.ReportAllocs()
		for b.Loop() {
			var batch pluginv1.EventBatch
			if err := proto.Unmarshal(data, &batch); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
	})
}

// BenchmarkCodecEncodeCPU is the CPU an event of encoding a batch, for
// three shapes: benchEvents' flat ones, the output benchmark's 12-field
// event with small nested objects (plugins/outputs/elasticsearch), and
// grok's ECS objects. cpu-ns/event is this process's CPU (getrusage):
// wall time on the shared box counts other sessions' work.
func BenchmarkCodecEncodeCPU(b *testing.B) {
	shapes := []struct {
		name   string
		events []*Event
	}{
		{"flat", benchEvents(125)},
		{"es12", make([]*Event, 125)},
		{"ecs", make([]*Event, 125)},
	}
	for i := range 125 {
		e := NewEvent(fmt.Sprintf("Dec  4 20:%02d:%02d web-1 sshd[%d]: Accepted publickey for deploy from 10.0.0.%d port %d ssh2", i%60, i%60, 1000+i, i%250, 40000+i))
		for _, kv := range []struct {
			k string
			v any
		}{
			{"[host][name]", "web-1"}, {"[log][file][path]", "/var/log/messages"}, {"[log][offset]", int64(i * 120)},
			{"[event][original]", "Accepted publickey"}, {"[process][name]", "sshd"}, {"[process][pid]", int64(1000 + i)},
			{"[source][ip]", fmt.Sprintf("10.0.0.%d", i%250)}, {"[source][port]", int64(40000 + i)},
			{"[user][name]", "deploy"}, {"tags", []any{"ssh", "auth"}}, {"[service][type]", "system"},
		} {
			if err := e.Set(kv.k, kv.v); err != nil {
				b.Fatal(err)
			}
		}
		shapes[1].events[i] = e
		shapes[2].events[i] = ecsEvent()
	}
	for _, s := range shapes {
		b.Run(s.name, func(b *testing.B) {
			var enc batchEncoder
			b.ReportAllocs()
			from := cpuNow()
			for b.Loop() {
				enc.Encode(s.events)
			}
			cpu := cpuNow() - from
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*len(s.events)), "cpu-ns/event")
		})
	}
}

// cpuNow is this process's CPU time.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// A batchDecoder reuses the previous batch's events and maps: nothing of the
// previous batch may show through in the next one.
func TestDecoderReuseLeaksNothing(t *testing.T) {
	a := NewEvent("first")
	_ = a.Set("[host][name]", "a-host")
	_ = a.Set("[only][in][a]", true)
	_ = a.Set("[@metadata][m]", "meta-a")
	b := NewEvent("second")
	_ = b.Set("[host][ip]", "10.0.0.1")

	var dec batchDecoder
	got, err := dec.Decode(encodeBatch([]*Event{a, a}))
	if err != nil || len(got) != 2 {
		t.Fatalf("first decode: %v, %d events", err, len(got))
	}
	got, err = dec.Decode(encodeBatch([]*Event{b}))
	if err != nil || len(got) != 1 {
		t.Fatalf("second decode: %v, %d events", err, len(got))
	}
	e := got[0]
	if e.Message() != "second" {
		t.Errorf("message = %q", e.Message())
	}
	if _, ok := e.Get("[only]"); ok {
		t.Error("a field of the previous batch shows through")
	}
	if v, _ := e.Get("[host][name]"); v != nil {
		t.Errorf("[host][name] of the previous batch shows through: %v", v)
	}
	if v, _ := e.Get("[host][ip]"); v != "10.0.0.1" {
		t.Errorf("[host][ip] = %v", v)
	}
	if len(e.meta) != 0 {
		t.Errorf("@metadata of the previous batch shows through: %v", e.meta)
	}
}

// ecsEvent is what grok's COMBINEDAPACHELOG makes of an access line in ECS
// mode, read by the file input: many small nested objects.
func ecsEvent() *Event {
	e := NewEvent("")
	f := e.Fields()
	f["message"] = []any{"138.136.154.80 - - [17/May/2015:00:29:26 +0000] \"GET /blog/2015/05/17/a-longer-article-title.html HTTP/1.1\" 200 55119 \"http://example.com/\" \"curl/7.88.1\"", "same again"}
	f["source"] = map[string]any{"address": "138.136.154.80"}
	f["timestamp"] = "17/May/2015:00:29:26 +0000"
	f["http"] = map[string]any{"request": map[string]any{"method": "GET", "referrer": "http://example.com/"}, "version": "1.1", "response": map[string]any{"status_code": int64(200), "body": map[string]any{"bytes": int64(55119)}}}
	f["url"] = map[string]any{"original": "/blog/2015/05/17/a-longer-article-title.html"}
	f["user_agent"] = map[string]any{"original": "curl/7.88.1"}
	f["log"] = map[string]any{"file": map[string]any{"path": "/tmp/bench/access100k.log"}}
	f["host"] = map[string]any{"name": "vm"}
	return e
}

func BenchmarkCodecECSEncode(b *testing.B) {
	events := make([]*Event, 500)
	for i := range events {
		events[i] = ecsEvent()
	}
	var enc batchEncoder
	b.ReportAllocs()
	for b.Loop() {
		enc.Encode(events)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*500), "ns/event")
}

// BenchmarkCodecECSDecode decodes with a reused batchDecoder, as a plugin
// process does.
func BenchmarkCodecECSDecode(b *testing.B) {
	events := make([]*Event, 500)
	for i := range events {
		events[i] = ecsEvent()
	}
	data := encodeBatch(events)
	var dec batchDecoder
	b.ReportAllocs()
	for b.Loop() {
		dec.Decode(data)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*500), "ns/event")
}

// An object shared by many events (as inputs share [host]) is written once
// per batch and copied; changing it between batches is seen.
func TestEncoderSharedObjects(t *testing.T) {
	host := map[string]any{"name": "web-1", "ip": []any{"10.0.0.1"}}
	logm := map[string]any{"file": map[string]any{"path": "/var/log/a"}}
	var events []*Event
	for i := 0; i < 5; i++ {
		e := NewEvent(fmt.Sprint("line ", i))
		e.Fields()["host"], e.Fields()["log"] = host, logm
		if i == 3 {
			e.Fields()["host"] = map[string]any{"name": "other"}
		}
		events = append(events, e)
	}
	var enc batchEncoder
	for round, want := range []string{"web-1", "web-2"} {
		host["name"] = want
		out, err := decodeBatch(enc.Encode(events))
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range out {
			name, _ := e.Get("[host][name]")
			path, _ := e.Get("[log][file][path]")
			wantName := want
			if i == 3 {
				wantName = "other"
			}
			if name != wantName || path != "/var/log/a" || e.Message() != fmt.Sprint("line ", i) {
				t.Errorf("round %d event %d: host %v, path %v, message %q", round, i, name, path, e.Message())
			}
		}
	}
}
