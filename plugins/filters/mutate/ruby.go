package mutate

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gostash/gostash/sdk"
)

// rubySplit is Ruby's String#split with a string separator: a single
// space splits on runs of whitespace and ignores leading whitespace; ""
// splits into characters; trailing empty strings are dropped ("a,b,,"
// is ["a", "b"], "" is []).
func rubySplit(e *sdk.Event, s, sep string) []any {
	var out []any
	switch sep {
	case " ":
		for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r < utf8.RuneSelf && isRubySpace(byte(r)) && r != 0 }) {
			out = append(out, e.StringValue(f))
		}
	case "":
		for _, r := range s {
			out = append(out, e.StringValue(string(r)))
		}
	default:
		n := strings.Count(s, sep) + 1
		out = make([]any, 0, n)
		for {
			i := strings.Index(s, sep)
			if i < 0 {
				out = append(out, e.StringValue(s))
				break
			}
			out = append(out, e.StringValue(s[:i]))
			s = s[i+len(sep):]
		}
		for len(out) > 0 && out[len(out)-1] == "" {
			out = out[:len(out)-1]
		}
	}
	if out == nil {
		out = []any{}
	}
	return out
}

// rubyJoin is Ruby's Array#join: elements as to_s, nested lists joined
// with the same separator, null as "".
func rubyJoin(b []byte, list []any, sep string) []byte {
	for i, v := range list {
		if i > 0 {
			b = append(b, sep...)
		}
		switch t := v.(type) {
		case string:
			b = append(b, t...)
		case int64:
			b = strconv.AppendInt(b, t, 10)
		case []any:
			b = rubyJoin(b, t, sep)
		default:
			b = append(b, rubyString(v)...)
		}
	}
	return b
}

// rubyCapitalize is Ruby's String#capitalize: the first character in
// title case, the rest in lower case.
func rubyCapitalize(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	t := unicode.ToTitle(r)
	rest := strings.ToLower(s[n:])
	if t == r && rest == s[n:] {
		return s
	}
	return string(t) + rest
}

// replacement is a gsub replacement in Ruby's syntax: \0 or \& for the
// match, \1 to \9 for groups, \k<name> for a named group, \` and \' for
// what precedes and follows the match, \\ for a backslash.
type replacement struct {
	literal bool // no backslash: the text as it is
	text    string
	parts   []replPart
	// lit, for a literal replacement of a pattern that is literal text
	// (or literal text then .*), replaces without the regexp machinery,
	// which was a sixth of a typical mutate (gsub `\?.*` on a request).
	lit *literalPattern
}

// literalPattern is a pattern that is the text lit, or lit then .* (greedy
// up to the line's end, as . matches anything but a newline).
type literalPattern struct {
	lit   string
	toEOL bool
}

// literalPatternOf returns src as a literalPattern, or nil when src is
// anything else (case folding, classes, anchors, groups...).
func literalPatternOf(src string) *literalPattern {
	re, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return nil
	}
	re = re.Simplify()
	lit := func(r *syntax.Regexp) bool {
		return r.Op == syntax.OpLiteral && r.Flags&syntax.FoldCase == 0 && len(r.Rune) > 0
	}
	switch {
	case lit(re):
		return &literalPattern{lit: string(re.Rune)}
	case re.Op == syntax.OpConcat && len(re.Sub) == 2 && lit(re.Sub[0]) &&
		re.Sub[1].Op == syntax.OpStar && re.Sub[1].Flags&syntax.NonGreedy == 0 &&
		re.Sub[1].Sub[0].Op == syntax.OpAnyCharNotNL:
		return &literalPattern{lit: string(re.Sub[0].Rune), toEOL: true}
	}
	return nil
}

// replace is ReplaceAllLiteralString for the pattern.
func (p *literalPattern) replace(s, repl string) string {
	if !p.toEOL {
		return strings.ReplaceAll(s, p.lit, repl)
	}
	i := strings.Index(s, p.lit)
	if i < 0 {
		return s
	}
	if end := strings.IndexByte(s[i:], '\n'); end < 0 && repl == "" {
		return s[:i] // the usual case, a query string cut off: no copy
	}
	b := make([]byte, 0, len(s)+len(repl))
	last := 0
	for i >= 0 {
		b = append(b, s[last:i]...)
		b = append(b, repl...)
		last = i + len(p.lit)
		if j := strings.IndexByte(s[last:], '\n'); j >= 0 {
			last += j
		} else {
			last = len(s)
		}
		if i = strings.Index(s[last:], p.lit); i >= 0 {
			i += last
		}
	}
	return string(append(b, s[last:]...))
}

