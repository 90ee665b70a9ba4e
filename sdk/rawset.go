package sdk

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"sync/atomic"

	"google.golang.org/protobuf/encoding/protowire"
)

// A Scalar is a string, int64 or float64 field value not yet boxed:
// FieldSet.SetScalars writes one into an event decoded from a batch as
// the bytes the batch encoder would write for it, without a map store or
// a boxed value (a filter setting eleven fields spent half its time on
// those, docs/benchmarks.md).
type Scalar struct {
	s    string
	bits uint64
	kind scalarKind
}

type scalarKind uint8

const (
	scalarString scalarKind = iota
	scalarInt
	scalarFloat
)

// StringScalar is s as a field value.
func StringScalar(s string) Scalar { return Scalar{s: s} }

// IntScalar is n as a field value.
func IntScalar(n int64) Scalar { return Scalar{bits: uint64(n), kind: scalarInt} }

// FloatScalar is f as a field value.
func FloatScalar(f float64) Scalar { return Scalar{bits: math.Float64bits(f), kind: scalarFloat} }

// box returns the value made in v.
func (s Scalar) box(v *Values) any {
	switch s.kind {
	case scalarInt:
		return v.Int(int64(s.bits))
	case scalarFloat:
		return v.Float(math.Float64frombits(s.bits))
	}
	return v.String(s.s)
}

// valuer gives the value of a FieldSet's i-th reference, made in v: from
// one of two callbacks (a struct, not an interface, so that a caller's
// closure does not escape to the heap).
type valuer struct {
	boxed  func(i int, v *Values) any
	scalar func(i int) Scalar
}

func (f valuer) value(i int, v *Values) any {
	if f.scalar != nil {
		return f.scalar(i).box(v)
	}
	return f.boxed(i, v)
}

// SetScalars is Set for values that are strings or numbers: it stores
// value(i) at the i-th reference, with Set's outcome. value runs without
// the batch locked. On an event decoded from a batch, a top-level name
// the references set whole, or one the event does not have yet (with
// the names under it), is written into the event's raw fields as the
// batch encoder would write it: reading it decodes it as any raw field,
// and the encoder copies it on as it is.
func (s *FieldSet) SetScalars(e *Event, value func(i int) Scalar) error {
	return s.setScalars(e, "", nil, 0, value)
}

// A Span is where a value lies in a text: text[Start:End].
type Span struct{ Start, End int }

// SetSpans is SetScalars for values that are pieces of one text: the
// i-th reference's is text[spans[i].Start:spans[i].End] (spans has one
// for each), or value(i) for an i < 64 whose bit is set in other (a
// number converted from its text, say). A filter that cuts a line into
// many fields (dissect) saves a call per value.
func (s *FieldSet) SetSpans(e *Event, text string, spans []Span, other uint64, value func(i int) Scalar) error {
	return s.setScalars(e, text, spans[:len(s.refs)], other, value)
}

// cut reports whether the i-th value of setScalars is a piece of the
// text. (The text, spans and value are passed apart, not in a struct, so
// that the strings setScalars keeps do not make the spans and value
// escape with them.)
func cut(spans []Span, other uint64, i int) bool {
	return spans != nil && (i >= 64 || other>>i&1 == 0)
}

func (s *FieldSet) setScalars(e *Event, text string, spans []Span, other uint64, value func(int) Scalar) error {
	at := func(i int) Scalar {
		if cut(spans, other, i) {
			return Scalar{s: text[spans[i].Start:spans[i].End]}
		}
		return value(i)
	}
	var c *setIDs
	if !s.oneByOne {
		c = e.extendDict(s)
	}
	if c == nil {
		return s.set(e, valuer{scalar: at})
	}
	ids := c.ids
	r := &e.raw
	r.fitAt()
	// A top with names under it goes through the map when the event has
	// it already (the names are merged into it).
	var mbuf [16]bool
	viaMap := mbuf[:0]
	if s.flat < len(s.tops) {
		if len(s.tops) > len(mbuf) {
			viaMap = make([]bool, len(s.tops))
		} else {
			viaMap = mbuf[:len(s.tops)]
		}
	}
	// Old values first: the entries are appended to after, which may
	// move them.
	raw := 0
	if (r.ext == nil || len(r.ext.buf) == 0) && c.min >= r.base && (s.flat == len(s.tops) || len(e.fields) == 0) {
		// Names the event cannot have raw yet (numbered since it
		// arrived, none set since), and for names with names under
		// them, an empty map: nothing to take, nothing to merge into.
		raw = len(s.tops)
	} else {
		raw = s.takeOld(e, ids, viaMap)
	}
	x := r.ext
	if x == nil {
		x = new(rawExt)
		r.ext = x
	}
	b := x.buf
	if b == nil {
		b = make([]byte, 0, max(x.hint, 256))
	}
	// Written one after the other, listed when a name is looked up
	// (rawFields.listExtra): every top in one loop, or those not merged
	// through the map one by one.
	if raw == len(s.tops) {
		b = appendOps(b, c.ops, text, spans, other, value)
	} else {
		for i := range s.tops {
			if !viaMap[i] {
				b = appendOps(b, c.ops[s.planAt[i]:s.planAt[i+1]], text, spans, other, value)
			}
		}
	}
	x.buf = b
	r.pending += raw
	if len(e.fields) > 0 {
		s.unmap(e, ids)
	}
	if raw == len(s.tops) {
		return nil
	}
	var err error
	r.foreign = true
	e.WithValues(func(v *Values) {
		for i := range s.tops {
			if viaMap[i] {
				err = s.setNode(e.fields, &s.tops[i], v, valuer{scalar: at}, err)
			}
		}
	})
	return err
}

