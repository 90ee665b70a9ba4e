// Package rx is grok's regular-expression engine: a bit-state backtracker
// over Go's regexp/syntax parse tree.
//
// Why not regexp: grok patterns are long (an expanded COMBINEDAPACHELOG is
// about 2,000 characters) and matched unanchored, which puts Go's regexp on
// its Pike VM at about 1 µs per input byte. A backtracker that explores in
// priority order gives the same leftmost-first submatches as Perl, Ruby's
// Oniguruma (what Logstash runs) and Go's regexp, and a visited set over
// (instruction, position) bounds it to O(program × input), like RE2. On
// top of that it runs character-class loops (\S+, [^"]*, .*?) as one
// instruction, skips start positions that cannot begin a match and rejects
// inputs that lack a literal every match needs.
//
// It accepts RE2 syntax plus what Logstash's pattern files use from
// Oniguruma: (?<name>…) groups, atomic groups (?>…) (run as plain groups,
// since they are there only to stop a backtracker's blow-up, which the
// visited set already prevents), lookarounds whose body is a fixed run of
// single characters ((?<![0-9]), (?!<[0-9])) and Ruby's (?m) (dot matches
// newline). Everything else (back-references, general lookarounds,
// possessive quantifiers, \G) fails with an *UnsupportedError so the caller
// can fall back to a fuller backtracking engine.
package rx

import (
	"fmt"
	"regexp/syntax"
	"strconv"
	"strings"
)

// UnsupportedError reports a construct this engine does not run.
type UnsupportedError struct{ What string }

func (e *UnsupportedError) Error() string {
	return e.What + " is not supported by the linear-time engine"
}

// lookKind is the kind of a lookaround marker.
type lookKind uint8

const (
	lookAhead lookKind = iota + 1
	lookAheadNot
	lookBehind
	lookBehindNot
)

// Names of the marker groups preprocess puts in place of lookarounds: Go's
// parser does not know lookarounds, so each becomes a capture group with a
// reserved name that the compiler turns back into an assertion.
const lookPrefix = "rxlook_"

