package kv

import (
	"regexp"
	"strings"
)

// field_split_pattern and value_split_pattern: Logstash builds one regexp
// from them, `key(?!split) split value (field_split|$)`, whose lookaheads
// RE2 lacks. The scan below reads the same way without them: a key runs to
// the first place where either pattern matches, a value to the first where
// the field split does, each found by a forward search.

// finder finds where a pattern matches in one text. The scan asks about
// positions in increasing order, so the match found last answers most
// questions and the text is searched about once.
type finder struct {
	re         *regexp.Regexp
	s          string
	from       int // start and end are the first match at or after from
	start, end int // start is -1 when there is none
}

func newFinder(re *regexp.Regexp, s string) finder {
	return finder{re: re, s: s, from: len(s) + 1}
}

// next returns the first match that starts at or after p (start -1: none).
// Patterns are matched against the text from p on, so `^` and `\b` see p as
// the text's start.
func (f *finder) next(p int) (start, end int) {
	if p >= f.from && (f.start < 0 || f.start >= p) {
		return f.start, f.end
	}
	f.from, f.start, f.end = p, -1, -1
	if loc := f.re.FindStringIndex(f.s[p:]); loc != nil {
		f.start, f.end = p+loc[0], p+loc[1]
	}
	return f.start, f.end
}

// until returns the first position from i at which a or b (when not nil)
// matches, or len(s); a backslash escapes the character after it.
func until(s string, i int, a, b *finder) int {
	for {
		m := len(s)
		if st, _ := a.next(i); st >= 0 {
			m = st
		}
		if b != nil {
			if st, _ := b.next(i); st >= 0 && st < m {
				m = st
			}
		}
		bs := strings.IndexByte(s[i:m], '\\')
		if bs < 0 {
			return m
		}
		if i += bs + 2; i >= len(s) {
			return len(s)
		}
	}
}

// parsePattern is parse with split patterns.
func (f *filter) parsePattern(s, prefix string, r *result, depth int) {
	fs, vs := newFinder(f.fieldRe, s), newFinder(f.valueRe, s)
	var m closers
	i := 0
	for i < len(s) {
		ks := i
		ke := until(s, i, &fs, &vs)
		vst, j := vs.next(ke)
		if vst != ke || ke == ks {
			// No pair here: a key without a value separator, or a
			// separator where a key should start. The scan goes on
			// after a field separator, where Logstash's goes on from
			// the next character (after `junk++a=1` it reads a key
			// `+a`), and from the next character after a value
			// separator, as Logstash's does.
			i = ke + 1
			if st, end := fs.next(ke); st == ke {
				i = max(ke+1, end)
			}
			continue
		}
		val, next := f.patternValue(s, j, &fs, &m)
		i = next
		f.add(s[ks:ke], val, prefix, r, depth)
	}
}

// patternValue is value with a field split pattern.
func (f *filter) patternValue(s string, i int, fs *finder, m *closers) (val string, next int) {
	if q, k, ok := quoted(s, i, f.brackets, m); ok {
		if k == len(s) {
			return q, k
		}
		if st, end := fs.next(k); st == k {
			return q, end
		}
	}
	k := until(s, i, fs, nil)
	next = k
	if st, end := fs.next(k); st == k {
		next = end
	}
	return s[i:k], next
}
