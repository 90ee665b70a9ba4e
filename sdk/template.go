package sdk

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"
)

// Template is a parsed Logstash sprintf string ("logs-%{+YYYY.MM.dd}",
// "%{[host][name]}"). Parse it once at config time; Render does no
// parsing, and AppendRender of a static template or of plain field and
// date references does not allocate.
//
// The rules are Logstash's:
//   - %{field} or %{[a][b]}: the field's value. A list is joined with ",",
//     a map is written as JSON, @timestamp as 2024-01-02T03:04:05.000Z.
//     A missing (or null) field stays as the literal %{field}.
//   - %{+%s}: @timestamp in seconds since the epoch.
//   - %{+PATTERN}: @timestamp in UTC by a Joda-Time pattern (YYYY is the
//     calendar year; xxxx.ww the ISO week).
//   - %{{PATTERN}}: @timestamp in UTC by a java.time pattern (there YYYY
//     is the week-based year); %{{TIME_NOW}} is the current time.
//   - A date part of an event without @timestamp is empty.
//   - A "%{" with no "}" after it is text.
type Template struct {
	src  string
	segs []segment
}

type segKind uint8

const (
	segText      segKind = iota
	segField             // %{field}
	segTimestamp         // %{@timestamp}
	segEpoch             // %{+%s}
	segJoda              // %{+PATTERN}
	segJavaTime          // %{{PATTERN}}
	segNow               // %{{TIME_NOW}}
)

type segment struct {
	kind segKind
	text string // segText: the text; segField: the whole %{...} to print when missing
	ref  FieldRef
	joda *JodaFormat
	java *javaTimeFormat
}

// ParseTemplate parses s. It fails on a reference that can never resolve:
// a malformed field reference or date pattern inside %{...}.
func ParseTemplate(s string) (*Template, error) {
	t := &Template{src: s}
	pos := 0
	for pos < len(s) {
		open := strings.Index(s[pos:], "%{")
		if open < 0 {
			break
		}
		open += pos
		end := strings.IndexByte(s[open:], '}')
		if end < 0 {
			break
		}
		end += open
		t.addText(s[pos:open])
		inner := s[open+2 : end]
		var seg segment
		switch {
		case inner == "+%s":
			seg.kind = segEpoch
		case strings.HasPrefix(inner, "{") && end+1 < len(s) && s[end+1] == '}':
			end++ // %{{PATTERN}} ends with two braces
			if pattern := inner[1:]; pattern == "TIME_NOW" {
				seg.kind = segNow
			} else {
				f, err := compileJavaTime(pattern)
				if err != nil {
					return nil, fmt.Errorf("template %q: %w", s, err)
				}
				seg.kind, seg.java = segJavaTime, f
			}
		case strings.HasPrefix(inner, "+"):
			f, err := CompileJoda(inner[1:])
			if err != nil {
				return nil, fmt.Errorf("template %q: %w", s, err)
			}
			seg.kind, seg.joda = segJoda, f
		case inner == "":
			return nil, fmt.Errorf("template %q: %%{} names no field; write %%{name} or %%{[a][b]}", s)
		default:
			ref, err := ParseFieldRef(inner)
			if err != nil {
				return nil, fmt.Errorf("template %q: %w", s, err)
			}
			seg.kind, seg.ref, seg.text = segField, ref, s[open:end+1]
			if p := ref.Path(); len(p) == 1 && p[0] == FieldTimestamp {
				seg.kind = segTimestamp
			}
		}
		t.segs = append(t.segs, seg)
		pos = end + 1
	}
	t.addText(s[pos:])
	return t, nil
}

func (t *Template) addText(s string) {
	if s == "" {
		return
	}
	if n := len(t.segs); n > 0 && t.segs[n-1].kind == segText {
		t.segs[n-1].text += s
		return
	}
	t.segs = append(t.segs, segment{kind: segText, text: s})
}

// MustParseTemplate is ParseTemplate for constants; it panics on error.
func MustParseTemplate(s string) *Template {
	t, err := ParseTemplate(s)
	if err != nil {
		panic(err)
	}
	return t
}

// Sprintf renders format against e in one go. It parses format on every
// call: for a template used per event, ParseTemplate once instead. A
// format that does not parse is returned as it is.
func Sprintf(format string, e *Event) string {
	t, err := ParseTemplate(format)
	if err != nil {
		return format
	}
	return t.Render(e)
}

// String returns the template as written.
func (t *Template) String() string { return t.src }

// IsStatic reports whether the template has no %{...}: it renders the
// same for every event.
func (t *Template) IsStatic() bool {
	return len(t.segs) == 0 || len(t.segs) == 1 && t.segs[0].kind == segText
}

