package sdk

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// The batch encoder writes every map, top level and nested, by its
// names' numbers in the batch's dictionary (appendFields): events of
// one shape cross with their fields in the same order, and equal events
// of one batch in equal bytes. Over random events (names from a pool larger than 64,
// so both the slot tables and the sorted rest are used; a shared object;
// raw fields of a decoded batch with some read or replaced), every
// object's names must ascend and what is decoded must be what was encoded, read directly and through a
// second crossing.
func TestEncoderOrdersFields(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	names := make([]string, 150)
	for i := range names {
		names[i] = fmt.Sprintf("n%d", i)
	}
	var value func(depth int) any
	object := func(depth int) map[string]any {
		m := map[string]any{}
		width := 1 + r.IntN(6)
		if r.IntN(8) == 0 {
			width = 70 + r.IntN(40) // past the 64 slots
		}
		for range width {
			m[names[r.IntN(len(names))]] = value(depth + 1)
		}
		return m
	}
	shared := map[string]any{"name": "web-1", "ip": []any{"10.0.0.1", "10.0.0.2"}, "os": map[string]any{"family": "linux", "kernel": "6.1"}}
	value = func(depth int) any {
		switch k := r.IntN(8); {
		case k == 0 && depth < 3:
			return object(depth)
		case k == 1 && depth < 3:
			return []any{object(depth), int64(r.IntN(100))}
		case k == 2:
			return shared
		case k == 3:
			return int64(r.IntN(1 << 20))
		default:
			return fmt.Sprint("v", r.IntN(20))
		}
	}
	var enc, enc2 batchEncoder
	var dec batchDecoder
	for round := range 60 {
		events := make([]*Event, 1+r.IntN(20))
		for i := range events {
			e := NewEmptyEvent()
			for k, v := range object(0) {
				e.Fields()[k] = v
			}
			if r.IntN(3) == 0 {
				e.Metadata()["m"] = object(1)
			}
			events[i] = e
		}
		data := append([]byte(nil), enc.Encode(events)...)
		checkAscending(t, data, true)
		decoded, err := dec.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		// Some raw fields read or replaced: the rest cross raw, the
		// others from the map.
		want := make([]*Event, len(events))
		for i, e := range decoded {
			want[i] = events[i].Clone()
			for k := range events[i].Fields() {
				switch r.IntN(4) {
				case 0:
					e.Get("[" + k + "]")
				case 1:
					_ = e.Set("["+k+"]", "replaced")
					_ = want[i].Set("["+k+"]", "replaced")
				}
			}
		}
		again := enc2.Encode(decoded)
		checkAscending(t, again, false)
		out, err := decodeBatch(again)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			sameEvent(t, fmt.Sprintf("round %d event %d", round, i), out[i], want[i])
		}
	}
	// Equal events built apart (each map iterated in its own order)
	// have equal bytes in one batch.
	events := make([]*Event, 50)
	for j := range events {
		e := NewEmptyEvent()
		m := map[string]any{}
		for i := range 20 {
			m[names[i]] = map[string]any{"a": int64(i), "b": "x", "c": []any{"y"}}
		}
		e.Fields()["o"] = m
		for i := 20; i < 100; i++ {
			e.Fields()[names[i]] = "x"
		}
		events[j] = e
	}
	var first []byte
	data := enc.Encode(events)
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		m := protowire.ConsumeFieldValue(num, typ, data[n:])
		if num == fbEvents {
			if ev := data[n : n+m]; first == nil {
				first = ev
			} else if string(ev) != string(first) {
				t.Fatal("equal events gave different bytes")
			}
		}
		data = data[n+m:]
	}
}

// checkAscending checks that the objects inside every event's fields
// list their names in ascending number, and the event's own fields too
// when top says so (a batch re-encoded from decoded events has its raw
// fields first, in their order, then those read or replaced).
func checkAscending(t *testing.T, batch []byte, top bool) {
	t.Helper()
	last := -2
	if top {
		last = -1
	}
	for len(batch) > 0 {
		num, typ, n := protowire.ConsumeTag(batch)
		m := protowire.ConsumeFieldValue(num, typ, batch[n:])
		if num == fbEvents {
			ev, _ := protowire.ConsumeBytes(batch[n:])
			checkFieldsAscending(t, ev, feFields, last)
		}
		batch = batch[n+m:]
	}
}