// takeOld takes the raw fields the tops set whole replace, and marks in
// viaMap the tops with names under them that the event has already
// (merged through the map). It returns how many tops are written raw.
func (s *FieldSet) takeOld(e *Event, ids []int32, viaMap []bool) int {
	r := &e.raw
	raw := 0
	for i, id := range ids[:len(s.tops)] {
		// (s.leaf, set for most tops set whole, spares loading the node.)
		if t := &s.tops[i]; s.leaf[i] < 0 && len(t.children) > 0 {
			if r.has(id) || r.mayMap(id) && inMap(e.fields, t.name) {
				viaMap[i] = true
				e.touchRef(&t.top)
				continue
			}
		} else if !(len(r.at) > 0 && !r.dups && r.at[id] == 0 && (r.indexed || id >= r.base) && !r.unlisted()) {
			r.takeID(id) // else no entry of that name (a new one, mostly)
		}
		raw++
	}
	return raw
}

// has reports whether a raw field numbered id is pending.
func (r *rawFields) has(id int32) bool {
	if id < r.base {
		r.index()
	} else if r.unlisted() {
		r.listExtra()
	}
	if len(r.at) > 0 && !r.dups {
		i := r.at[id]
		return i != 0 && !r.entries[i-1].done
	}
	for i := range r.entries {
		if en := &r.entries[i]; !en.done && en.id == id {
			return true
		}
	}
	return false
}

func inMap(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}

// A writeOp is a name SetScalars writes raw, a top or a name under one:
// FieldSet.plan lists them in tree order, an object before its names, so
// that writing a set's tops is one loop.
type writeOp struct {
	id     int32 // the name's number (in FieldSet.plan: its node, setNode.seq)
	ref    int32 // the reference whose value it takes; -1 for an object
	closes int32 // how many objects end after this name
	in     uint8 // the field's number in what holds it: an Event's or a Map's
}

// planWrites lays out, once, how SetScalars writes the tops (s.plan, the
// i-th top's steps at planAt[i]:planAt[i+1]). A name set by several
// references takes the last's value, as Set leaves it; value is called
// for the others too, in Set's order.
func (s *FieldSet) planWrites() {
	if s.oneByOne {
		return
	}
	s.planAt = make([]int32, len(s.tops)+1)
	var walk func(n *setNode, in uint8)
	walk = func(n *setNode, in uint8) {
		if len(n.children) == 0 {
			for _, j := range n.leaves[:len(n.leaves)-1] {
				s.plan = append(s.plan, writeOp{id: int32(n.seq), ref: int32(j), in: skipOp})
			}
			s.plan = append(s.plan, writeOp{id: int32(n.seq), ref: int32(n.leaves[len(n.leaves)-1]), in: in})
			return
		}
		s.plan = append(s.plan, writeOp{id: int32(n.seq), ref: -1, in: in})
		for i := range n.children {
			walk(&n.children[i], fmFields)
		}
		s.plan[len(s.plan)-1].closes++
	}
	for i := range s.tops {
		s.planAt[i] = int32(len(s.plan))
		walk(&s.tops[i], feFields)
	}
	s.planAt[len(s.tops)] = int32(len(s.plan))
}

// skipOp marks a writeOp whose value a later one of the same name
// replaces: value is called, nothing written.
const skipOp = 0

