package codecs

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/gostash/gostash/sdk"
)

// The unordered mode (JSONEncoder.Unordered): keys in whatever order is
// cheapest, and the fields still raw in an event decoded from a batch
// written straight from their wire bytes (sdk.RawView) instead of being
// decoded into maps and boxed values first. Sorting map keys was about
// half of building an Elasticsearch bulk body (docs/benchmarks.md).

// Value message field numbers (sdk/proto/v1/plugin.proto); the round-trip
// tests in rawjson_test.go compare this reader with the SDK's decoder.
const (
	wvString = 1<<3 | 2 // bytes
	wvInt    = 2<<3 | 0 // zigzag varint
	wvFloat  = 3<<3 | 1 // fixed64
	wvBool   = 4<<3 | 0 // varint
	wvMap    = 5<<3 | 2 // bytes: Fields (field 1)
	wvList   = 6<<3 | 2 // bytes: Values (field 1)
	wvNull   = 7<<3 | 0 // varint
	wfKey    = 1<<3 | 0 // Field.key, varint
	wfValue  = 2<<3 | 2 // Field.value, bytes
	wRepeat  = 1<<3 | 2 // Map.fields, List.values
)

// appendUnordered writes e with keys unsorted. ok is false when a raw
// value is malformed or an object repeats a name (a decoder keeps the
// last; JSON would hold both): the caller writes the event the slow way.
func (enc *JSONEncoder) appendUnordered(dst []byte, e *sdk.Event) (_ []byte, ok bool) {
	fields, dict, raw := sdk.RawView(e, enc.raw[:0])
	enc.raw = raw[:0]
	dst = append(dst, '{')
	first := true
	if ts := e.TimestampNano(); ts != 0 {
		enc.ts = ts
		dst = append(dst, `"@timestamp":`...)
		dst = enc.appendValue(dst, timestamp{}, 1)
		first = false
	}
	if len(raw) > 0 {
		seen, mark := enc.nextMark(0, len(dict))
		for _, f := range raw {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			var id uint32
			dst, id = enc.appendKey(dst, dict, f.Key)
			if seen[id] == mark {
				return dst, false
			}
			seen[id] = mark
			if dst, ok = enc.appendRawValue(dst, f.Value, dict, 1); !ok {
				return dst, false
			}
		}
	}
	for k, v := range fields {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendJSONStringFast(dst, k)
		dst = append(dst, ':')
		dst = enc.appendValue(dst, v, 1)
	}
	if enc.Metadata && len(e.Metadata()) > 0 {
		if !first {
			dst = append(dst, ',')
		}
		dst = append(dst, `"@metadata":`...)
		dst = enc.appendValue(dst, e.Metadata(), 1)
	}
	return append(dst, '}'), true
}

// nextMark returns the names met so far at an object depth, sized for a
// dictionary of n names, and a new stamp: a name whose slot holds it was
// met in the current object. Each depth has its own slots, so a nested
// object does not erase what its parent met.
func (enc *JSONEncoder) nextMark(depth, n int) ([]uint32, uint32) {
	for len(enc.seen) <= depth {
		enc.seen = append(enc.seen, nil)
	}
	n = max(n, len(enc.keys)) // ids are numbers of cached names
	if len(enc.seen[depth]) < n {
		enc.seen[depth] = make([]uint32, n+n/2)
	}
	enc.mark++
	if enc.mark == 0 { // wrapped: old stamps could match again
		for _, s := range enc.seen {
			clear(s)
		}
		enc.mark = 1
	}
	return enc.seen[depth], enc.mark
}

// keyText is a dictionary name and its JSON text with the colon.
type keyText struct {
	name string // a copy: the batch's memory is reused for later batches
	json []byte
	// id is the number of one of the cached entries holding the same
	// name, the same for all of them: a name numbered twice in a
	// dictionary (not written by this SDK) is still seen twice in an
	// object, and different names never share one.
	id uint32
}

