package sdk

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
)

// The batch codec writes and reads the EventBatch message of
// sdk/proto/v1/plugin.proto directly, without building generated structs
// first: every event crosses a process boundary several times, so the
// encoding is the hot path (see docs/architecture.md). A test checks it
// against the generated code both ways.

// Field numbers from plugin.proto.
const (
	fbKeys, fbEvents, fbUniqueNames         = 1, 2, 3
	feTimestamp, feFields, feMeta           = 1, 2, 3
	ffKey, ffValue                          = 1, 2
	fvString, fvInt, fvFloat, fvBool, fvMap = 1, 2, 3, 4, 5
	fvList, fvNull                          = 6, 7
	fmFields                                = 1
	flValues                                = 1
)

// batchEncoder encodes batches. It keeps its buffer and key dictionary between
// batches so a steady stream of batches does not allocate. Not safe for
// concurrent use.
type batchEncoder struct {
	buf     []byte
	gen     uint32 // batch number, so cached slots of old batches miss
	keys    map[string]uint32
	keyList []string
	// seed is the dictionary of the batch the events were decoded from;
	// their raw fields use its numbers, so it starts this batch's.
	seed *batchDict
	// recent caches names by where their bytes live: the names of decoded
	// events point into one dictionary and literal names into the binary,
	// so most lookups are a pointer compare instead of hashing the name.
	recent [256]keySlot
	// shared remembers where this batch's last nested objects were
	// written: inputs share one object among many events (the file
	// input's [log][file] and [host]), which is then copied, not walked.
	shared [4]sharedSlot
	// sharedBuf holds their bytes: where they were written moves as the
	// lengths of the objects around them are filled in.
	sharedBuf []byte
	// slots hold a map's values by name number while appendFields orders
	// them, one table per depth of nesting (depth: the current one).
	slots []*[64]any
	depth int
	rest  []orderedField
	// repeats: fields were copied raw from a batch that did not say its
	// objects hold each name once (EventBatch.unique_names), so this one
	// cannot say it either.
	repeats bool
}

// orderedField is a map entry waiting to be written, by name number.
type orderedField struct {
	key uint32
	v   any
}

type sharedSlot struct {
	m          unsafe.Pointer
	start, end int
	gen        uint32
}

type keySlot struct {
	p   *byte
	n   int
	idx uint32
	gen uint32
}

// Encode returns the encoded batch. The result is valid until the next call.
//
// Field names are numbered as they are met and the dictionary is written
// after the events: repeated fields may come in any order, so generated
// decoders read it the same, and the encoder needs only one pass.
func (enc *batchEncoder) Encode(events []*Event) []byte {
	if enc.keys == nil {
		enc.keys = make(map[string]uint32, 32)
	}
	clear(enc.keys)
	enc.keyList = enc.keyList[:0]
	enc.gen++
	enc.seed = nil
	enc.repeats = false
	enc.sharedBuf = enc.sharedBuf[:0]
	// The longest generation of the first event's dictionary family
	// (fields set since decoding may have numbered new names, see
	// FieldSet.SetScalars): every event's raw numbers mean the same in it.
	for _, e := range events {
		if d := e.raw.dict; d != nil && e.raw.pending > 0 {
			if enc.seed == nil || enc.extends(d, enc.seed) {
				enc.seed = d
			}
		}
	}
	if d := enc.seed; d != nil {
		for i, k := range d.keys {
			if _, dup := enc.keys[k]; !dup {
				enc.keys[k] = uint32(i)
			}
		}
		enc.keyList = append(enc.keyList, d.keys...)
	}
	b := enc.buf[:0]
	for _, e := range events {
		b = enc.appendEvent(b, e)
	}
	for _, k := range enc.keyList {
		b = appendTag(b, fbKeys, protowire.BytesType)
		b = appendString(b, k)
	}
	if !enc.repeats {
		// Maps hold a name once; so did every batch fields were copied
		// from as they were.
		b = appendTag(b, fbUniqueNames, protowire.VarintType)
		b = append(b, 1)
	}
	enc.buf = b
	return b
}

// extends reports whether dictionary a is b or a later generation of the
// same family (batchDict.root), so that b's numbers mean the same in a.
func (enc *batchEncoder) extends(a, b *batchDict) bool {
	return a == b || a != nil && b != nil && a.root == b.root && a.root != nil && len(a.keys) >= len(b.keys)
}

