package rx

import (
	"fmt"
	"math/bits"
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"
)

type opcode uint8

const (
	opMatch    opcode = iota
	opFail            // never matches
	opString          // a literal byte sequence
	opClass           // one rune of a class
	opSpan            // min..max runes of a class, as one instruction
	opSplit           // try out, then alt
	opJmp             // go to out
	opSave            // caps[arg] = pos
	opAssert          // an empty-width assertion
	opLook            // a fixed-width single-character lookaround
	opProgress        // fail unless pos moved past caps[arg] (no empty loop turns)
)

type assertion uint8

const (
	assertBeginLine assertion = iota
	assertEndLine
	assertBeginText
	assertEndText
	assertWord
	assertNotWord
)

type inst struct {
	op     opcode
	greedy bool
	assert assertion
	look   lookKind
	null   bool  // a match can go on from here without consuming
	out    int32 // the next instruction
	alt    int32 // opSplit: the second choice
	arg    int32 // opSave, opProgress: slot
	memo   int32 // visited-set row, -1 when (pc, pos) cannot be reached twice
	min    int32 // opSpan
	max    int32 // opSpan; -1 is unbounded
	cls    *class
	next   *byteSet // bytes that can start a match from here (shared)
	// only is the one byte, ASCII, that can start a match from here, or
	// -1: spans then find their ends with strings.IndexByte
	only int16
	ext  *instExt
}

// instExt holds what few instructions need, to keep inst small: the
// matcher walks instructions, and more of them fit in the cache.
type instExt struct {
	str string   // opString
	seq []*class // opLook
}

// byteSet is a set of bytes: 256 bits.
type byteSet [4]uint64

func (b *byteSet) add(c byte)      { b[c>>6] |= 1 << (c & 63) }
func (b *byteSet) has(c byte) bool { return b[c>>6]&(1<<(c&63)) != 0 }
func (b *byteSet) union(o *byteSet) bool {
	changed := false
	for k := range b {
		if n := b[k] | o[k]; n != b[k] {
			b[k], changed = n, true
		}
	}
	return changed
}

func (b *byteSet) addClass(c *class) {
	for r := 0; r < utf8.RuneSelf; r++ {
		if c.ascii[r>>6]&(1<<(uint(r)&63)) != 0 {
			b.add(byte(r))
		}
	}
	if len(c.ranges) > 0 {
		for x := 0xC0; x < 0x100; x++ {
			b.add(byte(x))
		}
	}
}

// class is a set of runes: a bitmap for ASCII and sorted ranges above it.
type class struct {
	ascii  [2]uint64
	ranges []rune // lo, hi pairs, all >= utf8.RuneSelf
	any    bool   // every rune: . (which takes \n too, as in Logstash)
}

func (c *class) has(r rune) bool {
	if r < utf8.RuneSelf {
		return c.ascii[r>>6]&(1<<(uint(r)&63)) != 0
	}
	rs := c.ranges
	for i := 0; i+1 < len(rs); i += 2 {
		if r < rs[i] {
			return false
		}
		if r <= rs[i+1] {
			return true
		}
	}
	return false
}

func newClass(ranges []rune) *class {
	c := &class{any: len(ranges) == 2 && ranges[0] == 0 && ranges[1] == unicode.MaxRune}
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		for r := lo; r <= hi && r < utf8.RuneSelf; r++ {
			c.ascii[r>>6] |= 1 << (uint(r) & 63)
		}
		if hi >= utf8.RuneSelf {
			c.ranges = append(c.ranges, max(lo, utf8.RuneSelf), hi)
		}
	}
	return c
}

// oneChar returns the class of a node that matches exactly one rune.
func oneChar(re *syntax.Regexp) (*class, bool) {
	switch re.Op {
	case syntax.OpCharClass:
		return newClass(re.Rune), true
	case syntax.OpAnyCharNotNL:
		return newClass([]rune{0, '\n' - 1, '\n' + 1, unicode.MaxRune}), true
	case syntax.OpAnyChar:
		return newClass([]rune{0, unicode.MaxRune}), true
	case syntax.OpLiteral:
		if len(re.Rune) != 1 {
			return nil, false
		}
		return literalClass(re.Rune[0], re.Flags&syntax.FoldCase != 0), true
	}
	return nil, false
}

