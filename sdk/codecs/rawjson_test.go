package codecs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/host"
	"github.com/gostash/gostash/sdk/sdktest"
)

// parseJSON reads encoder output back, numbers as their text, so floats
// must be written the same way to compare equal.
func parseJSON(t *testing.T, b []byte) any {
	t.Helper()
	if !json.Valid(b) {
		t.Fatalf("not valid JSON: %q", b)
	}
	checkNoRepeatedKeys(t, b)
	return looseJSON(t, b)
}

// checkNoRepeatedKeys fails when an object holds a name twice, which a
// parse into maps would hide.
func checkNoRepeatedKeys(t *testing.T, b []byte) {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	type level struct {
		obj  bool
		keys map[string]bool
		key  bool // the next string token is a key
	}
	var stack []*level
	for {
		tok, err := d.Token()
		if err != nil {
			return
		}
		var top *level
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if s, ok := tok.(string); ok && top != nil && top.obj && top.key {
			if top.keys[s] {
				t.Fatalf("%q twice in %s", s, b)
			}
			top.keys[s] = true
			top.key = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &level{obj: true, keys: map[string]bool{}, key: true})
			continue
		case json.Delim('['):
			stack = append(stack, &level{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].key = true // a value ended
		}
	}
}

var randStrings = []string{
	"", "a", "message", "web-1", "héllo wörld", "日本語のテキスト", "emoji 😀 here", "quote \" in", `back\slash`,
	"tab\tnew\nline\r", "ctl \x00\x01\x1f end", "del \x7f", "bad \xff utf8", "\xc3", "trunc \xe6\x97", "\xed\xa0\x80 surrogate",
	"long ascii string that is longer than eight bytes for the word-at-a-time scan",
	"long string with a quote \" after sixteen bytes", "exactly8", "seven77", "<html>&amp;</html>", "\u2028\u2029",
}

func randKey(r *rand.Rand) string {
	if r.IntN(4) == 0 {
		return randStrings[r.IntN(len(randStrings))]
	}
	return fmt.Sprintf("k%d", r.IntN(12))
}

func randValue(r *rand.Rand, depth int) any {
	n := 9
	if depth > 3 {
		n = 7
	}
	switch r.IntN(n) {
	case 0:
		return randStrings[r.IntN(len(randStrings))]
	case 1:
		return int64(r.Uint64())
	case 2:
		return int64(r.IntN(2000) - 1000)
	case 3:
		return []float64{0, -0.5, 1, 1e21, 1e-7, 123456.789, math.MaxFloat64, math.SmallestNonzeroFloat64, math.NaN(), math.Inf(1), -3e-5, 2.5e20}[r.IntN(12)]
	case 4:
		return r.IntN(2) == 0
	case 5:
		return nil
	case 6:
		return fmt.Sprintf("s%d", r.IntN(100))
	case 7:
		m := map[string]any{}
		for range r.IntN(5) {
			m[randKey(r)] = randValue(r, depth+1)
		}
		return m
	default:
		l := []any{}
		for range r.IntN(4) {
			l = append(l, randValue(r, depth+1))
		}
		return l
	}
}

func randEvent(r *rand.Rand) *sdk.Event {
	e := sdk.NewEmptyEvent()
	if r.IntN(5) != 0 {
		e.SetTimestampNano(r.Int64N(4e18))
	}
	for range r.IntN(14) {
		e.Fields()[randKey(r)] = randValue(r, 0)
	}
	if r.IntN(3) == 0 {
		e.Metadata()["m"] = randValue(r, 0)
	}
	return e
}