// encodeBatch encodes events into a new buffer.
func encodeBatch(events []*Event) []byte {
	var enc batchEncoder
	return append([]byte(nil), enc.Encode(events)...)
}

func (enc *batchEncoder) keyIndex(k string) uint32 {
	p := unsafe.StringData(k)
	// A multiplicative hash of the address: short literal names lie a few
	// bytes apart, and the address's low bits alone put several in one slot.
	slot := &enc.recent[uint64(uintptr(unsafe.Pointer(p)))*0x9e3779b97f4a7c15>>56]
	if slot.p == p && slot.n == len(k) && slot.gen == enc.gen {
		return slot.idx
	}
	i, ok := enc.keys[k]
	if !ok {
		i = uint32(len(enc.keyList))
		enc.keys[k] = i
		enc.keyList = append(enc.keyList, k)
	}
	*slot = keySlot{p: p, n: len(k), idx: i, gen: enc.gen}
	return i
}

// appendEvent writes field 2 (an Event).
func (enc *batchEncoder) appendEvent(b []byte, e *Event) []byte {
	b = appendTag(b, fbEvents, protowire.BytesType)
	// Log events are mostly 128 B to 16 KiB long: two bytes of length
	// leave them where they are written.
	b, mark := reserveLen2(b)
	if e.ts != 0 {
		b = appendTag(b, feTimestamp, protowire.VarintType)
		b = appendVarint(b, protowire.EncodeZigZag(e.ts))
	}
	if e.raw.pending > 0 {
		if e.raw.dict != enc.seed && !enc.extends(enc.seed, e.raw.dict) {
			e.materialize() // numbered in another batch's dictionary
		} else {
			b = e.raw.appendRaw(b)
			enc.repeats = enc.repeats || !e.raw.dict.dec.uniqueNames
		}
	}
	b = enc.appendFields(b, feFields, e.fields)
	for k, v := range e.meta {
		b = enc.appendField(b, feMeta, enc.keyIndex(k), v)
	}
	return fillLen2(b, mark)
}

// appendFields writes m's entries ordered by their names' numbers in the
// batch's dictionary, not in the map's random order: events of one shape
// then cross with their fields in the same order every time, so a reader
// comparing an event with the one before (codecs.JSONEncoder's unordered
// mode) finds runs of unchanged fields in one piece, and equal objects
// have equal bytes.
func (enc *batchEncoder) appendFields(b []byte, num protowire.Number, m map[string]any) []byte {
	if len(m) <= 1 {
		for k, v := range m {
			b = enc.appendField(b, num, enc.keyIndex(k), v)
		}
		return b
	}
	// Names numbered below 64 (nearly all): each value waits in its
	// number's slot, a bit says which are taken, and the bits are read
	// in order; no sorting. A slot table per depth, since a nested map
	// is written while its parent's values wait.
	depth := enc.depth
	enc.depth++
	for len(enc.slots) <= depth {
		enc.slots = append(enc.slots, new([64]any))
	}
	slots := enc.slots[depth]
	var taken uint64
	base := len(enc.rest) // names numbered from 64 on wait here, sorted
	for k, v := range m {
		key := enc.keyIndex(k)
		if key < 64 {
			slots[key] = v
			taken |= 1 << key
			continue
		}
		enc.rest = append(enc.rest, orderedField{key: key, v: v})
	}
	end := len(enc.rest)
	for taken != 0 {
		key := uint32(bits.TrailingZeros64(taken))
		taken &= taken - 1
		b = enc.appendField(b, num, key, slots[key])
		slots[key] = nil // hold no event's values
	}
	if end > base {
		slices.SortFunc(enc.rest[base:end], func(a, b orderedField) int { return cmp.Compare(a.key, b.key) })
		for i := base; i < end; i++ {
			// Indexed: a nested map appends above end, and may move rest.
			b = enc.appendField(b, num, enc.rest[i].key, enc.rest[i].v)
		}
		clear(enc.rest[base:end])
		enc.rest = enc.rest[:base]
	}
	enc.depth--
	return b
}