func literalClass(r rune, fold bool) *class {
	rs := []rune{r, r}
	if fold {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			rs = append(rs, f, f)
		}
		rs = sortRanges(rs)
	}
	return newClass(rs)
}

func sortRanges(rs []rune) []rune {
	// insertion sort of pairs; only a handful of case variants
	for i := 2; i < len(rs); i += 2 {
		for j := i; j >= 2 && rs[j] < rs[j-2]; j -= 2 {
			rs[j], rs[j-2] = rs[j-2], rs[j]
			rs[j+1], rs[j-1] = rs[j-1], rs[j+1]
		}
	}
	return rs
}

type compiler struct {
	prog  []inst
	looks []lookKind
	caps  map[string]int // capture name → capture index, for named groups the caller keeps
	loops int            // loop-position slots, after the capture slots
}

func (c *compiler) emit(i inst) int32 {
	i.memo = -1
	c.prog = append(c.prog, i)
	return int32(len(c.prog) - 1)
}

// A fragment is compiled code with dangling exits to patch.
type frag struct {
	start int32
	outs  []patch
}

type patch struct {
	pc  int32
	alt bool
}

func (c *compiler) patch(ps []patch, to int32) {
	for _, p := range ps {
		if p.alt {
			c.prog[p.pc].alt = to
		} else {
			c.prog[p.pc].out = to
		}
	}
}

// nop returns a fragment that matches the empty string.
func (c *compiler) nop() frag {
	pc := c.emit(inst{op: opJmp})
	return frag{pc, []patch{{pc, false}}}
}

func (c *compiler) cat(a, b frag) frag {
	c.patch(a.outs, b.start)
	return frag{a.start, b.outs}
}

func (c *compiler) compile(re *syntax.Regexp) (frag, error) {
	switch re.Op {
	case syntax.OpNoMatch:
		pc := c.emit(inst{op: opFail})
		return frag{pc, nil}, nil
	case syntax.OpEmptyMatch:
		return c.nop(), nil
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			f := c.nop()
			for _, r := range re.Rune {
				pc := c.emit(inst{op: opClass, cls: literalClass(r, true)})
				f = c.cat(f, frag{pc, []patch{{pc, false}}})
			}
			return f, nil
		}
		pc := c.emit(inst{op: opString, ext: &instExt{str: string(re.Rune)}})
		return frag{pc, []patch{{pc, false}}}, nil
	case syntax.OpCharClass, syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		cls, _ := oneChar(re)
		pc := c.emit(inst{op: opClass, cls: cls})
		return frag{pc, []patch{{pc, false}}}, nil
	case syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		a := map[syntax.Op]assertion{
			syntax.OpBeginLine: assertBeginLine, syntax.OpEndLine: assertEndLine,
			syntax.OpBeginText: assertBeginText, syntax.OpEndText: assertEndText,
			syntax.OpWordBoundary: assertWord, syntax.OpNoWordBoundary: assertNotWord,
		}[re.Op]
		pc := c.emit(inst{op: opAssert, assert: a})
		return frag{pc, []patch{{pc, false}}}, nil
	case syntax.OpCapture:
		if strings.HasPrefix(re.Name, lookPrefix) {
			return c.lookaround(re)
		}
		idx, keep := c.caps[re.Name]
		body, err := c.compile(re.Sub[0])
		if err != nil || !keep {
			return body, err
		}
		open := c.emit(inst{op: opSave, arg: int32(2 * idx)})
		closePC := c.emit(inst{op: opSave, arg: int32(2*idx + 1)})
		c.prog[open].out = body.start
		c.patch(body.outs, closePC)
		return frag{open, []patch{{closePC, false}}}, nil
	case syntax.OpConcat:
		if len(re.Sub) == 0 {
			return c.nop(), nil
		}
		var f frag
		for i, sub := range re.Sub {
			g, err := c.compile(sub)
			if err != nil {
				return frag{}, err
			}
			if i == 0 {
				f = g
			} else {
				f = c.cat(f, g)
			}
		}
		return f, nil
	case syntax.OpAlternate:
		var outs []patch
		var start int32 = -1
		var prevSplit int32 = -1
		for i, sub := range re.Sub {
			var split int32 = -1
			if i < len(re.Sub)-1 {
				split = c.emit(inst{op: opSplit})
			}
			g, err := c.compile(sub)
			if err != nil {
				return frag{}, err
			}
			entry := g.start
			if split >= 0 {
				c.prog[split].out = g.start
				entry = split
			}
			if prevSplit >= 0 {
				c.prog[prevSplit].alt = entry
			} else {
				start = entry
			}
			prevSplit = split
			outs = append(outs, g.outs...)
		}
		return frag{start, outs}, nil
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		return c.repeat(re)
	}
	return frag{}, &UnsupportedError{fmt.Sprintf("regexp operator %v", re.Op)}
}