// TestJSONEncoderUnordered compares the unordered mode with the sorted
// one over random events: as built (maps), decoded from a batch with
// every field raw, and with some fields read or replaced since.
func TestJSONEncoderUnordered(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var dec host.Decoder
	// Kept across rounds: each batch numbers its names differently, which
	// the encoder's per-number key cache must notice.
	fastEncs := [2]JSONEncoder{{Unordered: true}, {Metadata: true, Unordered: true}}
	rawSet := sdk.NewFieldSet([]sdk.FieldRef{sdk.MustParseFieldRef("k3"), sdk.MustParseFieldRef("new-n"), sdk.MustParseFieldRef("[new-o][f]")})
	for round := range 300 {
		events := make([]*sdk.Event, 1+r.IntN(20))
		for i := range events {
			events[i] = randEvent(r)
		}
		wire := host.EncodeBatch(events)
		for mi, meta := range []bool{false, true} {
			sorted := JSONEncoder{Metadata: meta}
			fast := &fastEncs[mi]
			want := make([]any, len(events))
			for i, e := range events {
				want[i] = parseJSON(t, sorted.AppendEvent(nil, e))
				if got := parseJSON(t, fast.AppendEvent(nil, e)); !reflect.DeepEqual(got, want[i]) {
					t.Fatalf("round %d event %d (maps): got %v want %v", round, i, got, want[i])
				}
			}
			decoded, err := dec.Decode(wire)
			if err != nil {
				t.Fatal(err)
			}
			for i, e := range decoded {
				switch r.IntN(5) {
				case 1:
					e.Get("[k1][k2]")
				case 2:
					_ = e.Set("[k3]", "replaced")
					want[i].(map[string]any)["k3"] = "replaced"
				case 3:
					// Written raw next to the arrived fields: a name the
					// event may have, new ones, a new object.
					_ = rawSet.SetScalars(e, func(k int) sdk.Scalar {
						return [...]sdk.Scalar{sdk.StringScalar("set"), sdk.IntScalar(-300), sdk.FloatScalar(2.5)}[k]
					})
					w := want[i].(map[string]any)
					w["k3"], w["new-n"], w["new-o"] = "set", json.Number("-300"), map[string]any{"f": json.Number("2.5")}
				}
				var b []byte
				for range 2 { // a second time: nothing changed by the first
					b = fast.AppendEvent(b[:0], e)
					if got := parseJSON(t, b); !reflect.DeepEqual(got, want[i]) {
						t.Fatalf("round %d event %d (batch): got %s\nwant %v", round, i, b, want[i])
					}
				}
				if got := parseJSON(t, sorted.AppendEvent(nil, e)); !reflect.DeepEqual(got, want[i]) {
					t.Fatalf("round %d event %d (batch, sorted after): got %v want %v", round, i, got, want[i])
				}
			}
		}
	}
}

// TestJSONEncoderUnorderedLongValues: fields and members whose entries
// take lengths of one, two and three bytes (values around 124, 128 and
// 16 Ki bytes, strings, lists and objects) are written as the sorted
// mode writes them, cold and from the memos.
func TestJSONEncoderUnorderedLongValues(t *testing.T) {
	var events []*sdk.Event
	for _, n := range []int{0, 1, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128, 129, 200, 16370, 16371, 16372, 16373, 16374, 16375, 16376, 16377, 16378, 16379, 16380, 16381, 16383, 16384, 20000} {
		str := strings.Repeat("é", n/2) + strings.Repeat("x", n%2)
		for range 2 {
			e := sdk.NewEmptyEvent()
			e.Fields()["s"] = str
			e.Fields()["list"] = []any{str, int64(n)}
			e.Fields()["obj"] = map[string]any{"s": str, "n": int64(n), "inner": map[string]any{"s": str}}
			e.Fields()["after"] = int64(n)
			events = append(events, e)
		}
	}
	var dec host.Decoder
	decoded, err := dec.Decode(host.EncodeBatch(events))
	if err != nil {
		t.Fatal(err)
	}
	fast := JSONEncoder{Unordered: true}
	for i, e := range decoded {
		var sorted JSONEncoder
		want := parseJSON(t, sorted.AppendEvent(nil, events[i]))
		if got := parseJSON(t, fast.AppendEvent(nil, e)); !reflect.DeepEqual(got, want) {
			t.Fatalf("event %d: got %v\nwant %v", i, got, want)
		}
	}
	if fast.slow != 0 {
		t.Fatalf("%d events written the slow way", fast.slow)
	}
}

