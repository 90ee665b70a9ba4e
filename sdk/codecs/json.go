package codecs

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/gostash/gostash/sdk"
)

// JSON decoding, written by hand rather than with encoding/json: it makes
// event values directly (whole numbers int64, or a string of their digits
// beyond int64's range; others float64), parses a
// top-level object straight into the event's fields, and aliases strings
// without escapes into the input instead of copying them.

// maxJSONDepth bounds nesting, so a hostile line cannot exhaust the stack.
const maxJSONDepth = 1000

var errJSON = errors.New("invalid JSON")

type jsonParser struct {
	s     string
	i     int
	depth int
	vals  *sdk.Values
}

// JSONEvents decodes a JSON text into events, as Logstash's json and
// json_lines codecs do: an object's keys become fields and an array of
// objects makes one event for each. "@timestamp" sets the event's time (a
// value that is not an ISO 8601 time is kept as "_@timestamp" and tagged
// _timestampparsefailure), "@metadata" becomes metadata. Events without a
// time get now (ns since the epoch). Anything else (not JSON, trailing
// text, a bare number) is an error: see FailedJSONEvent. The events alias
// data, which must not change afterwards.
func JSONEvents(data []byte, now int64, vals *sdk.Values, dst []*sdk.Event) ([]*sdk.Event, error) {
	if vals == nil {
		vals = &sdk.Values{}
	}
	p := jsonParser{s: unsafe.String(unsafe.SliceData(data), len(data)), vals: vals}
	p.space()
	if p.i >= len(p.s) {
		return dst, errJSON
	}
	n := len(dst)
	switch p.s[p.i] {
	case '{':
		e := newJSONEvent()
		if err := p.object(e.Fields(), nil); err != nil {
			return dst[:n], err
		}
		dst = append(dst, e)
	case '[':
		p.i++
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			break
		}
		for {
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != '{' {
				return dst[:n], errJSON
			}
			e := newJSONEvent()
			if err := p.object(e.Fields(), nil); err != nil {
				return dst[:n], err
			}
			dst = append(dst, e)
			done, ok := p.next(']')
			if !ok {
				return dst[:n], errJSON
			}
			if done {
				break
			}
		}
	default:
		return dst, errJSON
	}
	p.space()
	if p.i != len(p.s) {
		return dst[:n], errJSON
	}
	for _, e := range dst[n:] {
		finishJSONEvent(e, now)
	}
	return dst, nil
}

// FailedJSONEvent is the event of text that is not JSON: the text as the
// message, tagged _jsonparsefailure, so nothing read is lost.
func FailedJSONEvent(text string, now int64, vals *sdk.Values) *sdk.Event {
	e := sdk.NewEmptyEvent()
	e.SetTimestampNano(now)
	f := e.Fields()
	f[sdk.FieldVersion] = "1"
	f[sdk.FieldMessage] = vals.String(text)
	e.AddTag(TagJSONParseFailure)
	return e
}

func newJSONEvent() *sdk.Event { return sdk.NewEmptyEvent() }

// finishJSONEvent moves @timestamp and @metadata out of the fields, as
// Logstash's Event.new does with a hash.
func finishJSONEvent(e *sdk.Event, now int64) {
	f := e.Fields()
	if v, ok := f[sdk.FieldTimestamp]; ok {
		delete(f, sdk.FieldTimestamp)
		s, _ := v.(string)
		if t, ok := parseTimestamp(s); ok {
			e.SetTimestamp(t)
		} else {
			f["_@timestamp"] = v
			e.AddTag(TagTimestampParseFailure)
		}
	}
	if e.TimestampNano() == 0 {
		e.SetTimestampNano(now)
	}
	if v, ok := f[sdk.FieldMetadata]; ok {
		delete(f, sdk.FieldMetadata)
		if m, ok := v.(map[string]any); ok {
			meta := e.Metadata()
			for k, x := range m {
				meta[k] = x
			}
		}
	}
	if _, ok := f[sdk.FieldVersion]; !ok {
		f[sdk.FieldVersion] = "1"
	}
}