// checkFieldsAscending walks the Field messages numbered num in msg;
// last is the number of the name before (-1: none yet, -2: do not
// check this level).
func checkFieldsAscending(t *testing.T, msg []byte, num protowire.Number, last int) {
	t.Helper()
	for len(msg) > 0 {
		fnum, typ, n := protowire.ConsumeTag(msg)
		m := protowire.ConsumeFieldValue(fnum, typ, msg[n:])
		if fnum == num && typ == protowire.BytesType {
			field, _ := protowire.ConsumeBytes(msg[n:])
			key, value, err := splitField(field, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if last != -2 {
				if int(key) <= last {
					t.Fatalf("name %d after %d", key, last)
				}
				last = int(key)
			}
			checkValueAscending(t, value)
		}
		msg = msg[n+m:]
	}
}

func checkValueAscending(t *testing.T, v []byte) {
	t.Helper()
	for len(v) > 0 {
		num, typ, n := protowire.ConsumeTag(v)
		m := protowire.ConsumeFieldValue(num, typ, v[n:])
		body, _ := protowire.ConsumeBytes(v[n:])
		switch {
		case num == fvMap && typ == protowire.BytesType:
			checkFieldsAscending(t, body, fmFields, -1)
		case num == fvList && typ == protowire.BytesType:
			for l := body; len(l) > 0; {
				lnum, ltyp, ln := protowire.ConsumeTag(l)
				lm := protowire.ConsumeFieldValue(lnum, ltyp, l[ln:])
				item, _ := protowire.ConsumeBytes(l[ln:])
				checkValueAscending(t, item)
				l = l[ln+lm:]
			}
		}
		v = v[n+m:]
	}
}

// A batch says its objects hold each name once (EventBatch.unique_names)
// when every map was written by this encoder, or fields were copied raw
// from batches that said so themselves or from a rawBuilder; not when a
// field was copied from a batch that did not. Selecting events keeps what
// the batch says, and generated code reads it.
func TestBatchSaysUniqueNames(t *testing.T) {
	says := func(data []byte) bool {
		t.Helper()
		var pb pluginv1.EventBatch
		if err := proto.Unmarshal(data, &pb); err != nil {
			t.Fatal(err)
		}
		var dec batchDecoder
		if _, err := dec.Decode(data); err != nil {
			t.Fatal(err)
		}
		if dec.uniqueNames != pb.GetUniqueNames() {
			t.Fatalf("the decoder read %v, generated code %v", dec.uniqueNames, pb.GetUniqueNames())
		}
		return pb.GetUniqueNames()
	}
	e := NewEvent("m")
	_ = e.Set("[a][b]", "x")
	own := encodeBatch([]*Event{e, NewEvent("n")})
	if !says(own) {
		t.Error("a batch of maps does not say its names are unique")
	}
	// A foreign batch (generated code) repeating a name, without the flag.
	foreign, err := proto.Marshal(&pluginv1.EventBatch{
		Keys: []string{"a", "b"},
		Events: []*pluginv1.Event{{Fields: []*pluginv1.Field{
			{Key: 0, Value: &pluginv1.Value{Kind: &pluginv1.Value_String_{String_: []byte("x")}}},
			{Key: 0, Value: &pluginv1.Value{Kind: &pluginv1.Value_String_{String_: []byte("y")}}},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if says(foreign) {
		t.Fatal("generated code wrote the flag")
	}
	var dec batchDecoder
	evs, err := dec.Decode(foreign)
	if err != nil {
		t.Fatal(err)
	}
	var enc batchEncoder
	copied := enc.Encode(evs)
	if says(copied) {
		t.Error("a batch copied raw from one without the flag says its names are unique")
	}
	// Read, the repeated name is decoded (the last wins) and written from
	// the map: nothing raw is copied, and the batch may say so.
	evs, _ = dec.Decode(foreign)
	if v, _ := evs[0].Get("[a]"); v != "y" {
		t.Fatalf("[a] = %v", v)
	}
	if !says(enc.Encode(evs)) {
		t.Error("a batch of decoded fields does not say its names are unique")
	}
	// Copied raw from a batch that said so, it still does; selected too.
	var dec2 batchDecoder
	evs, _ = dec2.Decode(own)
	again := append([]byte(nil), enc.Encode(evs)...)
	if !says(again) {
		t.Error("a batch copied raw from one with the flag lost it")
	}
	sel, err := selectEvents(again, []uint32{1})
	if err != nil || !says(sel) {
		t.Errorf("selecting events lost the flag (%v)", err)
	}
	// A rawBuilder's events.
	var rb rawBuilder
	k, _ := rb.Key("msg")
	field := []byte{ffKey << 3, byte(k), ffValue<<3 | 2, 3, fvString<<3 | 2, 1, 'x'}
	f := appendString(appendTag(nil, feFields, protowire.BytesType), string(field))
	if v, _ := rb.Event(1, f, 1).Get("[msg]"); v != "x" {
		t.Fatalf("[msg] = %v", v)
	}
	built := rb.Event(1, f, 1)
	if !says(enc.Encode([]*Event{built})) {
		t.Error("a batch of a rawBuilder's events does not say its names are unique")
	}
}