func (enc *batchEncoder) appendField(b []byte, num protowire.Number, idx uint32, v any) []byte {
	if str, ok := v.(string); ok {
		// The commonest value: its sizes are known, so it is written
		// straight through, with no length to patch afterwards.
		key := uint64(idx)
		value := 1 + protowire.SizeBytes(len(str))
		field := 1 + protowire.SizeVarint(key) + 1 + protowire.SizeBytes(value)
		b = appendTag(b, num, protowire.BytesType)
		b = appendVarint(b, uint64(field))
		b = appendTag(b, ffKey, protowire.VarintType)
		b = appendVarint(b, key)
		b = appendTag(b, ffValue, protowire.BytesType)
		b = appendVarint(b, uint64(value))
		b = appendTag(b, fvString, protowire.BytesType)
		return appendString(b, str)
	}
	b = appendTag(b, num, protowire.BytesType)
	b, mark := reserveLen(b)
	b = appendTag(b, ffKey, protowire.VarintType)
	b = appendVarint(b, uint64(idx))
	b = appendTag(b, ffValue, protowire.BytesType)
	b, vmark := reserveLen(b)
	b = enc.appendValue(b, v)
	b = fillLen(b, vmark)
	return fillLen(b, mark)
}

func (enc *batchEncoder) appendValue(b []byte, v any) []byte {
	switch t := v.(type) {
	case string:
		b = appendTag(b, fvString, protowire.BytesType)
		b = appendString(b, t)
	case int64:
		b = appendTag(b, fvInt, protowire.VarintType)
		b = appendVarint(b, protowire.EncodeZigZag(t))
	case int:
		b = appendTag(b, fvInt, protowire.VarintType)
		b = appendVarint(b, protowire.EncodeZigZag(int64(t)))
	case float64:
		b = appendTag(b, fvFloat, protowire.Fixed64Type)
		b = protowire.AppendFixed64(b, math.Float64bits(t))
	case bool:
		b = appendTag(b, fvBool, protowire.VarintType)
		b = appendVarint(b, protowire.EncodeBool(t))
	case map[string]any:
		p := *(*unsafe.Pointer)(unsafe.Pointer(&t))
		slot := &enc.shared[(uintptr(p)>>4)&3]
		seen := slot.m == p && slot.gen == enc.gen && len(t) > 0
		if seen && slot.end > 0 {
			// The same object, already written in this batch: nothing can
			// change it while Encode runs.
			return append(b, enc.sharedBuf[slot.start:slot.end]...)
		}
		start := len(b)
		b = appendTag(b, fvMap, protowire.BytesType)
		var mark int
		b, mark = reserveLen(b)
		b = enc.appendFields(b, fmFields, t)
		b = fillLen(b, mark)
		if !seen {
			// Seen once: most objects are not shared, so their bytes are
			// kept only when they come again.
			*slot = sharedSlot{m: p, gen: enc.gen}
			return b
		}
		at := len(enc.sharedBuf)
		enc.sharedBuf = append(enc.sharedBuf, b[start:]...)
		*slot = sharedSlot{m: p, start: at, end: len(enc.sharedBuf), gen: enc.gen}
	case []any:
		b = appendTag(b, fvList, protowire.BytesType)
		var mark, m int
		b, mark = reserveLen(b)
		for _, x := range t {
			b = appendTag(b, flValues, protowire.BytesType)
			b, m = reserveLen(b)
			b = enc.appendValue(b, x)
			b = fillLen(b, m)
		}
		b = fillLen(b, mark)
	case nil:
		b = appendTag(b, fvNull, protowire.VarintType)
		b = appendVarint(b, 1)
	default:
		// Plugins should set normalized values; normalize the rest
		// rather than lose them.
		n := Normalize(v)
		if fmt.Sprintf("%T", n) == fmt.Sprintf("%T", v) {
			b = appendTag(b, fvString, protowire.BytesType)
			b = appendString(b, fmt.Sprint(v))
		} else {
			b = enc.appendValue(b, n)
		}
	}
	return b
}

// reserveLen leaves one byte for a length prefix; most nested messages
// are shorter than 128 bytes, and fillLen makes room when they are not.
func reserveLen(b []byte) ([]byte, int) {
	return append(b, 0), len(b)
}

