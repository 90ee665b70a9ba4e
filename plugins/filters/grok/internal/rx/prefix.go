package rx

import (
	"cmp"
	"encoding/binary"
	"slices"
)

// prefixDFA answers, in a few table lookups, whether a match can start at
// a position: it runs the first prefixDepth bytes through a DFA built from
// the program (assertions and lookarounds taken as true, span bounds
// loosened, so it only ever says "maybe" too often, never "no" wrongly).
// A search over a line that does not match then costs a lookup per
// candidate position instead of a backtracking try: a line with twenty
// numbers in it no longer starts twenty timestamp matches.
type prefixDFA struct {
	classOf [256]uint8 // byte → class; the last class is "not tracked" (non-ASCII)
	nclass  int
	trans   []int32 // row offset (state*nclass) + class → row offset of the next state, or dead / accept
	start   int32   // row offset of the start state, or dead / accept
}

const (
	prefixDepth    = 32
	maxPrefixState = 512
	dead           = -1
	accept         = -2
)

// mayMatch reports whether a match could start at the beginning of t.
func (d *prefixDFA) mayMatch(t string) bool {
	st := d.start
	if st < 0 {
		return st == accept
	}
	// trans holds row offsets, so a step is two loads and an add; the
	// class of a non-ASCII byte leads to accept from every state.
	for k := 0; k < prefixDepth && k < len(t); k++ {
		if st = d.trans[st+int32(d.classOf[t[k]])]; st < 0 {
			return st == accept
		}
	}
	return true
}

// thread is an NFA position: an instruction and, for strings the offset
// reached, for spans the runes taken (counted up to min).
type thread struct{ pc, sub int32 }

func buildPrefixDFA(prog []inst, start int32) *prefixDFA {
	d := &prefixDFA{}
	// Byte classes: ASCII bytes that every instruction treats alike.
	var sets []byteSet
	for i := range prog {
		switch prog[i].op {
		case opClass, opSpan:
			var s byteSet
			s.addClass(prog[i].cls)
			sets = append(sets, s)
		case opString:
			for k := 0; k < len(prog[i].ext.str); k++ {
				var s byteSet
				s.add(prog[i].ext.str[k])
				sets = append(sets, s)
			}
		}
	}
	sig := map[string]uint8{}
	for b := 0; b < 0x80; b++ {
		key := make([]byte, 0, len(sets))
		for i := range sets {
			if sets[i].has(byte(b)) {
				key = append(key, 1)
			} else {
				key = append(key, 0)
			}
		}
		c, ok := sig[string(key)]
		if !ok {
			c = uint8(len(sig))
			sig[string(key)] = c
		}
		d.classOf[b] = c
	}
	high := uint8(len(sig)) // non-ASCII: the backtracker decides
	for b := 0x80; b < 0x100; b++ {
		d.classOf[b] = high
	}
	d.nclass = len(sig) + 1
	reps := make([]byte, len(sig)) // a byte of each ASCII class
	for b := 127; b >= 0; b-- {
		reps[d.classOf[b]] = byte(b)
	}

	ids := map[string]int32{}
	var states [][]thread
	mark := make([]uint32, len(prog))
	gen := uint32(0)
	var scratch []thread
	var keyBuf []byte
	// add returns the state for a thread set (closed), creating it.
	add := func(ts []thread) int32 {
		if len(ts) == 0 {
			return dead
		}
		gen++
		closed, isAccept := closure(prog, ts, mark, gen, scratch[:0])
		scratch = closed
		if isAccept {
			return accept
		}
		if len(closed) == 0 {
			return dead
		}
		keyBuf = threadKey(closed, keyBuf[:0])
		if id, ok := ids[string(keyBuf)]; ok {
			return id
		}
		if len(states) >= maxPrefixState {
			return accept // out of room: say maybe
		}
		id := int32(len(states))
		ids[string(keyBuf)] = id
		states = append(states, slices.Clone(closed))
		return id
	}
	d.start = add([]thread{{start, 0}})
	if d.start == accept {
		return d
	}
	depth := map[int32]int{d.start: 0}
	for q := 0; q < len(states); q++ {
		row := make([]int32, d.nclass)
		for c := range row {
			row[c] = accept
		}
		d.trans = append(d.trans, row...)
		if depth[int32(q)] >= prefixDepth {
			continue // never read: the DFA stops at the depth
		}
		var next []thread
		for c := 0; c < len(reps); c++ {
			next = step(prog, states[q], reps[c], next[:0])
			id := add(next)
			d.trans[q*d.nclass+c] = id
			if _, seen := depth[id]; id >= 0 && !seen {
				depth[id] = depth[int32(q)] + 1
			}
		}
	}
	d.rowOffsets()
	return d
}

// closure follows the instructions that consume nothing; reaching the
// end of the program means a match can end here: accept. mark and gen
// stand in for a visited set: an instruction is marked with the current
// generation.
func closure(prog []inst, ts []thread, mark []uint32, gen uint32, out []thread) ([]thread, bool) {
	var visit func(t thread) bool
	visit = func(t thread) bool {
		if t.sub == 0 {
			if mark[t.pc] == gen {
				return false
			}
			mark[t.pc] = gen
		}
		i := &prog[t.pc]
		switch i.op {
		case opMatch:
			return true
		case opFail:
		case opString, opClass:
			out = append(out, t)
		case opSpan:
			out = append(out, t)
			if t.sub >= i.min {
				return visit(thread{i.out, 0})
			}
		case opSplit:
			return visit(thread{i.out, 0}) || visit(thread{i.alt, 0})
		default: // jmp, save, assert, look, progress: taken as passing
			return visit(thread{i.out, 0})
		}
		return false
	}
	for _, t := range ts {
		if visit(t) {
			return nil, true
		}
	}
	return out, false
}

// step moves the threads over byte b.
func step(prog []inst, ts []thread, b byte, out []thread) []thread {
	for _, t := range ts {
		i := &prog[t.pc]
		switch i.op {
		case opString:
			if i.ext.str[t.sub] != b {
				continue
			}
			if int(t.sub)+1 < len(i.ext.str) {
				out = append(out, thread{t.pc, t.sub + 1})
			} else {
				out = append(out, thread{i.out, 0})
			}
		case opClass:
			if i.cls.has(rune(b)) {
				out = append(out, thread{i.out, 0})
			}
		case opSpan:
			if i.cls.has(rune(b)) && i.max != 0 {
				out = append(out, thread{t.pc, min(t.sub+1, i.min)})
			}
		}
	}
	return out
}

// threadKey sorts the threads and encodes them into buf as a map key.
func threadKey(ts []thread, buf []byte) []byte {
	slices.SortFunc(ts, func(a, b thread) int {
		if c := cmp.Compare(a.pc, b.pc); c != 0 {
			return c
		}
		return cmp.Compare(a.sub, b.sub)
	})
	last := thread{-1, -1}
	for _, t := range ts {
		if t == last {
			continue
		}
		last = t
		buf = binary.LittleEndian.AppendUint32(buf, uint32(t.pc))
		buf = binary.LittleEndian.AppendUint32(buf, uint32(t.sub))
	}
	return buf
}

// rowOffsets turns state numbers in trans into row offsets.
func (d *prefixDFA) rowOffsets() {
	n := int32(d.nclass)
	for i, st := range d.trans {
		if st >= 0 {
			d.trans[i] = st * n
		}
	}
	if d.start >= 0 {
		d.start *= n
	}
}