// maxExpand bounds how many copies a counted repetition may make.
const maxExpand = 1000

func (c *compiler) repeat(re *syntax.Regexp) (frag, error) {
	lo, hi := 0, -1
	switch re.Op {
	case syntax.OpPlus:
		lo = 1
	case syntax.OpQuest:
		hi = 1
	case syntax.OpRepeat:
		lo, hi = re.Min, re.Max
	}
	greedy := re.Flags&syntax.NonGreedy == 0
	sub := re.Sub[0]
	if cls, ok := oneChar(sub); ok {
		pc := c.emit(inst{op: opSpan, cls: cls, min: int32(lo), max: int32(hi), greedy: greedy})
		return frag{pc, []patch{{pc, false}}}, nil
	}
	if lo > maxExpand || hi > maxExpand {
		return frag{}, &UnsupportedError{"repetition count above 1000"}
	}
	f := c.nop()
	for i := 0; i < lo; i++ {
		g, err := c.compile(sub)
		if err != nil {
			return frag{}, err
		}
		f = c.cat(f, g)
	}
	if hi < 0 && minLen(sub) == 0 {
		// x* where x can match empty: the first turn may be empty, a
		// later one must move on, else the loop would spin. This gives
		// the groups Go's regexp gives.
		first := c.emit(inst{op: opSplit})
		g, err := c.compile(sub)
		if err != nil {
			return frag{}, err
		}
		loop := c.emit(inst{op: opSplit})
		c.patch(g.outs, loop)
		slot := int32(2*len(c.caps) + c.loops)
		c.loops++
		mark := c.emit(inst{op: opSave, arg: slot})
		body, err := c.compile(sub)
		if err != nil {
			return frag{}, err
		}
		progress := c.emit(inst{op: opProgress, arg: slot})
		c.prog[mark].out = body.start
		c.patch(body.outs, progress)
		c.prog[progress].out = loop
		var exits []patch
		if greedy {
			c.prog[first].out, c.prog[loop].out = g.start, mark
			exits = []patch{{first, true}, {loop, true}}
		} else {
			c.prog[first].alt, c.prog[loop].alt = g.start, mark
			exits = []patch{{first, false}, {loop, false}}
		}
		return c.cat(f, frag{first, exits}), nil
	}
	if hi < 0 {
		// L: split(body, exit); body; jmp L
		split := c.emit(inst{op: opSplit})
		g, err := c.compile(sub)
		if err != nil {
			return frag{}, err
		}
		c.patch(g.outs, split)
		var exit patch
		if greedy {
			c.prog[split].out = g.start
			exit = patch{split, true}
		} else {
			c.prog[split].alt = g.start
			exit = patch{split, false}
		}
		return c.cat(f, frag{split, []patch{exit}}), nil
	}
	// (x(x(x)?)?)? for the optional copies
	var exits []patch
	for i := lo; i < hi; i++ {
		split := c.emit(inst{op: opSplit})
		g, err := c.compile(sub)
		if err != nil {
			return frag{}, err
		}
		if greedy {
			c.prog[split].out = g.start
			exits = append(exits, patch{split, true})
		} else {
			c.prog[split].alt = g.start
			exits = append(exits, patch{split, false})
		}
		f = c.cat(f, frag{split, nil})
		f.outs = g.outs
	}
	f.outs = append(f.outs, exits...)
	return f, nil
}

