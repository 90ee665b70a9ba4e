package sdk

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// The tests in this file check that an event decoded by a batchDecoder (its
// top-level fields raw until asked for, its objects lent by the decoder)
// behaves exactly as the same event decoded in full (decodeBatch), through
// every accessor a filter or output uses, and that what the batchEncoder makes
// of it (raw fields copied, the batch's dictionary reused, shared objects
// written once) reads back as the fully decoded event changed the same way.

// reviewRefs are the references the operations pick from: top-level names
// that are raw in decoded events, nested ones below them, @metadata and
// @timestamp, and names no event has.
var reviewRefs = []string{
	"message", "tags", "a", "b", "type", "n", "items", "zz",
	"[a][x]", "[a][y][z]", "[b][c]", "[zz][q]", "[items]",
	"f3", "[f140]", "[f7][x]",
	"[@metadata][m]", "[@metadata][m][k]", "[@metadata]", "@timestamp",
}

var reviewStrings = []string{"", "m1", "t1", "x", "héllo wörld", strings.Repeat("L", 130), "web-1"}

// reviewValue returns a random event value, nested up to depth.
func reviewValue(r *rand.Rand, depth int) any {
	n := 8
	if depth > 0 {
		n = 10
	}
	switch r.IntN(n) {
	case 0, 1:
		return reviewStrings[r.IntN(len(reviewStrings))]
	case 2:
		return []int64{0, 1, -1, 300, 1 << 40, math.MaxInt64, math.MinInt64}[r.IntN(7)]
	case 3:
		return []float64{0.5, -2.25, 1e300, 0}[r.IntN(4)]
	case 4:
		return r.IntN(2) == 0
	case 5:
		return nil
	case 6:
		return reviewStrings[r.IntN(len(reviewStrings))]
	case 7:
		return int64(r.IntN(1000))
	case 8:
		l := make([]any, r.IntN(4))
		for i := range l {
			l[i] = reviewValue(r, depth-1)
		}
		return l
	default:
		m := map[string]any{}
		for range r.IntN(4) {
			m[[]string{"x", "y", "z", "k", "q", "name", "a"}[r.IntN(7)]] = reviewValue(r, depth-1)
		}
		return m
	}
}

func reviewEvent(r *rand.Rand) *Event {
	e := NewEmptyEvent()
	if r.IntN(5) > 0 {
		e.SetTimestampNano(r.Int64N(1<<62) - 1<<61)
	}
	for range r.IntN(8) {
		_ = e.Set(reviewRefs[r.IntN(len(reviewRefs)-2)], reviewValue(r, 2))
	}
	if r.IntN(3) == 0 {
		e.AddTag(reviewStrings[r.IntN(3)])
	}
	// Wide events: a dictionary past 16 names (looked up through a set)
	// and past 127 (names of two bytes on the wire).
	switch r.IntN(8) {
	case 0:
		for i := range 20 {
			_ = e.Set(fmt.Sprint("f", i), int64(i))
		}
	case 1:
		for i := range 150 {
			_ = e.Set(fmt.Sprint("f", i), reviewValue(r, 0))
		}
	}
	// Long events: a length of three bytes.
	if r.IntN(10) == 0 {
		_ = e.Set("long", strings.Repeat("0123456789", 2000))
	}
	return e
}

// reviewPair is one event as decoded lazily (l) and in full (e).
type reviewPair struct{ l, e *Event }

type reviewChecker struct {
	t      *testing.T
	log    []string
	failed bool
	exprs  []*Expression
	conds  []*Condition
	tmpls  []*Template
	ops    int
}

func (c *reviewChecker) step(format string, args ...any) {
	c.log = append(c.log, fmt.Sprintf(format, args...))
}

func (c *reviewChecker) same(what string, got, want any) {
	if c.failed || reflect.DeepEqual(got, want) {
		return
	}
	c.failed = true
	c.t.Errorf("%s: lazy %s, full %s\noperations:\n  %s", what, short(got), short(want), strings.Join(c.log, "\n  "))
}

// noEmptyMeta reads an empty [@metadata] as none: an event a batchDecoder
// reuses keeps its emptied @metadata map, so [@metadata] is found (and
// empty) where a new event has none. That predates raw fields (see
// TestReviewReusedEventMetadata); the random test looks past it.
func noEmptyMeta(ref string, v any, ok bool) (any, bool) {
	if m, isMap := v.(map[string]any); ref == "[@metadata]" && isMap && len(m) == 0 {
		return nil, false
	}
	return v, ok
}

// reviewRefsParsed are reviewRefs parsed once, for every batch.
var reviewRefsParsed sync.Map

func reviewParsed(ref string) FieldRef {
	if r, ok := reviewRefsParsed.Load(ref); ok {
		return r.(FieldRef)
	}
	r := MustParseFieldRef(ref)
	reviewRefsParsed.Store(ref, r)
	return r
}

