package codecs

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/host"
)

// checkWarmCold writes every event of batches with one encoder, which
// learns their shape, and each with a new encoder: the outputs must be
// the same bytes, or, where one of them had to decode the event (a value
// corrupt inside: the decoder checks only the top level), both must
// have, and agree once parsed. Each encoder gets its own decoded copy,
// since the slow path decodes the event it writes.
func checkWarmCold(t *testing.T, metadata bool, batches [][]byte) (planned int) {
	t.Helper()
	warm := JSONEncoder{Unordered: true, Metadata: metadata}
	var dw, dc host.Decoder
	for b, batch := range batches {
		ew, err := dw.Decode(batch)
		if err != nil {
			continue // not a batch the SDK takes
		}
		ec, err := dc.Decode(batch)
		if err != nil {
			t.Fatal(err)
		}
		for i := range ew {
			slow, hits := warm.slow, warm.shape.hits
			got := warm.AppendEvent([]byte("x"), ew[i])
			cold := JSONEncoder{Unordered: true, Metadata: metadata}
			want := cold.AppendEvent([]byte("x"), ec[i])
			viaPlan := warm.shape.hits > hits
			if viaPlan {
				planned++
			}
			switch warmSlow := warm.slow > slow; {
			case warmSlow != (cold.slow > 0):
				t.Fatalf("batch %d event %d (plan: %v): slow path warm %v, new %v: a warm encoder wrote\n%q\na new one\n%q",
					b, i, viaPlan, warmSlow, !warmSlow, got, want)
			case !warmSlow && !bytes.Equal(got, want):
				t.Fatalf("batch %d event %d (plan: %v): a warm encoder wrote\n%q\na new one\n%q", b, i, viaPlan, got, want)
			case warmSlow && !reflect.DeepEqual(looseJSON(t, got[1:]), looseJSON(t, want[1:])):
				t.Fatalf("batch %d event %d: decoded, a warm encoder wrote\n%q\na new one\n%q", b, i, got, want)
			}
		}
	}
	return planned
}

// looseJSON parses b, numbers as their text, names repeated or not.
func looseJSON(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("%v: %q", err, b)
	}
	return v
}

// Wire builders for framings the SDK's encoder does not write.
func wStr(s string) []byte { return protowire.AppendBytes([]byte{wvString}, []byte(s)) }

func wField(key uint64, value []byte) []byte {
	return protowire.AppendBytes(append(protowire.AppendVarint([]byte{wfKey}, key), wfValue), value)
}

func wObject(members ...[]byte) []byte {
	var m []byte
	for _, f := range members {
		m = protowire.AppendBytes(append(m, wRepeat), f)
	}
	return protowire.AppendBytes([]byte{wvMap}, m)
}

// wBatch is a batch of events of the given top-level Field messages,
// numbering dict, saying its names are unique.
func wBatch(dict []string, events ...[][]byte) []byte {
	var b []byte
	for _, fields := range events {
		var ev []byte
		for _, f := range fields {
			ev = protowire.AppendBytes(append(ev, wEventField), f)
		}
		b = protowire.AppendBytes(protowire.AppendTag(b, 2, protowire.BytesType), ev)
	}
	for _, k := range dict {
		b = protowire.AppendBytes(protowire.AppendTag(b, 1, protowire.BytesType), []byte(k))
	}
	return protowire.AppendVarint(protowire.AppendTag(b, 3, protowire.VarintType), 1)
}

