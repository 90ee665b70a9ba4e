package codecs

import (
	"encoding/binary"
	"math"
	"strconv"
	"unsafe"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/host"
)

// The json and json_lines codecs' fast path: a line holding one JSON
// object is validated and written straight into the form its fields
// cross to the next process in (Field messages of plugin.proto, see
// host.RawBuilder), instead of being parsed into maps that Publish then
// encodes. The event's fields stay raw until something reads them, and
// the batch encoder copies them as they are. Profiles of stdin → json →
// elasticsearch put most of the input's CPU in those two steps
// (docs/benchmarks.md).
//
// Values become what JSONEvents makes of them (the same string, number
// and UTF-8 rules: the scanning is the same code). What Logstash treats
// specially, @timestamp (parsed into the event's time) and @version
// (added when absent), is done here; anything else out of the ordinary
// (@metadata, a bad @timestamp, a name twice in an object, an array of
// objects, more names than a dictionary holds, invalid JSON) goes through
// JSONEvents as before, so the result is the same either way.

// Wire bytes (tag bytes) of plugin.proto's messages.
const (
	wEventField = 2<<3 | 2 // Event.fields
	wFieldKey   = 1<<3 | 0 // Field.key
	wFieldValue = 2<<3 | 2 // Field.value
	wString     = 1<<3 | 2 // Value.string
	wInt        = 2<<3 | 0
	wFloat      = 3<<3 | 1
	wBool       = 4<<3 | 0
	wMap        = 5<<3 | 2
	wList       = 6<<3 | 2
	wNull       = 7<<3 | 0
	wMapField   = 1<<3 | 2 // Map.fields
	wListValue  = 1<<3 | 2 // List.values
)

// rawArena is the size of the buffers events' fields are written into.
// A buffer is never written again once events point into it (an event
// lives until its batch is encoded, and later if a plugin keeps it): a
// full one is left to the garbage collector with its last event.
const rawArena = 64 << 10

type rawJSON struct {
	b   host.RawBuilder
	buf []byte // the arena's room (between lines only: while a line is
	// written the buffer is threaded through the calls, as a slice kept
	// in the heap would cost a write barrier per append during a GC)
	// names holds the names of the objects being written, for repeats
	// (a line with more open names goes through JSONEvents).
	names  [256]uint32
	nnames int
	ord    int // names met so far in the line
	// last caches the numbers of the previous lines' names by their
	// place in the line: lines from one source repeat their names in the
	// same order, and a compare is cheaper than a map look-up.
	last [64]cachedName
	p    jsonParser
}

type cachedName struct {
	name string
	id1  uint32 // the number + 1; 0: nothing cached
}

// event makes the event of a line holding one JSON object, or reports
// false (nothing made) for JSONEvents to decide.
func (r *rawJSON) event(data []byte, now int64) (*sdk.Event, bool) {
	p := &r.p
	*p = jsonParser{s: unsafe.String(unsafe.SliceData(data), len(data))}
	p.space()
	if p.i >= len(p.s) || p.s[p.i] != '{' {
		return nil, false
	}
	if r.b.Rotate() {
		r.last = [64]cachedName{}
	}
	if cap(r.buf)-len(r.buf) < 2*len(data)+64 {
		r.buf = make([]byte, 0, max(rawArena, 4*len(data)))
	}
	start := len(r.buf)
	b, ts, n, ok := r.top(p, r.buf)
	if ok {
		p.space()
		ok = p.i == len(p.s)
	}
	r.nnames, r.ord = 0, 0
	if !ok {
		return nil, false // r.buf as it was: the line's bytes are dropped
	}
	if ts == 0 {
		ts = now
	}
	r.buf = b
	fields := b[start:len(b):len(b)]
	return r.b.Event(ts, fields, n), true
}

// key numbers the name k, the i-th of its line.
func (r *rawJSON) key(i int, k string) (uint32, bool) {
	if i < len(r.last) {
		if c := &r.last[i]; c.id1 != 0 && c.name == k {
			return c.id1 - 1, true
		}
	}
	id, ok := r.b.Key(k)
	if ok && i < len(r.last) {
		r.last[i] = cachedName{name: r.b.Name(id), id1: id + 1}
	}
	return id, ok
}

// top writes the top-level object's fields; it returns the time of its
// @timestamp (0 when absent) and how many fields it wrote.
func (r *rawJSON) top(p *jsonParser, b []byte) (_ []byte, ts int64, n int, ok bool) {
	p.i++ // '{'
	p.depth++
	p.space()
	version, stamped := false, false
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
	} else {
		for {
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != '"' {
				return nil, 0, 0, false
			}
			k, err := p.str()
			if err != nil || !p.colon() {
				return nil, 0, 0, false
			}
			switch k {
			case sdk.FieldTimestamp:
				if stamped || p.i >= len(p.s) || p.s[p.i] != '"' {
					return nil, 0, 0, false
				}
				s, err := p.str()
				if err != nil {
					return nil, 0, 0, false
				}
				t, ok := parseTimestamp(s)
				if !ok {
					return nil, 0, 0, false // kept as _@timestamp and tagged: JSONEvents
				}
				ts, stamped = t.UnixNano(), true
			case sdk.FieldMetadata:
				return nil, 0, 0, false
			default:
				if k == sdk.FieldVersion {
					version = true
				}
				if b, ok = r.field(p, b, wEventField, k, 0); !ok {
					return nil, 0, 0, false
				}
				n++
			}
			done, ok := p.next('}')
			if !ok {
				return nil, 0, 0, false
			}
			if done {
				break
			}
		}
	}
	if !version {
		id, ok := r.b.Key(sdk.FieldVersion)
		if !ok {
			return nil, 0, 0, false
		}
		b = stringField(b, wEventField, id, "1")
		n++
	}
	return b, ts, n, true
}