// parseTimestamp accepts ISO 8601 times as Logstash writes and reads them.
func parseTimestamp(s string) (time.Time, bool) {
	for _, layout := range [...]string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (p *jsonParser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// object parses {...} at p.i into m, or, when members is not nil,
// appends its members there in order.
// next reads what follows a member or an element: close ends the object
// or array (done), a comma says another follows; anything else is not
// JSON (ok false).
func (p *jsonParser) next(close byte) (done, ok bool) {
	p.space()
	if p.i >= len(p.s) {
		return false, false
	}
	switch p.s[p.i] {
	case close:
		p.i++
		return true, true
	case ',':
		p.i++
		return false, true
	}
	return false, false
}

func (p *jsonParser) object(m map[string]any, members *[]Member) error {
	p.depth++
	if p.depth > maxJSONDepth {
		return errJSON
	}
	p.i++ // '{'
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		p.depth--
		return nil
	}
	for {
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return errJSON
		}
		k, err := p.str()
		if err != nil {
			return err
		}
		if !p.colon() {
			return errJSON
		}
		v, err := p.value()
		if err != nil {
			return err
		}
		if members != nil {
			*members = append(*members, Member{Key: k, Value: v})
		} else {
			m[k] = v
		}
		done, ok := p.next('}')
		if !ok {
			return errJSON
		}
		if done {
			p.depth--
			return nil
		}
	}
}

func (p *jsonParser) value() (any, error) {
	if p.i >= len(p.s) {
		return nil, errJSON
	}
	switch c := p.s[p.i]; {
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return p.vals.String(s), nil
	case c == '{':
		m := p.vals.Map()
		if err := p.object(m, nil); err != nil {
			return nil, err
		}
		return m, nil
	case c == '[':
		return p.array()
	case c == 't':
		return p.literal("true", true)
	case c == 'f':
		return p.literal("false", false)
	case c == 'n':
		return p.literal("null", nil)
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return nil, errJSON
}

func (p *jsonParser) literal(word string, v any) (any, error) {
	if !strings.HasPrefix(p.s[p.i:], word) {
		return nil, errJSON
	}
	p.i += len(word)
	return v, nil
}

func (p *jsonParser) array() (any, error) {
	p.depth++
	if p.depth > maxJSONDepth {
		return nil, errJSON
	}
	p.i++ // '['
	list := []any{}
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		p.depth--
		return list, nil
	}
	for {
		p.space()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		list = append(list, v)
		done, ok := p.next(']')
		if !ok {
			return nil, errJSON
		}
		if done {
			p.depth--
			return list, nil
		}
	}
}

// number parses a JSON number: an int64 when it is whole and fits, a
// float64 when it has a fraction or an exponent. A whole number beyond
// int64 (an id, a 64-bit unsigned counter) is kept as a string of its
// digits: a float64 would round it (12345678901234567890 would become
// 12345678901234567000), and events carry no bigger integer type.
func (p *jsonParser) number() (any, error) {
	text, isFloat, err := p.numberText()
	if err != nil {
		return nil, err
	}
	if !isFloat {
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return p.vals.String(text), nil // out of range: see above
		}
		return p.vals.Int(n), nil
	}
	f, err := parseFloat(text)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// parseFloat parses a JSON number with a fraction or an exponent; beyond
// float64's range it is ±Inf or 0, as strconv rounds it.
func parseFloat(text string) (float64, error) {
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		var ne *strconv.NumError
		if !errors.As(err, &ne) || ne.Err != strconv.ErrRange {
			return 0, errJSON
		}
	}
	return f, nil
}

// numberText scans a JSON number at p.i: its text, and whether it has a
// fraction or an exponent.
func (p *jsonParser) numberText() (string, bool, error) {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		from := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		return p.i - from
	}
	intStart := p.i
	if n := digits(); n == 0 || (n > 1 && p.s[intStart] == '0') {
		return "", false, errJSON // no digits, or a leading zero
	}
	isFloat := false
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return "", false, errJSON
		}
		isFloat = true
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return "", false, errJSON
		}
		isFloat = true
	}
	return p.s[start:p.i], isFloat, nil
}