func fillLen(b []byte, mark int) []byte {
	n := len(b) - mark - 1
	if n < 0x80 {
		b[mark] = byte(n)
		return b
	}
	size := protowire.SizeVarint(uint64(n))
	b = append(b, make([]byte, size-1)...)
	copy(b[mark+size:], b[mark+1:mark+1+n])
	appendVarint(b[:mark], uint64(n))
	return b
}

// reserveLen2 leaves two bytes for a length (up to 16 KiB).
func reserveLen2(b []byte) ([]byte, int) {
	return append(b, 0, 0), len(b)
}

func fillLen2(b []byte, mark int) []byte {
	n := len(b) - mark - 2
	switch {
	case n >= 0x80 && n < 0x4000:
		b[mark] = byte(n) | 0x80
		b[mark+1] = byte(n >> 7)
		return b
	case n < 0x80:
		b[mark] = byte(n)
		copy(b[mark+1:], b[mark+2:])
		return b[:len(b)-1]
	}
	size := protowire.SizeVarint(uint64(n))
	b = append(b, make([]byte, size-2)...)
	copy(b[mark+size:], b[mark+2:mark+2+n])
	appendVarint(b[:mark], uint64(n))
	return b
}

// The encoder's own appends: protowire's are not inlined, and a
// function call per tag and length was a quarter of encoding. Every field
// number here is below 16, so a tag is one byte.
func appendTag(b []byte, num protowire.Number, typ protowire.Type) []byte {
	return append(b, byte(num)<<3|byte(typ))
}

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendString(b []byte, s string) []byte {
	return append(appendVarint(b, uint64(len(s))), s...)
}

// errCorruptBatch means a batch could not be decoded.
var errCorruptBatch = errors.New("corrupt event batch")

func errKeyNotInDictionary(key uint64) error {
	return fmt.Errorf("%w: field name %d not in the batch dictionary", errCorruptBatch, key)
}

// decodeBatch decodes an encoded EventBatch. The events' strings share
// data's memory (no copy per string): data must not be changed afterwards.
func decodeBatch(data []byte) ([]*Event, error) {
	return appendDecodeBatch(nil, data)
}

// appendDecodeBatch decodes an encoded EventBatch, appending to events.
// As with decodeBatch, the events share data's memory. It is a batchDecoder
// used once: nothing is recycled, so the events are the caller's to keep.
func appendDecodeBatch(events []*Event, data []byte) ([]*Event, error) {
	d := batchDecoder{eager: true}
	out, err := d.Decode(data)
	return append(events, out...), err
}

// slab is what decoding one batch draws on: Values to box values without
// an allocation each, and, with a batchDecoder (Values.dec), its free maps and
// lists.
type slab struct{ Values }

// aliasString returns b as a string without copying it.
func aliasString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// decodeEventInto decodes an Event message. With a dict, top-level fields
// are only indexed, to be decoded when asked for.
func decodeEventInto(e *Event, data []byte, keys []string, sl *slab, dict *batchDict) error {
	e.raw.dict = dict
	e.raw.base = int32(len(keys))
	// The raw fields' span: where the first starts and the last ends.
	whole, spanStart, spanEnd, contiguous := data, -1, -1, true
	for len(data) > 0 {
		at := len(whole) - len(data)
		num, typ, n := consumeTag(data)
		if n < 0 {
			return errCorruptBatch
		}
		data = data[n:]
		switch {
		case num == feTimestamp && typ == protowire.VarintType:
			v, n := consumeVarint(data)
			if n < 0 {
				return errCorruptBatch
			}
			e.ts = protowire.DecodeZigZag(v)
			data = data[n:]
		case (num == feFields || num == feMeta) && typ == protowire.BytesType:
			v, n := consumeBytes(data)
			if n < 0 {
				return errCorruptBatch
			}
			if num == feFields && dict != nil {
				end := len(whole) - len(data) + n
				if err := checkField(v, len(keys)); err != nil {
					return err
				}
				e.raw.pending++
				if spanStart < 0 {
					spanStart = at
				} else if spanEnd != at {
					contiguous = false
				}
				spanEnd = end
				data = data[n:]
				continue
			}
			target := e.fields
			if num == feMeta {
				target = e.Metadata()
			}
			if err := decodeField(v, keys, target, sl); err != nil {
				return err
			}
			data = data[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, data)
			if n < 0 {
				return errCorruptBatch
			}
			data = data[n:]
		}
	}
	if spanStart >= 0 {
		if contiguous {
			e.raw.span = whole[spanStart:spanEnd]
			e.raw.src = e.raw.span
		} else {
			// Written apart (not by this SDK): list them now, from the
			// whole event, and copy them one by one.
			e.raw.indexed = true
			e.raw.src = whole
			for data := whole; len(data) > 0; {
				num, typ, n := consumeTag(data)
				m := protowire.ConsumeFieldValue(num, typ, data[n:])
				if num == feFields && typ == protowire.BytesType {
					v, _ := consumeBytes(data[n:])
					_ = e.raw.add(data[:n+m], v)
				}
				data = data[n+m:]
			}
		}
	}
	return nil
}