// preprocess rewrites Oniguruma syntax into Go syntax. It returns the Go
// expression and the kind of each lookaround marker, by index.
func preprocess(expr string) (string, []lookKind, error) {
	var b buffer
	b.Grow(len(expr) + 16)
	var looks []lookKind
	// atom is where the last atom (a character, class or group) starts
	// in b, groups where each open group starts, and quantified whether
	// a quantifier just ended: Oniguruma reads .?* as (?:.?)*, which Go's
	// parser rejects, so the atom and its first quantifier get wrapped.
	atom, quantified := 0, false
	// counts is the largest product of nested counted repeats ({n,m})
	// in the last atom; each open group keeps the largest in it so far.
	// Go rejects products over 1000 (Logstash's ECS EMAILLOCALPART has
	// {1,62} in {0,63}), so such a repeat is written out as copies.
	type group struct{ start, counts int }
	var groups []group
	counts := 1
	for i := 0; i < len(expr); {
		c := expr[i]
		if !strings.ContainsRune("*+?{", rune(c)) {
			quantified = false
			if c != ')' && c != '|' {
				atom, counts = b.Len(), 1
			}
		}
		switch c {
		case '\\':
			if i+1 >= len(expr) {
				return "", nil, fmt.Errorf("trailing backslash")
			}
			n := expr[i+1]
			switch {
			case n >= '1' && n <= '9':
				return "", nil, &UnsupportedError{"back-reference \\" + string(n)}
			case n == 'k' || n == 'g':
				return "", nil, &UnsupportedError{"named back-reference or subroutine \\" + string(n)}
			case n == 'G':
				return "", nil, &UnsupportedError{"\\G"}
			case n == 'Z':
				return "", nil, &UnsupportedError{"\\Z"}
			case n == 'h':
				b.WriteString(`[0-9a-fA-F]`)
			case n == 'H':
				b.WriteString(`[^0-9a-fA-F]`)
			default:
				b.WriteByte(c)
				b.WriteByte(n)
			}
			i += 2
		case '[':
			class, j, err := FlattenClass(expr, i)
			if err != nil {
				return "", nil, err
			}
			b.WriteString(class)
			i = j
		case ')':
			if len(groups) > 0 {
				g := groups[len(groups)-1]
				atom, counts, groups = g.start, g.counts, groups[:len(groups)-1]
			}
			b.WriteByte(c)
			i++
		case '(':
			groups = append(groups, group{start: b.Len(), counts: 1})
			rest := expr[i:]
			switch {
			case strings.HasPrefix(rest, "(?>"):
				b.WriteString("(?:")
				i += 3
			case strings.HasPrefix(rest, "(?="), strings.HasPrefix(rest, "(?!"),
				strings.HasPrefix(rest, "(?<="), strings.HasPrefix(rest, "(?<!"):
				var k lookKind
				switch {
				case rest[2] == '=':
					k, i = lookAhead, i+3
				case rest[2] == '!':
					k, i = lookAheadNot, i+3
				case rest[3] == '=':
					k, i = lookBehind, i+4
				default:
					k, i = lookBehindNot, i+4
				}
				b.WriteString("(?P<" + lookPrefix + strconv.Itoa(len(looks)) + ">")
				looks = append(looks, k)
			case strings.HasPrefix(rest, "(?#"):
				end := strings.IndexByte(rest, ')')
				if end < 0 {
					return "", nil, fmt.Errorf("unterminated comment (?#")
				}
				i += end + 1
			case strings.HasPrefix(rest, "(?<"), strings.HasPrefix(rest, "(?P<"):
				end := strings.IndexByte(rest, '>')
				if end < 0 {
					return "", nil, fmt.Errorf("unterminated group name in %q", rest[:min(len(rest), 20)])
				}
				b.WriteString(rest[:end+1])
				i += end + 1
			case strings.HasPrefix(rest, "(?"):
				// Flags: Ruby's m is dot-matches-newline (Perl's s).
				j := 2
				for j < len(rest) && rest[j] != ')' && rest[j] != ':' {
					j++
				}
				flags := rest[2:j]
				for _, f := range flags {
					switch f {
					case 'i', 's', 'U', '-':
					case 'm':
					default:
						return "", nil, &UnsupportedError{"flag (?" + string(f) + ")"}
					}
				}
				b.WriteString("(?")
				b.WriteString(strings.ReplaceAll(flags, "m", "s"))
				i += 2 + len(flags)
			default:
				b.WriteByte(c)
				i++
			}
		case '*', '+', '?', '{':
			q := quantifierEnd(expr, i)
			if q == i { // a { that starts no repeat is a literal
				b.WriteByte(c)
				i++
				quantified = false
				continue
			}
			if quantified { // a nested repetition: a?* is (?:a?)*
				b.insert(atom, "(?:")
				b.WriteByte(')')
			}
			lazy := q < len(expr) && expr[q] == '?'
			lo, hi, open := repeatCounts(expr[i:q])
			if hi*counts > 1000 && counts > 1 && !lazy && !b.hasGroupNameFrom(atom) {
				b.unroll(atom, lo, hi, open)
			} else {
				b.WriteString(expr[i:q])
				counts *= max(hi, 1)
			}
			i = q
			if lazy {
				b.WriteByte('?')
				i++
			} else if i < len(expr) && expr[i] == '+' {
				return "", nil, &UnsupportedError{"possessive quantifier " + expr[q-1:q] + "+"}
			}
			quantified = true
			if len(groups) > 0 {
				groups[len(groups)-1].counts = max(groups[len(groups)-1].counts, counts)
			}
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), looks, nil
}

// quantifierEnd returns the index after the quantifier at i (*, +, ?,
// {n}, {n,}, {n,m}), or i when the { there starts no repeat.
func quantifierEnd(expr string, i int) int {
	if expr[i] != '{' {
		return i + 1
	}
	j, digits, comma := i+1, 0, false
	for ; j < len(expr); j++ {
		switch c := expr[j]; {
		case c >= '0' && c <= '9':
			digits++
		case c == ',' && !comma && digits > 0:
			comma = true
		case c == '}' && digits > 0:
			return j + 1
		default:
			return i
		}
	}
	return i
}

// repeatCounts returns the bounds of a counted repeat ({n}, {n,},
// {n,m}): hi is n for {n,} (what Go's limit counts), with open set, and
// 0 for *, + and ?.
func repeatCounts(q string) (lo, hi int, open bool) {
	if q[0] != '{' {
		return 0, 0, false
	}
	l, h, comma := strings.Cut(q[1:len(q)-1], ",")
	lo, _ = strconv.Atoi(l)
	if !comma {
		return lo, lo, false
	}
	if h == "" {
		return lo, lo, true
	}
	hi, _ = strconv.Atoi(h)
	return lo, hi, false
}

// FlattenClass returns the character class that starts at expr[i] with
// the classes nested in it merged in, as Oniguruma reads them
// ([[[:alnum:]]_] is [[:alnum:]_]), and the index after it. Go's syntax
// has no nested classes: it would read [[[:alnum:]]_] as a class of [
// and alnum followed by the text "_]".
func FlattenClass(expr string, i int) (string, int, error) {
	var b strings.Builder
	j, err := flattenInto(&b, expr, i, true)
	return b.String(), j, err
}

func flattenInto(b *strings.Builder, expr string, i int, outer bool) (int, error) {
	j := i + 1
	negated := j < len(expr) && expr[j] == '^'
	if negated {
		if !outer {
			return 0, &UnsupportedError{"negated character class inside a class"}
		}
		j++
	}
	if outer {
		b.WriteString(expr[i:j])
	}
	if j < len(expr) && expr[j] == ']' { // a leading ] is literal
		b.WriteString(`\]`)
		j++
	}
	for j < len(expr) {
		switch c := expr[j]; c {
		case '\\':
			b.WriteString(expr[j:min(j+2, len(expr))])
			j += 2
			continue
		case '[':
			if strings.HasPrefix(expr[j:], "[:") {
				if end := strings.Index(expr[j:], ":]"); end > 0 {
					name := expr[j : j+end+2]
					if u, ok := unicodePOSIX[name]; ok {
						name = u
					}
					b.WriteString(name)
					j += end + 2
					continue
				}
			}
			k, err := flattenInto(b, expr, j, false)
			if err != nil {
				return 0, err
			}
			j = k
			continue
		case '&':
			if strings.HasPrefix(expr[j:], "&&") {
				return 0, &UnsupportedError{"character class intersection &&"}
			}
		case ']':
			if outer {
				b.WriteByte(']')
			}
			return j + 1, nil
		}
		b.WriteByte(expr[j])
		j++
	}
	return 0, fmt.Errorf("missing closing ] in character class starting at %q", expr[i:min(len(expr), i+20)])
}

// unicodePOSIX are the POSIX brackets that Oniguruma, on a UTF-8
// string, reads as Unicode properties where Go reads ASCII: Logstash's
// UNIXPATH takes /opt/Čierný_Peter with [[:alnum:]].
var unicodePOSIX = map[string]string{
	"[:alnum:]": `\p{L}\p{M}\p{Nd}`,
	"[:alpha:]": `\p{L}\p{M}`,
	"[:upper:]": `\p{Lu}`,
	"[:lower:]": `\p{Ll}`,
	"[:digit:]": `\p{Nd}`,
}

// buffer is a strings.Builder that can insert, for the nested
// repetitions preprocess wraps.
type buffer struct{ b []byte }

func (b *buffer) Grow(n int)              { b.b = make([]byte, 0, n) }
func (b *buffer) Len() int                { return len(b.b) }
func (b *buffer) WriteByte(c byte) error  { b.b = append(b.b, c); return nil }
func (b *buffer) WriteString(s string)    { b.b = append(b.b, s...) }
func (b *buffer) String() string          { return string(b.b) }
func (b *buffer) insert(at int, s string) { b.b = append(b.b[:at], append([]byte(s), b.b[at:]...)...) }

// hasGroupNameFrom says whether b from at holds a named group (a
// capture or a lookaround marker), which cannot be copied.
func (b *buffer) hasGroupNameFrom(at int) bool {
	return strings.Contains(string(b.b[at:]), "(?P<") || strings.Contains(string(b.b[at:]), "(?<")
}

// unroll writes the atom that starts at at as lo copies and then hi-lo
// nested optional ones: X{1,3} is X(?:X(?:X)?)?, X{2,} is XXX*.
func (b *buffer) unroll(at, lo, hi int, open bool) {
	x := string(b.b[at:])
	b.b = b.b[:at]
	for range lo {
		b.WriteString(x)
	}
	if open {
		b.WriteString(x + "*")
	}
	for range hi - lo {
		b.WriteString("(?:" + x)
	}
	for range hi - lo {
		b.WriteString(")?")
	}
}

// parseFlags are Logstash's in Go's terms: it compiles every pattern
// with Ruby's MULTILINE option, so . matches \n too; ^ and $ match at line
// breaks, and [^a] and \s match \n as well.
const parseFlags = syntax.ClassNL | syntax.DotNL | syntax.PerlX | syntax.UnicodeGroups
