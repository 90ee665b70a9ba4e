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
	var b strings.Builder
	b.Grow(len(expr) + 16)
	var looks []lookKind
	for i := 0; i < len(expr); {
		c := expr[i]
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
			j, err := classEnd(expr, i)
			if err != nil {
				return "", nil, err
			}
			b.WriteString(expr[i:j])
			i = j
		case '(':
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
		case '*', '+', '?', '}':
			b.WriteByte(c)
			i++
			if i < len(expr) && expr[i] == '+' {
				return "", nil, &UnsupportedError{"possessive quantifier " + string(c) + "+"}
			}
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), looks, nil
}

// classEnd returns the index after the character class that starts at i.
func classEnd(expr string, i int) (int, error) {
	j := i + 1
	if j < len(expr) && expr[j] == '^' {
		j++
	}
	if j < len(expr) && expr[j] == ']' { // a leading ] is literal
		j++
	}
	for j < len(expr) {
		switch expr[j] {
		case '\\':
			j += 2
			continue
		case '[':
			if strings.HasPrefix(expr[j:], "[:") {
				if end := strings.Index(expr[j:], ":]"); end > 0 {
					j += end + 2
					continue
				}
			}
			return 0, &UnsupportedError{"nested character class"}
		case '&':
			if strings.HasPrefix(expr[j:], "&&") {
				return 0, &UnsupportedError{"character class intersection &&"}
			}
		case ']':
			return j + 1, nil
		}
		j++
	}
	return 0, fmt.Errorf("missing closing ] in character class starting at %q", expr[i:min(len(expr), i+20)])
}

// parseFlags are Ruby's defaults in Go's terms: ^ and $ match at line
// breaks, . does not match \n, [^a] and \s do.
const parseFlags = syntax.ClassNL | syntax.PerlX | syntax.UnicodeGroups