// TestJSONEncoderUnorderedForeign: batches the SDK does not write but a
// decoder accepts (a name twice, a corrupt value inside a field) give
// what the decoded event holds, as in the sorted mode.
func TestJSONEncoderUnorderedForeign(t *testing.T) {
	str := func(s string) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), []byte(s))
	}
	field := func(key uint64, value []byte) []byte {
		f := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), key)
		return protowire.AppendBytes(protowire.AppendTag(f, 2, protowire.BytesType), value)
	}
	mapOf := func(fields ...[]byte) []byte {
		var m []byte
		for _, f := range fields {
			m = protowire.AppendBytes(protowire.AppendTag(m, 1, protowire.BytesType), f)
		}
		return protowire.AppendBytes(protowire.AppendTag(nil, 5, protowire.BytesType), m)
	}
	dictOf := []string{"a", "b", "c"}
	batchDict := func(dict []string, fields ...[]byte) []byte {
		var ev []byte
		for _, f := range fields {
			ev = protowire.AppendBytes(protowire.AppendTag(ev, 2, protowire.BytesType), f)
		}
		b := protowire.AppendBytes(protowire.AppendTag(nil, 2, protowire.BytesType), ev)
		for _, k := range dict {
			b = protowire.AppendBytes(protowire.AppendTag(b, 1, protowire.BytesType), []byte(k))
		}
		return b
	}
	batch := func(fields ...[]byte) []byte { return batchDict(dictOf, fields...) }
	// A tag written in two bytes, as a decoder still reads it.
	longTag := func(b []byte) []byte { return append([]byte{b[0] | 0x80, 0}, b[1:]...) }
	longMember := func(f []byte) []byte {
		return protowire.AppendBytes([]byte{wvMap}, longTag(protowire.AppendBytes([]byte{wRepeat}, f)))
	}
	aa := []string{"a", "b", "a"} // a name numbered twice
	for name, wire := range map[string][]byte{
		"name twice":                 batch(field(0, str("x")), field(1, str("y")), field(0, str("z"))),
		"name twice nested":          batch(field(0, mapOf(field(1, str("x")), field(1, str("y"))))),
		"same name at depths":        batch(field(0, mapOf(field(0, mapOf(field(0, str("x")))), field(1, str("y"))))),
		"corrupt value":              batch(field(0, []byte{0xff}), field(1, str("y"))),
		"two kinds, last wins":       batch(field(0, append(str("x"), protowire.AppendVarint(protowire.AppendTag(nil, 2, protowire.VarintType), 6)...))),
		"unknown skipped":            batch(field(0, append(protowire.AppendVarint(protowire.AppendTag(nil, 20, protowire.VarintType), 1), str("x")...))),
		"empty value is null":        batch(field(2, nil)),
		"name numbered twice":        batchDict(aa, field(0, str("x")), field(1, str("y")), field(2, str("z"))),
		"member's tag in two bytes":  batch(field(0, longMember(field(1, str("x"))))),
		"item's tag in two bytes":    batch(field(0, protowire.AppendBytes([]byte{wvList}, longTag(protowire.AppendBytes([]byte{wRepeat}, str("x")))))),
		"value's tag in two bytes":   batch(field(0, longTag(str("x")))),
		"name's tag in two bytes":    batch(longTag(field(1, str("x")))),
		"name numbered twice nested": batchDict(aa, field(1, mapOf(field(2, str("x")), field(0, str("y"))))),
	} {
		t.Run(name, func(t *testing.T) {
			var d1, d2 host.Decoder
			e1, err := d1.Decode(wire)
			if err != nil {
				t.Fatal(err)
			}
			e2, _ := d2.Decode(wire)
			var sorted JSONEncoder
			want := sorted.AppendEvent(nil, e1[0])
			// Names cached first from a batch that numbers each once.
			fast := JSONEncoder{Unordered: true}
			var d3 host.Decoder
			e3, _ := d3.Decode(batch(field(0, str("x")), field(1, str("y")), field(2, mapOf(field(0, str("x")), field(1, str("y"))))))
			fast.AppendEvent(nil, e3[0])
			got := fast.AppendEvent(nil, e2[0])
			if !reflect.DeepEqual(parseJSON(t, got), parseJSON(t, want)) {
				t.Fatalf("got %s want %s", got, want)
			}
			// Through a filter process: decoded and encoded again by the
			// SDK, the fields copied as they are. The new batch must not
			// say its names are unique, and an encoder that has just
			// written a batch that does say so checks this one.
			var hop, d4, d5 host.Decoder
			e4, _ := hop.Decode(wire)
			e4, err = d4.Decode(host.EncodeBatch(e4))
			if err != nil {
				t.Fatal(err)
			}
			if host.RawUniqueNames(e4[0]) {
				t.Fatal("a batch copied from one that repeats names says its names are unique")
			}
			sdkBatch, _ := d5.Decode(host.EncodeBatch([]*sdk.Event{sdktest.Event(map[string]any{"a": "x", "[b][c]": "y"})}))
			if !host.RawUniqueNames(sdkBatch[0]) {
				t.Fatal("the SDK's own batch does not say its names are unique")
			}
			fast.AppendEvent(nil, sdkBatch[0])
			if got := fast.AppendEvent(nil, e4[0]); !reflect.DeepEqual(parseJSON(t, got), parseJSON(t, want)) {
				t.Fatalf("after a crossing: got %s want %s", got, want)
			}
		})
	}
}