// appendOps appends tops as raw fields (ops: their steps of
// FieldSet.plan, numbered), a top with names under it as one field whose
// value is the map of its names. An object's lengths are left a byte
// each and filled when it ends; the commonest framing, every length and
// number under 128, is one 8-byte append.
func appendOps(b []byte, ops []writeOp, text string, spans []Span, other uint64, value func(int) Scalar) []byte {
	var obuf [8]openMap
	open := obuf[:0]
	for _, op := range ops {
		if op.ref < 0 {
			open = append(open, openMap{start: len(b), id: op.id, in: op.in})
			if op.id < 0x80 {
				b = binary.LittleEndian.AppendUint64(b, shortHead(op.in, op.id, fvMap, 0))
			} else {
				b = append(b, op.in<<3|byte(protowire.BytesType), 0, byte(ffKey<<3|protowire.VarintType))
				b = appendVarint(b, uint64(op.id))
				b = append(b, byte(ffValue<<3|protowire.BytesType), 0, byte(fvMap<<3|protowire.BytesType), 0)
			}
			continue
		}
		var v Scalar
		if j := int(op.ref); cut(spans, other, j) {
			v = Scalar{s: text[spans[j].Start:spans[j].End]}
		} else {
			v = value(j)
		}
		if op.in == skipOp {
			continue
		}
		// (appendScalarFieldIn's commonest case, inlined.)
		if n := len(v.s); v.kind == scalarString && op.id < 0x80 && n < 0x80-6 {
			b = binary.LittleEndian.AppendUint64(b, shortHead(op.in, op.id, fvString, n))
			b = append(b, v.s...)
		} else {
			b = appendScalarFieldIn(b, protowire.Number(op.in), op.id, v)
		}
		for range op.closes {
			m := open[len(open)-1]
			open = open[:len(open)-1]
			if ml := len(b) - m.start - 8; ml < 0x80-6 && m.id < 0x80 {
				binary.LittleEndian.PutUint64(b[m.start:], shortHead(m.in, m.id, fvMap, ml))
			} else {
				b = fixMapHead(b, m)
			}
		}
	}
	return b
}

// shortHead is the framing of a field numbered id < 128 under field
// number in, whose value of the given kind (fvString, fvMap) is n < 122
// bytes long, every length one byte: tag, length, key, value's tag and
// length, the kind's tag and n, in the eight bytes' order.
func shortHead(in uint8, id int32, kind protowire.Number, n int) uint64 {
	return uint64(in)<<3 | uint64(protowire.BytesType) | uint64(n+6)<<8 |
		uint64(ffKey<<3|protowire.VarintType)<<16 | uint64(id)<<24 |
		uint64(ffValue<<3|protowire.BytesType)<<32 | uint64(n+2)<<40 |
		(uint64(kind)<<3|uint64(protowire.BytesType))<<48 | uint64(n)<<56
}

// openMap is an object appendOps has opened: where its framing starts.
type openMap struct {
	start int
	id    int32
	in    uint8
}

// fixMapHead writes the framing of the object m, which ends b, where
// appendOps left a byte for each length: the lengths that need more
// move the object's names on.
func fixMapHead(b []byte, m openMap) []byte {
	old := 7 + sizeVarint(uint64(m.id))
	ml := len(b) - m.start - old
	var hbuf [32]byte
	head := appendMapHead(hbuf[:0], m.in, m.id, ml)
	n := len(b)
	b = slices.Grow(b, len(head)-old)[:n+len(head)-old]
	copy(b[m.start+len(head):], b[m.start+old:n])
	copy(b[m.start:], head)
	return b
}

// appendMapHead appends the framing of the field numbered id (under
// field number in) whose value is a map with a Map message ml long,
// which the map's names then follow.
func appendMapHead(b []byte, in uint8, id int32, ml int) []byte {
	vl := 1 + sizeVarint(uint64(ml)) + ml
	b = append(b, in<<3|byte(protowire.BytesType))
	b = appendVarint(b, uint64(1+sizeVarint(uint64(id))+1+sizeVarint(uint64(vl))+vl))
	b = appendTag(b, ffKey, protowire.VarintType)
	b = appendVarint(b, uint64(id))
	b = appendTag(b, ffValue, protowire.BytesType)
	b = appendVarint(b, uint64(vl))
	b = appendTag(b, fvMap, protowire.BytesType)
	return appendVarint(b, uint64(ml))
}