// apply runs one random operation on both events of p. It returns the
// pairs the operation made (clones, new events) and whether p is dropped.
func (c *reviewChecker) apply(r *rand.Rand, p reviewPair) (extra []reviewPair, dropped bool) {
	ref := reviewRefs[r.IntN(len(reviewRefs))]
	l, e := p.l, p.e
	c.ops++
	op := r.IntN(23)
	if op >= 20 && ref == "[@metadata]" {
		ref = "a" // see noEmptyMeta
	}
	switch op {
	case 0, 1:
		c.step("Get(%s)", ref)
		// The lazy event through a reference parsed once and used on
		// every batch, as a filter's are (it remembers its number in a
		// batch's dictionary).
		lv, lok := l.Get(ref)
		ev, eok := reviewParsed(ref).Get(e)
		lv, lok = noEmptyMeta(ref, lv, lok)
		ev, eok = noEmptyMeta(ref, ev, eok)
		c.same("Get "+ref, []any{lv, lok}, []any{ev, eok})
	case 2, 3:
		v := reviewValue(r, 2)
		c.step("Set(%s, %s)", ref, short(v))
		le, ee := l.Set(ref, cloneValue(v)), reviewParsed(ref).Set(e, cloneValue(v))
		c.same("Set "+ref+" failed", le != nil, ee != nil)
	case 4:
		c.step("Delete(%s)", ref)
		r1, _ := ParseFieldRef(ref)
		lv, lok := r1.Delete(l)
		ev, eok := r1.Delete(e)
		lv, lok = noEmptyMeta(ref, lv, lok)
		ev, eok = noEmptyMeta(ref, ev, eok)
		c.same("Delete "+ref, []any{lv, lok}, []any{ev, eok})
	case 5:
		tag := reviewStrings[r.IntN(3)]
		c.step("AddTag(%q)", tag)
		l.AddTag(tag)
		e.AddTag(tag)
	case 6:
		tag := reviewStrings[r.IntN(3)]
		c.step("RemoveTag(%q)", tag)
		l.RemoveTag(tag)
		e.RemoveTag(tag)
	case 7:
		tag := reviewStrings[r.IntN(3)]
		c.step("HasTag(%q), Tags()", tag)
		c.same("HasTag", l.HasTag(tag), e.HasTag(tag))
		c.same("Tags", l.Tags(), e.Tags())
	case 8:
		c.step("Message()")
		c.same("Message", l.Message(), e.Message())
	case 9:
		c.step("Fields()")
		c.same("Fields", l.Fields(), e.Fields())
	case 10:
		k := []string{"message", "a", "new", "tags"}[r.IntN(4)]
		v := reviewValue(r, 1)
		c.step("Fields()[%s] = %s", k, short(v))
		l.Fields()[k] = cloneValue(v)
		e.Fields()[k] = cloneValue(v)
	case 11:
		v := reviewValue(r, 1)
		c.step("Container(%s) = %s", ref, short(v))
		r1, _ := ParseFieldRef(ref)
		lm, lleaf, lerr := r1.Container(l)
		em, eleaf, eerr := r1.Container(e)
		c.same("Container "+ref, []any{lleaf, lerr != nil}, []any{eleaf, eerr != nil})
		if lerr == nil && eerr == nil {
			c.same("Container "+ref+" old value", lm[lleaf], em[eleaf])
			lm[lleaf], em[eleaf] = cloneValue(v), cloneValue(v)
		}
	case 12:
		v := reviewValue(r, 1)
		c.step("Metadata()[mm] = %s", short(v))
		l.Metadata()["mm"] = cloneValue(v)
		e.Metadata()["mm"] = cloneValue(v)
	case 13:
		c.step("ToMap(true)")
		c.same("ToMap", l.ToMap(true), e.ToMap(true))
	case 14:
		tm := c.tmpls[r.IntN(len(c.tmpls))]
		c.step("Render(%s)", tm)
		c.same("Render "+tm.String(), tm.Render(l), tm.Render(e))
	case 15:
		x := c.exprs[r.IntN(len(c.exprs))]
		c.step("Eval(%s)", x)
		lv, lerr := x.Eval(l)
		ev, eerr := x.Eval(e)
		c.same("Eval "+x.String(), []any{lv, lerr != nil}, []any{ev, eerr != nil})
	case 16:
		x := c.conds[r.IntN(len(c.conds))]
		c.step("Match(%s)", x)
		lv, lerr := x.Match(l)
		ev, eerr := x.Match(e)
		c.same("Match "+x.String(), []any{lv, lerr != nil}, []any{ev, eerr != nil})
	case 17:
		c.step("Clone()")
		cp := reviewPair{l.Clone(), e.Clone()}
		if r.IntN(2) == 0 {
			v := reviewValue(r, 1)
			c.step("clone.Set(%s, %s)", ref, short(v))
			_, _ = cp.l.Set(ref, cloneValue(v)), cp.e.Set(ref, cloneValue(v))
		}
		extra = append(extra, cp)
	case 18:
		s := reviewStrings[r.IntN(len(reviewStrings))]
		c.step("Set(%s, StringValue(%q))", ref, s)
		le, ee := l.Set(ref, l.StringValue(s)), e.Set(ref, e.StringValue(s))
		c.same("Set StringValue "+ref+" failed", le != nil, ee != nil)
	case 19:
		v := reviewValue(r, 1)
		c.step("Delete(%s), Set(%s, %s)", ref, ref, short(v))
		l.Delete(ref)
		e.Delete(ref)
		le, ee := l.Set(ref, cloneValue(v)), e.Set(ref, cloneValue(v))
		c.same("Set after Delete "+ref+" failed", le != nil, ee != nil)
	case 20:
		// A value put at a second place: an object the encoder meets
		// twice in one event.
		c.step("Set(zz, Get(%s))", ref)
		lv, lok := l.Get(ref)
		ev, eok := e.Get(ref)
		if lok && eok && ref != "zz" && !strings.HasPrefix(ref, "[zz]") {
			_, _ = l.Set("zz", lv), e.Set("zz", ev)
		}
	case 21:
		// A new event holding a value of this one: an object the
		// encoder meets in two events.
		c.step("NewEvent with [from] = Get(%s)", ref)
		lv, lok := l.Get(ref)
		ev, eok := e.Get(ref)
		np := reviewPair{NewEmptyEvent(), NewEmptyEvent()}
		np.l.SetTimestampNano(7)
		np.e.SetTimestampNano(7)
		if lok && eok {
			_, _ = np.l.Set("from", lv), np.e.Set("from", ev)
		}
		extra = append(extra, np)
	case 22:
		if r.IntN(3) == 0 {
			c.step("dropped")
			return nil, true
		}
		// A filter changing an object it read, in place.
		v := reviewValue(r, 1)
		c.step("Get(%s)[w] = %s", ref, short(v))
		lv, _ := l.Get(ref)
		ev, _ := e.Get(ref)
		lm, lok := lv.(map[string]any)
		em, eok := ev.(map[string]any)
		c.same("Get "+ref+" is a map", lok, eok)
		if lok && eok {
			lm["w"], em["w"] = cloneValue(v), cloneValue(v)
		}
	}
	return extra, false
}

