package sdk

import (
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// randomScalar is a string (short, empty, past the one-byte lengths), a
// small or large int or a float: values in v, and as a Scalar.
func randomScalar(rng *rand.Rand, tag string) Scalar {
	switch rng.Intn(6) {
	case 0:
		return IntScalar(int64(rng.Intn(300)) - 20)
	case 1:
		return IntScalar(rng.Int63() - rng.Int63())
	case 2:
		return FloatScalar(rng.NormFloat64() * 1e3)
	case 3:
		return StringScalar(strings.Repeat("long-"+tag, 1+rng.Intn(40)))
	case 4:
		return StringScalar("")
	}
	return StringScalar(tag)
}

// eventOp is something a filter might do to an event before or after a
// set: the same op is done to both events compared.
func eventOp(rng *rand.Rand, names []string, round int) func(e *Event) {
	ref := MustParseFieldRef(names[rng.Intn(len(names))])
	switch rng.Intn(9) {
	case 0:
		return func(e *Event) { ref.Get(e) }
	case 1:
		return func(e *Event) { ref.GetString(e) }
	case 2:
		return func(e *Event) { _ = ref.Set(e, fmt.Sprintf("op%d", round)) }
	case 3:
		return func(e *Event) { ref.Delete(e) }
	case 4:
		return func(e *Event) { e.AddTag(fmt.Sprintf("t%d", round%3)) }
	case 5:
		return func(e *Event) { e.Fields()["f"] = int64(round) }
	case 6:
		return func(e *Event) { _ = e.Message() }
	case 7:
		return func(e *Event) { e.Clone() }
	}
	return func(*Event) {}
}

// TestSetScalarsMatchesSet: SetScalars (and SetSpans, every other pair
// of rounds) leaves a decoded event as Set with the same values boxed does: read back, listed (Fields, ToMap, Clone),
// seen by an encoder (rawView), and after crossing to another process
// and back twice, with random reads, sets, deletes and repeats of the
// same names before and after. Both events of a batch are set, so they
// share the dictionary the new names are numbered in.
func TestSetScalarsMatchesSet(t *testing.T) {
	names := []string{"a", "b", "c", "message", "s", "n", "tags", "new1", "new2", "[a][x]", "[h][r][m]",
		"[h][v]", "[n][k]", "@timestamp", "[@metadata][x]", "l"}
	plain := []string{"b", "c", "message", "s", "new1", "new2", "[a][x]", "[a][y]", "[h][r][m]", "[h][v]",
		"[new3][p][q]", "[new3][r]", "[n][k]", "[l][z]"}
	base := func(i int) *Event {
		e := NewEvent(fmt.Sprintf("line %d", i))
		e.SetTimestampNano(1e18 + int64(i))
		_ = e.Set("s", "text")
		_ = e.Set("n", nil)
		_ = e.Set("[h][keep]", "k")
		_ = e.Set("l", []any{"x"})
		if i%2 == 0 {
			_ = e.Set("a", int64(7))
		}
		return e
	}
	batch := encodeBatch([]*Event{base(0), base(1), base(2)})
	rng := rand.New(rand.NewSource(5))
	var decA, decB, decA2, decB2 batchDecoder
	for round := range 2000 {
		// Half the rounds without the names that make a FieldSet set
		// one by one (special names, a name and one under it).
		pool := names
		if round%2 == 1 {
			pool = plain
		}
		refs := make([]FieldRef, 1+rng.Intn(8))
		for i := range refs {
			refs[i] = MustParseFieldRef(pool[rng.Intn(len(pool))])
		}
		if rng.Intn(3) == 0 {
			refs = append(refs, refs[rng.Intn(len(refs))])
		}
		set := NewFieldSet(refs)
		vals := make([]Scalar, len(refs))
		for i := range vals {
			vals[i] = randomScalar(rng, fmt.Sprintf("v%d-%d", round, i))
		}
		boxed := func(i int, v *Values) any { return vals[i].box(v) }
		scalar := func(i int) Scalar { return vals[i] }
		// Every other round SetSpans: the strings cut from one text (with
		// text around them), the numbers and some strings by value.
		var text strings.Builder
		spans := make([]Span, len(vals))
		var other uint64
		for i, v := range vals {
			if v.kind != scalarString || rng.Intn(4) == 0 {
				other |= 1 << i
				continue
			}
			text.WriteString("<")
			spans[i].Start = text.Len()
			text.WriteString(v.s)
			spans[i].End = text.Len()
		}
		line := text.String()
		setB := set.SetScalars
		if round%4 >= 2 {
			setB = func(e *Event, value func(int) Scalar) error { return set.SetSpans(e, line, spans, other, value) }
		}
		var before, after []func(*Event)
		for range rng.Intn(4) {
			before = append(before, eventOp(rng, names, round))
		}
		for range rng.Intn(4) {
			after = append(after, eventOp(rng, names, round))
		}
		again := rng.Intn(4) == 0 // the same set a second time
		if round%7 == 0 {
			decA.Release()
			decB.Release()
		}
		ea, err := decA.Decode(batch)
		if err != nil {
			t.Fatal(err)
		}
		eb, err := decB.Decode(batch)
		if err != nil {
			t.Fatal(err)
		}
		for k := range ea {
			a, b := ea[k], eb[k]
			for _, op := range before {
				op(a)
				op(b)
			}
			wantErr := set.Set(a, boxed)
			gotErr := setB(b, scalar)
			if again {
				wantErr = set.Set(a, boxed)
				gotErr = setB(b, scalar)
			}
			if (gotErr == nil) != (wantErr == nil) {
				t.Fatalf("round %d, refs %v: error %v, Set's %v", round, refs, gotErr, wantErr)
			}
			if got, want := viewMap(t, b), viewMap(t, a); !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d, refs %v: rawView after the set\n got %v\nwant %v", round, refs, got, want)
			}
			for _, r := range refs {
				va, oka := r.Get(a)
				vb, okb := r.Get(b)
				if oka != okb || !reflect.DeepEqual(va, vb) {
					t.Fatalf("round %d, refs %v: %s = %#v %v, Set's %#v %v", round, refs, r, vb, okb, va, oka)
				}
			}
			for _, op := range after {
				op(a)
				op(b)
			}
			if got, want := viewMap(t, b), viewMap(t, a); !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d, refs %v: rawView\n got %v\nwant %v", round, refs, got, want)
			}
		}
		// Two crossings: encoded as a batch, decoded, set again.
		wa, wb := encodeBatch(ea), encodeBatch(eb)
		da, err := decA2.Decode(wa)
		if err != nil {
			t.Fatal(err)
		}
		db, err := decB2.Decode(wb)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for k := range da {
			_ = set.Set(da[k], boxed)
			_ = setB(db[k], scalar)
		}
		wa, wb = encodeBatch(da), encodeBatch(db)
		ga, _ := decodeBatch(wa)
		gb, err := decodeBatch(wb)
		if err != nil {
			t.Fatal(err)
		}
		for k := range ea {
			if got, want := ea[k].Clone().ToMap(true), eb[k].Clone().ToMap(true); !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d, refs %v: clones differ\n got %v\nwant %v", round, refs, got, want)
			}
			if got, want := gb[k].ToMap(true), ga[k].ToMap(true); !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d, refs %v, event %d: after two crossings\n got %v\nwant %v", round, refs, k, got, want)
			}
			if got, want := eb[k].ToMap(true), ea[k].ToMap(true); !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d, refs %v:\n got %v\nwant %v", round, refs, got, want)
			}
		}
	}
}

