package sdk

import (
	"math"
	"slices"

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
	var c *setIDs
	if !s.oneByOne {
		c = e.extendDict(s)
	}
	if c == nil {
		return s.set(e, valuer{scalar: value})
	}
	ids := c.ids
	r := &e.raw
	r.sizeAt()
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
	if (r.ext == nil || len(r.ext.buf) == 0) && s.flat == len(s.tops) && c.min >= r.base {
		// Names the event cannot have raw yet (numbered since it
		// arrived, none set since): nothing to take.
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
	// (rawFields.listExtra).
	for i, id := range ids[:len(s.tops)] {
		if j := s.leaf[i]; j >= 0 {
			b = appendScalarField(b, id, value(j))
		} else if t := &s.tops[i]; len(t.children) == 0 {
			var v Scalar
			for _, j := range t.leaves {
				v = value(j)
			}
			b = appendScalarField(b, id, v)
		} else if !viaMap[i] {
			b = s.appendTree(b, t, ids, value)
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
				err = s.setNode(e.fields, &s.tops[i], v, valuer{scalar: value}, err)
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

// appendTree appends the raw field numbered ids[t.seq] whose value is
// the map of t's names, each the value of the reference ending there (the
// last of several; value is called for each, in the order Set calls it).
func (s *FieldSet) appendTree(b []byte, t *setNode, ids []int32, value func(int) Scalar) []byte {
	b = appendTag(b, feFields, protowire.BytesType)
	b, fm := reserveLen(b)
	b = appendTag(b, ffKey, protowire.VarintType)
	b = appendVarint(b, uint64(ids[t.seq]))
	b = appendTag(b, ffValue, protowire.BytesType)
	b, vm := reserveLen(b)
	b = s.appendMapValue(b, t, ids, value)
	if !fillShort(b, vm) {
		b = fillLen(b, vm)
	}
	if !fillShort(b, fm) {
		b = fillLen(b, fm)
	}
	return b
}

// fillShort is fillLen for the commonest case, a length under 128 (in
// place, inlined): false for a longer one.
func fillShort(b []byte, mark int) bool {
	if n := len(b) - mark - 1; n < 0x80 {
		b[mark] = byte(n)
		return true
	}
	return false
}

// appendMapValue appends the Value message of the map of n's names. A
// node is a leaf or has names under it, never both (else Set goes one by
// one), so writing in tree order calls value in Set's order.
func (s *FieldSet) appendMapValue(b []byte, n *setNode, ids []int32, value func(int) Scalar) []byte {
	b = appendTag(b, fvMap, protowire.BytesType)
	b, m := reserveLen(b)
	for i := range n.children {
		c := &n.children[i]
		if len(c.children) == 0 {
			var v Scalar
			for _, j := range c.leaves {
				v = value(j)
			}
			b = appendScalarFieldIn(b, fmFields, ids[c.seq], v)
			continue
		}
		var fm, vm int
		b = appendTag(b, fmFields, protowire.BytesType)
		b, fm = reserveLen(b)
		b = appendTag(b, ffKey, protowire.VarintType)
		b = appendVarint(b, uint64(ids[c.seq]))
		b = appendTag(b, ffValue, protowire.BytesType)
		b, vm = reserveLen(b)
		b = s.appendMapValue(b, c, ids, value)
		if !fillShort(b, vm) {
			b = fillLen(b, vm)
		}
		if !fillShort(b, fm) {
			b = fillLen(b, fm)
		}
	}
	if !fillShort(b, m) {
		b = fillLen(b, m)
	}
	return b
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
}

// idsIn returns the numbers in d of every name of s's references (by
// setNode.seq), or nil when d does not number one of them. The last
// dictionary's are kept: a filter sets the same names event after event.
func (s *FieldSet) idsIn(d *batchDict) *setIDs {
	if c := s.ids.Load(); c != nil && c.gen == d.gen {
		return c
	}
	c := &setIDs{gen: d.gen, ids: make([]int32, s.nodes), min: math.MaxInt32}
	for i := range s.tops {
		id := d.refID(&s.tops[i].top)
		if id < 0 || !s.idsUnder(d, s.tops[i].children, c.ids) {
			return nil
		}
		c.ids[i], c.min = id, min(c.min, id)
	}
	s.ids.Store(c)
	return c
}

func (s *FieldSet) idsUnder(d *batchDict, ns []setNode, ids []int32) bool {
	for i := range ns {
		if ids[ns[i].seq] = d.id(ns[i].name); ids[ns[i].seq] < 0 || !s.idsUnder(d, ns[i].children, ids) {
			return false
		}
	}
	return true
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
		if ids = s.idsIn(d); ids == nil {
			names := s.names(d, s.tops, nil)
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
		r.sizeAt()
	}
	return ids
}

// appendScalarField appends v as the raw field numbered id (an Event's
// field 2: tag, length, Field message, as the batch encoder writes it).
func appendScalarField(b []byte, id int32, v Scalar) []byte {
	return appendScalarFieldIn(b, feFields, id, v)
}

// appendScalarFieldIn is appendScalarField under field number in: an
// Event's fields or, inside an object, a Map's.
func appendScalarFieldIn(b []byte, in protowire.Number, id int32, v Scalar) []byte {
	if v.kind == scalarString && id < 0x80 && len(v.s) < 0x80-6 {
		// The commonest shape, every length one byte: one append for
		// the framing (as rawjson's fast path reads it back).
		n := byte(len(v.s))
		b = append(b, byte(in)<<3|byte(protowire.BytesType), n+6, byte(ffKey<<3|protowire.VarintType), byte(id),
			byte(ffValue<<3|protowire.BytesType), n+2, byte(fvString<<3|protowire.BytesType), n)
		return append(b, v.s...)
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