// uniqueNames fails when an encoded event carries a field name twice: a
// name both raw and in the map (the invariant of rawFields broken).
func uniqueNames(t *testing.T, data []byte) bool {
	t.Helper()
	var pb pluginv1.EventBatch
	if err := proto.Unmarshal(data, &pb); err != nil {
		t.Errorf("the generated code cannot read the batch: %v", err)
		return false
	}
	for i, pe := range pb.Events {
		for _, fs := range [][]*pluginv1.Field{pe.Fields, pe.Metadata} {
			seen := map[string]bool{}
			for _, f := range fs {
				k := pb.Keys[f.Key]
				if seen[k] {
					t.Errorf("event %d: field %q written twice", i, k)
					return false
				}
				seen[k] = true
			}
		}
	}
	return true
}

func reviewCompile(t *testing.T) *reviewChecker {
	c := &reviewChecker{t: t}
	for _, src := range []string{
		`message`, `a.x`, `a.y.z`, `$env["b"]`, `metadata.m`, `timestamp`,
		`len(tags ?? [])`, `map(items ?? [], #)`, `filter(items ?? [], # == message)`,
		`any(tags ?? [], # == "t1")`, `"x" + "y"`, `{"k": b, "t": type}`,
		`get($env, "zz")`, `zz?.q`, `n ?? "none"`, `[a?.x, b]`,
	} {
		x, err := CompileExpression(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		c.exprs = append(c.exprs, x)
	}
	for _, src := range []string{
		`message == "m1"`, `a?.x != nil`, `"t1" in (tags ?? [])`, `$env["type"] == nil`,
		`metadata.m == nil`, `all(items ?? [], # != message)`, `b == "x" || zz != nil`,
	} {
		x, err := CompileCondition(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		c.conds = append(c.conds, x)
	}
	for _, src := range []string{
		"%{message}|%{[a][x]}|%{b}", "%{[@metadata][m]} %{tags}", "%{zz}-%{[zz][q]}-%{type}", "%{n}",
	} {
		x, err := ParseTemplate(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		c.tmpls = append(c.tmpls, x)
	}
	return c
}

// runHop decodes data lazily with dec (and, for the reference, decodes
// want in full, or data itself when want is nil), applies random
// operations to both, encodes the lazy events with enc and checks the
// result reads as the full events. It returns the encoded batch (a copy)
// and the full events, for the next hop. A batch from another encoder may
// name a field twice in an event, which stays twice while it is raw, so
// unique is false for those.
func (c *reviewChecker) runHop(r *rand.Rand, dec, other *batchDecoder, enc *batchEncoder, data []byte, want []*Event, unique bool) ([]byte, []*Event) {
	t := c.t
	lazy, err := dec.Decode(data)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	var full []*Event
	if want != nil {
		full, err = decodeBatch(encodeBatch(want))
	} else {
		full, err = decodeBatch(data)
	}
	if err != nil {
		t.Fatal(err)
	}
	pairs := make([]reviewPair, len(lazy))
	for i := range lazy {
		pairs[i] = reviewPair{lazy[i], full[i]}
	}
	// Now and then events of another batch (another dictionary) come
	// along, as when a filter keeps events of an earlier batch.
	if r.IntN(3) == 0 {
		xs := []*Event{reviewEvent(r), reviewEvent(r)}
		xdata := encodeBatch(xs)
		xl, err := other.Decode(xdata)
		if err != nil {
			t.Fatal(err)
		}
		xf, _ := decodeBatch(xdata)
		for i := range xl {
			at := r.IntN(len(pairs) + 1)
			pairs = append(pairs[:at], append([]reviewPair{{xl[i], xf[i]}}, pairs[at:]...)...)
		}
		c.step("mixed in 2 events of another batch")
	}
	var out []reviewPair
	for i, p := range pairs {
		c.step("-- event %d", i)
		dropped := false
		var extra []reviewPair
		for range r.IntN(8) {
			x, d := c.apply(r, p)
			extra = append(extra, x...)
			if d {
				dropped = true
				break
			}
		}
		if !dropped {
			out = append(out, p)
		}
		out = append(out, extra...)
		if c.failed {
			return nil, nil
		}
	}
	var ls, fs []*Event
	for _, p := range out {
		ls, fs = append(ls, p.l), append(fs, p.e)
	}
	encoded := append([]byte(nil), enc.Encode(ls)...)
	if unique && !uniqueNames(t, encoded) {
		c.failed = true
		t.Errorf("operations:\n  %s", strings.Join(c.log, "\n  "))
		return nil, nil
	}
	got, err := decodeBatch(encoded)
	if err != nil {
		t.Fatalf("re-encoded batch: %v\n  %s", err, strings.Join(c.log, "\n  "))
	}
	if len(got) != len(fs) {
		c.same("event count", len(got), len(fs))
		return nil, nil
	}
	for i := range fs {
		c.same(fmt.Sprintf("event %d @timestamp", i), got[i].TimestampNano(), fs[i].TimestampNano())
		c.same(fmt.Sprintf("event %d after the wire", i), got[i].ToMap(true), fs[i].ToMap(true))
	}
	return encoded, fs
}

// Random operation sequences on lazily and fully decoded copies of random
// batches, over two process hops, with decoders and encoders reused from
// batch to batch as a plugin process reuses them.
func TestReviewLazyMatchesFullRandomly(t *testing.T) {
	rounds := 600
	if testing.Short() {
		rounds = 200
	}
	c := reviewCompile(t)
	var dec1, dec2, other batchDecoder
	var enc1, enc2 batchEncoder
	for round := range rounds {
		r := rand.New(rand.NewPCG(uint64(round), 2026))
		c.log = c.log[:0]
		c.step("round %d", round)
		src := make([]*Event, 1+r.IntN(5))
		for i := range src {
			src[i] = reviewEvent(r)
		}
		data := encodeBatch(src)
		next, want := c.runHop(r, &dec1, &other, &enc1, data, src, true)
		if c.failed {
			t.Fatalf("round %d failed", round)
		}
		c.step("== second hop")
		c.runHop(r, &dec2, &other, &enc2, next, want, true)
		if c.failed {
			t.Fatalf("round %d failed", round)
		}
		if round%3 != 0 {
			// As after a chain of Transient filters: the next batches
			// are boxed in this one's memory.
			dec1.Release()
			dec2.Release()
		}
	}
	t.Logf("%d operations", c.ops)
}

// Batches as another encoder may write them (the generated code, another
// language's SDK): a name in the dictionary twice, keys after the events,
// a Field whose name 0 is left out, @metadata and fields interleaved, a
// name written twice in one event. The lazy decoder must read them as
// the full one does, through the same random operations and two hops.
func TestReviewForeignBatchesRandomly(t *testing.T) {
	rounds := 300
	if testing.Short() {
		rounds = 100
	}
	c := reviewCompile(t)
	var dec1, dec2, other batchDecoder
	var enc1, enc2 batchEncoder
	for round := range rounds {
		r := rand.New(rand.NewPCG(uint64(round), 77))
		c.log = c.log[:0]
		c.step("round %d (foreign batch)", round)
		src := make([]*Event, 1+r.IntN(4))
		for i := range src {
			src[i] = reviewEvent(r)
		}
		data := foreignBatch(r, src)
		next, want := c.runHop(r, &dec1, &other, &enc1, data, nil, false)
		if c.failed {
			t.Fatalf("round %d failed", round)
		}
		c.step("== second hop")
		c.runHop(r, &dec2, &other, &enc2, next, want, false)
		if c.failed {
			t.Fatalf("round %d failed", round)
		}
	}
}

// foreignBatch writes events as an encoder other than this SDK's may.
func foreignBatch(r *rand.Rand, events []*Event) []byte {
	var names []string
	seen := map[string]bool{}
	var collect func(v any)
	collect = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				if !seen[k] {
					seen[k] = true
					names = append(names, k)
				}
				collect(x)
			}
		case []any:
			for _, x := range t {
				collect(x)
			}
		}
	}
	for _, e := range events {
		collect(e.Fields())
		collect(e.meta)
	}
	// Some names twice in the dictionary, in a random order.
	var keys []string
	for _, k := range names {
		keys = append(keys, k)
		if r.IntN(3) == 0 {
			keys = append(keys, k)
		}
	}
	r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	index := map[string][]uint32{}
	for i, k := range keys {
		index[k] = append(index[k], uint32(i))
	}
	key := func(k string) uint32 { l := index[k]; return l[r.IntN(len(l))] }
	field := func(k string, v any) []byte {
		value, err := proto.Marshal(toProto(v, key))
		if err != nil {
			panic(err)
		}
		var f []byte
		if kk := key(k); kk != 0 || r.IntN(2) == 0 {
			f = protowire.AppendTag(f, ffKey, protowire.VarintType)
			f = protowire.AppendVarint(f, uint64(kk))
		}
		f = protowire.AppendTag(f, ffValue, protowire.BytesType)
		return protowire.AppendBytes(f, value)
	}
	var batch []byte
	keysFirst := r.IntN(2) == 0
	appendKeys := func() {
		for _, k := range keys {
			batch = protowire.AppendTag(batch, fbKeys, protowire.BytesType)
			batch = protowire.AppendString(batch, k)
		}
	}
	if keysFirst {
		appendKeys()
	}
	for _, e := range events {
		var parts [][]byte
		part := func(num protowire.Number, f []byte) []byte {
			b := protowire.AppendTag(nil, num, protowire.BytesType)
			return protowire.AppendBytes(b, f)
		}
		for _, k := range SortedKeys(e.Fields()) {
			if r.IntN(5) == 0 {
				// An older value first: the last one counts.
				parts = append(parts, part(feFields, field(k, "stale")))
			}
			parts = append(parts, part(feFields, field(k, e.Fields()[k])))
		}
		var meta [][]byte
		for _, k := range SortedKeys(e.meta) {
			meta = append(meta, part(feMeta, field(k, e.meta[k])))
		}
		// Interleave @metadata among the fields, keeping each one's order.
		for _, m := range meta {
			at := r.IntN(len(parts) + 1)
			parts = append(parts[:at], append([][]byte{m}, parts[at:]...)...)
		}
		if e.ts != 0 {
			ts := protowire.AppendTag(nil, feTimestamp, protowire.VarintType)
			ts = protowire.AppendVarint(ts, protowire.EncodeZigZag(e.ts))
			at := r.IntN(len(parts) + 1)
			parts = append(parts[:at], append([][]byte{ts}, parts[at:]...)...)
		}
		var ev []byte
		for _, p := range parts {
			ev = append(ev, p...)
		}
		batch = protowire.AppendTag(batch, fbEvents, protowire.BytesType)
		batch = protowire.AppendBytes(batch, ev)
	}
	if !keysFirst {
		appendKeys()
	}
	return batch
}