// viewMap is what an encoder sees of e through rawView: the raw fields
// decoded, and the map's, without changing e.
func viewMap(t *testing.T, e *Event) map[string]any {
	t.Helper()
	fields, dict, raw := rawView(e, nil)
	out := map[string]any{}
	for k, v := range fields {
		out[k] = v
	}
	for _, f := range raw {
		v, err := decodeValue(f.Value, dict, &slab{})
		if err != nil {
			t.Fatalf("raw value of %s: %v", dict[f.Key], err)
		}
		if _, dup := out[dict[f.Key]]; dup {
			t.Fatalf("%s is both raw and in the map", dict[f.Key])
		}
		out[dict[f.Key]] = v
	}
	if span, fields := rawSpan(e); span != nil {
		// The span alone must hold every raw field (rawjson then reads
		// nothing else).
		alone := map[string]any{}
		for k, v := range fields {
			alone[k] = v
		}
		for data := span; len(data) > 0; {
			_, _, n := consumeTag(data)
			field, m := consumeBytes(data[n:])
			key, value, err := splitField(field, len(dict))
			if err != nil {
				t.Fatal(err)
			}
			alone[dict[key]], _ = decodeValue(value, dict, &slab{})
			data = data[n+m:]
		}
		if !reflect.DeepEqual(alone, out) {
			t.Fatalf("rawSpan's fields %v, rawView's %v", alone, out)
		}
	}
	return out
}