// unmap deletes from e's map the names s just set whole (numbered ids):
// a name is raw or in the map, never both. Only names the map may hold
// are deleted (each look-up hashes the name); when it may hold any, a
// small map is walked once rather than asked for each name.
func (s *FieldSet) unmap(e *Event, ids []int32) {
	r := &e.raw
	if !r.foreign || len(e.fields) > 8 {
		for i := range s.tops {
			if id := ids[i]; len(s.tops[i].children) == 0 && r.mayMap(id) {
				delete(e.fields, s.tops[i].name)
				if id < 64 {
					r.decoded &^= 1 << id
				}
			}
		}
		return
	}
	for k := range e.fields {
		for i := range s.tops {
			if t := &s.tops[i]; len(t.children) == 0 && len(t.name) == len(k) && t.name == k {
				delete(e.fields, k)
				break
			}
		}
	}
}

// setIDs is what a FieldSet's names are numbered in one batch
// dictionary (gen), by setNode.seq.
type setIDs struct {
	gen uint64
	ids []int32
	min int32 // the least of the tops'
	// ops is FieldSet.plan with the names' numbers: writing a top
	// reads one array in order.
	ops []writeOp
	// keys are the dictionary's names (copied: a decoder reuses its
	// own): the next batch's dictionary, mostly the same names, numbers
	// the same without a look-up.
	keys []string
}

// setGrowth is the names a dictionary of keys lacks (FieldSet.names),
// kept for the next batches', which have the same keys mostly.
type setGrowth struct {
	keys, names []string
}

// idsIn returns the numbers in d of every name of s's references (by
// setNode.seq), or nil when d does not number one of them. The last
// dictionary's are kept: a filter sets the same names event after event.
func (s *FieldSet) idsIn(d *batchDict) *setIDs {
	last := s.ids.Load()
	if last != nil && last.gen == d.gen {
		return last
	}
	if seen := s.seen.Load(); seen != nil {
		for _, x := range *seen {
			if slices.Equal(x.keys, d.keys) {
				c := *x
				c.gen = d.gen
				s.ids.Store(&c)
				return &c
			}
		}
	}
	for i := range s.tops {
		if d.refID(&s.tops[i].top) < 0 {
			return nil // (a new batch's dictionary, mostly: not numbered yet)
		}
	}
	c := &setIDs{gen: d.gen, ids: make([]int32, s.nodes), min: math.MaxInt32}
	for i := range s.tops {
		id := d.refID(&s.tops[i].top)
		if id < 0 || !s.idsUnder(d, s.tops[i].children, c.ids) {
			return nil
		}
		c.ids[i], c.min = id, min(c.min, id)
	}
	c.ops = slices.Clone(s.plan)
	for k := range c.ops {
		c.ops[k].id = c.ids[c.ops[k].id]
	}
	c.keys = cloneStrings(d.keys)
	s.ids.Store(c)
	remember(&s.seen, c)
	return c
}

// remember adds x to the few kept in at (a copy-on-write list, the most
// recent first): an upstream encoder may order a batch's names as its
// map's order goes, so batches of the same names come in a few orders.
func remember[T any](at *atomic.Pointer[[]*T], x *T) {
	var old []*T
	if p := at.Load(); p != nil {
		old = *p
	}
	l := append([]*T{x}, old[:min(len(old), 3)]...)
	at.Store(&l)
}

func (s *FieldSet) idsUnder(d *batchDict, ns []setNode, ids []int32) bool {
	for i := range ns {
		if ids[ns[i].seq] = d.id(ns[i].name); ids[ns[i].seq] < 0 || !s.idsUnder(d, ns[i].children, ids) {
			return false
		}
	}
	return true
}

// cloneStrings copies ss and the strings in it.
func cloneStrings(ss []string) []string {
	out := make([]string, len(ss))
	for i, x := range ss {
		out[i] = strings.Clone(x)
	}
	return out
}

// names appends the names of ns and under them that d does not number.
func (s *FieldSet) names(d *batchDict, ns []setNode, out []string) []string {
	for i := range ns {
		if n := ns[i].name; d.id(n) < 0 && !slices.Contains(out, n) {
			out = append(out, n)
		}
		out = s.names(d, ns[i].children, out)
	}
	return out
}