// The cases the random test may meet rarely, one by one: each change is
// made to a lazily decoded batch and to a fully decoded copy, and the
// lazy batch, re-encoded, must read as the full one.
func TestReviewReencodeCases(t *testing.T) {
	base := func() []*Event {
		e1 := NewEvent("hello")
		e1.SetTimestampNano(1_700_000_000_123_000_000)
		e1.AddTag("t1")
		_ = e1.Set("[a][x]", "ax")
		_ = e1.Set("[a][y][z]", int64(5))
		_ = e1.Set("b", []any{"b1", map[string]any{"c": "d"}})
		_ = e1.Set("[@metadata][m]", "meta")
		e2 := NewEvent("second")
		_ = e2.Set("type", "kept")
		_ = e2.Set("items", []any{"m1", "second", "x"})
		return []*Event{e1, e2, NewEmptyEvent()}
	}
	tests := []struct {
		name   string
		change func(e *Event)
	}{
		{"raw field deleted then set again", func(e *Event) {
			e.Delete("message")
			_ = e.Set("message", "again")
		}},
		{"raw field deleted then set nested", func(e *Event) {
			e.Delete("a")
			_ = e.Set("[a][new]", "n")
		}},
		{"raw field set then deleted", func(e *Event) {
			_ = e.Set("message", "set")
			e.Delete("message")
		}},
		{"deleted twice", func(e *Event) { e.Delete("[a][x]"); e.Delete("a"); e.Delete("a") }},
		{"@metadata replaced", func(e *Event) { _ = e.Set("[@metadata]", map[string]any{"new": "m"}) }},
		{"@metadata removed", func(e *Event) { e.Delete("[@metadata]") }},
		{"@timestamp removed", func(e *Event) { e.Delete("@timestamp") }},
		{"@timestamp set", func(e *Event) { _ = e.Set("@timestamp", int64(1234)) }},
		{"tags removed to none", func(e *Event) { e.RemoveTag("t1") }},
		{"tags replaced by a string then added to", func(e *Event) { _ = e.Set("tags", "solo"); e.AddTag("t2") }},
		{"an object moved to a second place", func(e *Event) {
			if v, ok := e.Get("a"); ok {
				_ = e.Set("[b2][deep]", v)
				_ = e.Set("b3", v)
			}
		}},
		{"an object moved, then changed", func(e *Event) {
			if v, ok := e.Get("a"); ok {
				_ = e.Set("b3", v)
				_ = e.Set("[a][x]", "changed in both places")
			}
		}},
		{"a field renamed", func(e *Event) {
			r := MustParseFieldRef("message")
			if v, ok := r.Delete(e); ok {
				_ = e.Set("msg", v)
			}
		}},
		{"read by a template and an expression", func(e *Event) {
			tm, _ := ParseTemplate("%{[a][y][z]}-%{type}")
			x, _ := CompileExpression(`filter(items ?? [], # != message)`)
			v, _ := x.Eval(e)
			_ = e.Set("rendered", tm.Render(e))
			_ = e.Set("kept", v)
		}},
		{"the whole map replaced key by key", func(e *Event) {
			f := e.Fields()
			for k := range f {
				delete(f, k)
			}
			f["only"] = "this"
		}},
		{"new objects from the decoder in fields and metadata", func(e *Event) {
			_ = e.Set("[n1][n2][n3]", "deep")
			_ = e.Set("[@metadata][o][p]", "q")
			m, leaf, err := MustParseFieldRef("[n4][n5]").Container(e)
			if err == nil {
				m[leaf] = "via container"
			}
		}},
		{"add_field appends to a raw list", func(e *Event) {
			if v, ok := e.Get("items"); ok {
				_ = e.Set("items", append(v.([]any), "more"))
			}
		}},
	}
	data := encodeBatch(base())
	var dec batchDecoder
	var enc batchEncoder
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lazy, err := dec.Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			full, _ := decodeBatch(data)
			for i := range lazy {
				tt.change(lazy[i])
				tt.change(full[i])
			}
			out := enc.Encode(lazy)
			if !uniqueNames(t, out) {
				return
			}
			got, err := decodeBatch(out)
			if err != nil {
				t.Fatal(err)
			}
			for i := range full {
				sameEvent(t, fmt.Sprintf("event %d", i), got[i], full[i])
			}
		})
	}
}

