package grok

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dlclark/regexp2"

	"github.com/gostash/gostash/plugins/filters/grok/internal/rx"
	"github.com/gostash/gostash/sdk"
)

// conv is a capture's type suffix.
type conv uint8

const (
	convNone conv = iota
	convInt
	convFloat
)

// capture is one named group of a compiled pattern.
type capture struct {
	name    string       // as written in the pattern: clientip, [client][ip]
	ref     sdk.FieldRef // where the value goes, target applied
	key     string       // the name's path joined (before target), to look up overwrite
	special bool         // under @metadata or @timestamp: set through the SDK
	conv    conv
}

// Pattern is a compiled grok pattern.
type Pattern struct {
	Source string // as written in the configuration
	Expr   string // the expanded regular expression
	caps   []capture
	// objects groups the captures by top-level object (nil: none to group)
	objects *objects
	fast    *rx.Regexp
	slow    *regexp2.Regexp
	// Fallback says why the pattern runs on the backtracking engine
	// (empty when it runs on the linear-time one).
	Fallback string
}

// compileOptions are the settings that shape a compiled pattern.
type compileOptions struct {
	defs              map[string]string
	namedCapturesOnly bool
	target            []string      // path prefix for every capture
	timeout           time.Duration // for the backtracking engine, which takes it at compile time
}

// compile expands a grok pattern and compiles it. Errors say what is
// wrong in the words of the pattern (unknown %{NAME}, bad type suffix,
// bad regex).
func compile(src string, o compileOptions) (*Pattern, error) {
	x := &expander{o: o}
	var b strings.Builder
	if err := x.expand(&b, src, nil); err != nil {
		return nil, err
	}
	p := &Pattern{Source: src, Expr: b.String(), caps: x.caps, objects: planObjects(x.caps)}
	names := make([]string, len(x.caps))
	for i := range names {
		names[i] = groupName(i)
	}
	fast, err := rx.Compile(p.Expr, names)
	if err == nil {
		p.fast = fast
		return p, nil
	}
	// Not expressible in the linear-time engine (or not valid there):
	// try the backtracking one, which knows more syntax.
	slow, err2 := regexp2.Compile(toDotNet(p.Expr), regexp2.RE2|regexp2.Multiline|regexp2.Singleline)
	if err2 != nil {
		var u *rx.UnsupportedError
		if errors.As(err, &u) {
			return nil, fmt.Errorf("invalid regular expression: %v", err2)
		}
		return nil, fmt.Errorf("invalid regular expression: %v", err)
	}
	slow.MatchTimeout = forever
	if o.timeout > 0 {
		slow.MatchTimeout = o.timeout
	}
	p.slow = slow
	p.Fallback = err.Error()
	return p, nil
}

func groupName(i int) string { return "g" + strconv.Itoa(i) }

type expander struct {
	o      compileOptions
	caps   []capture
	groups map[string]string // inline group name → its new name, for \k<name>
	// inline holds patterns defined in the pattern itself
	// (%{NAME=regex}), which later %{NAME} references can use too.
	inline map[string]string
}

// closingBrace returns the index of the '}' that closes the brace before
// text[from], skipping escaped characters and balanced inner braces; -1
// when there is none.
func closingBrace(text string, from int) int {
	depth := 1
	for i := from; i < len(text); i++ {
		switch text[i] {
		case '\\':
			i++
		case '{':
			depth++
		case '}':
			if depth--; depth == 0 {
				return i
			}
		}
	}
	return -1
}

// expand writes the regex for text, replacing %{SYNTAX:SEMANTIC:TYPE} and
// renaming (?<name>...) groups to g0, g1... so any field reference can be
// a group name. stack holds the names being expanded, to catch cycles.
func (x *expander) expand(b *strings.Builder, text string, stack []string) error {
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '\\' && strings.HasPrefix(text[i:], `\k<`):
			// a back-reference names a group we renamed
			end := strings.IndexByte(text[i:], '>')
			if end < 0 {
				return fmt.Errorf("unterminated back-reference in %q", text[i:])
			}
			name := text[i+3 : i+end]
			g, ok := x.groups[name]
			if !ok {
				return fmt.Errorf("back-reference \\k<%s> to no group of that name", name)
			}
			b.WriteString(`\k<` + g + ">")
			i += end + 1
		case c == '\\' && i+1 < len(text):
			b.WriteString(text[i : i+2])
			i += 2
		case c == '%' && strings.HasPrefix(text[i:], "%{"):
			ref, n, err := parseReference(text[i:])
			if err != nil {
				return err
			}
			if n == 0 { // not a reference: Logstash leaves the text as it is
				b.WriteByte(c)
				i++
				continue
			}
			if ref.hasDef {
				if x.inline == nil {
					x.inline = map[string]string{}
				}
				x.inline[ref.name] = ref.def
			}
			if err := x.reference(b, ref, stack); err != nil {
				return err
			}
			i += n
		case c == '(' && (strings.HasPrefix(text[i:], "(?<") || strings.HasPrefix(text[i:], "(?P<")) &&
			!strings.HasPrefix(text[i:], "(?<=") && !strings.HasPrefix(text[i:], "(?<!"):
			open := strings.IndexByte(text[i:], '<')
			end := strings.IndexByte(text[i:], '>')
			if end < 0 {
				return fmt.Errorf("unterminated group name in %q", text[i:])
			}
			name := text[i+open+1 : i+end]
			if err := x.addCapture(name, convNone); err != nil {
				return err
			}
			g := groupName(len(x.caps) - 1)
			if x.groups == nil {
				x.groups = map[string]string{}
			}
			x.groups[name] = g
			b.WriteString("(?<" + g + ">")
			i += end + 1
		default:
			b.WriteByte(c)
			i++
		}
	}
	return nil
}