// extendDict makes sure e's batch dictionary numbers every name s sets,
// numbering the missing ones in a new generation of it that the batch's
// other events share, and moves e to the latest generation. It returns
// the names' numbers (see idsIn), or nil for an event that is not a
// decoded batch's.
func (e *Event) extendDict(s *FieldSet) *setIDs {
	r := &e.raw
	if r.dict == nil || r.dict.root == nil || r.dict.dec.grows {
		return nil
	}
	root := r.dict.root
	d := root.latest.Load()
	if d == nil {
		d = root
	}
	ids := s.idsIn(d)
	if ids == nil {
		dec := root.dec
		dec.mu.Lock()
		if d = root.latest.Load(); d == nil {
			d = root
		}
		// The names the last batch's dictionary lacked, when this one
		// has the same: it lacks them too.
		var g *setGrowth
		if grown := s.grown.Load(); grown != nil {
			for _, x := range *grown {
				if slices.Equal(x.keys, d.keys) {
					g = x
					break
				}
			}
		}
		if g == nil || len(g.names) == 0 {
			g = nil
			ids = s.idsIn(d)
		}
		if ids == nil {
			if g == nil {
				g = &setGrowth{keys: cloneStrings(d.keys), names: s.names(d, s.tops, nil)}
				remember(&s.grown, g)
			}
			names := g.names
			if len(d.keys)+len(names) < 1<<idBits-1 {
				d = d.extend(names)
				root.latest.Store(d)
				ids = s.idsIn(d)
			}
		}
		dec.mu.Unlock()
		if ids == nil {
			return nil
		}
	}
	if r.dict != d {
		// d extends the event's generation: its entries keep their
		// numbers, and the at table grows with it.
		r.dict = d
		r.fitAt()
	}
	return ids
}

// appendScalarFieldIn appends v as the field numbered id under field
// number in (an Event's fields or, inside an object, a Map's), as the
// batch encoder writes it: tag, length, Field message.
func appendScalarFieldIn(b []byte, in protowire.Number, id int32, v Scalar) []byte {
	if v.kind == scalarString && id < 0x80 && len(v.s) < 0x80-6 {
		// The commonest shape, every length one byte: one store for
		// the framing (as rawjson's fast path reads it back).
		b = binary.LittleEndian.AppendUint64(b, shortHead(uint8(in), id, fvString, len(v.s)))
		return append(b, v.s...)
	}
	if zz := protowire.EncodeZigZag(int64(v.bits)); v.kind == scalarInt && id < 0x80 && zz < 1<<14 {
		// A small int (an HTTP status, a byte count under 8 KiB): the
		// framing and the value's first byte in one store.
		h := uint64(in)<<3 | uint64(protowire.BytesType) |
			uint64(ffKey<<3|protowire.VarintType)<<16 | uint64(id)<<24 |
			uint64(ffValue<<3|protowire.BytesType)<<32 | uint64(fvInt<<3|protowire.VarintType)<<48
		if zz < 0x80 {
			return binary.LittleEndian.AppendUint64(b, h|6<<8|2<<40|zz<<56)
		}
		return append(binary.LittleEndian.AppendUint64(b, h|7<<8|3<<40|(zz&0x7f|0x80)<<56), byte(zz>>7))
	}
	var vlen int
	switch v.kind {
	case scalarString:
		vlen = 1 + sizeVarint(uint64(len(v.s))) + len(v.s)
	case scalarInt:
		vlen = 1 + sizeVarint(protowire.EncodeZigZag(int64(v.bits)))
	case scalarFloat:
		vlen = 1 + 8
	}
	flen := 1 + sizeVarint(uint64(id)) + 1 + sizeVarint(uint64(vlen)) + vlen
	b = appendTag(b, in, protowire.BytesType)
	b = appendVarint(b, uint64(flen))
	b = appendTag(b, ffKey, protowire.VarintType)
	b = appendVarint(b, uint64(id))
	b = appendTag(b, ffValue, protowire.BytesType)
	b = appendVarint(b, uint64(vlen))
	switch v.kind {
	case scalarString:
		b = appendTag(b, fvString, protowire.BytesType)
		b = appendString(b, v.s)
	case scalarInt:
		b = appendTag(b, fvInt, protowire.VarintType)
		b = appendVarint(b, protowire.EncodeZigZag(int64(v.bits)))
	case scalarFloat:
		b = appendTag(b, fvFloat, protowire.Fixed64Type)
		b = protowire.AppendFixed64(b, v.bits)
	}
	return b
}

// sizeVarint is protowire.SizeVarint with the short values most fields
// have answered without counting bits.
func sizeVarint(v uint64) int {
	if v < 1<<7 {
		return 1
	}
	if v < 1<<14 {
		return 2
	}
	return protowire.SizeVarint(v)
}
