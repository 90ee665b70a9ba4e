package codecs

import (
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/host"
)

// The unordered mode (JSONEncoder.Unordered): keys in whatever order is
// cheapest, and the fields still raw in an event decoded from a batch
// written straight from their wire bytes (host.RawView) instead of being
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
	dict, gen := host.RawDict(e)
	span, fields := host.RawSpan(e)
	var raw []host.RawField
	if span == nil && dict != nil {
		fields, dict, raw = host.RawView(e, enc.raw[:0])
		enc.raw = raw[:0]
	}
	if dict != nil {
		if gen != enc.dictGen {
			// Once a batch: does it say no object holds a name twice?
			enc.unique = host.RawUniqueNames(e)
		}
		enc.sync(dict, gen)
		if len(enc.keys) != len(dict) {
			return dst, false
		}
	} else if len(span) > 0 {
		return dst, false
	}
	dst = append(dst, '{')
	first := true
	if ts := e.TimestampNano(); ts != 0 {
		dst = append(dst, `"@timestamp":"`...)
		dst = enc.appendTimestamp(dst, ts)
		dst = append(dst, '"')
		first = false
	}
	// An event that is all raw fields in a batch whose objects hold each
	// name once, written by the shape plan once one is learnt.
	shaped := enc.unique && raw == nil && len(fields) == 0 && len(span) > 0 &&
		!(enc.Metadata && len(e.Metadata()) > 0) && !enc.shape.off
	if shaped && enc.shape.ready {
		// The plan writes the fields as the first members; a comma after
		// @timestamp, taken back if the event leaves the plan.
		mark := len(dst)
		if !first {
			dst = append(dst, ',')
		}
		if out, ok := enc.appendShaped(dst, span); ok {
			return out, true
		}
		dst = dst[:mark]
	}
	var d dups
	// The run of fields written from memos since the last miss: where it
	// starts in span and in dst, its first name, and whether it is one
	// run memo's hit and nothing more (nothing new to keep).
	all := span
	runFrom, runJSON, runN, runKey, runHit := 0, 0, 0, uint64(0), false
	for len(span) > 0 {
		from := len(all) - len(span)
		// Event.fields entries: the tag, then the Field message.
		var field, value []byte
		var key uint64
		if k, l := shortEntry(span, wEventField); l > 0 {
			key, field, value, span = k, span[2:2+l], span[6:2+l], span[2+l:]
		} else {
			if span[0] != wEventField {
				return dst, false
			}
			var n int
			if field, n = consumeBytes(span[1:]); n < 0 {
				return dst, false
			}
			span = span[1+n:]
			if key, value, ok = splitRawField(field); !ok {
				return dst, false
			}
		}
		if key >= uint64(len(enc.keys)) {
			return dst, false
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		c, m := &enc.keys[key], &enc.memo[key]
		if !enc.unique {
			if !d.fresh(c.id) && !d.addSlow(enc, 0, c.id) {
				return dst, false
			}
		} else if r := &enc.runs[key]; m.run && len(r.wire) <= len(all)-from && string(r.wire) == string(all[from:from+len(r.wire)]) {
			// The fields from here on as they were together before: one
			// compare and one copy instead of one each.
			if runN == 0 {
				runFrom, runJSON, runKey, runHit = from, len(dst), key, true
			} else {
				runHit = false
			}
			runN += int(r.n)
			enc.memoHits++
			enc.runHits++
			dst = append(dst, r.json...)
			span = all[from+len(r.wire):]
			continue
		}
		if m.worthComparing() && len(m.wire) == len(field) && len(field) > 0 && sameBytes(m.wire, field) {
			if runN == 0 {
				runFrom, runJSON, runKey = from, len(dst), key
			}
			runN++
			runHit = false
			dst = enc.memoHit(dst, m)
			continue
		}
		if runN > 1 && !runHit && enc.unique {
			// The comma before this field is not the run's.
			enc.keepRun(runKey, runN, all[runFrom:from], dst[runJSON:len(dst)-1])
		}
		runN = 0
		if dst, ok = enc.appendMemo(dst, m, c, field, value, 1); !ok {
			return dst, false
		}
	}
	if runN > 1 && !runHit && enc.unique {
		enc.keepRun(runKey, runN, all[runFrom:], dst[runJSON:])
	}
	if shaped && !enc.shape.ready {
		enc.learnShape(all)
	}
	for _, f := range raw {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		c := &enc.keys[f.Key]
		if !enc.unique && !d.fresh(c.id) && !d.addSlow(enc, 0, c.id) {
			return dst, false
		}
		dst = append(dst, enc.keyText[c.start:c.end]...)
		if dst, ok = enc.appendRawValue(dst, f.Value, 1); !ok {
			return dst, false
		}
	}
	if len(fields) > 0 {
		for k, v := range fields {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = appendJSONStringFast(dst, k)
			dst = append(dst, ':')
			dst = enc.appendValue(dst, v, 1)
		}
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

// tsSecond is sdk.AppendTimestamp's text for one second, up to the
// fraction: "2026-12-05T04:41:07".
type tsSecond struct {
	sec  int64
	set  bool
	text [19]byte
}

// appendTimestamp is sdk.AppendTimestamp, with the text of the last few
// seconds kept: a batch's events mostly fall in a handful of seconds,
// and only their milliseconds then need writing.
func (enc *JSONEncoder) appendTimestamp(dst []byte, ns int64) []byte {
	if ns < 0 || ns%1e6 != 0 {
		return sdk.AppendTimestamp(dst, ns)
	}
	sec, ms := ns/1e9, ns/1e6%1000
	// Seconds apart by whole days (one time of day in two months) fall
	// in different slots too.
	s := &enc.secs[(sec+sec/86400)&int64(len(enc.secs)-1)]
	if !s.set || s.sec != sec {
		var b [32]byte
		copy(s.text[:], sdk.AppendTimestamp(b[:0], sec*1e9))
		s.sec, s.set = sec, true
	}
	dst = append(dst, s.text[:]...)
	return append(dst, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
}

// runMemo is a run of consecutive top-level fields that were all written
// from their memos, kept under the name of its first: their Field
// entries as they arrived (tags included) and their JSON, the commas
// between them included. Fields that repeat ([@version], [service],
// [host], tags) mostly arrive together, in the same order event after
// event (a batch's events come from one encoder walking maps of one
// shape): the run is then compared and copied in one piece.
type runMemo struct {
	wire, json []byte
	n          uint32 // fields
}

// keepRun keeps a run of n fields that started at name key.
func (enc *JSONEncoder) keepRun(key uint64, n int, wire, json []byte) {
	r := &enc.runs[key]
	r.wire = append(r.wire[:0], wire...)
	r.json = append(r.json[:0], json...)
	r.n = uint32(n)
	enc.memo[key].run = true
}

// memoField is the last value written under a name: its Field message
// as it arrived and its JSON, the name included. Events from one source
// repeat many of their fields ([host], [agent], [service],
// [event][dataset], tags), and inside the fields that change some parts
// repeat too ([log][file] beside [log][offset]): comparing bytes is
// cheaper than transcoding them again.
type memoField struct {
	wire, json []byte
	misses     uint8 // since the last hit: a field that never repeats stops being kept
	run        bool  // enc.runs holds a run from this top-level field
}

// A field, name and value, is written from its memo slot when the slot
// holds the same Field message (the callers compare, inline). The Field
// message holds the name's number, so equal bytes give equal JSON
// whatever object they are in: a slot shared by two objects' fields of
// one name only misses more.

// worthComparing reports whether a field is worth comparing with m. One
// that missed four times in a row is compared only right after a value
// of it was kept (every 32nd miss): that value is all it could match,
// and comparing a message with an old one every event was a call for
// nothing.
func (m *memoField) worthComparing() bool {
	return m.misses < 4 || (m.misses-1)&31 == 0
}

// memoHit writes m's JSON, m having matched.
func (enc *JSONEncoder) memoHit(dst []byte, m *memoField) []byte {
	m.misses = 0
	enc.memoHits++
	return appendShort(dst, m.json)
}

// appendMemo writes a field that missed its memo slot m, and keeps it
// there.
func (enc *JSONEncoder) appendMemo(dst []byte, m *memoField, c *keyText, field, value []byte, depth int) (_ []byte, ok bool) {
	start := len(dst)
	dst = appendShort(dst, enc.keyText[c.start:c.end])
	// Most misses are strings (messages, URLs, agents, addresses) and
	// objects with a changing member ([log] with its offset): written
	// without appendRawValue's call.
	if str, isStr := rawString(value); isStr {
		dst = appendJSONStringFast(dst, str)
	} else if len(value) >= 2 && value[0] == wvMap && value[1] < 0x80 && int(value[1]) == len(value)-2 {
		if dst, ok = enc.appendRawMap(dst, value[2:], depth); !ok {
			return dst, false
		}
	} else if dst, ok = enc.appendRawValue(dst, value, depth); !ok {
		return dst, false
	}
	// After a few misses in a row only every 32nd value is kept: a field
	// that changes each event ([message]) is not copied twice for nothing.
	if m.misses < 4 || m.misses&31 == 0 {
		m.wire = appendPadded(m.wire[:0], field)
		m.json = appendPadded(m.json[:0], dst[start:])
	}
	if m.misses++; m.misses == 0 {
		m.misses = 4
	}
	return dst, true
}

// rawString reads a Value message that is a string shorter than 128
// bytes in the shape the SDK writes (the tag, a one-byte length).
func rawString(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != wvString || v[1] >= 0x80 || int(v[1]) != len(v)-2 {
		return "", false
	}
	return unsafe.String(unsafe.SliceData(v[2:]), len(v)-2), true
}

// smallInt reads a Value message that is an integer below 2^21 in
// the shape the SDK writes (the tag, a varint of at most three bytes).
func smallInt(v []byte) (int64, bool) {
	var x uint64
	switch {
	case len(v) == 2 && v[0] == wvInt && v[1] < 0x80:
		x = uint64(v[1])
	case len(v) == 3 && v[0] == wvInt && v[1] >= 0x80 && v[2] < 0x80:
		x = uint64(v[1]&0x7f) | uint64(v[2])<<7
	case len(v) == 4 && v[0] == wvInt && v[1] >= 0x80 && v[2] >= 0x80 && v[3] < 0x80:
		x = uint64(v[1]&0x7f) | uint64(v[2]&0x7f)<<7 | uint64(v[3])<<14
	default:
		return 0, false
	}
	return int64(x>>1) ^ -int64(x&1), true
}

// memoWorth reports whether a nested value is worth a memo slot: an
// object or array, or a string long enough that comparing beats scanning
// it. Numbers and short strings are written faster than compared.
func memoWorth(value []byte) bool {
	return len(value) >= 8 && (value[0] == wvMap || value[0] == wvList || value[0] == wvString)
}

// dups finds a name twice in one object. Names are compared by the
// number sync gives each (the same for a name numbered twice in a
// dictionary): a bit each for the first 64, stamps in enc.seen for the
// others.
type dups struct {
	bits uint64
	seen []uint32
	mark uint32
}

// fresh records name number id in the current object, for the first 64
// numbers (small enough to inline: it runs for every name written);
// false when id was met already or is past them, for addSlow to tell.
func (d *dups) fresh(id uint32) bool {
	if id >= 64 {
		return false
	}
	bit := uint64(1) << id
	had := d.bits & bit
	d.bits |= bit
	return had == 0
}

// addSlow is fresh's other half: numbers past 64, stamped per object
// depth.
func (d *dups) addSlow(enc *JSONEncoder, depth int, id uint32) bool {
	if id < 64 {
		return false // met already (fresh)
	}
	if d.seen == nil {
		d.seen, d.mark = enc.nextMark(depth, len(enc.keys))
	}
	if d.seen[id] == d.mark {
		return false
	}
	d.seen[id] = d.mark
	return true
}

// nextMark returns the names met so far at an object depth, sized for a
// dictionary of n names, and a new stamp: a name whose slot holds it was
// met in the current object. Each depth has its own slots, so a nested
// object does not erase what its parent met.
func (enc *JSONEncoder) nextMark(depth, n int) ([]uint32, uint32) {
	for len(enc.seen) <= depth {
		enc.seen = append(enc.seen, nil)
	}
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

// keyText is a dictionary name's JSON text with the colon, in
// enc.keyText.
type keyText struct {
	start, end uint32
	// id is the first number of the same name in the dictionary: a name
	// numbered twice (not written by this SDK) is still seen twice in an
	// object.
	id uint32
}

// sync makes enc.keys and enc.memo describe dict. A batch's events share
// their dictionary, and batch after batch from one input numbers its
// names the same (or extends the numbering: RawBuilder's generations), so
// the check is once a batch, and what was cached stays: the memo's bytes
// mean the same names as long as the numbers do.
func (enc *JSONEncoder) sync(dict []string, gen uint64) {
	if gen == enc.dictGen && gen != 0 {
		return
	}
	enc.dictGen = gen
	same := len(dict) >= len(enc.dict)
	for i := 0; same && i < len(enc.dict); i++ {
		same = dict[i] == enc.dict[i]
	}
	if !same {
		enc.dict = enc.dict[:0]
		enc.keys = enc.keys[:0]
		enc.keyText = enc.keyText[:0]
		clear(enc.first)
		enc.shape.reset()
		for _, memo := range [][]memoField{enc.memo, enc.inner} {
			for i := range memo {
				m := &memo[i]
				m.wire, m.json, m.misses, m.run = m.wire[:0], m.json[:0], 0, false
			}
		}
		for i := range enc.runs {
			r := &enc.runs[i]
			r.wire, r.json = r.wire[:0], r.json[:0]
		}
	}
	if enc.first == nil {
		enc.first = map[string]uint32{}
	}
	for i := len(enc.dict); i < len(dict); i++ {
		name := strings.Clone(dict[i])
		id, ok := enc.first[name]
		if !ok {
			id = uint32(i)
			enc.first[name] = id
		}
		enc.dict = append(enc.dict, name)
		start := uint32(len(enc.keyText))
		enc.keyText = append(appendJSONStringFast(enc.keyText, name), ':')
		enc.keys = append(enc.keys, keyText{start: start, end: uint32(len(enc.keyText)), id: id})
	}
	enc.keyText = slices.Grow(enc.keyText, shortCopy) // appendShort reads past the last name
	for len(enc.memo) < len(enc.keys) {
		enc.memo = append(enc.memo, memoField{})
		enc.inner = append(enc.inner, memoField{})
		enc.runs = append(enc.runs, runMemo{})
	}
}

// appendRawValue writes a Value message as JSON. As the SDK's decoder
// does, unknown fields are skipped, the last known one wins, and a Value
// with none is null.
func (enc *JSONEncoder) appendRawValue(dst, v []byte, depth int) ([]byte, bool) {
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
				return appendInt(dst, x), true
			}
		case wvMap:
			if int(v[1]) == len(v)-2 {
				return enc.appendRawMap(dst, v[2:], depth)
			}
		case wvList:
			if int(v[1]) == len(v)-2 {
				return enc.appendRawList(dst, v[2:], depth)
			}
		}
	} else if len(v) >= 3 && v[0] == wvInt && v[len(v)-1] < 0x80 {
		if x, n := consumeVarint(v[1:]); n == len(v)-1 {
			return appendInt(dst, int64(x>>1)^-int64(x&1)), true
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
		return appendInt(dst, int64(num>>1)^-int64(num&1)), true
	case wvFloat:
		return appendJSONFloat(dst, math.Float64frombits(num)), true
	case wvBool:
		return strconv.AppendBool(dst, num != 0), true
	case wvMap:
		return enc.appendRawMap(dst, payload, depth)
	case wvList:
		return enc.appendRawList(dst, payload, depth)
	}
	return append(dst, "null"...), true // wvNull, or no value at all
}

func (enc *JSONEncoder) appendRawMap(dst, m []byte, depth int) ([]byte, bool) {
	var d dups
	dst = append(dst, '{')
	first := true
	for len(m) > 0 {
		var key uint64
		var field, value []byte
		if k, l := shortEntry(m, wRepeat); l > 0 {
			key, field, value, m = k, m[2:2+l], m[6:2+l], m[2+l:]
		} else {
			if m[0] != wRepeat {
				n := skipUnknown(m)
				if n < 0 {
					return dst, false
				}
				m = m[n:]
				continue
			}
			var n int
			if field, n = consumeBytes(m[1:]); n < 0 {
				return dst, false
			}
			m = m[1+n:]
			var ok bool
			if key, value, ok = splitRawField(field); !ok {
				return dst, false
			}
		}
		if key >= uint64(len(enc.keys)) {
			return dst, false
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		c := &enc.keys[key]
		if !enc.unique && !d.fresh(c.id) && !d.addSlow(enc, depth, c.id) {
			return dst, false
		}
		var ok bool
		switch m := &enc.inner[key]; {
		case !memoWorth(value):
			// Numbers and short strings are written faster than compared;
			// offsets, ports and pids without appendRawValue's call.
			dst = appendShort(dst, enc.keyText[c.start:c.end])
			if x, isInt := smallInt(value); isInt {
				dst, ok = appendInt(dst, x), true
			} else if str, isStr := rawString(value); isStr {
				dst, ok = appendJSONStringFast(dst, str), true
			} else {
				dst, ok = enc.appendRawValue(dst, value, depth+1)
			}
		case m.worthComparing() && len(m.wire) == len(field) && len(field) > 0 && sameBytes(m.wire, field):
			dst, ok = enc.memoHit(dst, m), true
		default:
			dst, ok = enc.appendMemo(dst, m, c, field, value, depth+1)
		}
		if !ok {
			return dst, false
		}
	}
	return append(dst, '}'), true
}

func (enc *JSONEncoder) appendRawList(dst, l []byte, depth int) ([]byte, bool) {
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
		if dst, ok = enc.appendRawValue(dst, value, depth); !ok {
			return dst, false
		}
	}
	return append(dst, ']'), true
}

// shortEntry reads the head of the Field entry (an event's or a map's,
// by tag) at the start of b when it is in the shape the SDK writes with
// every length one byte: tag, length l, the name's tag and number, the
// value's tag and length, the value. Its six bytes are checked as one
// word. l is 0 for any other shape.
func shortEntry(b []byte, tag byte) (key uint64, l int) {
	if len(b) < 8 {
		return 0, 0
	}
	w := binary.LittleEndian.Uint64(b)
	// Bytes 0, 2 and 4 the tags; 1, 3 and 5 below 0x80.
	if w&0x80ff80ff80ff != uint64(tag)|wfKey<<16|wfValue<<32 {
		return 0, 0
	}
	l = int(w >> 8 & 0xff)
	if l != int(w>>40&0xff)+4 || l >= len(b)-1 {
		return 0, 0
	}
	return w >> 24 & 0xff, l
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
// start of b, or -1 when it is malformed or its tag is written longer
// than it needs: a decoder reads that as the field it numbers, maybe one
// of ours, so the caller gives the event to the slow path.
func skipUnknown(b []byte) int {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 || n > protowire.SizeTag(num) {
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
// eight bytes at a time while checking that nothing needs escaping (no
// control character, quote or backslash) and that it is valid UTF-8;
// otherwise it writes it again through sdk.AppendJSONString.
func appendJSONStringFast(dst []byte, s string) []byte {
	const hi = 0x8080808080808080
	n := len(s)
	start := len(dst)
	dst = slices.Grow(dst, n+2)
	out := dst[start : start+n+2]
	out[0], out[n+1] = '"', '"'
	if n < 8 {
		var high byte
		for i := 0; i < n; i++ {
			c := s[i]
			if c < 0x20 || c == '"' || c == '\\' {
				return sdk.AppendJSONString(dst[:start], s)
			}
			high |= c
			out[1+i] = c
		}
		if high >= 0x80 && !utf8.ValidString(s) {
			return sdk.AppendJSONString(dst[:start], s)
		}
		return dst[:start+n+2]
	}
	// Words, the last one overlapping the one before; what to escape is
	// gathered into bad and checked once at the end (strings rarely hold
	// any): no branch per word, nothing spilled from registers.
	src, to := unsafe.Pointer(unsafe.StringData(s)), unsafe.Pointer(&out[1])
	var bad, high uint64
	word := func(i int) {
		x := load64(src, i)
		binary.LittleEndian.PutUint64(unsafe.Slice((*byte)(unsafe.Add(to, i)), 8), x)
		bad |= jsonStops(x)
		high |= x
	}
	for i := 0; i+8 <= n; i += 8 {
		word(i)
	}
	word(n - 8)
	if bad&hi != 0 || high&hi != 0 && !utf8.ValidString(s) {
		return sdk.AppendJSONString(dst[:start], s)
	}
	return dst[:start+n+2]
}

// jsonStops has the top bit set of each byte of w that a JSON string
// cannot hold as it is: a quote, a backslash or a control byte. It may
// also set it in bytes above such a byte (a borrow), never below one:
// the lowest set is always a real one. Quote and backslash lack the top
// bit, so w^them has w's, and one &^w does for all three.
func jsonStops(w uint64) uint64 {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	return ((w ^ lo*'"' - lo) | (w ^ lo*'\\' - lo) | (w - lo*0x20)) &^ w & hi
}

// load64 reads the eight bytes at p+i, little-endian.
func load64(p unsafe.Pointer, i int) uint64 {
	return binary.LittleEndian.Uint64(unsafe.Slice((*byte)(unsafe.Add(p, i)), 8))
}

// appendInt is strconv.AppendInt(dst, x, 10), with the numbers events
// mostly hold (below 10^8: offsets, ports, pids, sizes) written as one
// word of eight digits, its four pairs looked up independently of each
// other (strconv's loop, and a loop of pairs, wait on each division).
func appendInt(dst []byte, x int64) []byte {
	if x < 0 || x >= 1e8 {
		return strconv.AppendInt(dst, x, 10)
	}
	if x < 10 {
		return append(dst, byte('0'+x))
	}
	n := 2 // digits, found by comparing (a division each was most of it)
	switch {
	case x >= 1e7:
		n = 8
	case x >= 1e6:
		n = 7
	case x >= 1e5:
		n = 6
	case x >= 1e4:
		n = 5
	case x >= 1e3:
		n = 4
	case x >= 100:
		n = 3
	}
	u := uint32(x)
	hi, lo := u/1e4, u%1e4
	w := uint64(digitPair(hi/100)) | uint64(digitPair(hi%100))<<16 |
		uint64(digitPair(lo/100))<<32 | uint64(digitPair(lo%100))<<48
	l := len(dst)
	dst = slices.Grow(dst, 8)
	// The leading zeros shifted out; the word's tail lands in spare
	// capacity, past what is returned.
	binary.LittleEndian.PutUint64(dst[l:l+8], w>>(8*(8-n)))
	return dst[:l+n]
}

// digitPair is the two digits of v < 100 as they lie in memory.
func digitPair(v uint32) uint16 {
	return uint16(digitPairs[2*v]) | uint16(digitPairs[2*v+1])<<8
}

const digitPairs = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

// shortCopy is how many bytes appendShort moves in one go.
const shortCopy = 32

// appendShort is append(dst, src...), moving a src of at most 32 bytes
// as four words when both sides have the room (names' JSON, memoized
// fields): cheaper than a memmove call for the text most often copied.
// It may write up to 32 bytes into dst's spare capacity; src must be
// readable up to 32 bytes (its capacity), which appendPadded ensures.
func appendShort(dst, src []byte) []byte {
	l, n := len(dst), len(src)
	if n > shortCopy || cap(src) < shortCopy || cap(dst)-l < shortCopy {
		return append(dst, src...)
	}
	copy32(unsafe.Pointer(&dst[l : l+shortCopy][0]), unsafe.Pointer(&src[:shortCopy][0]))
	return dst[:l+n]
}

// copy32 moves the 32 bytes at src to dst as four words through
// registers. An assignment of one [32]byte to another compiles to a
// memmove call (Go 1.26), which every name and memo hit paid.
func copy32(dst, src unsafe.Pointer) {
	type words struct{ a, b, c, d uint64 }
	w := *(*words)(src)
	*(*words)(dst) = w
}

// appendPadded is append(dst, src...) leaving room for appendShort and
// sameBytes to read 16 bytes.
func appendPadded(dst, src []byte) []byte {
	return slices.Grow(append(dst, src...), shortCopy)
}

// sameBytes is string(a) == string(b) for a and b of the same length,
// comparing up to 16 bytes as two masked words when both are readable
// that far.
func sameBytes(a, b []byte) bool {
	n := uint(len(a))
	if n > 16 || cap(a) < 16 || cap(b) < 16 {
		return string(a) == string(b)
	}
	x := binary.LittleEndian.Uint64(a[:8]) ^ binary.LittleEndian.Uint64(b[:8])
	y := binary.LittleEndian.Uint64(a[8:16]) ^ binary.LittleEndian.Uint64(b[8:16])
	// Only the first n bytes count (a shift of 64 or more gives 0).
	return x&(1<<(8*n)-1)|y<<(128-8*n) == 0
}