// Values SetScalars wrote into a batch that was not released stay what
// they were after the next batch is decoded: a string read from a set
// field is the event's memory, as the batch's own strings are.
func TestSetScalarsValuesOutliveTheBatch(t *testing.T) {
	set := NewFieldSet([]FieldRef{MustParseFieldRef("a"), MustParseFieldRef("b")})
	batch := encodeBatch([]*Event{NewEvent("one"), NewEvent("two")})
	var dec batchDecoder
	type kept struct {
		s    string
		want string
	}
	var keep []kept
	for round := range 40 {
		evs, err := dec.Decode(batch)
		if err != nil {
			t.Fatal(err)
		}
		for j, e := range evs {
			if err := set.SetScalars(e, func(i int) Scalar { return StringScalar(fmt.Sprintf("%d-%d-%d", round, j, i)) }); err != nil {
				t.Fatal(err)
			}
		}
		if round%10 == 0 {
			s, _ := MustParseFieldRef("b").GetString(evs[1])
			keep = append(keep, kept{s, fmt.Sprintf("%d-1-1", round)})
			continue // not released: the values may be held
		}
		dec.Release()
	}
	for _, k := range keep {
		if k.s != k.want {
			t.Errorf("kept %q, want %q", k.s, k.want)
		}
	}
}

// Filters may run different events of one batch on different goroutines
// (the race detector checks the shared dictionary): every event gets its
// fields, and the batch encodes them all.
func TestSetScalarsConcurrentEventsOfABatch(t *testing.T) {
	evs := make([]*Event, 64)
	for i := range evs {
		evs[i] = NewEvent(fmt.Sprintf("line %d", i))
	}
	batch := encodeBatch(evs)
	sets := []*FieldSet{
		NewFieldSet([]FieldRef{MustParseFieldRef("x"), MustParseFieldRef("y")}),
		NewFieldSet([]FieldRef{MustParseFieldRef("y"), MustParseFieldRef("z"), MustParseFieldRef("[n][m]")}),
	}
	var dec batchDecoder
	for range 20 {
		got, err := dec.Decode(batch)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(got); i += 4 {
					for _, s := range sets {
						_ = s.SetScalars(got[i], func(k int) Scalar { return StringScalar(fmt.Sprintf("%d/%d", i, k)) })
					}
				}
			}()
		}
		wg.Wait()
		out, err := decodeBatch(encodeBatch(got))
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range out {
			want := map[string]any{"x": fmt.Sprintf("%d/0", i), "y": fmt.Sprintf("%d/0", i), "z": fmt.Sprintf("%d/1", i),
				"n": map[string]any{"m": fmt.Sprintf("%d/2", i)}, "message": fmt.Sprintf("line %d", i), "@version": "1"}
			f := e.Fields()
			if !reflect.DeepEqual(f, want) {
				t.Fatalf("event %d: %v, want %v", i, f, want)
			}
		}
		dec.Release()
	}
}

// Batches whose dictionaries differ (other names, other orders) come in
// turn: the numbers kept for one (FieldSet.seen, grown) are not used for
// another, and each event gets its own names.
func TestSetScalarsBatchesOfOtherNamesInTurn(t *testing.T) {
	mk := func(names ...string) []byte {
		var evs []*Event
		for i := range 3 {
			e := NewEvent(fmt.Sprintf("line %d", i))
			for _, n := range names {
				_ = e.Set(n, n+"-old")
			}
			evs = append(evs, e)
		}
		return encodeBatch(evs)
	}
	batches := [][]byte{mk("a"), mk("b", "a"), mk("c"), mk("h")}
	set := NewFieldSet([]FieldRef{MustParseFieldRef("[h][x]"), MustParseFieldRef("a"), MustParseFieldRef("new"), MustParseFieldRef("[n][m][o]")})
	vals := []Scalar{StringScalar("hx"), IntScalar(300), StringScalar("n"), FloatScalar(1.5)}
	var decA, decB batchDecoder
	for round := range 40 {
		batch := batches[(round*7)%len(batches)]
		decA.Release()
		decB.Release()
		ea, err := decA.Decode(batch)
		if err != nil {
			t.Fatal(err)
		}
		eb, _ := decB.Decode(batch)
		for k := range ea {
			wantErr := set.Set(ea[k], func(i int, v *Values) any { return vals[i].box(v) })
			gotErr := set.SetScalars(eb[k], func(i int) Scalar { return vals[i] })
			if (gotErr == nil) != (wantErr == nil) {
				t.Fatalf("round %d: error %v, Set's %v", round, gotErr, wantErr)
			}
			if got, want := viewMap(t, eb[k]), viewMap(t, ea[k]); !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d:\n got %v\nwant %v", round, got, want)
			}
		}
		ga, _ := decodeBatch(encodeBatch(ea))
		gb, err := decodeBatch(encodeBatch(eb))
		if err != nil {
			t.Fatal(err)
		}
		for k := range ga {
			if got, want := gb[k].ToMap(true), ga[k].ToMap(true); !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d, crossed:\n got %v\nwant %v", round, got, want)
			}
		}
	}
}