// TestShapePlanForeign: framings of events that another writer, or a
// corrupt value, may give a plan learnt from the SDK's.
func TestShapePlanForeign(t *testing.T) {
	dict := make([]string, 140)
	for i := range dict {
		dict[i] = "n" + strconv.Itoa(i)
	}
	learn := func(event func(i int) [][]byte) [][][]byte {
		var events [][][]byte
		for i := range shapeRefs + 3 {
			events = append(events, event(i))
		}
		return events
	}
	for _, c := range []struct {
		name  string
		event func(i int) [][]byte
		odd   [][]byte
	}{{
		// A member numbered past 127 whose entry is corrupt: bytes that
		// look like a two-byte name's head to a plain compare are no
		// entry (no field number that long), and the object is decoded.
		name: "corrupt member where a name of two bytes was",
		event: func(i int) [][]byte {
			return [][]byte{wField(0, wObject(wField(129, wStr("v"+strconv.Itoa(i)))))}
		},
		odd: [][]byte{wField(0, append([]byte{wvMap, 134, 1}, append([]byte{0xff, 0x84, 0xff, 0xff, 0xff, 0x80},
			wStr(strings.Repeat("a", 126))...)...))},
	}, {
		// An object, then another kind of value: the last one wins.
		name: "object then null",
		event: func(i int) [][]byte {
			return [][]byte{wField(0, wObject(wField(1, wStr("v"+strconv.Itoa(i))))), wField(2, wStr("c"))}
		},
		odd: [][]byte{wField(0, append(wObject(wField(1, wStr("v"))), wvNull, 0)), wField(2, wStr("c"))},
	}, {
		// A member whose length runs past its object's end, into the
		// entry after the object.
		name: "member longer than its object",
		event: func(i int) [][]byte {
			return [][]byte{wField(0, wObject(wField(1, wStr("v"+strconv.Itoa(i))))), wField(2, wStr("c"))}
		},
		odd: [][]byte{wField(0, []byte{wvMap, 6, wRepeat, 13, wfKey, 1, wfValue, 9}), wField(2, wStr("c"))},
	}, {
		// The parent's member where the object's was: {"n0":{"n1":{},
		// "n2":"v"}} against a plan for {"n0":{"n1":{"n2":...}}}.
		name: "an object's member one level out",
		event: func(i int) [][]byte {
			return [][]byte{wField(0, wObject(wField(1, wObject(wField(2, wStr("v"+strconv.Itoa(i)))))))}
		},
		odd: [][]byte{wField(0, wObject(wField(1, wObject()), wField(2, wStr("v"))))},
	}, {
		// An empty object where members were, then a top-level entry.
		name: "empty object",
		event: func(i int) [][]byte {
			return [][]byte{wField(0, wObject(wField(1, wStr("v"+strconv.Itoa(i))))), wField(1, wStr("v"))}
		},
		odd: [][]byte{wField(0, wObject()), wField(1, wStr("v"))},
	}} {
		t.Run(c.name, func(t *testing.T) {
			events := append(learn(c.event), c.odd)
			if planned := checkWarmCold(t, false, [][]byte{wBatch(dict, events...)}); planned == 0 {
				t.Fatal("the plan wrote no event: the test does not exercise it")
			}
		})
	}
}

// shapeNode is a field of a generated shape: an object of members, or a
// value that is the same in every event (fixed) or made anew (vary).
type shapeNode struct {
	name  string
	obj   []*shapeNode
	isObj bool
	fixed any
	vary  func(r *rand.Rand, i int) any
}

var shapeNames = []string{"message", "host", "log", "offset", "file", "path", "tags", "a", "b", "c", "d", "e", "f",
	"ip", "port", "é", "quote\"d", "\x01ctl", "a.b", "", "service", "name", "type", "n"}

func newShape(r *rand.Rand, depth int) []*shapeNode {
	var nodes []*shapeNode
	seen := map[string]bool{}
	for range r.IntN(6) + 1 - depth {
		n := &shapeNode{name: shapeNames[r.IntN(len(shapeNames))]}
		if seen[n.name] {
			continue
		}
		seen[n.name] = true
		switch k := r.IntN(10); {
		case k < 3 && depth < 3:
			n.isObj, n.obj = true, newShape(r, depth+1)
		case k < 6:
			n.fixed = randValue(r, depth+1)
		default:
			n.vary = varyValue(r)
		}
		nodes = append(nodes, n)
	}
	return nodes
}