// appendKey writes dict[k] and a colon, and returns the number that
// stands for the name in repeat checks. The text is kept by dictionary
// number: a batch's events share their dictionary, and batch after batch
// from one input usually numbers its names the same, so the check is
// comparing a short name with the one cached.
func (enc *JSONEncoder) appendKey(dst []byte, dict []string, k uint32) ([]byte, uint32) {
	name := dict[k]
	if int(k) < len(enc.keys) {
		if c := &enc.keys[k]; c.name == name && c.json != nil {
			return append(dst, c.json...), c.id
		}
	} else {
		enc.keys = append(enc.keys, make([]keyText, int(k)+1-len(enc.keys))...)
	}
	enc.refills++
	c := &enc.keys[k]
	if c.json != nil && c.id == k {
		// k stood for its old name: the other entries holding that name
		// take the first of them instead.
		next := ^uint32(0)
		for i := range enc.keys {
			if o := &enc.keys[i]; i != int(k) && o.json != nil && o.id == k {
				if next == ^uint32(0) {
					next = uint32(i)
				}
				o.id = next
			}
		}
	}
	c.name = strings.Clone(name)
	c.json = append(appendJSONStringFast(c.json[:0], name), ':')
	c.id = k
	for i := range enc.keys {
		if o := &enc.keys[i]; i != int(k) && o.json != nil && o.name == name {
			c.id = o.id
			break
		}
	}
	return append(dst, c.json...), c.id
}

// appendRawValue writes a Value message as JSON. As the SDK's decoder
// does, unknown fields are skipped, the last known one wins, and a Value
// with none is null.
func (enc *JSONEncoder) appendRawValue(dst, v []byte, dict []string, depth int) ([]byte, bool) {
	// The SDK writes one field per Value: a string or a small number
	// in one piece, without the loop below.
	if len(v) >= 2 && v[1] < 0x80 {
		switch v[0] {
		case wvString:
			if int(v[1]) == len(v)-2 {
				return appendJSONStringFast(dst, unsafe.String(unsafe.SliceData(v[2:]), len(v)-2)), true
			}
		case wvInt:
			if len(v) == 2 {
				x := int64(v[1]>>1) ^ -int64(v[1]&1)
				return strconv.AppendInt(dst, x, 10), true
			}
		}
	}
	var tag byte
	var payload []byte
	var num uint64
	for len(v) > 0 {
		t := v[0]
		if t >= 0x80 || t < 8 {
			// A multi-byte tag: a field number over 15, none of ours.
			n := skipUnknown(v)
			if n < 0 {
				return dst, false
			}
			v = v[n:]
			continue
		}
		v = v[1:]
		switch t {
		case wvString, wvMap, wvList:
			b, n := consumeBytes(v)
			if n < 0 {
				return dst, false
			}
			tag, payload, v = t, b, v[n:]
		case wvInt, wvBool, wvNull:
			x, n := consumeVarint(v)
			if n < 0 {
				return dst, false
			}
			tag, num, v = t, x, v[n:]
		case wvFloat:
			if len(v) < 8 {
				return dst, false
			}
			tag, num, v = t, binary.LittleEndian.Uint64(v), v[8:]
		default:
			n := skipField(t, v)
			if n < 0 {
				return dst, false
			}
			v = v[n:]
		}
	}
	switch tag {
	case wvString:
		return appendJSONStringFast(dst, unsafe.String(unsafe.SliceData(payload), len(payload))), true
	case wvInt:
		return strconv.AppendInt(dst, int64(num>>1)^-int64(num&1), 10), true
	case wvFloat:
		return appendJSONFloat(dst, math.Float64frombits(num)), true
	case wvBool:
		return strconv.AppendBool(dst, num != 0), true
	case wvMap:
		return enc.appendRawMap(dst, payload, dict, depth)
	case wvList:
		return enc.appendRawList(dst, payload, dict, depth)
	}
	return append(dst, "null"...), true // wvNull, or no value at all
}

