package codecs

import (
	"math/bits"
	"slices"
	"unicode/utf8"
	"unsafe"
)

// The shape plan: events of one source arrive in one shape, the same
// names in the same order with values of the same types, and many of
// their values repeat ([host], [service], [log][file], tags) while a few
// change ([message], [log][offset]). After a few events written the
// ordinary way, the encoder compiles what they share into a plan: the
// entries that were equal in all of them become one compare and one copy
// of their JSON, merged with their neighbours, and the rest become steps
// that expect a name and write only its value, their JSON prefix (comma,
// name, brace) precomputed. An event is then written by running the
// plan over its wire bytes: one step per changing value and per run of
// unchanged ones, instead of a name lookup, memo check and copy per
// member. A step that finds a different name or type gives the event
// back to the ordinary path; an unchanged run that changed is written
// entry by entry. Plans that keep missing are dropped and learnt again.

// shapeStep kinds: what a step reads after the object it may open.
const (
	stepNone   = iota // no entry: the unchanging entries that follow
	stepString        // an entry named key, a string expected
	stepInt           // an entry named key, an integer expected
	stepValue         // an entry named key, any value
)

// shapeStep opens an object (when open.pre is set: an entry holding an
// object, its members next), reads one entry (unless stepNone), then
// the unchanging entries that follow it, ends the objects that end
// there, and reads the unchanging entries that follow those. Steps do
// as much as they can: each costs a round of the loop, its branches
// and its reloads, whatever it writes.
type shapeStep struct {
	open   entryStep
	kind   uint8
	entry  entryStep
	tail   constRun
	closes int // objects that end after tail
	after  constRun
}

// entryStep is an entry a step expects.
type entryStep struct {
	tag byte   // Event.fields at the top, Map.fields inside
	key uint64 // the name's number
	// head is the entry's first six bytes as the SDK writes them for
	// this name (tags and name; the two lengths masked by headMask), so
	// one compare of a word reads most entries; a bit headMask clears
	// when the name needs two bytes, so that no word matches (headMask
	// itself would match bytes of a corrupt object).
	head uint64
	pre  []byte // the JSON before the value: comma, name, '{' for an object
}

// constRun is entries that were equal in every event the plan was learnt
// from: their bytes as they arrive, and their JSON, commas included.
type constRun struct {
	wire, json []byte
	keys       []uint64 // their names, to write them one by one when they differ
	tag        byte
	first      bool // the run starts its object: no comma before it
}

// headMask keeps the bytes of an entry's head that name it: the tags
// and the name's number, and the top bits of the two one-byte lengths.
const headMask = 0x80ffffff80ff

// shapeRefs is how many earlier events a plan is compiled against: a
// value is unchanging when it was the same in all of them and in the
// event the plan is compiled from.
const shapeRefs = 3

type shapePlan struct {
	steps []shapeStep
	ends  []int // where the open objects end, while running
	// Learning: the Event.fields bytes of the last events written the
	// ordinary way, copied (the batch they came from may be reused).
	refs  [shapeRefs][]byte
	nrefs int
	wait  int // events to write the ordinary way before learning again
	// The current window of events run through the plan, and how many
	// of them left it (a name or type it did not expect) or rewrote an
	// unchanged run.
	events, misses int
	fixed          int  // the most the steps write unchecked: names, unchanging runs, plain values (stepRoom)
	ready          bool // steps hold a plan
	hits           int  // events written by the plan, for tests
	off            bool // never plan, for tests of the ordinary way
}

// reset forgets the plan and what was learnt: the names' numbers changed.
func (s *shapePlan) reset() {
	s.steps, s.ready, s.nrefs, s.events, s.misses, s.wait = s.steps[:0], false, 0, 0, 0, 0
}

// shapeWindow is how many events a plan runs before its misses are
// counted; a plan that more than shapeMissLimit of them left, or made
// rewrite an unchanging run, is learnt again: the source's shape changed
// for good, or a value taken for unchanging is not. A plan that misses
// now and then is still far cheaper than none.
const shapeWindow, shapeMissLimit = 64, 32