// str parses a string at p.i (the opening quote). Without escapes it
// aliases the input; invalid UTF-8 becomes U+FFFD.
func (p *jsonParser) str() (string, error) {
	p.i++ // '"'
	start := p.i
	ascii := true
	for p.i < len(p.s) {
		if p.i+8 <= len(p.s) {
			// Eight bytes at a time while none of them ends the string,
			// starts an escape, is a control character or, until one
			// was met, is not ASCII; then straight to the first that
			// does.
			w := binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(p.s[p.i:]), 8))
			stop := jsonStops(w)
			if ascii {
				stop |= w & 0x8080808080808080
			}
			if stop == 0 {
				p.i += 8
				continue
			}
			p.i += bits.TrailingZeros64(stop) >> 3
		}
		c := p.s[p.i]
		switch {
		case c == '"':
			s := p.s[start:p.i]
			p.i++
			if !ascii && !utf8.ValidString(s) {
				s = strings.ToValidUTF8(s, "\uFFFD")
			}
			return s, nil
		case c == '\\':
			return p.escaped(start)
		case c < 0x20:
			return "", errJSON
		case c >= utf8.RuneSelf:
			ascii = false
		}
		p.i++
	}
	return "", errJSON
}

// escaped finishes a string that has escapes, from its start.
func (p *jsonParser) escaped(start int) (string, error) {
	b := make([]byte, 0, p.i-start+16)
	b = append(b, p.s[start:p.i]...)
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			if !utf8.Valid(b) {
				return strings.ToValidUTF8(string(b), "\uFFFD"), nil
			}
			return unsafe.String(unsafe.SliceData(b), len(b)), nil
		case c < 0x20:
			return "", errJSON
		case c != '\\':
			b = append(b, c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.s) {
			return "", errJSON
		}
		p.i += 2
		switch p.s[p.i-1] {
		case '"', '\\', '/':
			b = append(b, p.s[p.i-1])
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", errJSON
			}
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if strings.HasPrefix(p.s[p.i:], `\u`) {
					save := p.i
					p.i += 2
					if x, ok := p.hex4(); ok {
						if d := utf16.DecodeRune(r, x); d != utf8.RuneError {
							r2 = d
						} else {
							p.i = save
						}
					} else {
						p.i = save
					}
				}
				r = r2
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", errJSON
		}
	}
	return "", errJSON
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(p.s[p.i : p.i+4]) {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	p.i += 4
	return r, true
}

// Member is a key of a JSON object and its value.
type Member struct {
	Key   string
	Value any
}

// ParseJSONObject is ParseJSON for a text that holds an object, for a
// filter that sets its keys into an event: the members are appended to dst
// in the order written (a key written twice is there twice, the last
// being the value a map keeps) instead of making the object's map. A text
// that does not start with '{' (after spaces) is left alone: object is
// false, and ParseJSON says what it is.
func ParseJSONObject(s string, vals *sdk.Values, dst []Member) (members []Member, object bool, err error) {
	if vals == nil {
		vals = &sdk.Values{}
	}
	p := jsonParser{s: s, vals: vals}
	p.space()
	if p.i >= len(p.s) || p.s[p.i] != '{' {
		return dst, false, nil
	}
	if err := p.object(nil, &dst); err != nil {
		return dst, true, err
	}
	p.space()
	if p.i != len(p.s) {
		return dst, true, errJSON
	}
	return dst, true, nil
}

// ParseJSON parses one JSON text of any kind, for filters that parse a
// field (the json filter): an object gives a map[string]any, an array a
// []any, a string, number, true, false or null its event value (numbers
// as JSONEvents makes them). Strings without escapes alias s; vals boxes
// them and makes the maps (nil: each is boxed or made on its own). Empty text, trailing text and
// nesting deeper than 1000 are errors.
func ParseJSON(s string, vals *sdk.Values) (any, error) {
	if vals == nil {
		vals = &sdk.Values{}
	}
	p := jsonParser{s: s, vals: vals}
	p.space()
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, errJSON
	}
	return v, nil
}