// One Encode of everything a filter chain can hand back: decoded events,
// events of another decoder, clones of both, an event a filter made, a
// fully decoded event and a decoded event that was dropped.
func TestReviewMixedOrigins(t *testing.T) {
	mk := func(msg string, extra map[string]any) *Event {
		e := NewEvent(msg)
		for k, v := range extra {
			_ = e.Set(k, v)
		}
		return e
	}
	batchA := []*Event{
		mk("a0", map[string]any{"[host][name]": "h", "only_a": int64(1)}),
		mk("a1", map[string]any{"tags": []any{"x"}}),
		mk("a2 dropped", nil),
	}
	batchB := []*Event{mk("b0", map[string]any{"only_b": true, "[host][ip]": "10.0.0.1"})}
	var decA, decB batchDecoder
	la, _ := decA.Decode(encodeBatch(batchA))
	lb, _ := decB.Decode(encodeBatch(batchB))
	fa, _ := decodeBatch(encodeBatch(batchA))
	fb, _ := decodeBatch(encodeBatch(batchB))

	build := func(a, b []*Event) []*Event {
		made := NewEvent("made")
		made.SetTimestampNano(1)
		_ = made.Set("[from][host]", func() any { v, _ := a[0].Get("host"); return v }())
		ca := a[0].Clone()
		_ = ca.Set("message", "clone of a0")
		cb := b[0].Clone()
		_ = a[1].Set("message", "a1 changed")
		// b's event first: the encoder's dictionary must not come from it.
		return []*Event{b[0], made, a[1], ca, a[0], cb, fa[0]}
	}
	want := build(fa, fb)
	for _, e := range want {
		if e.TimestampNano() != 1 {
			e.SetTimestampNano(2)
		}
	}
	got := build(la, lb)
	for _, e := range got {
		if e.TimestampNano() != 1 {
			e.SetTimestampNano(2)
		}
	}
	var enc batchEncoder
	for round := range 2 {
		out := enc.Encode(got)
		if !uniqueNames(t, out) {
			return
		}
		back, err := decodeBatch(out)
		if err != nil {
			t.Fatal(err)
		}
		if len(back) != len(want) {
			t.Fatalf("round %d: %d events, want %d", round, len(back), len(want))
		}
		for i := range want {
			sameEvent(t, fmt.Sprintf("round %d event %d", round, i), back[i], want[i])
		}
	}
}