// appendShaped writes the fields of an event whose Event.fields entries
// are span and the closing brace, by the plan. ok is false, and nothing
// is written, when the event does not have the plan's shape.
//
// The room the steps can take is made first (shapePlan.fixed), so that
// the common steps write at an index with no check for room; values
// written by append (the ordinary way's writers) make it again. It does
// not grow with the event: a long value is written by append.
func (enc *JSONEncoder) appendShaped(dst, span []byte) (_ []byte, ok bool) {
	s := &enc.shape
	start := len(dst)
	room := s.fixed + 2*shortCopy
	dst = slices.Grow(dst, room)
	out, n := unsafe.Pointer(unsafe.SliceData(dst)), len(dst)
	ends := s.ends[:0]
	missed := false
	p := 0
	for i := range s.steps {
		st := &s.steps[i]
		if len(st.open.pre) > 0 {
			v, end := headAt(span, p, st.open.head)
			if end == 0 {
				if v, end = entryOf(span, p, &st.open); end == 0 {
					return dst[:start], enc.shapeMissed()
				}
			}
			// The members: after the Value's tag and length, to the end.
			if end-v < 2 || span[v] != wvMap {
				return dst[:start], enc.shapeMissed()
			}
			if l := span[v+1]; l < 0x80 && int(l) == end-v-2 {
				p = v + 2
			} else if members, m := consumeBytes(span[v+1 : end]); m == end-v-1 {
				p = end - len(members)
			} else {
				return dst[:start], enc.shapeMissed()
			}
			n += put(out, n, st.open.pre)
			ends = append(ends, end)
		}
		if st.kind != stepNone {
			v, end := headAt(span, p, st.entry.head)
			if end == 0 {
				if v, end = entryOf(span, p, &st.entry); end == 0 {
					return dst[:start], enc.shapeMissed()
				}
			}
			value := span[v:end]
			n += put(out, n, st.entry.pre)
			p = end
			switch st.kind {
			case stepString:
				if str, isStr := rawString(value); isStr {
					if w := putPlainString(unsafe.Add(out, n), str); w > 0 {
						n += w
						goto tail
					}
				}
			case stepInt:
				if x, isInt := smallInt(value); isInt && x >= 0 && x < 1e8 {
					n += putInt(unsafe.Add(out, n), uint32(x))
					goto tail
				}
			}
			d, ok := enc.appendRawValue(dst[:n], value, len(ends)+1)
			if !ok {
				return dst[:start], enc.shapeMissed()
			}
			// Written by append: the room kept for the rest.
			dst = slices.Grow(d, room)
			out, n = unsafe.Pointer(unsafe.SliceData(dst)), len(dst)
		}
	tail:
		if t := &st.tail; len(t.wire) > 0 {
			if m := len(t.wire); m <= len(span)-p && string(t.wire) == string(span[p:p+m]) {
				n += put(out, n, t.json)
				p += m
			} else {
				missed = true
				if dst, p, ok = enc.runChanged(dst[:n], span, p, t, len(ends)+1, room); !ok {
					return dst[:start], enc.shapeMissed()
				}
				out, n = unsafe.Pointer(unsafe.SliceData(dst)), len(dst)
			}
		}
		if st.closes > 0 {
			for range st.closes {
				if p != ends[len(ends)-1] {
					return dst[:start], enc.shapeMissed()
				}
				ends = ends[:len(ends)-1]
				*(*byte)(unsafe.Add(out, n)) = '}'
				n++
			}
			if t := &st.after; len(t.wire) > 0 {
				if m := len(t.wire); m <= len(span)-p && string(t.wire) == string(span[p:p+m]) {
					n += put(out, n, t.json)
					p += m
				} else {
					missed = true
					if dst, p, ok = enc.runChanged(dst[:n], span, p, t, len(ends)+1, room); !ok {
						return dst[:start], enc.shapeMissed()
					}
					out, n = unsafe.Pointer(unsafe.SliceData(dst)), len(dst)
				}
			}
		}
	}
	s.ends = ends
	if p != len(span) {
		return dst[:start], enc.shapeMissed()
	}
	s.hits++
	if missed {
		s.misses++
	}
	enc.shapeCount()
	*(*byte)(unsafe.Add(out, n)) = '}'
	return dst[:n+1], true
}

// headAt reads the entry at span[p:] whose head is head, when it is in
// the SDK's shape with one-byte lengths: where its value starts and
// where it ends. end is 0 otherwise.
func headAt(span []byte, p int, head uint64) (v, end int) {
	if p <= len(span)-8 {
		if w := load64(unsafe.Pointer(unsafe.SliceData(span)), p); w&headMask == head {
			if l := int(w >> 8 & 0xff); l == int(w>>40&0xff)+4 && l < len(span)-p-1 {
				return p + 6, p + 2 + l
			}
		}
	}
	return 0, 0
}