// lookaround compiles a lookaround whose body is a fixed run of single
// characters into an assertion.
func (c *compiler) lookaround(re *syntax.Regexp) (frag, error) {
	var n int
	fmt.Sscanf(re.Name[len(lookPrefix):], "%d", &n)
	kind := c.looks[n]
	var seq []*class
	var add func(*syntax.Regexp) bool
	add = func(r *syntax.Regexp) bool {
		switch r.Op {
		case syntax.OpConcat:
			for _, s := range r.Sub {
				if !add(s) {
					return false
				}
			}
			return true
		case syntax.OpCapture:
			return add(r.Sub[0])
		case syntax.OpLiteral:
			for _, x := range r.Rune {
				seq = append(seq, literalClass(x, r.Flags&syntax.FoldCase != 0))
			}
			return true
		}
		cls, ok := oneChar(r)
		if ok {
			seq = append(seq, cls)
		}
		return ok
	}
	if !add(re.Sub[0]) || len(seq) == 0 {
		return frag{}, &UnsupportedError{"lookaround other than a fixed run of single characters"}
	}
	pc := c.emit(inst{op: opLook, look: kind, ext: &instExt{seq: seq}})
	return frag{pc, []patch{{pc, false}}}, nil
}

// setMemo gives a visited-set row to every instruction that can be
// reached twice at one position: joins (two or more ways in) and the
// instruction after a span (entered at several positions per span).
func (c *compiler) setMemo(start int32) int {
	in := make([]int, len(c.prog))
	in[start]++
	for pc := range c.prog {
		i := &c.prog[pc]
		switch i.op {
		case opMatch, opFail:
		case opSplit:
			in[i.out]++
			in[i.alt]++
		case opSpan:
			in[i.out] += 2
		default:
			in[i.out]++
		}
	}
	rows := 0
	for pc := range c.prog {
		if in[pc] >= 2 {
			c.prog[pc].memo = int32(rows)
			rows++
		}
	}
	return rows
}

// skipJmps follows jumps so no instruction points at a plain jump.
func (c *compiler) skipJmps() {
	target := func(pc int32) int32 {
		for n := 0; c.prog[pc].op == opJmp && n < len(c.prog); n++ {
			pc = c.prog[pc].out
		}
		return pc
	}
	for pc := range c.prog {
		i := &c.prog[pc]
		if i.op != opMatch && i.op != opFail {
			i.out = target(i.out)
		}
		if i.op == opSplit {
			i.alt = target(i.alt)
		}
	}
}

// setNext computes, for every instruction, the bytes a match can go on
// with from there, so the matcher skips alternatives and span ends that
// cannot work. Assertions are looked through (a superset is safe). Loops
// are solved by iterating to a fixpoint.
func (c *compiler) setNext() {
	prog := c.prog
	next := make([]byteSet, len(prog))
	for changed := true; changed; {
		changed = false
		for pc := len(prog) - 1; pc >= 0; pc-- {
			i := &prog[pc]
			var set byteSet
			null := false
			switch i.op {
			case opMatch:
				null = true
			case opFail:
			case opString:
				set.add(i.ext.str[0])
			case opClass:
				set.addClass(i.cls)
			case opSpan:
				set.addClass(i.cls)
				if i.min == 0 {
					set.union(&next[i.out])
					null = prog[i.out].null
				}
			case opSplit:
				set.union(&next[i.out])
				set.union(&next[i.alt])
				null = prog[i.out].null || prog[i.alt].null
			default: // jmp, save, assert, look, progress
				set.union(&next[i.out])
				null = prog[i.out].null
			}
			if next[pc].union(&set) {
				changed = true
			}
			if null && !i.null {
				i.null, changed = true, true
			}
		}
	}
	shared := map[byteSet]*byteSet{}
	for pc := range prog {
		p, ok := shared[next[pc]]
		if !ok {
			p = new(byteSet)
			*p = next[pc]
			shared[next[pc]] = p
		}
		prog[pc].next = p
		prog[pc].only = -1
		if !prog[pc].null {
			prog[pc].only = onlyByte(p)
		}
	}
}

// onlyByte returns the set's one member if it has one and it is ASCII
// (so it starts a rune wherever it is), else -1.
func onlyByte(b *byteSet) int16 {
	if b[2]|b[3] != 0 {
		return -1
	}
	var only int16 = -1
	for k := 0; k < 2; k++ {
		if w := b[k]; w != 0 {
			if w&(w-1) != 0 || only >= 0 {
				return -1
			}
			only = int16(k*64 + bits.TrailingZeros64(w))
		}
	}
	return only
}