func decodeField(data []byte, keys []string, into map[string]any, sl *slab) error {
	key, value, err := splitField(data, len(keys))
	if err != nil {
		return err
	}
	val, err := decodeValue(value, keys, sl)
	if err != nil {
		return err
	}
	into[keys[key]] = val
	return nil
}

// splitField returns a Field message's name (checked against a dictionary
// of dictLen names) and its Value message, undecoded.
func splitField(field []byte, dictLen int) (key uint64, value []byte, err error) {
	// The shape this SDK writes: the name as one tag byte and a one-byte
	// varint, then the value, nothing after it.
	if len(field) >= 3 && field[0] == byte(ffKey<<3|protowire.VarintType) && field[1] < 0x80 &&
		field[2] == byte(ffValue<<3|protowire.BytesType) && int(field[1]) < dictLen {
		if v, n := consumeBytes(field[3:]); n == len(field)-3 {
			return uint64(field[1]), v, nil
		}
	}
	for len(field) > 0 {
		num, typ, n := consumeTag(field)
		if n < 0 {
			return 0, nil, errCorruptBatch
		}
		field = field[n:]
		switch {
		case num == ffKey && typ == protowire.VarintType:
			v, n := consumeVarint(field)
			if n < 0 {
				return 0, nil, errCorruptBatch
			}
			key, field = v, field[n:] // absent means 0, as proto3 writes it
		case num == ffValue && typ == protowire.BytesType:
			v, n := consumeBytes(field)
			if n < 0 {
				return 0, nil, errCorruptBatch
			}
			value, field = v, field[n:] // the last one wins
		default:
			n := protowire.ConsumeFieldValue(num, typ, field)
			if n < 0 {
				return 0, nil, errCorruptBatch
			}
			field = field[n:]
		}
	}
	if key >= uint64(dictLen) {
		return 0, nil, errKeyNotInDictionary(key)
	}
	return key, value, nil
}