func TestAppendJSONStringFast(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte("ab\"\\\x00\x1f\x7f\x80\xff\xc3\xa9 é日😀")
	for range 20000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		if got, want := appendJSONStringFast(nil, string(b)), sdk.AppendJSONString(nil, string(b)); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %q want %q", b, got, want)
		}
	}
	// Plain text with at most one byte to escape (or one non-ASCII
	// rune), at any place of strings of any length: the word loop, its
	// overlapping last word and the short loop all see it; appended after
	// other text.
	specials := []string{"", "\"", "\\", "\x00", "\x1f", "\x7f", "\x80", "\xff", "é", "日", "😀", "\xc3"}
	for range 20000 {
		b := make([]byte, r.IntN(80))
		for i := range b {
			b[i] = byte('a' + r.IntN(26))
		}
		sp := specials[r.IntN(len(specials))]
		at := r.IntN(len(b) + 1)
		str := string(b[:at]) + sp + string(b[at:])
		prefix := []byte("x:")[:r.IntN(3)]
		got := appendJSONStringFast(append([]byte(nil), prefix...), str)
		if want := sdk.AppendJSONString(append([]byte(nil), prefix...), str); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %q want %q", str, got, want)
		}
	}
	for _, s := range randStrings {
		if got, want := appendJSONStringFast(nil, s), sdk.AppendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %q want %q", s, got, want)
		}
	}
}

// TestJSONEncoderRenumbered: batches numbering the same names
// differently are written without a false repeat (and so without the
// slow path), and a name numbered twice is caught after renumbering.
func TestJSONEncoderRenumbered(t *testing.T) {
	fast := JSONEncoder{Unordered: true}
	var dec host.Decoder
	for _, order := range [][]string{{"a", "b", "c"}, {"b", "a", "c"}, {"c", "b", "a"}, {"a", "b", "c"}} {
		events := []*sdk.Event{sdk.NewEmptyEvent()}
		for _, k := range order {
			events[0].Fields()[k] = map[string]any{"a": k, "b": int64(1), "c": true}
		}
		want := parseJSON(t, (&JSONEncoder{}).AppendEvent(nil, events[0]))
		decoded, err := dec.Decode(host.EncodeBatch(events))
		if err != nil {
			t.Fatal(err)
		}
		if got := parseJSON(t, fast.AppendEvent(nil, decoded[0])); !reflect.DeepEqual(got, want) {
			t.Fatalf("%v: got %v want %v", order, got, want)
		}
	}
	if fast.slow != 0 {
		t.Fatalf("%d events took the slow path", fast.slow)
	}
}

// TestJSONEncoderMemo: events that repeat some of their fields, as events
// from one source do, in batches that number their names in different
// orders, with more names, or the same: the values the encoder keeps from
// event to event (memoField) are written only where they are still what
// the event holds, with the names the event's batch gives them.
func TestJSONEncoderMemo(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	pool := make([]any, 12) // the values fields repeat
	for i := range pool {
		pool[i] = randValue(r, 1)
	}
	fast := JSONEncoder{Unordered: true}
	var dec host.Decoder
	// The same bytes under another dictionary: {"a":{"b":1}} then
	// {"a":{"c":1}}, each batch numbering a 0 and the other name 1.
	for _, inner := range []string{"b", "c", "b"} {
		e := sdk.NewEmptyEvent()
		e.Fields()["a"] = map[string]any{inner: int64(1)}
		decoded, err := dec.Decode(host.EncodeBatch([]*sdk.Event{e, e}))
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range decoded {
			if got, want := string(fast.AppendEvent(nil, d)), `{"a":{"`+inner+`":1}}`; got != want {
				t.Fatalf("got %s want %s", got, want)
			}
		}
	}
	var hits int
	for round := range 200 {
		events := make([]*sdk.Event, 1+r.IntN(30))
		for i := range events {
			e := sdk.NewEmptyEvent()
			e.SetTimestampNano(r.Int64N(4e18))
			for range 1 + r.IntN(10) {
				if r.IntN(3) == 0 {
					e.Fields()[randKey(r)] = randValue(r, 1)
				} else {
					e.Fields()[randKey(r)] = pool[r.IntN(len(pool))]
				}
			}
			events[i] = e
		}
		want := make([]any, len(events))
		for i, e := range events {
			want[i] = parseJSON(t, (&JSONEncoder{}).AppendEvent(nil, e))
		}
		decoded, err := dec.Decode(host.EncodeBatch(events))
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range decoded {
			before := memoHits(&fast)
			b := fast.AppendEvent(nil, e)
			hits += memoHits(&fast) - before
			if got := parseJSON(t, b); !reflect.DeepEqual(got, want[i]) {
				t.Fatalf("round %d event %d: got %s\nwant %v", round, i, b, want[i])
			}
		}
	}
	if hits < 300 {
		t.Fatalf("%d values written from the memo: the test does not exercise it", hits)
	}
}

func memoHits(enc *JSONEncoder) int { return enc.memoHits }