// ref is one %{NAME:SEMANTIC:TYPE} or %{NAME:SEMANTIC=DEFINITION}.
type ref struct {
	text           string // as written, for errors
	name, semantic string
	typ            string
	def            string // %{NAME=def} defines NAME for this pattern
	hasDef         bool
}

// parseReference reads the reference at the start of text ("%{...}") as
// Logstash's grok does: a name of letters, digits and _, an optional
// :SEMANTIC of [@[]A-z0-9_:.-] characters, an optional =DEFINITION whose
// braces balance, then anything up to the closing brace, which is
// ignored (Logstash's ecs-v1 patterns hold %{POSINT:[a][b]?}). n is how
// many bytes it took, 0 when the text is no reference.
func parseReference(text string) (r ref, n int, err error) {
	i := 2
	for i < len(text) && isNameByte(text[i]) {
		i++
	}
	r.name = text[2:i]
	if i < len(text) && text[i] == ':' {
		j := i + 1
		for j < len(text) && isSubnameByte(text[j]) {
			j++
		}
		// NAME:SEMANTIC:TYPE, more :parts ignored (Logstash splits on :
		// and takes the first three)
		sub := strings.Split(text[i+1:j], ":")
		r.semantic = sub[0]
		if len(sub) > 1 {
			r.typ = sub[1]
		}
		i = j
	}
	if i < len(text) && text[i] == '=' {
		// the definition may hold braces of its own (\d{3}), so it
		// ends at the brace that balances the opening one
		stop := closingBrace(text, 2)
		if stop < 0 {
			return r, 0, fmt.Errorf("unterminated inline definition in %q", text)
		}
		r.def, r.hasDef = text[i+1:stop], true
		r.text = text[:stop+1]
		return r, stop + 1, nil
	}
	end := strings.IndexByte(text[i:], '}')
	if end < 0 {
		return r, 0, nil
	}
	r.text = text[:i+end+1]
	return r, i + end + 1, nil
}

func isNameByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// isSubnameByte is Logstash's [@\[\]A-z0-9_:.-] (A-z takes in [\]^_`).
func isSubnameByte(c byte) bool {
	return c == '@' || c == ':' || c == '.' || c == '-' || c >= '0' && c <= '9' || c >= 'A' && c <= 'z'
}

func (x *expander) reference(b *strings.Builder, r ref, stack []string) error {
	inner, name := r.text[2:len(r.text)-1], r.name
	if name == "" {
		return fmt.Errorf("%s: no pattern name (letters, digits and _) after %%{", r.text)
	}
	def, ok := x.inline[name]
	if !ok {
		def, ok = x.o.defs[name]
	}
	if !ok {
		return fmt.Errorf("unknown pattern %%{%s}%s", name, suggest(name, x.o.defs))
	}
	for _, s := range stack {
		if s == name {
			return fmt.Errorf("pattern %s refers to itself through %s", name, strings.Join(append(stack, name), " → "))
		}
	}
	semantic, typ := r.semantic, convNone
	if strings.HasPrefix(inner, name+":") && semantic == "" {
		return fmt.Errorf("%%{%s}: empty field name", inner)
	}
	switch r.typ {
	case "":
	case "int":
		typ = convInt
	case "float":
		typ = convFloat
	default:
		return fmt.Errorf("%%{%s}: unknown type %q: grok converts to int or float", inner, r.typ)
	}
	capName := semantic
	if capName == "" && !x.o.namedCapturesOnly {
		capName = name
	}
	if capName == "" {
		b.WriteString("(?:")
	} else {
		if err := x.addCapture(capName, typ); err != nil {
			return fmt.Errorf("%%{%s}: %v", inner, err)
		}
		b.WriteString("(?<" + groupName(len(x.caps)-1) + ">")
	}
	if err := x.expand(b, def, append(stack, name)); err != nil {
		return err
	}
	b.WriteByte(')')
	return nil
}

