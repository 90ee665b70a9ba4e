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
// the batch locked. On an event decoded from a batch, a reference to a
// top-level name is written into the event's raw fields, as the batch
// encoder would write it: reading it decodes it as any raw field, and the
// encoder copies it on as it is.
func (s *FieldSet) SetScalars(e *Event, value func(i int) Scalar) error {
	var ids []int32
	if !s.oneByOne && s.flat > 0 {
		ids = e.extendDict(s)
	}
	if ids == nil {
		return s.set(e, valuer{scalar: value})
	}
	r := &e.raw
	r.sizeAt()
	// Old values first: the entries are appended to after, which may
	// move them.
	for i, id := range ids {
		switch {
		case id < 0:
			e.touchRef(&s.tops[i].top)
		case len(r.at) > 0 && !r.dups && r.at[id] == 0 && (r.indexed || id >= r.base):
			// No entry of that name (a new one, mostly): nothing to take.
		default:
			r.takeID(id)
		}
	}
	b, entries := r.extra, r.entries
	if b == nil {
		b = make([]byte, 0, max(r.extraHint, 256))
	}
	for i, id := range ids {
		if id < 0 {
			continue
		}
		var v Scalar
		if j := s.leaf[i]; j >= 0 {
			v = value(j)
		} else {
			for _, j := range s.tops[i].leaves {
				v = value(j)
			}
		}
		start := len(b)
		var vstart int
		b, vstart = appendScalarField(b, id, v)
		// Filled in place (see rawFields.add).
		entries = append(entries, rawEntry{})
		en := &entries[len(entries)-1]
		en.id, en.start, en.end = id, uint32(start), uint32(len(b))
		en.vstart, en.vlen, en.ext = uint32(vstart), uint32(len(b)-vstart), true
		if len(r.at) > 0 {
			r.at[id] = int32(len(entries))
		}
	}
	r.extra, r.entries = b, entries
	r.pending += s.flat
	if len(e.fields) > 0 {
		s.unmap(e, ids)
	}
	if s.flat == len(s.tops) {
		return nil
	}
	var err error
	r.foreign = true
	e.WithValues(func(v *Values) {
		for i := range s.tops {
			if t := &s.tops[i]; len(t.children) > 0 {
				err = s.setNode(e.fields, t, v, valuer{scalar: value}, err)
			}
		}
	})
	return err
}

// unmap deletes from e's map the names s just set raw (numbered ids): a
// name is raw or in the map, never both. Only names the map may hold are
// deleted (each look-up hashes the name); when it may hold any, a small
// map is walked once rather than asked for each name.
func (s *FieldSet) unmap(e *Event, ids []int32) {
	r := &e.raw
	if !r.foreign || len(e.fields) > 8 {
		for i, id := range ids {
			if id >= 0 && r.mayMap(id) {
				delete(e.fields, s.tops[i].name)
				if id < maxAt {
					r.decoded[id>>6] &^= 1 << (id & 63)
				}
			}
		}
		return
	}
	for k := range e.fields {
		for i, id := range ids {
			if id >= 0 && len(s.tops[i].name) == len(k) && s.tops[i].name == k {
				delete(e.fields, k)
				break
			}
		}
	}
}

// setIDs is what a FieldSet's top-level names are numbered in one batch
// dictionary (gen): -1 for a name with names under it.
type setIDs struct {
	gen uint64
	ids []int32
}

// idsIn returns the numbers in d of the top-level names s sets whole, or
// nil when d does not number one of them. The last dictionary's are kept:
// a filter sets the same names event after event.
func (s *FieldSet) idsIn(d *batchDict) []int32 {
	if c := s.ids.Load(); c != nil && c.gen == d.gen {
		return c.ids
	}
	ids := make([]int32, len(s.tops))
	for i := range s.tops {
		ids[i] = -1
		if t := &s.tops[i]; len(t.children) == 0 {
			if ids[i] = d.refID(&t.top); ids[i] < 0 {
				return nil
			}
		}
	}
	s.ids.Store(&setIDs{gen: d.gen, ids: ids})
	return ids
}

// extendDict makes sure e's batch dictionary numbers the top-level names
// s sets whole, numbering the missing ones in a new generation of it that
// the batch's other events share, and moves e to the latest generation.
// It returns the names' numbers (see idsIn), or nil for an event that is
// not a decoded batch's.
func (e *Event) extendDict(s *FieldSet) []int32 {
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
			var names []string
			for i := range s.tops {
				if t := &s.tops[i]; len(t.children) == 0 && d.id(t.name) < 0 && !slices.Contains(names, t.name) {
					names = append(names, t.name)
				}
			}
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
		if len(r.entries) > 0 {
			r.sizeAt()
		}
	}
	return ids
}

// appendScalarField appends v as the raw field numbered id (an Event's
// field 2: tag, length, Field message, as the batch encoder writes it)
// and returns where its Value message starts.
func appendScalarField(b []byte, id int32, v Scalar) (_ []byte, vstart int) {
	if v.kind == scalarString && id < 0x80 && len(v.s) < 0x80-6 {
		// The commonest shape, every length one byte: one append for
		// the framing (as rawjson's fast path reads it back).
		n := byte(len(v.s))
		b = append(b, byte(feFields<<3|protowire.BytesType), n+6, byte(ffKey<<3|protowire.VarintType), byte(id),
			byte(ffValue<<3|protowire.BytesType), n+2, byte(fvString<<3|protowire.BytesType), n)
		return append(b, v.s...), len(b) - 2
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
	b = appendTag(b, feFields, protowire.BytesType)
	b = appendVarint(b, uint64(flen))
	b = appendTag(b, ffKey, protowire.VarintType)
	b = appendVarint(b, uint64(id))
	b = appendTag(b, ffValue, protowire.BytesType)
	b = appendVarint(b, uint64(vlen))
	vstart = len(b)
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
	return b, vstart
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