// varyValue picks how a changing value changes.
func varyValue(r *rand.Rand) func(r *rand.Rand, i int) any {
	switch r.IntN(8) {
	case 0:
		return func(r *rand.Rand, i int) any { return "line " + strconv.Itoa(i) }
	case 1:
		return func(r *rand.Rand, i int) any { return randStrings[r.IntN(len(randStrings))] }
	case 2:
		return func(r *rand.Rand, i int) any { return int64(i * 120) }
	case 3:
		return func(r *rand.Rand, i int) any {
			return []int64{0, -1, 1 << 20, -1 << 20, 1e8 - 1, 1e8, 1 << 40, math.MinInt64}[r.IntN(8)]
		}
	case 4:
		return func(r *rand.Rand, i int) any { return strings.Repeat("x", r.IntN(300)) }
	case 5:
		return func(r *rand.Rand, i int) any { return []any{"t", int64(i)} }
	case 6:
		return func(r *rand.Rand, i int) any { return float64(i) / 4 }
	default:
		return func(r *rand.Rand, i int) any { return randValue(r, 2) }
	}
}

// shapeFields builds event i of a shape into m; odd is the chance in 256
// that a node leaves the shape.
func shapeFields(r *rand.Rand, nodes []*shapeNode, m map[string]any, i int, odd int) {
	for _, n := range nodes {
		if odd > 0 && r.IntN(256) < odd {
			switch r.IntN(4) {
			case 0:
				continue // a field fewer
			case 1:
				m[n.name] = randValue(r, 1) // another type
				continue
			case 2:
				m["extra"+strconv.Itoa(r.IntN(3))] = randValue(r, 2) // a field more
			case 3:
				if n.isObj {
					m[n.name] = map[string]any{}
					continue
				}
			}
		}
		switch {
		case n.isObj:
			o := map[string]any{}
			shapeFields(r, n.obj, o, i, odd)
			m[n.name] = o
		case n.vary != nil:
			m[n.name] = n.vary(r, i)
		default:
			m[n.name] = n.fixed
		}
	}
}

// rewriter writes an SDK batch again in framings the SDK's encoder does
// not use but its decoder takes: lengths and names as longer varints,
// unknown fields in objects, and, as corrupt values, bytes inside
// objects (the decoder checks only the top level).
type rewriter struct {
	r             *rand.Rand
	long, unknown int // chances in 256, per varint and per object member
	garbage       []byte
	garbageChance int // in 256, per object member
}

func (w *rewriter) varint(b []byte, x uint64) []byte {
	if w.long == 0 || w.r.IntN(256) >= w.long {
		return protowire.AppendVarint(b, x)
	}
	v := protowire.AppendVarint(nil, x)
	for extra := 1 + w.r.IntN(10-len(v)+1); len(v) < 10 && extra > 0; extra-- {
		v[len(v)-1] |= 0x80
		v = append(v, 0)
	}
	return append(b, v...)
}

func (w *rewriter) bytes(b []byte, tag byte, v []byte) []byte {
	return append(w.varint(append(b, tag), uint64(len(v))), v...)
}

// event rewrites an Event message.
func (w *rewriter) event(ev []byte) []byte {
	var out []byte
	for len(ev) > 0 {
		num, typ, n := protowire.ConsumeTag(ev)
		m := protowire.ConsumeFieldValue(num, typ, ev[n:])
		if n < 0 || m < 0 {
			return ev
		}
		if num == 2 && typ == protowire.BytesType {
			f, _ := protowire.ConsumeBytes(ev[n:])
			out = w.bytes(out, wEventField, w.field(f))
		} else {
			out = append(out, ev[:n+m]...)
		}
		ev = ev[n+m:]
	}
	return out
}

func (w *rewriter) field(f []byte) []byte {
	key, value, ok := splitRawField(f)
	if !ok {
		return f
	}
	var out []byte
	if w.unknown > 0 && w.r.IntN(256) < w.unknown {
		switch w.r.IntN(3) {
		case 0:
			out = append(out, 15<<3|0, 1) // an unknown field first
		case 1:
			out = append(out, wfKey|0x80, 0) // the name's tag in two bytes
			out = w.varint(out, key)
		}
	}
	out = w.varint(append(out, wfKey), key)
	out = w.bytes(out, wfValue, w.value(value))
	if w.unknown > 0 && w.r.IntN(256) < w.unknown {
		out = append(out, 15<<3|0, 1) // and after the value
	}
	return out
}