func (x *expander) addCapture(name string, c conv) error {
	ref, err := sdk.ParseFieldRef(name)
	if err != nil && strings.Count(name, "[") == strings.Count(name, "]")+1 {
		// Logstash's ECS CISCOFW302013_302014_302015_302016 has
		// %{DATA:[source][user][name?]}: its name ends before the ?, so
		// the last ] is lost with it. Close what was meant.
		ref, err = sdk.ParseFieldRef(name + "]")
	}
	if err != nil {
		return err
	}
	// overwrite names captures as written, before target, as Logstash
	// compares them
	key := pathKey(ref.Path())
	if len(x.o.target) > 0 {
		path := append(append([]string(nil), x.o.target...), ref.Path()...)
		if ref, err = sdk.ParseFieldRef("[" + strings.Join(path, "][") + "]"); err != nil {
			return err
		}
	}
	p := ref.Path()
	special := p[0] == sdk.FieldMetadata || p[0] == sdk.FieldTimestamp
	x.caps = append(x.caps, capture{name: name, ref: ref, key: key, special: special, conv: c})
	return nil
}

// suggest names a known pattern close to name, for the error message.
func suggest(name string, defs map[string]string) string {
	upper := strings.ToUpper(name)
	if _, ok := defs[upper]; ok && upper != name {
		return fmt.Sprintf(": did you mean %%{%s}? (pattern names are case-sensitive)", upper)
	}
	best, bestD := "", 3
	for k := range defs {
		if d := distance(upper, k); d < bestD || d == bestD && best != "" && k < best {
			best, bestD = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf(": did you mean %%{%s}?", best)
	}
	return ""
}

// distance is the Levenshtein distance, for short names.
func distance(a, b string) int {
	if len(a) > 40 || len(b) > 40 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// toDotNet adapts Oniguruma syntax for regexp2: Ruby's (?m) is .NET's
// (?s), .NET has no \h, and no classes nested in classes.
func toDotNet(expr string) string {
	var b strings.Builder
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		switch {
		case c == '\\' && i+1 < len(expr):
			switch expr[i+1] {
			case 'h':
				b.WriteString("[0-9a-fA-F]")
			case 'H':
				b.WriteString("[^0-9a-fA-F]")
			default:
				b.WriteString(expr[i : i+2])
			}
			i++
		case c == '[':
			class, j, err := rx.FlattenClass(expr, i)
			if err != nil { // regexp2 says what is wrong
				b.WriteByte(c)
				continue
			}
			b.WriteString(class)
			i = j - 1
		case c == '(' && strings.HasPrefix(expr[i:], "(?") && i+2 < len(expr) && strings.ContainsRune("imsx-", rune(expr[i+2])):
			j := i + 2
			for j < len(expr) && strings.ContainsRune("imsx-", rune(expr[j])) {
				j++
			}
			b.WriteString("(?" + strings.ReplaceAll(expr[i+2:j], "m", "s"))
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// exec runs the pattern on s. On a match, caps holds the start and end
// of capture i at 2i and 2i+1 (-1 when it took no part); when m is not
// nil, caps belongs to it and the caller releases m once done with caps.
// err is rx.ErrTimeout when the match ran past timeout.
func (p *Pattern) exec(s string, timeout time.Duration) (caps []int, m *rx.Machine, ok bool, err error) {
	if p.fast != nil {
		m = p.fast.Machine()
		ok, err = m.Match(s, timeout)
		return m.Caps(), m, ok, err
	}
	match, err := p.slow.FindStringMatch(s)
	if err != nil {
		return nil, nil, false, rx.ErrTimeout
	}
	if match == nil {
		return nil, nil, false, nil
	}
	// regexp2 counts runes; the event wants byte offsets.
	offsets := make([]int, 0, len(s)+1)
	for i := range s {
		offsets = append(offsets, i)
	}
	offsets = append(offsets, len(s))
	caps = make([]int, 2*len(p.caps))
	for i := range p.caps {
		caps[2*i], caps[2*i+1] = -1, -1
		if g := match.GroupByName(groupName(i)); g != nil && len(g.Captures) > 0 {
			caps[2*i], caps[2*i+1] = offsets[g.Index], offsets[g.Index+g.Length]
		}
	}
	return caps, nil, true, nil
}

var forever = regexp2.DefaultMatchTimeout

// Names returns the capture names of the pattern, in order, for tools.
func (p *Pattern) Names() []string {
	out := make([]string, len(p.caps))
	for i, c := range p.caps {
		out[i] = c.name
	}
	return out
}