// RenderSample renders the parts of t that no field decides: its text,
// and its dates for a sample @timestamp (a Monday afternoon in December,
// so that month and day names and AM/PM show), each field reference left
// out. An output checks with it, before any event, whether a name it
// writes to (an index, a topic) could be valid at all.
func (t *Template) RenderSample() string {
	fixed := Template{src: t.src, segs: make([]segment, 0, len(t.segs))}
	for _, seg := range t.segs {
		if seg.kind != segField {
			fixed.segs = append(fixed.segs, seg)
		}
	}
	e := NewEmptyEvent()
	e.SetTimestamp(time.Date(2026, 12, 7, 15, 4, 5, 0, time.UTC))
	return fixed.Render(e)
}

// skeleton is the template with each %{...} replaced by a name ("x"):
// what must be a field reference when the template names a field.
func (t *Template) skeleton() string {
	var b strings.Builder
	for _, seg := range t.segs {
		if seg.kind == segText {
			b.WriteString(seg.text)
		} else {
			b.WriteByte('x')
		}
	}
	return b.String()
}

// ByDay reports whether the template renders the same for every event
// whose @timestamp falls on the same UTC day: only text and date parts
// no finer than a day (an index such as "logs-%{+YYYY.MM.dd}"). An
// output can then render it once a day instead of once an event.
func (t *Template) ByDay() bool {
	for i := range t.segs {
		s := &t.segs[i]
		switch s.kind {
		case segText:
		case segJoda:
			if !s.joda.df.byDay() {
				return false
			}
		case segJavaTime:
			if !s.java.df.byDay() {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// Render returns the template filled from e.
func (t *Template) Render(e *Event) string {
	s, _ := t.RenderStrict(e)
	return s
}

// RenderStrict is Render that also reports whether every reference
// resolved: ok is false when a field was missing (and so left as
// %{field}) or a date part found no @timestamp. Outputs use it to set
// aside events whose destination (an index, a topic) stays unresolved.
func (t *Template) RenderStrict(e *Event) (string, bool) {
	switch {
	case len(t.segs) == 0:
		return "", true
	case len(t.segs) == 1:
		switch s := &t.segs[0]; s.kind {
		case segText:
			return s.text, true
		case segField:
			// A lone string field needs no copy.
			if v, ok := s.ref.Get(e); ok {
				if str, ok := v.(string); ok {
					return str, true
				}
			}
		}
	}
	var buf [128]byte
	b, ok := t.appendRender(buf[:0], e)
	return string(b), ok
}

// AppendRender appends the rendered template to dst.
func (t *Template) AppendRender(dst []byte, e *Event) []byte {
	dst, _ = t.appendRender(dst, e)
	return dst
}

// AppendRenderStrict is RenderStrict appending to dst: for a caller that
// would only copy the string (an output writing an index name per event).
func (t *Template) AppendRenderStrict(dst []byte, e *Event) ([]byte, bool) {
	return t.appendRender(dst, e)
}

func (t *Template) appendRender(dst []byte, e *Event) ([]byte, bool) {
	ok := true
	for i := range t.segs {
		s := &t.segs[i]
		switch s.kind {
		case segText:
			dst = append(dst, s.text...)
		case segField:
			v, found := s.ref.Get(e)
			if !found || v == nil {
				dst = append(dst, s.text...)
				ok = false
				continue
			}
			dst = appendFieldValue(dst, v)
		case segTimestamp:
			if e.ts == 0 {
				dst = append(dst, s.text...)
				ok = false
				continue
			}
			dst = AppendTimestamp(dst, e.ts)
		case segEpoch, segJoda, segJavaTime:
			if e.ts == 0 {
				ok = false
				continue
			}
			switch s.kind {
			case segEpoch:
				sec := e.ts / 1e9
				if e.ts%1e9 < 0 {
					sec-- // seconds are floored, also before 1970
				}
				dst = strconv.AppendInt(dst, sec, 10)
			case segJoda:
				dst = s.joda.Append(dst, time.Unix(0, e.ts))
			case segJavaTime:
				dst = s.java.Append(dst, time.Unix(0, e.ts))
			}
		case segNow:
			dst = AppendTimestamp(dst, time.Now().UnixNano())
		}
	}
	return dst, ok
}

// appendFieldValue writes a value as Logstash's sprintf does.
func appendFieldValue(dst []byte, v any) []byte {
	if b, ok := appendScalar(dst, v); ok {
		return b
	}
	// Lists and maps are written by recursive functions, and Go's escape
	// analysis moves any buffer that enters a recursion to the heap: they
	// get a pooled scratch buffer so dst (often on the caller's stack)
	// stays where it is.
	p := scratchPool.Get().(*[]byte)
	b := appendComposite((*p)[:0], v)
	dst = append(dst, b...)
	if cap(b) <= 64<<10 {
		*p = b[:0]
		scratchPool.Put(p)
	}
	return dst
}

var scratchPool = sync.Pool{New: func() any {
	b := make([]byte, 0, 256)
	return &b
}}

// appendScalar writes the values that print without recursion; ok is
// false for anything else.
func appendScalar(dst []byte, v any) (_ []byte, ok bool) {
	switch t := v.(type) {
	case string:
		return append(dst, t...), true
	case int64:
		return strconv.AppendInt(dst, t, 10), true
	case int:
		return strconv.AppendInt(dst, int64(t), 10), true
	case float64:
		return appendJavaDouble(dst, t), true
	case bool:
		return strconv.AppendBool(dst, t), true
	case time.Time:
		return AppendTimestamp(dst, t.UnixNano()), true
	}
	return dst, false
}

// appendComposite writes lists, maps and values of unusual Go types.
func appendComposite(dst []byte, v any) []byte {
	switch t := v.(type) {
	case []any:
		return appendJoined(dst, t)
	case map[string]any:
		return appendJSON(dst, t)
	case nil:
		return dst
	}
	if b, ok := appendScalar(dst, v); ok {
		return b
	}
	if n := Normalize(v); fmt.Sprintf("%T", n) != fmt.Sprintf("%T", v) {
		return appendComposite(dst, n)
	}
	return fmt.Append(dst, v)
}

// appendJoined joins a list with ",", flattening nested lists and leaving
// nulls empty, as Logstash does.
func appendJoined(dst []byte, list []any) []byte {
	for i, x := range list {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendComposite(dst, x)
	}
	return dst
}

// appendJavaDouble writes f as Java's Double.toString does, which is what
// Logstash prints: the shortest digits that read back as f, in plain form
// for 1e-3 <= |f| < 1e7 and always with a fraction ("1.0", "0.001"),
// otherwise as d.dddE±n ("1.0E7", "1.5E-4").
func appendJavaDouble(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	var buf [32]byte
	b := strconv.AppendFloat(buf[:0], f, 'e', -1, 64) // [-]d[.ddd]e±xx
	if b[0] == '-' {
		dst = append(dst, '-')
		b = b[1:]
	}
	epos := 0
	for b[epos] != 'e' {
		epos++
	}
	exp, neg := 0, b[epos+1] == '-'
	for _, c := range b[epos+2:] {
		exp = exp*10 + int(c-'0')
	}
	if neg {
		exp = -exp
	}
	var dig [24]byte
	nd := 0
	for _, c := range b[:epos] {
		if c != '.' {
			dig[nd] = c
			nd++
		}
	}
	digits := dig[:nd]
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		if exp < 0 {
			dst = append(dst, '0', '.')
			for i := exp + 1; i < 0; i++ {
				dst = append(dst, '0')
			}
			return append(dst, digits...)
		}
		// exp+1 digits before the point, padded with zeros.
		for i := 0; i <= exp; i++ {
			if i < len(digits) {
				dst = append(dst, digits[i])
			} else {
				dst = append(dst, '0')
			}
		}
		dst = append(dst, '.')
		if exp+1 >= len(digits) {
			return append(dst, '0')
		}
		return append(dst, digits[exp+1:]...)
	}
	dst = append(dst, digits[0], '.')
	if len(digits) == 1 {
		dst = append(dst, '0')
	} else {
		dst = append(dst, digits[1:]...)
	}
	dst = append(dst, 'E')
	return strconv.AppendInt(dst, int64(exp), 10)
}

// appendJSON writes v as compact JSON with map keys sorted, so the same
// event always renders the same text.
func appendJSON(dst []byte, v any) []byte {
	switch t := v.(type) {
	case nil:
		return append(dst, "null"...)
	case string:
		return AppendJSONString(dst, t)
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			// Jackson, which Logstash uses, quotes these.
			dst = append(dst, '"')
			dst = appendJavaDouble(dst, t)
			return append(dst, '"')
		}
		return appendJavaDouble(dst, t)
	case int64, int, bool:
		b, _ := appendScalar(dst, t)
		return b
	case time.Time:
		dst = append(dst, '"')
		dst = AppendTimestamp(dst, t.UnixNano())
		return append(dst, '"')
	case []any:
		dst = append(dst, '[')
		for i, x := range t {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSON(dst, x)
		}
		return append(dst, ']')
	case map[string]any:
		var small [16]string
		keys := small[:0]
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSONString(dst, k)
			dst = append(dst, ':')
			dst = appendJSON(dst, t[k])
		}
		return append(dst, '}')
	}
	n := Normalize(v)
	if fmt.Sprintf("%T", n) != fmt.Sprintf("%T", v) {
		return appendJSON(dst, n)
	}
	return AppendJSONString(dst, fmt.Sprint(v))
}

// AppendJSONString quotes s as Jackson does: quotes, backslashes and
// control characters escaped, everything else (including non-ASCII) as
// is; invalid UTF-8 becomes U+FFFD so the result is always valid JSON.
// Templates, the JSON codecs and outputs all quote strings with it.
func AppendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Plain ASCII is skipped eight bytes at a time, and copied in
		// runs: log lines with a few quotes are mostly plain. The
		// lowest byte flagged in a word is exact (a borrow only spoils
		// the bytes above a flagged one).
		if i+8 <= len(s) {
			x := binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))
			q, bs := x^(lo*'"'), x^(lo*'\\')
			m := ((x-lo*0x20)&^x | (q-lo)&^q | (bs-lo)&^bs | x) & hi
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) / 8
		}
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
			i++
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