func decodeValue(data []byte, keys []string, sl *slab) (any, error) {
	var val any
	for len(data) > 0 {
		num, typ, n := consumeTag(data)
		if n < 0 {
			return nil, errCorruptBatch
		}
		data = data[n:]
		switch {
		case num == fvString && typ == protowire.BytesType:
			v, n := consumeBytes(data)
			if n < 0 {
				return nil, errCorruptBatch
			}
			val, data = sl.String(aliasString(v)), data[n:]
		case num == fvInt && typ == protowire.VarintType:
			v, n := consumeVarint(data)
			if n < 0 {
				return nil, errCorruptBatch
			}
			val, data = sl.Int(protowire.DecodeZigZag(v)), data[n:]
		case num == fvFloat && typ == protowire.Fixed64Type:
			v, n := protowire.ConsumeFixed64(data)
			if n < 0 {
				return nil, errCorruptBatch
			}
			val, data = sl.Float(math.Float64frombits(v)), data[n:]
		case num == fvBool && typ == protowire.VarintType:
			v, n := consumeVarint(data)
			if n < 0 {
				return nil, errCorruptBatch
			}
			val, data = v != 0, data[n:]
		case num == fvNull && typ == protowire.VarintType:
			_, n := consumeVarint(data)
			if n < 0 {
				return nil, errCorruptBatch
			}
			val, data = nil, data[n:]
		case num == fvMap && typ == protowire.BytesType:
			v, n := consumeBytes(data)
			if n < 0 {
				return nil, errCorruptBatch
			}
			var m map[string]any
			if sl.dec != nil {
				m = sl.dec.newMap()
			} else {
				m = make(map[string]any, 4)
			}
			for len(v) > 0 {
				fnum, ftyp, fn := consumeTag(v)
				if fn < 0 {
					return nil, errCorruptBatch
				}
				v = v[fn:]
				if fnum != fmFields || ftyp != protowire.BytesType {
					skip := protowire.ConsumeFieldValue(fnum, ftyp, v)
					if skip < 0 {
						return nil, errCorruptBatch
					}
					v = v[skip:]
					continue
				}
				fv, fl := consumeBytes(v)
				if fl < 0 {
					return nil, errCorruptBatch
				}
				if err := decodeField(fv, keys, m, sl); err != nil {
					return nil, err
				}
				v = v[fl:]
			}
			val, data = m, data[n:]
		case num == fvList && typ == protowire.BytesType:
			v, n := consumeBytes(data)
			if n < 0 {
				return nil, errCorruptBatch
			}
			var list []any
			if sl.dec != nil {
				list = sl.dec.newList()
			} else {
				list = make([]any, 0, 4)
			}
			for len(v) > 0 {
				lnum, ltyp, ln := consumeTag(v)
				if ln < 0 {
					return nil, errCorruptBatch
				}
				v = v[ln:]
				if lnum != flValues || ltyp != protowire.BytesType {
					skip := protowire.ConsumeFieldValue(lnum, ltyp, v)
					if skip < 0 {
						return nil, errCorruptBatch
					}
					v = v[skip:]
					continue
				}
				lv, ll := consumeBytes(v)
				if ll < 0 {
					return nil, errCorruptBatch
				}
				x, err := decodeValue(lv, keys, sl)
				if err != nil {
					return nil, err
				}
				list = append(list, x)
				v = v[ll:]
			}
			if sl.dec != nil {
				sl.dec.lentLists = append(sl.dec.lentLists, list)
			}
			val, data = list, data[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, data)
			if n < 0 {
				return nil, errCorruptBatch
			}
			data = data[n:]
		}
	}
	return val, nil
}

// countEvents counts the events in an encoded batch without decoding them.
func countEvents(data []byte) (int, error) {
	count := 0
	for len(data) > 0 {
		num, typ, n := consumeTag(data)
		if n < 0 {
			return count, errCorruptBatch
		}
		data = data[n:]
		m := protowire.ConsumeFieldValue(num, typ, data)
		if m < 0 {
			return count, errCorruptBatch
		}
		if num == fbEvents {
			count++
		}
		data = data[m:]
	}
	return count, nil
}

// selectEvents returns a batch holding only the events at the given
// (ascending) indexes, without decoding them: the core uses it to resend
// the events an output asked to retry.
func selectEvents(data []byte, idx []uint32) ([]byte, error) {
	out := make([]byte, 0, len(data))
	i, want := uint32(0), 0
	for len(data) > 0 {
		num, typ, n := consumeTag(data)
		if n < 0 {
			return nil, errCorruptBatch
		}
		m := protowire.ConsumeFieldValue(num, typ, data[n:])
		if m < 0 {
			return nil, errCorruptBatch
		}
		whole := data[:n+m]
		data = data[n+m:]
		if num != fbEvents {
			out = append(out, whole...) // the dictionary stays whole
			continue
		}
		if want < len(idx) && idx[want] == i {
			out = append(out, whole...)
			want++
		}
		i++
	}
	return out, nil
}

// The decoder's own reads, for the same reason as the encoder's appends:
// one-byte tags and lengths, nearly all of them, skip protowire's general
// loops; anything longer or malformed goes through protowire, which
// checks it.
func consumeTag(b []byte) (protowire.Number, protowire.Type, int) {
	if len(b) > 0 && b[0] < 0x80 && b[0] >= 8 {
		return protowire.Number(b[0] >> 3), protowire.Type(b[0] & 7), 1
	}
	return protowire.ConsumeTag(b)
}

func consumeVarint(b []byte) (uint64, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	return protowire.ConsumeVarint(b)
}

func consumeBytes(b []byte) ([]byte, int) {
	if len(b) > 0 && b[0] < 0x80 && int(b[0]) < len(b) { // a length under 128 that fits
		return b[1 : 1+b[0]], 1 + int(b[0])
	}
	return protowire.ConsumeBytes(b)
}