func (enc *JSONEncoder) appendRawMap(dst, m []byte, dict []string, depth int) ([]byte, bool) {
	// Most objects hold one field: stamps are taken from the second on.
	var seen []uint32
	var mark uint32
	var count int
	var first0 uint32
	dst = append(dst, '{')
	first := true
	for len(m) > 0 {
		if m[0] != wRepeat {
			n := skipUnknown(m)
			if n < 0 {
				return dst, false
			}
			m = m[n:]
			continue
		}
		field, n := consumeBytes(m[1:])
		if n < 0 {
			return dst, false
		}
		m = m[1+n:]
		key, value, ok := splitRawField(field)
		if !ok || key >= uint64(len(dict)) {
			return dst, false
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		var id uint32
		dst, id = enc.appendKey(dst, dict, uint32(key))
		switch count {
		case 0:
			first0 = id
		case 1:
			seen, mark = enc.nextMark(depth, len(dict))
			seen[first0] = mark
			fallthrough
		default:
			if seen[id] == mark {
				return dst, false
			}
			seen[id] = mark
		}
		count++
		if dst, ok = enc.appendRawValue(dst, value, dict, depth+1); !ok {
			return dst, false
		}
	}
	return append(dst, '}'), true
}

func (enc *JSONEncoder) appendRawList(dst, l []byte, dict []string, depth int) ([]byte, bool) {
	dst = append(dst, '[')
	first := true
	for len(l) > 0 {
		if l[0] != wRepeat {
			n := skipUnknown(l)
			if n < 0 {
				return dst, false
			}
			l = l[n:]
			continue
		}
		value, n := consumeBytes(l[1:])
		if n < 0 {
			return dst, false
		}
		l = l[1+n:]
		if !first {
			dst = append(dst, ',')
		}
		first = false
		var ok bool
		if dst, ok = enc.appendRawValue(dst, value, dict, depth); !ok {
			return dst, false
		}
	}
	return append(dst, ']'), true
}

// splitRawField returns a Field message's name number and Value message,
// as the SDK's decoder reads them: unknown fields skipped, the last of a
// repeated one kept, an absent name 0.
func splitRawField(f []byte) (key uint64, value []byte, ok bool) {
	// The shape the SDK writes: name, then value, nothing else.
	if len(f) >= 3 && f[0] == wfKey && f[1] < 0x80 && f[2] == wfValue {
		if v, n := consumeBytes(f[3:]); n == len(f)-3 {
			return uint64(f[1]), v, true
		}
	}
	for len(f) > 0 {
		switch f[0] {
		case wfKey:
			x, n := consumeVarint(f[1:])
			if n < 0 {
				return 0, nil, false
			}
			key, f = x, f[1+n:]
		case wfValue:
			v, n := consumeBytes(f[1:])
			if n < 0 {
				return 0, nil, false
			}
			value, f = v, f[1+n:]
		default:
			n := skipUnknown(f)
			if n < 0 {
				return 0, nil, false
			}
			f = f[n:]
		}
	}
	return key, value, true
}

// skipUnknown returns the length of the field (tag and value) at the
// start of b, or -1 when it is malformed.
func skipUnknown(b []byte) int {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return -1
	}
	m := protowire.ConsumeFieldValue(num, typ, b[n:])
	if m < 0 {
		return -1
	}
	return n + m
}

// skipField returns the length of the value after a one-byte tag t.
func skipField(t byte, b []byte) int {
	return protowire.ConsumeFieldValue(protowire.Number(t>>3), protowire.Type(t&7), b)
}

func consumeVarint(b []byte) (uint64, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	return protowire.ConsumeVarint(b)
}

func consumeBytes(b []byte) ([]byte, int) {
	if len(b) > 0 && b[0] < 0x80 && int(b[0]) < len(b) {
		return b[1 : 1+b[0]], 1 + int(b[0])
	}
	return protowire.ConsumeBytes(b)
}

// appendJSONStringFast writes s as sdk.AppendJSONString does, copying it
// in one piece when a scan eight bytes at a time finds nothing to escape
// (no control character, quote or backslash) and it is valid UTF-8.
func appendJSONStringFast(dst []byte, s string) []byte {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	var high uint64
	i := 0
	if len(s) >= 8 {
		b := unsafe.Slice(unsafe.StringData(s), len(s))
		for ; i+8 <= len(b); i += 8 {
			x := binary.LittleEndian.Uint64(b[i:])
			q, bs := x^(lo*'"'), x^(lo*'\\')
			if ((x-lo*0x20)&^x|(q-lo)&^q|(bs-lo)&^bs)&hi != 0 {
				return sdk.AppendJSONString(dst, s)
			}
			high |= x
		}
	}
	for ; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' {
			return sdk.AppendJSONString(dst, s)
		}
		high |= uint64(c)
	}
	if high&hi != 0 && !utf8.ValidString(s) {
		return sdk.AppendJSONString(dst, s)
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// appendTimestamp writes sdk.AppendTimestamp(ns) (Logstash's @timestamp
// text) by arithmetic: time.Time's formatting was a tenth of writing an
// Elasticsearch document. Instants before 1970 go through the SDK.
func appendTimestamp(dst []byte, ns int64) []byte {
	if ns < 0 {
		return sdk.AppendTimestamp(dst, ns)
	}
	sec, frac := ns/1e9, ns%1e9
	days, sod := sec/86400, sec%86400
	// The civil date of a day number (H. Hinnant's days_from_civil, reversed).
	z := days + 719468
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	h, mi, s := sod/3600, sod/60%60, sod%60
	dst = append(dst, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+s/10), byte('0'+s%10), '.')
	var digits [9]byte
	for i := 8; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	n := 9
	for n > 3 && digits[n-1] == '0' && digits[n-2] == '0' && digits[n-3] == '0' {
		n -= 3
	}
	dst = append(dst, digits[:n]...)
	return append(dst, 'Z')
}