// An object shared by several events and by two places of one event is
// written once and copied; a change between two batches is seen, at both
// places, and an object at the same address in the next batch is not
// taken for the old one.
func TestReviewSharedObjects(t *testing.T) {
	shared := map[string]any{"name": "web-1", "list": []any{"a"}}
	var events []*Event
	for i := range 4 {
		e := NewEvent(fmt.Sprint("line ", i))
		_ = e.Set("host", shared)
		_ = e.Set("[observer][host]", shared)
		_ = e.Set("[deep][er][host]", shared)
		events = append(events, e)
	}
	var enc batchEncoder
	for round, name := range []string{"web-1", "web-2", "web-3"} {
		shared["name"] = name
		if round == 2 {
			shared["added"] = int64(round)
			delete(shared, "list")
		}
		back, err := decodeBatch(enc.Encode(events))
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range back {
			for _, ref := range []string{"host", "[observer][host]", "[deep][er][host]"} {
				v, _ := e.Get(ref)
				if !reflect.DeepEqual(v, shared) {
					t.Errorf("round %d event %d %s = %v, want %v", round, i, ref, v, shared)
				}
			}
		}
	}
	// A decoder's maps are reused batch after batch: the encoder meets
	// the same map, holding other fields, in the next batch.
	var dec batchDecoder
	var enc2 batchEncoder
	for round := range 3 {
		var in []*Event
		for i := range 3 {
			e := NewEvent("x")
			_ = e.Set("[o][v]", fmt.Sprint(round, "-", i))
			in = append(in, e)
		}
		evs, err := dec.Decode(encodeBatch(in))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			v, _ := e.Get("o")
			_ = e.Set("copy", v) // the same decoder map at two places
		}
		back, err := decodeBatch(enc2.Encode(evs))
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range back {
			w := fmt.Sprint(round, "-", i)
			if a, _ := e.Get("[o][v]"); a != w {
				t.Errorf("round %d event %d [o][v] = %v, want %s", round, i, a, w)
			}
			if a, _ := e.Get("[copy][v]"); a != w {
				t.Errorf("round %d event %d [copy][v] = %v, want %s", round, i, a, w)
			}
		}
	}
}

// The contract says a decoded event is invalid after the next Decode, but
// the runtime's own paths must not crash on one a filter wrongly kept:
// reading, changing and encoding it leaves an empty or changed event,
// never a panic.
func TestReviewEventKeptAcrossDecode(t *testing.T) {
	var dec batchDecoder
	first := []*Event{NewEvent("one"), NewEvent("two")}
	_ = first[0].Set("[a][b]", "c")
	evs, err := dec.Decode(encodeBatch(first))
	if err != nil {
		t.Fatal(err)
	}
	kept := evs[0]
	untouched := evs[1]
	_ = kept.Set("[a][new]", "x")
	second := []*Event{NewEvent("three")}
	_ = second[0].Set("zz", strings.Repeat("q", 300))
	now, err := dec.Decode(encodeBatch(second))
	if err != nil {
		t.Fatal(err)
	}
	_ = kept.Message()
	_, _ = kept.Get("[a][b]")
	_ = kept.Set("[x][y]", "z")
	_ = untouched.Fields()
	_ = kept.Clone()
	var enc batchEncoder
	if _, err := decodeBatch(enc.Encode(append(now, kept, untouched))); err != nil {
		t.Fatalf("a batch with a stale event does not decode: %v", err)
	}
	if m := now[0].Message(); m != "three" {
		t.Errorf("the new batch's event reads message %q, want three", m)
	}
}