// entryOf is headAt for the other shapes: longer lengths, a name of two
// bytes. end is 0 when the entry is not e's.
func entryOf(span []byte, p int, e *entryStep) (v, end int) {
	key, v, end, ok := entryAt(span, p, e.tag)
	if !ok || key != e.key || v >= end {
		return 0, 0
	}
	return v, end
}

// stepRoom is the most a step's value takes when written with no check
// for room: a plain string shorter than 128 bytes (rawString) and its
// quotes, an integer's word of eight digits. Other values, and longer
// ones, are written by append. The slack past shapePlan.fixed takes
// put's and putInt's whole-word stores.
var stepRoom = [...]int{stepNone: 0, stepString: 2 + 127, stepInt: 8, stepValue: 0}

// put copies b to out+n, which has the room, and returns its length.
func put(out unsafe.Pointer, n int, b []byte) int {
	if len(b) <= shortCopy && cap(b) >= shortCopy {
		copy32(unsafe.Add(out, n), unsafe.Pointer(unsafe.SliceData(b)))
	} else {
		copy(unsafe.Slice((*byte)(unsafe.Add(out, n)), len(b)), b)
	}
	return len(b)
}

// putPlainString writes s quoted at to, which has room for it, when it
// needs no escaping and is valid UTF-8 (as appendJSONStringFast checks);
// otherwise it returns 0, having written scratch only.
func putPlainString(to unsafe.Pointer, s string) int {
	const hi = 0x8080808080808080
	n := len(s)
	*(*byte)(to) = '"'
	*(*byte)(unsafe.Add(to, n+1)) = '"'
	body := unsafe.Add(to, 1)
	src := unsafe.Pointer(unsafe.StringData(s))
	var bad, high uint64
	if n < 8 {
		for i := 0; i < n; i++ {
			c := s[i]
			bad |= uint64(c-0x20) & 0x80 &^ uint64(c)
			if c == '"' || c == '\\' {
				return 0
			}
			high |= uint64(c)
			*(*byte)(unsafe.Add(body, i)) = c
		}
	} else {
		word := func(i int) {
			x := load64(src, i)
			*(*uint64)(unsafe.Add(body, i)) = x
			bad |= jsonStops(x)
			high |= x
		}
		for i := 0; i+8 <= n; i += 8 {
			word(i)
		}
		word(n - 8)
	}
	if bad&hi != 0 || high&hi != 0 && !utf8.ValidString(s) {
		return 0
	}
	return n + 2
}

// putInt writes x < 10^8 in decimal at to, which has room for eight
// bytes, and returns its length: a word of four digit pairs, its leading
// zeros shifted out, the digits counted from x's bit length (appendInt's
// chain of compares mispredicts when lengths vary, as offsets' do).
func putInt(to unsafe.Pointer, x uint32) int {
	// bits·log10(2), then one more when x reaches the next power of ten
	// (x|1: zero has one digit).
	t := uint32(bits.Len32(x|1)*1233) >> 12
	n := int(t + b2u(x|1 >= pow10[t&15]))
	hi, lo := x/1e4, x%1e4
	w := uint64(pairs[hi/100]) | uint64(pairs[hi%100])<<16 |
		uint64(pairs[lo/100])<<32 | uint64(pairs[lo%100])<<48
	*(*uint64)(to) = w >> (8 * (8 - n))
	return n
}