func (w *rewriter) value(v []byte) []byte {
	if len(v) < 2 || (v[0] != wvMap && v[0] != wvList) {
		return v
	}
	body, n := protowire.ConsumeBytes(v[1:])
	if n != len(v)-1 {
		return v
	}
	var out []byte
	for len(body) > 0 {
		if w.unknown > 0 && w.r.IntN(256) < w.unknown {
			out = append(out, 15<<3|0, 1) // field 15, varint: skipped by a decoder
		}
		if len(w.garbage) > 0 && w.r.IntN(256) < w.garbageChance {
			out = append(out, w.garbage...)
		}
		item, n := protowire.ConsumeBytes(body[1:])
		if body[0] != wRepeat || n < 0 {
			return v
		}
		if v[0] == wvMap {
			out = w.bytes(out, wRepeat, w.field(item))
		} else {
			out = w.bytes(out, wRepeat, w.value(item))
		}
		body = body[1+n:]
	}
	return w.bytes(nil, v[0], out)
}

// batch rewrites every event of an SDK batch.
func (w *rewriter) batch(b []byte) []byte {
	var out []byte
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if n < 0 || m < 0 {
			return b
		}
		if num == 2 && typ == protowire.BytesType {
			ev, _ := protowire.ConsumeBytes(b[n:])
			out = protowire.AppendBytes(protowire.AppendTag(out, 2, protowire.BytesType), w.event(ev))
		} else {
			out = append(out, b[:n+m]...)
		}
		b = b[n+m:]
	}
	return out
}

// FuzzShapePlan: batches of events of one shape, generated from seed,
// with deviations (odd in 256 per field), names numbered past 127 when
// names is odd, and framings the SDK does not write (knobs) including
// bytes of garbage inside objects: an encoder that learns their shape
// writes what a new encoder writes, event by event.
func FuzzShapePlan(f *testing.F) {
	for seed := range uint64(12) {
		f.Add(seed, uint8(0), uint8(seed), uint32(0), []byte(nil))
		f.Add(seed, uint8(8), uint8(seed), uint32(0), []byte(nil))
		f.Add(seed, uint8(2), uint8(seed), uint32(0x20202020), []byte{15 << 3, 0})
		f.Add(seed, uint8(4), uint8(8|seed), uint32(0), []byte(nil))
	}
	f.Add(uint64(99), uint8(0), uint8(1), uint32(0x00400000), []byte{0xff, 0x84, 0xff, 0xff, 0xff, 0x80})
	f.Fuzz(func(t *testing.T, seed uint64, odd, names uint8, knobs uint32, garbage []byte) {
		r := rand.New(rand.NewPCG(seed, uint64(knobs)))
		shape := newShape(r, 0)
		w := &rewriter{r: r, long: int(knobs & 0xff), unknown: int(knobs >> 8 & 0xff),
			garbage: garbage, garbageChance: int(knobs >> 16 & 0xff)}
		var batches [][]byte
		i := 0
		var carry host.Decoder
		for range 3 {
			var events []*sdk.Event
			if n := len(batches); names&8 == 8 && n > 0 {
				// The last batch's events as they came, and a name more:
				// the dictionary extends the last one's, and the plan
				// learnt from it is kept.
				last, err := carry.Decode(batches[n-1])
				if err != nil {
					return
				}
				events = append(events, last[len(last)/2:]...)
				more := sdk.NewEmptyEvent()
				more.Fields()["more"+strconv.Itoa(n)] = "x"
				events = append(events, more)
			}
			if names&1 == 1 {
				first := sdk.NewEmptyEvent()
				for k := range 130 {
					first.Fields()["filler"+strconv.Itoa(k)] = int64(k)
				}
				events = append(events, first)
			}
			for range 24 {
				e := sdk.NewEmptyEvent()
				if odd == 0 || r.IntN(8) != 0 {
					e.SetTimestampNano(1764907267e9 + int64(i)*1e6)
				}
				shapeFields(r, shape, e.Fields(), i, int(odd))
				if names&2 == 2 && r.IntN(4) == 0 {
					e.Metadata()["m"] = "x"
				}
				events = append(events, e)
				i++
			}
			b := host.EncodeBatch(events)
			if knobs&0xffffff != 0 {
				b = w.batch(b)
			}
			batches = append(batches, b)
		}
		checkWarmCold(t, names&4 != 0, batches)
	})
}