type replPart struct {
	text  string
	group int // -1: text; -2: prematch; -3: postmatch
}

func parseReplacement(s string, re *regexp.Regexp) replacement {
	if strings.IndexByte(s, '\\') < 0 {
		return replacement{literal: true, text: s}
	}
	var r replacement
	var lit []byte
	flush := func() {
		if len(lit) > 0 {
			r.parts = append(r.parts, replPart{text: string(lit), group: -1})
			lit = lit[:0]
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			lit = append(lit, c)
			continue
		}
		d := s[i+1]
		switch {
		case d >= '0' && d <= '9':
			flush()
			r.parts = append(r.parts, replPart{group: int(d - '0')})
			i++
		case d == '&':
			flush()
			r.parts = append(r.parts, replPart{group: 0})
			i++
		case d == '`':
			flush()
			r.parts = append(r.parts, replPart{group: -2})
			i++
		case d == '\'':
			flush()
			r.parts = append(r.parts, replPart{group: -3})
			i++
		case d == '\\':
			lit = append(lit, '\\')
			i++
		case d == 'k' && i+2 < len(s) && s[i+2] == '<':
			end := strings.IndexByte(s[i+3:], '>')
			if end < 0 || re == nil || re.SubexpIndex(s[i+3:i+3+end]) < 0 {
				lit = append(lit, c)
				continue
			}
			flush()
			r.parts = append(r.parts, replPart{group: re.SubexpIndex(s[i+3 : i+3+end])})
			i += 3 + end
		default:
			lit = append(lit, c) // an unknown escape stays as written
		}
	}
	flush()
	return r
}

// gsub replaces every match of re in s.
func (r *replacement) gsub(re *regexp.Regexp, s string) string {
	if r.lit != nil {
		return r.lit.replace(s, r.text)
	}
	if r.literal {
		return re.ReplaceAllLiteralString(s, r.text)
	}
	matches := re.FindAllStringSubmatchIndex(s, -1)
	if matches == nil {
		return s
	}
	b := make([]byte, 0, len(s)+16)
	last := 0
	for _, m := range matches {
		b = append(b, s[last:m[0]]...)
		for _, p := range r.parts {
			switch {
			case p.group == -1:
				b = append(b, p.text...)
			case p.group == -2:
				b = append(b, s[:m[0]]...)
			case p.group == -3:
				b = append(b, s[m[1]:]...)
			case 2*p.group+1 < len(m) && m[2*p.group] >= 0:
				b = append(b, s[m[2*p.group]:m[2*p.group+1]]...)
			}
		}
		last = m[1]
	}
	b = append(b, s[last:]...)
	return string(b)
}

// compileRuby compiles a Ruby regular expression for Go's RE2: ^ and $
// match at line ends, as they always do in Ruby.
func compileRuby(src string) (*regexp.Regexp, error) {
	if _, err := regexp.Compile(src); err != nil {
		// Its message quotes what the user wrote; say what RE2 lacks
		// when a Ruby feature is the cause.
		for _, f := range []struct{ mark, what string }{
			{"(?=", "lookahead"}, {"(?!", "lookahead"}, {"(?<=", "lookbehind"}, {"(?<!", "lookbehind"},
			{"(?>", "atomic groups"}, {"*+", "possessive quantifiers"}, {"++", "possessive quantifiers"},
			{`\1`, "backreferences"}, {`\2`, "backreferences"}, {`\k<`, "backreferences"}, {`\h`, `\h (write [0-9a-fA-F])`}, {`\Z`, `\Z (write \z or $)`},
		} {
			if strings.Contains(src, f.mark) {
				return nil, fmt.Errorf("%w (Go's RE2 has no %s)", err, f.what)
			}
		}
		return nil, err
	}
	return regexp.Compile("(?m)" + src)
}

// deepCopy copies maps and lists, so that a copied or merged value does
// not share them with its source.
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		l := make([]any, len(t))
		for i, x := range t {
			l[i] = deepCopy(x)
		}
		return l
	}
	return v
}