// colon consumes the ':' after a name and the space around it.
func (p *jsonParser) colon() bool {
	p.space()
	if p.i >= len(p.s) || p.s[p.i] != ':' {
		return false
	}
	p.i++
	p.space()
	return true
}

// field writes the name k and the value at p.i as a Field message under
// tag; base is where the names of k's object start in r.names.
func (r *rawJSON) field(p *jsonParser, b []byte, tag byte, k string, base int) ([]byte, bool) {
	id, ok := r.key(r.ord, k)
	r.ord++
	if !ok || r.nnames == len(r.names) {
		return nil, false
	}
	for _, x := range r.names[base:r.nnames] {
		if x == id {
			return nil, false // a map keeps the last: JSONEvents
		}
	}
	r.names[r.nnames] = id
	r.nnames++
	if p.i < len(p.s) && p.s[p.i] == '"' {
		s, err := p.str()
		if err != nil {
			return nil, false
		}
		return stringField(b, tag, id, s), true
	}
	b = append(b, tag)
	b, mark := reserve(b)
	b = append(b, wFieldKey)
	b = appendUvarint(b, uint64(id))
	b = append(b, wFieldValue)
	b, vmark := reserve(b)
	if b, ok = r.value(p, b); !ok {
		return nil, false
	}
	return fill(fill(b, vmark), mark), true
}

// stringField writes a Field holding a string: its sizes are known, so
// no length is patched afterwards.
func stringField(b []byte, tag byte, id uint32, s string) []byte {
	value := 1 + sizeUvarint(uint64(len(s))) + len(s)
	field := 1 + sizeUvarint(uint64(id)) + 1 + sizeUvarint(uint64(value)) + value
	b = append(b, tag)
	b = appendUvarint(b, uint64(field))
	b = append(b, wFieldKey)
	b = appendUvarint(b, uint64(id))
	b = append(b, wFieldValue)
	b = appendUvarint(b, uint64(value))
	b = append(b, wString)
	b = appendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// value writes the JSON value at p.i as a Value message's contents.
func (r *rawJSON) value(p *jsonParser, b []byte) ([]byte, bool) {
	if p.i >= len(p.s) {
		return nil, false
	}
	switch c := p.s[p.i]; {
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, false
		}
		b = append(b, wString)
		b = appendUvarint(b, uint64(len(s)))
		return append(b, s...), true
	case c == '{':
		return r.object(p, b)
	case c == '[':
		return r.array(p, b)
	case c == 't' || c == 'f' || c == 'n':
		var word string
		var v byte
		switch c {
		case 't':
			word, v = "true", 1
		case 'f':
			word, v = "false", 0
		default:
			word, v = "null", 1
		}
		if len(p.s)-p.i < len(word) || p.s[p.i:p.i+len(word)] != word {
			return nil, false
		}
		p.i += len(word)
		tag := byte(wBool)
		if c == 'n' {
			tag = wNull
		}
		return append(b, tag, v), true
	case c == '-' || (c >= '0' && c <= '9'):
		text, isFloat, err := p.numberText()
		if err != nil {
			return nil, false
		}
		if !isFloat {
			n, err := strconv.ParseInt(text, 10, 64)
			if err != nil { // beyond int64: its digits, as JSONEvents
				b = append(b, wString)
				b = appendUvarint(b, uint64(len(text)))
				return append(b, text...), true
			}
			return appendUvarint(append(b, wInt), uint64(n<<1)^uint64(n>>63)), true
		}
		f, err := parseFloat(text)
		if err != nil {
			return nil, false
		}
		return binary.LittleEndian.AppendUint64(append(b, wFloat), math.Float64bits(f)), true
	}
	return nil, false
}

func (r *rawJSON) object(p *jsonParser, b []byte) ([]byte, bool) {
	p.depth++
	if p.depth > maxJSONDepth {
		return nil, false
	}
	p.i++ // '{'
	b, mark := reserve(append(b, wMap))
	base := r.nnames
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
	} else {
		for {
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != '"' {
				return nil, false
			}
			k, err := p.str()
			if err != nil || !p.colon() {
				return nil, false
			}
			var ok bool
			if b, ok = r.field(p, b, wMapField, k, base); !ok {
				return nil, false
			}
			done, ok := p.next('}')
			if !ok {
				return nil, false
			}
			if done {
				break
			}
		}
	}
	r.nnames = base
	p.depth--
	return fill(b, mark), true
}

func (r *rawJSON) array(p *jsonParser, b []byte) ([]byte, bool) {
	p.depth++
	if p.depth > maxJSONDepth {
		return nil, false
	}
	p.i++ // '['
	b, mark := reserve(append(b, wList))
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
	} else {
		for {
			p.space()
			var m int
			var ok bool
			b, m = reserve(append(b, wListValue))
			if b, ok = r.value(p, b); !ok {
				return nil, false
			}
			b = fill(b, m)
			done, ok := p.next(']')
			if !ok {
				return nil, false
			}
			if done {
				break
			}
		}
	}
	p.depth--
	return fill(b, mark), true
}

// reserve leaves one byte for a length; fill writes it, making room when
// the message is 128 bytes or longer.
func reserve(b []byte) ([]byte, int) { return append(b, 0), len(b) }

func fill(b []byte, mark int) []byte {
	n := len(b) - mark - 1
	if n < 0x80 {
		b[mark] = byte(n)
		return b
	}
	size := sizeUvarint(uint64(n))
	b = append(b, make([]byte, size-1)...)
	copy(b[mark+size:], b[mark+1:mark+1+n])
	appendUvarint(b[:mark], uint64(n))
	return b
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func sizeUvarint(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
