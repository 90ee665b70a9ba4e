package rx

import (
	"errors"
	"regexp/syntax"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// ErrTimeout is returned by Match when the deadline passed mid-match.
var ErrTimeout = errors.New("match timed out")

// Regexp is a compiled expression. It is safe for concurrent use.
type Regexp struct {
	expr    string
	prog    []inst
	start   int32
	rows    int // visited-set rows
	ncap    int
	slots   int // capture slots, then loop-position slots
	first   [256]bool
	any     bool     // every position can start a match
	begin   bool     // matches only at the start of the text
	bol     bool     // matches only at the start of a line
	needs   []string // literals every match contains
	minLen  int
	dfa     *prefixDFA
	machine sync.Pool
}

// Compile compiles expr. keep names the groups whose offsets Match
// reports, in that order; other groups are only grouping.
func Compile(expr string, keep []string) (*Regexp, error) {
	goExpr, looks, err := preprocess(expr)
	if err != nil {
		return nil, err
	}
	tree, err := syntax.Parse(goExpr, parseFlags)
	if err != nil {
		return nil, err
	}
	c := &compiler{looks: looks, caps: make(map[string]int, len(keep))}
	for i, n := range keep {
		c.caps[n] = i
	}
	body, err := c.compile(tree)
	if err != nil {
		return nil, err
	}
	match := c.emit(inst{op: opMatch})
	c.patch(body.outs, match)
	c.skipJmps()
	start := body.start
	for c.prog[start].op == opJmp {
		start = c.prog[start].out
	}
	re := &Regexp{expr: expr, start: start, ncap: len(keep), slots: 2*len(keep) + c.loops}
	re.rows = c.setMemo(start)
	c.setNext()
	re.prog = c.prog
	re.analyze(tree)
	re.dfa = buildPrefixDFA(re.prog, re.start)
	return re, nil
}

// String returns the expression as given to Compile.
func (re *Regexp) String() string { return re.expr }

// NumCaptures returns how many groups Match reports.
func (re *Regexp) NumCaptures() int { return re.ncap }

// Machine is the per-goroutine state of a match. Get one with
// (*Regexp).Machine, give it back with Release.
type Machine struct {
	re      *Regexp
	stack   []job
	caps    []int
	visited []uint64
	dirty   []int32
	width   int // input length + 1: columns of the visited set
	memo    bool
	steps   int // work done: instructions run, span bytes scanned
	check   int // steps at which to look at the clock next
	timeout time.Duration
	started time.Time
	s       string
}

type jobKind uint8

const (
	jobTry jobKind = iota
	jobRestore
	jobGreedy // retry a greedy span one rune shorter
	jobLazy   // retry a lazy span one rune longer
)

type job struct {
	kind jobKind
	pc   int32
	pos  int32
	arg  int32
}

// Machine returns a machine for this expression.
func (re *Regexp) Machine() *Machine {
	if m, ok := re.machine.Get().(*Machine); ok {
		return m
	}
	return &Machine{re: re, caps: make([]int, re.slots), stack: make([]job, 0, 64)}
}

// Release returns m to its expression's pool.
func (m *Machine) Release() { m.re.machine.Put(m) }

// maxVisitedBits bounds the visited set (4 MiB). Longer inputs run
// without it: still correct, no longer linear, and bounded by the timeout.
var maxVisitedBits = 32 << 20

// Match reports whether s contains a match, leftmost-first as in Perl and
// Oniguruma. The offsets of the kept groups are in Caps afterwards (-1 for
// a group that did not take part). timeout 0 means none; a match that
// runs past it stops with ErrTimeout.
func (m *Machine) Match(s string, timeout time.Duration) (bool, error) {
	re := m.re
	for i := range m.caps {
		m.caps[i] = -1
	}
	if len(s) < re.minLen {
		return false, nil
	}
	for _, lit := range re.needs {
		if !strings.Contains(s, lit) {
			return false, nil
		}
	}
	m.s = s
	m.steps, m.check = 0, stepsPerCheck
	m.timeout = timeout
	m.started = time.Time{}
	m.width = len(s) + 1
	m.memo = false
	defer m.clearVisited()
	if re.begin {
		return m.try(0)
	}
	for pos := 0; pos <= len(s); pos++ {
		if re.bol && pos > 0 && s[pos-1] != '\n' {
			// ^ at the start: only line starts can begin a match
			nl := strings.IndexByte(s[pos:], '\n')
			if nl < 0 {
				break
			}
			pos += nl + 1
		}
		if !re.any && (pos == len(s) || !re.first[s[pos]]) {
			if pos == len(s) {
				break
			}
			// skip ahead to a byte that can start a match
			for pos < len(s) && !re.first[s[pos]] {
				pos++
			}
			if pos == len(s) {
				break
			}
			if re.bol && pos > 0 && s[pos-1] != '\n' {
				pos-- // not a line start: the loop finds the next one
				continue
			}
		}
		if !re.dfa.mayMatch(s[pos:]) {
			continue
		}
		ok, err := m.try(pos)
		if ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// Caps returns the group offsets of the last match: start and end of
// group i at 2i and 2i+1.
func (m *Machine) Caps() []int { return m.caps[:2*m.re.ncap] }

func (m *Machine) clearVisited() {
	for _, w := range m.dirty {
		m.visited[w] = 0
	}
	m.dirty = m.dirty[:0]
	m.s = ""
	// A long line grew these; a pooled machine should not keep megabytes.
	if cap(m.visited) > 1<<14 {
		m.visited, m.dirty = nil, nil
	}
	if cap(m.stack) > 1<<14 {
		m.stack = make([]job, 0, 64)
	}
}

// marked reports whether (row, pos) was explored already.
func (m *Machine) marked(row int32, pos int) bool {
	bit := pos*m.re.rows + int(row)
	return m.visited[bit>>6]&(1<<(uint(bit)&63)) != 0
}

// seen marks (row, pos) and reports whether it was marked already.
func (m *Machine) seen(row int32, pos int) bool {
	bit := pos*m.re.rows + int(row) // position-major: a match moves forward
	w := bit >> 6
	mask := uint64(1) << (uint(bit) & 63)
	v := m.visited[w]
	if v&mask != 0 {
		return true
	}
	if v == 0 {
		m.dirty = append(m.dirty, int32(w))
	}
	m.visited[w] = v | mask
	return false
}

func isWordByte(b byte) bool {
	return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

func (m *Machine) assert(a assertion, pos int) bool {
	s := m.s
	switch a {
	case assertBeginLine:
		return pos == 0 || s[pos-1] == '\n'
	case assertEndLine:
		return pos == len(s) || s[pos] == '\n'
	case assertBeginText:
		return pos == 0
	case assertEndText:
		return pos == len(s)
	}
	before := pos > 0 && isWordByte(s[pos-1])
	after := pos < len(s) && isWordByte(s[pos])
	if a == assertWord {
		return before != after
	}
	return before == after
}

func (m *Machine) look(i *inst, pos int) bool {
	s := m.s
	ok := true
	if i.look == lookAhead || i.look == lookAheadNot {
		p := pos
		for _, c := range i.ext.seq {
			if p >= len(s) {
				ok = false
				break
			}
			r, w := rune(s[p]), 1
			if r >= utf8.RuneSelf {
				r, w = utf8.DecodeRuneInString(s[p:])
			}
			if !c.has(r) {
				ok = false
				break
			}
			p += w
		}
		return ok == (i.look == lookAhead)
	}
	p := pos
	for k := len(i.ext.seq) - 1; k >= 0; k-- {
		if p <= 0 {
			ok = false
			break
		}
		r, w := rune(s[p-1]), 1
		if r >= utf8.RuneSelf {
			r, w = utf8.DecodeLastRuneInString(s[:p])
		}
		if !i.ext.seq[k].has(r) {
			ok = false
			break
		}
		p -= w
	}
	return ok == (i.look == lookBehind)
}

// can reports whether a match can go on from instruction i at pos.
func (m *Machine) can(i *inst, pos int) bool {
	if i.null {
		return true
	}
	return pos < len(m.s) && i.next.has(m.s[pos])
}

// greedyEnd picks the longest end in [lo, hi] of span i after which the
// match can go on, queues the shorter ones, and returns it (-1: none).
func (m *Machine) greedyEnd(pc int32, i *inst, hi, lo int) int {
	s := m.s
	next := &m.re.prog[i.out]
	for e := hi; e >= lo; {
		if next.only >= 0 {
			// only one byte lets the match go on: jump to where it is
			k := strings.LastIndexByte(s[lo:min(e+1, len(s))], byte(next.only))
			if k < 0 {
				return -1
			}
			m.steps += e - (lo + k)
			e = lo + k
		}
		m.steps++
		w := 1
		if e > 0 && s[e-1] >= utf8.RuneSelf {
			_, w = utf8.DecodeLastRuneInString(s[:e])
		}
		if m.can(next, e) && !(m.memo && next.memo >= 0 && m.marked(next.memo, e)) {
			if e > lo {
				m.stack = append(m.stack, job{kind: jobGreedy, pc: pc, pos: int32(e - w), arg: int32(lo)})
			}
			return e
		}
		e -= w
	}
	return -1
}

// lazyEnd picks the shortest end of span i from pos (n runes in; one more
// at least when more is set) after which the match can go on, queues the
// longer ones, and returns it with its rune count (-1: none).
func (m *Machine) lazyEnd(pc int32, i *inst, pos int, n int32, more bool) (int, int32) {
	s := m.s
	next := &m.re.prog[i.out]
	for {
		if !more && m.can(next, pos) && !(m.memo && next.memo >= 0 && m.marked(next.memo, pos)) {
			m.stack = append(m.stack, job{kind: jobLazy, pc: pc, pos: int32(pos), arg: n})
			return pos, n
		}
		more = false
		m.steps++
		if i.max >= 0 && n >= i.max || pos >= len(s) {
			return -1, n
		}
		if i.cls.any && i.max < 0 && next.only >= 0 {
			// .*? before one byte ("%{DATA}\""): the next place it can
			// end is that byte's next occurrence (n no longer counts:
			// with no max, nothing reads it)
			k := strings.IndexByte(s[pos+1:], byte(next.only))
			if k < 0 {
				return -1, n
			}
			m.steps += k
			pos += 1 + k
			continue
		}
		r, w := rune(s[pos]), 1
		if r >= utf8.RuneSelf {
			r, w = utf8.DecodeRuneInString(s[pos:])
		}
		if !i.cls.has(r) {
			return -1, n
		}
		pos += w
		n++
	}
}

// stepsPerCheck is how often a match looks at its cost: a match still
// running after that many steps turns its visited set on (typical lines
// finish well before, and skip its cost) and reads the clock.
var stepsPerCheck = 1 << 12

// tick runs every stepsPerCheck steps: it turns the visited set on and
// enforces the timeout.
func (m *Machine) tick() error {
	m.check = m.steps + stepsPerCheck
	m.enableMemo()
	if m.timeout > 0 {
		if m.started.IsZero() {
			m.started = time.Now()
		} else if time.Since(m.started) > m.timeout {
			return ErrTimeout
		}
	}
	return nil
}

func (m *Machine) enableMemo() {
	if !m.memo && m.re.rows*m.width <= maxVisitedBits {
		// Turning the set on midway is safe: states explored before it
		// are only not pruned.
		if n := (m.re.rows*m.width + 63) / 64; cap(m.visited) < n {
			m.visited = make([]uint64, n)
		} else {
			m.visited = m.visited[:n]
		}
		m.memo = true
	}
}

// try runs the backtracker anchored at pos.
func (m *Machine) try(start int) (bool, error) {
	prog := m.re.prog
	s := m.s
	memo := m.memo
	m.stack = append(m.stack[:0], job{kind: jobTry, pc: m.re.start, pos: int32(start)})
	for len(m.stack) > 0 {
		if m.steps >= m.check {
			if err := m.tick(); err != nil {
				m.stack = m.stack[:0]
				return false, err
			}
			memo = m.memo
		}
		j := m.stack[len(m.stack)-1]
		m.stack = m.stack[:len(m.stack)-1]
		pc, pos := j.pc, int(j.pos)
		switch j.kind {
		case jobRestore:
			m.caps[j.pc] = int(j.arg)
			continue
		case jobGreedy:
			// j.pos is the longest end left to try, j.arg the shortest.
			if pos = m.greedyEnd(pc, &prog[pc], pos, int(j.arg)); pos < 0 {
				continue
			}
			pc = prog[pc].out
		case jobLazy:
			// j.pos ended the last try, j.arg runes in: try longer.
			n := j.arg
			if pos, n = m.lazyEnd(pc, &prog[pc], pos, n, true); pos < 0 {
				continue
			}
			pc = prog[pc].out
		}
	run:
		for {
			if m.steps++; m.steps >= m.check {
				if err := m.tick(); err != nil {
					m.stack = m.stack[:0]
					return false, err
				}
				memo = m.memo
			}
			i := &prog[pc]
			if memo && i.memo >= 0 && m.seen(i.memo, pos) {
				break
			}
			switch i.op {
			case opMatch:
				m.stack = m.stack[:0]
				return true, nil
			case opFail:
				break run
			case opString:
				if !strings.HasPrefix(s[pos:], i.ext.str) {
					break run
				}
				pos += len(i.ext.str)
			case opClass:
				if pos >= len(s) {
					break run
				}
				r, w := rune(s[pos]), 1
				if r >= utf8.RuneSelf {
					r, w = utf8.DecodeRuneInString(s[pos:])
				}
				if !i.cls.has(r) {
					break run
				}
				pos += w
			case opSpan:
				if i.greedy {
					lo, n, p := -1, int32(0), pos
					if i.min == 0 {
						lo = p
					}
					if i.cls.any && i.max < 0 && i.min == 0 {
						p = len(s) // .* takes the rest
					} else if i.max < 0 && i.min <= 1 {
						// The commonest spans (\S+, [^"]*, \d+): no count
						// to keep, so ASCII bytes are tested in a tight loop.
						p = spanEnd(i.cls, s, p)
						if i.min == 1 && p > pos {
							lo = pos + 1
							if s[pos] >= utf8.RuneSelf {
								_, w := utf8.DecodeRuneInString(s[pos:])
								lo = pos + w
							}
						}
					} else {
						for p < len(s) && (i.max < 0 || n < i.max) {
							r, w := rune(s[p]), 1
							if r >= utf8.RuneSelf {
								r, w = utf8.DecodeRuneInString(s[p:])
							}
							if !i.cls.has(r) {
								break
							}
							p += w
							n++
							if n == i.min {
								lo = p
							}
						}
					}
					m.steps += p - pos
					if lo < 0 {
						break run
					}
					if pos = m.greedyEnd(pc, i, p, lo); pos < 0 {
						break run
					}
					// greedyEnd queued the shorter ends; go on from here.
					pc = i.out
					continue
				} else {
					n := int32(0)
					for ; n < i.min; n++ {
						if pos >= len(s) {
							break run
						}
						r, w := rune(s[pos]), 1
						if r >= utf8.RuneSelf {
							r, w = utf8.DecodeRuneInString(s[pos:])
						}
						if !i.cls.has(r) {
							break run
						}
						pos += w
					}
					if pos, _ = m.lazyEnd(pc, i, pos, n, false); pos < 0 {
						break run
					}
				}
			case opSplit:
				// Take only the branches that can go on with the next byte.
				outOK, altOK := m.can(&prog[i.out], pos), m.can(&prog[i.alt], pos)
				if !outOK {
					if !altOK {
						break run
					}
					pc = i.alt
					continue
				}
				if altOK {
					m.stack = append(m.stack, job{kind: jobTry, pc: i.alt, pos: int32(pos)})
				}
			case opSave:
				m.stack = append(m.stack, job{kind: jobRestore, pc: i.arg, arg: int32(m.caps[i.arg])})
				m.caps[i.arg] = pos
			case opAssert:
				if !m.assert(i.assert, pos) {
					break run
				}
			case opLook:
				if !m.look(i, pos) {
					break run
				}
			case opProgress:
				if pos == m.caps[i.arg] {
					break run
				}
			case opJmp:
			}
			pc = i.out
		}
	}
	return false, nil
}

// spanEnd returns where the longest run of cls's runes from p ends.
func spanEnd(cls *class, s string, p int) int {
	for p < len(s) {
		c := s[p]
		if c < utf8.RuneSelf {
			if cls.ascii[c>>6]&(1<<(c&63)) == 0 {
				return p
			}
			p++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[p:])
		if !cls.has(r) {
			return p
		}
		p += w
	}
	return p
}

// analyze computes the prefilters: which bytes can start a match, whether
// the match is tied to the start of the text, the literals every match
// contains and the shortest match.
func (re *Regexp) analyze(tree *syntax.Regexp) {
	var first [256]bool
	nullable := firstBytes(tree, &first)
	re.first = first
	re.any = nullable
	re.begin = leadingOp(tree) == syntax.OpBeginText
	re.bol = leadingOp(tree) == syntax.OpBeginLine
	re.minLen = minLen(tree)
	lits := required(tree, nil)
	// longest first: the rarer, the sooner a miss is rejected
	for i := 1; i < len(lits); i++ {
		for j := i; j > 0 && len(lits[j]) > len(lits[j-1]); j-- {
			lits[j], lits[j-1] = lits[j-1], lits[j]
		}
	}
	seen := map[string]bool{}
	for _, l := range lits {
		if len(re.needs) == 3 {
			break
		}
		dup := seen[l]
		for _, n := range re.needs {
			dup = dup || strings.Contains(n, l)
		}
		if !dup {
			re.needs = append(re.needs, l)
			seen[l] = true
		}
	}
}

func isLook(re *syntax.Regexp) bool {
	return re.Op == syntax.OpCapture && strings.HasPrefix(re.Name, lookPrefix)
}

func leadingOp(re *syntax.Regexp) syntax.Op {
	for {
		switch {
		case re.Op == syntax.OpConcat && len(re.Sub) > 0:
			re = re.Sub[0]
		case re.Op == syntax.OpCapture && !isLook(re):
			re = re.Sub[0]
		default:
			return re.Op
		}
	}
}

// firstBytes adds the bytes a match of re can start with to set and
// reports whether re can match the empty string (then what follows it
// can start the match too).
func firstBytes(re *syntax.Regexp, set *[256]bool) bool {
	switch re.Op {
	case syntax.OpNoMatch:
		return false
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return true
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return true
		}
		addRuneFirst(re.Rune[0], re.Flags&syntax.FoldCase != 0, set)
		return false
	case syntax.OpCharClass, syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		cls, _ := oneChar(re)
		for b := 0; b < utf8.RuneSelf; b++ {
			if cls.has(rune(b)) {
				set[b] = true
			}
		}
		if len(cls.ranges) > 0 {
			for b := 0xC0; b < 0x100; b++ {
				set[b] = true
			}
		}
		return false
	case syntax.OpCapture:
		if isLook(re) {
			return true
		}
		return firstBytes(re.Sub[0], set)
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			if !firstBytes(sub, set) {
				return false
			}
		}
		return true
	case syntax.OpAlternate:
		nullable := false
		for _, sub := range re.Sub {
			if firstBytes(sub, set) {
				nullable = true
			}
		}
		return nullable
	case syntax.OpStar, syntax.OpQuest:
		firstBytes(re.Sub[0], set)
		return true
	case syntax.OpPlus:
		return firstBytes(re.Sub[0], set)
	case syntax.OpRepeat:
		n := firstBytes(re.Sub[0], set)
		return n || re.Min == 0
	}
	for b := range set {
		set[b] = true
	}
	return true
}

func addRuneFirst(r rune, fold bool, set *[256]bool) {
	var buf [utf8.UTFMax]byte
	add := func(r rune) {
		utf8.EncodeRune(buf[:], r)
		set[buf[0]] = true
	}
	add(r)
	if fold {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			add(f)
		}
	}
}

func minLen(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return len(re.Rune) // case variants may differ in width
		}
		return len(string(re.Rune))
	case syntax.OpCharClass, syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		return 1
	case syntax.OpCapture:
		if isLook(re) {
			return 0
		}
		return minLen(re.Sub[0])
	case syntax.OpConcat:
		n := 0
		for _, sub := range re.Sub {
			n += minLen(sub)
		}
		return n
	case syntax.OpAlternate:
		n := -1
		for _, sub := range re.Sub {
			if m := minLen(sub); n < 0 || m < n {
				n = m
			}
		}
		return max(n, 0)
	case syntax.OpPlus:
		return minLen(re.Sub[0])
	case syntax.OpRepeat:
		return re.Min * minLen(re.Sub[0])
	}
	return 0
}

// required returns literals that every match of re contains.
func required(re *syntax.Regexp, out []string) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase == 0 && len(re.Rune) > 0 {
			out = append(out, string(re.Rune))
		}
	case syntax.OpCapture:
		if !isLook(re) {
			out = required(re.Sub[0], out)
		}
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			out = required(sub, out)
		}
	case syntax.OpPlus:
		out = required(re.Sub[0], out)
	case syntax.OpRepeat:
		if re.Min > 0 {
			out = required(re.Sub[0], out)
		}
	}
	return out
}