// pow10 is 10^i, for putInt.
var pow10 = [16]uint32{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

// pairs is the two digits of each number below 100 as they lie in memory.
var pairs = func() (t [100]uint16) {
	for i := range t {
		t[i] = digitPair(uint32(i))
	}
	return t
}()

// b2u is 1 for true, without a branch.
func b2u(b bool) uint32 {
	var u uint32
	if b {
		u = 1
	}
	return u
}

// shapeMissed counts an event the plan gave back.
func (enc *JSONEncoder) shapeMissed() bool {
	enc.shape.misses++
	enc.shapeCount()
	return false
}

// shapeCount ends the window when it is full: a plan that missed too
// often is dropped, to be learnt again from the events now arriving.
func (enc *JSONEncoder) shapeCount() {
	s := &enc.shape
	if s.events++; s.events < shapeWindow {
		return
	}
	if s.misses > shapeMissLimit {
		s.ready, s.nrefs = false, 0
	}
	s.events, s.misses = 0, 0
}

// runChanged writes an unchanging run that changed (appendEntries) and
// makes the room for the rest of the event again. On failure dst is
// returned as it was given.
func (enc *JSONEncoder) runChanged(dst, span []byte, p int, run *constRun, depth, room int) (_ []byte, _ int, ok bool) {
	d, q, ok := enc.appendEntries(dst, span, p, run, depth)
	if !ok {
		return dst, p, false
	}
	return slices.Grow(d, room), q, true
}

// appendEntries writes the entries of an unchanging run that changed,
// one by one, each of the names the run had. p moves past them.
func (enc *JSONEncoder) appendEntries(dst, span []byte, p int, run *constRun, depth int) (_ []byte, _ int, ok bool) {
	for j, want := range run.keys {
		key, v, end, isEntry := entryAt(span, p, run.tag)
		if !isEntry || key != want {
			return dst, p, false
		}
		if j > 0 || !run.first {
			dst = append(dst, ',')
		}
		c := &enc.keys[key]
		dst = append(dst, enc.keyText[c.start:c.end]...)
		if dst, ok = enc.appendRawValue(dst, span[v:end], depth); !ok {
			return dst, p, false
		}
		p = end
	}
	return dst, p, true
}

// entryAt reads the Field entry (Event.fields or Map.fields, by tag) at
// b[p:] in the shape the SDK writes: the name, then the value ending
// the entry. It returns the name's number, where the value starts, and
// where the entry ends.
func entryAt(b []byte, p int, tag byte) (key uint64, v, end int, ok bool) {
	if p >= len(b) {
		return 0, 0, 0, false
	}
	if k, l := shortEntry(b[p:], tag); l > 0 {
		return k, p + 6, p + 2 + l, true
	}
	if b[p] != tag {
		return 0, 0, 0, false
	}
	f, n := consumeBytes(b[p+1:])
	if n < 0 || len(f) < 3 || f[0] != wfKey {
		return 0, 0, 0, false
	}
	end = p + 1 + n
	key, kn := consumeVarint(f[1:])
	if kn < 0 || 1+kn >= len(f) || f[1+kn] != wfValue {
		return 0, 0, 0, false
	}
	value, vn := consumeBytes(f[2+kn:])
	if vn != len(f)-2-kn {
		return 0, 0, 0, false // more after the value: not the SDK's shape
	}
	return key, end - len(value), end, true
}

// learnShape is told of an event written the ordinary way whose fields
// the plan could have taken (span). Once shapeRefs events of its shape
// are kept, the plan is compiled from this one.
func (enc *JSONEncoder) learnShape(span []byte) {
	s := &enc.shape
	if s.wait > 0 {
		s.wait--
		return
	}
	if s.nrefs < shapeRefs {
		s.refs[s.nrefs] = append(s.refs[s.nrefs][:0], span...)
		s.nrefs++
		return
	}
	// A plan is learnt from events of one shape: one that is not (a
	// field more, an object fewer) would make a plan the others leave.
	// Otherwise the oldest is dropped, and the next event tried.
	for _, r := range s.refs {
		if !sameShape(r, span, wEventField) {
			oldest := s.refs[0]
			copy(s.refs[:], s.refs[1:])
			s.refs[shapeRefs-1] = append(oldest[:0], span...)
			return
		}
	}
	s.steps = s.steps[:0]
	s.ready = enc.compileLevel(span, s.refs[:], wEventField, false, false)
	s.fixed = 0
	for _, st := range s.steps {
		s.fixed += len(st.open.pre) + len(st.entry.pre) + stepRoom[st.kind] + len(st.tail.json) + st.closes + len(st.after.json)
	}
	if !s.ready {
		// Not in the SDK's shape: the ordinary way for a while.
		s.wait = 1024
	}
	s.nrefs = 0
	s.events, s.misses = 0, 0
}

// sameShape reports whether the entries a and b (of the event, or of an
// object, by tag) name the same fields in the same order, with objects
// where the other has objects, of the same shape.
func sameShape(a, b []byte, tag byte) bool {
	p, q := 0, 0
	for p < len(a) && q < len(b) {
		ka, va, ea, ok := entryAt(a, p, tag)
		if !ok {
			return false
		}
		kb, vb, eb, ok := entryAt(b, q, tag)
		if !ok || ka != kb {
			return false
		}
		ma, mb := objectMembers(a[va:ea]), objectMembers(b[vb:eb])
		if (ma == nil) != (mb == nil) || ma != nil && !sameShape(ma, mb, wRepeat) {
			return false
		}
		p, q = ea, eb
	}
	return p == len(a) && q == len(b)
}

// objectMembers returns the Map.fields entries of a Value that is an
// object in the SDK's shape, nil for any other (an empty object: empty,
// not nil).
func objectMembers(value []byte) []byte {
	if len(value) < 2 || value[0] != wvMap {
		return nil
	}
	members, n := consumeBytes(value[1:])
	if n != len(value)-1 {
		return nil
	}
	return members[:len(members):len(members)]
}

// compileLevel adds the steps for the entries of one object (or of the
// event), b, compared with the same object in refs. comma: the first
// entry follows something already written; joinable: the last step
// leaves the cursor at b's start, so unchanging entries there join it.
func (enc *JSONEncoder) compileLevel(b []byte, refs [][]byte, tag byte, comma, joinable bool) bool {
	s := &enc.shape
	rp := make([]int, len(refs))
	first := true
	for p := 0; p < len(b); {
		key, v, end, ok := entryAt(b, p, tag)
		if !ok || key >= uint64(len(enc.keys)) {
			return false
		}
		entry, value := b[p:end], b[v:end]
		// Which refs have this entry at this place, and the same one.
		same := len(refs) > 0
		var inner [][]byte
		for i, r := range refs {
			if rp[i] < 0 {
				same = false
				continue
			}
			rk, rv, rend, ok := entryAt(r, rp[i], tag)
			if !ok || rk != key {
				rp[i], same = -1, false
				continue
			}
			if string(r[rp[i]:rend]) != string(entry) {
				same = false
			}
			if rv < rend && r[rv] == wvMap {
				if members, n := consumeBytes(r[rv+1 : rend]); n == rend-rv-1 {
					inner = append(inner, members)
				}
			}
			rp[i] = rend
		}
		lead := comma || !first
		c := &enc.keys[key]
		name := enc.keyText[c.start:c.end]
		head := uint64(1) << 63 // never matches: a name of two bytes
		if key < 0x80 {
			head = uint64(tag) | wfKey<<16 | key<<24 | wfValue<<32
		}
		e := entryStep{tag: tag, key: key, head: head}
		switch {
		case same:
			if !joinable {
				s.steps = append(s.steps, shapeStep{})
				joinable = true
			}
			last := &s.steps[len(s.steps)-1]
			t := &last.tail
			if last.closes > 0 {
				t = &last.after
			}
			if len(t.keys) == 0 {
				t.tag, t.first = tag, !lead
			}
			t.keys = append(t.keys, key)
			t.wire = append(t.wire, entry...)
			if lead {
				t.json = append(t.json, ',')
			}
			t.json = append(t.json, name...)
			if t.json, ok = enc.appendRawValue(t.json, value, 1); !ok {
				return false
			}
			t.json = slices.Grow(t.json, shortCopy)
		case len(value) > 0 && value[0] == wvMap:
			members, n := consumeBytes(value[1:])
			if n != len(value)-1 {
				return false
			}
			e.pre = prefix(lead, name, '{')
			s.steps = append(s.steps, shapeStep{open: e})
			if !enc.compileLevel(members, inner, wRepeat, false, true) {
				return false
			}
			// The object ends after the last step's unchanging entries,
			// unless unchanging entries of an outer object follow those.
			if last := &s.steps[len(s.steps)-1]; len(last.after.wire) == 0 {
				last.closes++
			} else {
				s.steps = append(s.steps, shapeStep{closes: 1})
			}
			joinable = true
		default:
			kind := uint8(stepValue)
			if _, isStr := rawString(value); isStr {
				kind = stepString
			} else if _, isInt := smallInt(value); isInt {
				kind = stepInt
			}
			e.pre = prefix(lead, name, 0)
			// The first member of an object just opened is read by the
			// step that opened it.
			if first && joinable && tag == wRepeat && len(s.steps) > 0 && s.steps[len(s.steps)-1].kind == stepNone &&
				len(s.steps[len(s.steps)-1].open.pre) > 0 && len(s.steps[len(s.steps)-1].tail.wire) == 0 {
				last := &s.steps[len(s.steps)-1]
				last.kind, last.entry = kind, e
			} else {
				s.steps = append(s.steps, shapeStep{kind: kind, entry: e})
			}
			joinable = true
		}
		first = false
		p = end
	}
	return true
}

// prefix is the JSON before a value: a comma when it follows another
// member, its name and colon, and an opening brace for an object. It is
// kept with room for appendShort to read past it.
func prefix(comma bool, name []byte, open byte) []byte {
	var b []byte
	if comma {
		b = append(b, ',')
	}
	b = append(b, name...)
	if open != 0 {
		b = append(b, open)
	}
	return slices.Grow(b, shortCopy)
}