// A truncated Field is rejected with the batch by the lazy decoder as by
// the full one (it used to be counted, never listed, and dropped when the
// event was read). A value that is corrupt inside a sound Field is, by
// choice, found only when it is decoded (walking every value at decode
// cost as much as the rest of decoding): it must then be kept, as its
// bytes, not lost.
func TestReviewLazyRejectsCorruptField(t *testing.T) {

	mapValue := func(inner []byte) []byte {
		v := protowire.AppendTag(nil, fvMap, protowire.BytesType)
		return protowire.AppendBytes(v, inner)
	}
	field := func(value []byte) []byte {
		f := []byte{byte(ffKey<<3 | protowire.VarintType), 0}
		f = protowire.AppendTag(f, ffValue, protowire.BytesType)
		return protowire.AppendBytes(f, value)
	}
	tests := []struct {
		name  string
		field []byte
	}{
		// Field{key 0, value: a length of 5 with 1 byte left}.
		{"truncated field", []byte{byte(ffKey<<3 | protowire.VarintType), 0, byte(ffValue<<3 | protowire.BytesType), 5, 0x0a}},
		// A sound Field whose map holds a Field of 9 bytes with 2 left.
		{"corrupt map inside", field(mapValue([]byte{byte(fmFields<<3 | protowire.BytesType), 9, 0x08, 0x00}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev []byte
			ev = protowire.AppendTag(ev, feFields, protowire.BytesType)
			ev = protowire.AppendBytes(ev, tt.field)
			var batch []byte
			batch = protowire.AppendTag(batch, fbEvents, protowire.BytesType)
			batch = protowire.AppendBytes(batch, ev)
			batch = protowire.AppendTag(batch, fbKeys, protowire.BytesType)
			batch = protowire.AppendString(batch, "k")
			if _, err := decodeBatch(batch); err == nil {
				t.Fatal("the full decoder accepts the batch: the test is wrong")
			}
			var dec batchDecoder
			evs, err := dec.Decode(batch)
			if tt.name == "truncated field" {
				if err == nil {
					t.Error("the lazy decoder accepts a truncated Field the full one rejects")
				}
				return
			}
			if err != nil {
				return // rejecting at once is fine too
			}
			if v, ok := evs[0].Get("k"); !ok || v == nil {
				t.Errorf("a corrupt value was dropped when read: k = %q (found %v)", v, ok)
			}
		})
	}
}

// Different events of one batch, each used by one goroutine (an output
// serializing events in parallel): before fields were kept raw, events
// shared nothing; now they share their decoder's dictionary set, value
// slab and map lists.
func TestReviewEventsOfABatchInParallel(t *testing.T) {
	var in []*Event
	for i := range 8 {
		e := NewEvent(fmt.Sprint("m", i))
		for j := range 20 {
			_ = e.Set(fmt.Sprintf("[f%d][x]", j), "y")
		}
		in = append(in, e)
	}
	var dec batchDecoder
	evs, err := dec.Decode(encodeBatch(in))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, e := range evs {
		wg.Go(func() {
			_, _ = e.Get("[f3][x]")
			_ = e.Set("[new][k]", "v")
			_ = e.Set("s", e.StringValue("boxed"))
		})
	}
	wg.Wait()
	for i, e := range evs {
		if v, _ := e.Get("[new][k]"); v != "v" || e.Message() != fmt.Sprint("m", i) {
			t.Errorf("event %d: [new][k] %v, message %q", i, v, e.Message())
		}
	}
}

// An event a batchDecoder hands out again keeps its emptied @metadata map: the
// second batch's event has [@metadata] (empty) where the same event
// decoded fresh has none, so `%{[@metadata]}` renders "{}" instead of
// staying unresolved. Older than raw fields; harmless to the wire (an
// empty map writes nothing).
func TestReviewReusedEventMetadata(t *testing.T) {
	withMeta := NewEvent("a")
	_ = withMeta.Set("[@metadata][k]", "v")
	var dec batchDecoder
	if _, err := dec.Decode(encodeBatch([]*Event{withMeta})); err != nil {
		t.Fatal(err)
	}
	evs, err := dec.Decode(encodeBatch([]*Event{NewEvent("b")}))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := evs[0].Get("[@metadata]"); ok {
		t.Errorf("[@metadata] = %v, found; a fresh decode finds none", v)
	}
}

// A batchDecoder boxes a batch's values in the arrays of the last batch's only
// when that batch was released (Release: nothing holds its values). A
// value read from a batch that was not released, and kept as the `any` it
// came as, keeps its value however many batches follow, released or not;
// released batches decode right in reused memory, without allocating it.
func TestReviewReleasedValues(t *testing.T) {
	batch := func(tag string, n int) []byte {
		evs := make([]*Event, n)
		for i := range evs {
			evs[i] = NewEvent(fmt.Sprintf("%s-%d", tag, i))
			for j := range 10 {
				_ = evs[i].Set(fmt.Sprintf("s%d", j), fmt.Sprintf("%s-%d-%d", tag, i, j))
			}
			_ = evs[i].Set("n", int64(1000+i))
			_ = evs[i].Set("f", float64(i)+0.5)
		}
		return encodeBatch(evs)
	}
	// read returns every value of every event, as the decoder boxed them.
	read := func(evs []*Event) []any {
		var out []any
		for _, e := range evs {
			for _, k := range []string{"message", "s0", "s5", "s9", "n", "f"} {
				v, _ := e.Get(k)
				out = append(out, v)
			}
		}
		return out
	}
	check := func(what string, got []any, tag string, n int) {
		t.Helper()
		for i := range n {
			want := []any{fmt.Sprintf("%s-%d", tag, i), fmt.Sprintf("%s-%d-0", tag, i), fmt.Sprintf("%s-%d-5", tag, i),
				fmt.Sprintf("%s-%d-9", tag, i), int64(1000 + i), float64(i) + 0.5}
			if !reflect.DeepEqual(got[i*6:i*6+6], want) {
				t.Fatalf("%s: event %d reads %v, want %v", what, i, got[i*6:i*6+6], want)
			}
		}
	}
	var dec batchDecoder
	const n = 125 // 1,500 strings a batch: several arrays
	data := map[string][]byte{}
	for _, tag := range []string{"kept", "a", "b", "c", "d"} {
		data[tag] = bytes.Clone(batch(tag, n))
	}
	decode := func(tag string) []any {
		evs, err := dec.Decode(data[tag])
		if err != nil {
			t.Fatal(err)
		}
		return read(evs)
	}
	decode("a")
	dec.Release()
	kept := decode("kept") // not released: its values may be held
	check("kept, as read", kept, "kept", n)
	for _, tag := range []string{"a", "b", "c", "d"} {
		got := decode(tag)
		check(tag, got, tag, n)
		dec.Release()
		check("kept, after batch "+tag, kept, "kept", n)
	}

	released := testing.AllocsPerRun(20, func() {
		evs, _ := dec.Decode(data["b"])
		for _, e := range evs {
			_ = e.Fields()
		}
		dec.Release()
	})
	held := testing.AllocsPerRun(20, func() {
		evs, _ := dec.Decode(data["b"])
		for _, e := range evs {
			_ = e.Fields()
		}
	})
	// The one allocation left is the batch's dictionary.
	if released > 1 || held < 5 {
		t.Errorf("allocations per batch: %v released, %v held; want at most 1 released (the values' arrays reused)", released, held)
	}
}

// Setting [@metadata] to a nested map of a decoded event copies it: the
// event's metadata map is kept when the decoder reuses the event, while a
// nested map goes back to the decoder on its own, to be lent to the next
// batch. Were they the same map, writing the next batch's metadata would
// write into one of its objects.
func TestReviewMetadataFromLentMap(t *testing.T) {
	batch := func(k string) []byte {
		e := NewEvent("m")
		_ = e.Set("[obj]["+k+"]", k)
		return encodeBatch([]*Event{e})
	}
	var dec batchDecoder
	evs, err := dec.Decode(batch("a"))
	if err != nil {
		t.Fatal(err)
	}
	obj, _ := evs[0].Get("obj")
	if err := evs[0].Set("[@metadata]", obj); err != nil {
		t.Fatal(err)
	}
	if v, _ := evs[0].Get("[@metadata][a]"); v != "a" {
		t.Fatalf("[@metadata][a] = %v", v)
	}
	evs, err = dec.Decode(batch("b"))
	if err != nil {
		t.Fatal(err)
	}
	e := evs[0]
	if v, _ := e.Get("obj"); !reflect.DeepEqual(v, map[string]any{"b": "b"}) {
		t.Fatalf("obj = %v", v)
	}
	_ = e.Set("[@metadata][m]", "x")
	if v, _ := e.Get("obj"); !reflect.DeepEqual(v, map[string]any{"b": "b"}) {
		t.Errorf("after setting [@metadata][m], obj = %v, want map[b:b]", v)
	}
}

// Values an event lends (WithValues) box strings and make maps in its
// batch's memory: a filter that parses text into objects (json) makes
// them without allocating once its batches are released, and they read
// back right after the event crosses the wire.
func TestReviewWithValues(t *testing.T) {
	evs := make([]*Event, 100)
	for i := range evs {
		evs[i] = NewEvent(fmt.Sprintf("line %d", i))
	}
	data := encodeBatch(evs)
	var dec batchDecoder
	var enc batchEncoder
	parsed := MustParseFieldRef("parsed")
	fill := func(e *Event) {
		var m map[string]any
		msg := e.Message()
		e.WithValues(func(v *Values) {
			m = v.Map()
			m["text"] = v.String(msg)
			m["n"] = v.Int(int64(1000 + len(msg)))
			m["inner"] = v.Map()
		})
		_ = parsed.Set(e, m)
	}
	run := func() []byte {
		got, err := dec.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range got {
			fill(e)
		}
		out := enc.Encode(got)
		dec.Release()
		return out
	}
	back, err := decodeBatch(bytes.Clone(run()))
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range back {
		want := map[string]any{"text": fmt.Sprintf("line %d", i), "n": int64(1000 + len(fmt.Sprintf("line %d", i))), "inner": map[string]any{}}
		if v, _ := e.Get("parsed"); !reflect.DeepEqual(v, want) {
			t.Fatalf("event %d: parsed = %#v, want %#v", i, v, want)
		}
	}
	run()
	if n := testing.AllocsPerRun(10, func() { run() }); n > 1 {
		t.Errorf("%v allocations a batch of 100 events; want at most 1 (the dictionary)", n)
	}
	// An event of no batch gets Values of its own.
	e := NewEvent("loose")
	fill(e)
	if v, _ := e.Get("[parsed][text]"); v != "loose" {
		t.Errorf("[parsed][text] = %v", v)
	}
}
