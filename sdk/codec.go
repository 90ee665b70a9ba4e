package sdk

import (
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// The batch codec writes and reads the EventBatch message of
// sdk/proto/v1/plugin.proto directly, without building generated structs
// first: every event crosses a process boundary several times, so the
// encoding is the hot path (see docs/architecture.md). A test checks it
// against the generated code both ways.

// Field numbers from plugin.proto.
const (
	fbKeys, fbEvents                        = 1, 2
	feTimestamp, feFields, feMeta           = 1, 2, 3
	ffKey, ffValue                          = 1, 2
	fvString, fvInt, fvFloat, fvBool, fvMap = 1, 2, 3, 4, 5
	fvList, fvNull                          = 6, 7
	fmFields                                = 1
	flValues                                = 1
)

// Encoder encodes batches. It keeps its buffer and key dictionary between
// batches so a steady stream of batches does not allocate. Not safe for
// concurrent use.
type Encoder struct {
	buf  []byte
	keys map[string]uint32
}

// Encode returns the encoded batch. The result is valid until the next call.
func (enc *Encoder) Encode(events []*Event) []byte {
	if enc.keys == nil {
		enc.keys = make(map[string]uint32, 32)
	}
	clear(enc.keys)
	b := enc.buf[:0]
	for _, e := range events {
		b = enc.appendEvent(b, e)
	}
	enc.buf = b
	return b
}

// EncodeBatch encodes events into a new buffer.
func EncodeBatch(events []*Event) []byte {
	var enc Encoder
	return append([]byte(nil), enc.Encode(events)...)
}

// appendEvent writes field 2 (an Event). Names new to this batch are
// written as field-1 entries just before the event that first uses them:
// repeated fields may interleave, so generated decoders see the same
// dictionary, and this encoder needs one pass.
func (enc *Encoder) appendEvent(b []byte, e *Event) []byte {
	b = enc.declareKeys(b, e.fields)
	if e.meta != nil {
		b = enc.declareKeys(b, e.meta)
	}
	b = protowire.AppendTag(b, fbEvents, protowire.BytesType)
	b, mark := reserveLen(b)
	if e.ts != 0 {
		b = protowire.AppendTag(b, feTimestamp, protowire.VarintType)
		b = protowire.AppendVarint(b, protowire.EncodeZigZag(e.ts))
	}
	for k, v := range e.fields {
		b = enc.appendField(b, feFields, k, v)
	}
	for k, v := range e.meta {
		b = enc.appendField(b, feMeta, k, v)
	}
	return fillLen(b, mark)
}

// declareKeys emits dictionary entries for the names (at every depth) not
// yet declared in this batch.
func (enc *Encoder) declareKeys(b []byte, m map[string]any) []byte {
	for k, v := range m {
		if _, ok := enc.keys[k]; !ok {
			enc.keys[k] = uint32(len(enc.keys))
			b = protowire.AppendTag(b, fbKeys, protowire.BytesType)
			b = protowire.AppendString(b, k)
		}
		b = enc.declareNested(b, v)
	}
	return b
}

func (enc *Encoder) declareNested(b []byte, v any) []byte {
	switch t := v.(type) {
	case map[string]any:
		b = enc.declareKeys(b, t)
	case []any:
		for _, x := range t {
			b = enc.declareNested(b, x)
		}
	}
	return b
}

func (enc *Encoder) appendField(b []byte, num protowire.Number, k string, v any) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b, mark := reserveLen(b)
	b = protowire.AppendTag(b, ffKey, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(enc.keys[k]))
	b = protowire.AppendTag(b, ffValue, protowire.BytesType)
	b, vmark := reserveLen(b)
	b = enc.appendValue(b, v)
	b = fillLen(b, vmark)
	return fillLen(b, mark)
}

func (enc *Encoder) appendValue(b []byte, v any) []byte {
	switch t := v.(type) {
	case string:
		b = protowire.AppendTag(b, fvString, protowire.BytesType)
		b = protowire.AppendString(b, t)
	case int64:
		b = protowire.AppendTag(b, fvInt, protowire.VarintType)
		b = protowire.AppendVarint(b, protowire.EncodeZigZag(t))
	case int:
		b = protowire.AppendTag(b, fvInt, protowire.VarintType)
		b = protowire.AppendVarint(b, protowire.EncodeZigZag(int64(t)))
	case float64:
		b = protowire.AppendTag(b, fvFloat, protowire.Fixed64Type)
		b = protowire.AppendFixed64(b, math.Float64bits(t))
	case bool:
		b = protowire.AppendTag(b, fvBool, protowire.VarintType)
		b = protowire.AppendVarint(b, protowire.EncodeBool(t))
	case map[string]any:
		b = protowire.AppendTag(b, fvMap, protowire.BytesType)
		var mark int
		b, mark = reserveLen(b)
		for k, x := range t {
			b = enc.appendField(b, fmFields, k, x)
		}
		b = fillLen(b, mark)
	case []any:
		b = protowire.AppendTag(b, fvList, protowire.BytesType)
		var mark, m int
		b, mark = reserveLen(b)
		for _, x := range t {
			b = protowire.AppendTag(b, flValues, protowire.BytesType)
			b, m = reserveLen(b)
			b = enc.appendValue(b, x)
			b = fillLen(b, m)
		}
		b = fillLen(b, mark)
	case nil:
		b = protowire.AppendTag(b, fvNull, protowire.VarintType)
		b = protowire.AppendVarint(b, 1)
	default:
		// Plugins should set normalized values; normalize the rest
		// rather than lose them.
		n := Normalize(v)
		if fmt.Sprintf("%T", n) == fmt.Sprintf("%T", v) {
			b = protowire.AppendTag(b, fvString, protowire.BytesType)
			b = protowire.AppendString(b, fmt.Sprint(v))
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
	protowire.AppendVarint(b[:mark], uint64(n))
	return b
}

// ErrCorruptBatch means a batch could not be decoded.
var ErrCorruptBatch = errors.New("corrupt event batch")

// DecodeBatch decodes an encoded EventBatch.
func DecodeBatch(data []byte) ([]*Event, error) {
	return AppendDecodeBatch(nil, data)
}

// AppendDecodeBatch decodes an encoded EventBatch, appending to events.
func AppendDecodeBatch(events []*Event, data []byte) ([]*Event, error) {
	var keys []string
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return events, ErrCorruptBatch
		}
		data = data[n:]
		switch {
		case num == fbKeys && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(data)
			if n < 0 {
				return events, ErrCorruptBatch
			}
			keys = append(keys, string(v))
			data = data[n:]
		case num == fbEvents && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(data)
			if n < 0 {
				return events, ErrCorruptBatch
			}
			e, err := decodeEvent(v, keys)
			if err != nil {
				return events, err
			}
			events = append(events, e)
			data = data[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, data)
			if n < 0 {
				return events, ErrCorruptBatch
			}
			data = data[n:]
		}
	}
	return events, nil
}

func decodeEvent(data []byte, keys []string) (*Event, error) {
	e := &Event{fields: make(map[string]any, 8)}
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return nil, ErrCorruptBatch
		}
		data = data[n:]
		switch {
		case num == feTimestamp && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(data)
			if n < 0 {
				return nil, ErrCorruptBatch
			}
			e.ts = protowire.DecodeZigZag(v)
			data = data[n:]
		case (num == feFields || num == feMeta) && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(data)
			if n < 0 {
				return nil, ErrCorruptBatch
			}
			target := e.fields
			if num == feMeta {
				target = e.Metadata()
			}
			if err := decodeField(v, keys, target); err != nil {
				return nil, err
			}
			data = data[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, data)
			if n < 0 {
				return nil, ErrCorruptBatch
			}
			data = data[n:]
		}
	}
	return e, nil
}

func decodeField(data []byte, keys []string, into map[string]any) error {
	var (
		key uint64 // absent means 0, as proto3 writes it
		val any
	)
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return ErrCorruptBatch
		}
		data = data[n:]
		switch {
		case num == ffKey && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(data)
			if n < 0 {
				return ErrCorruptBatch
			}
			key = v
			data = data[n:]
		case num == ffValue && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(data)
			if n < 0 {
				return ErrCorruptBatch
			}
			var err error
			if val, err = decodeValue(v, keys); err != nil {
				return err
			}
			data = data[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, data)
			if n < 0 {
				return ErrCorruptBatch
			}
			data = data[n:]
		}
	}
	if key >= uint64(len(keys)) {
		return fmt.Errorf("%w: field name %d not in the batch dictionary", ErrCorruptBatch, key)
	}
	into[keys[key]] = val
	return nil
}

func decodeValue(data []byte, keys []string) (any, error) {
	var val any
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return nil, ErrCorruptBatch
		}
		data = data[n:]
		switch {
		case num == fvString && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(data)
			if n < 0 {
				return nil, ErrCorruptBatch
			}
			val, data = string(v), data[n:]
		case num == fvInt && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(data)
			if n < 0 {
				return nil, ErrCorruptBatch
			}
			val, data = protowire.DecodeZigZag(v), data[n:]
		case num == fvFloat && typ == protowire.Fixed64Type:
			v, n := protowire.ConsumeFixed64(data)
			if n < 0 {
				return nil, ErrCorruptBatch
			}
			val, data = math.Float64frombits(v), data[n:]
		case num == fvBool && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(data)
			if n < 0 {
				return nil, ErrCorruptBatch
			}
			val, data = v != 0, data[n:]
		case num == fvNull && typ == protowire.VarintType:
			_, n := protowire.ConsumeVarint(data)
			if n < 0 {
				return nil, ErrCorruptBatch
			}
			val, data = nil, data[n:]
		case num == fvMap && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(data)
			if n < 0 {
				return nil, ErrCorruptBatch
			}
			m := make(map[string]any, 4)
			for len(v) > 0 {
				fnum, ftyp, fn := protowire.ConsumeTag(v)
				if fn < 0 {
					return nil, ErrCorruptBatch
				}
				v = v[fn:]
				if fnum != fmFields || ftyp != protowire.BytesType {
					skip := protowire.ConsumeFieldValue(fnum, ftyp, v)
					if skip < 0 {
						return nil, ErrCorruptBatch
					}
					v = v[skip:]
					continue
				}
				fv, fl := protowire.ConsumeBytes(v)
				if fl < 0 {
					return nil, ErrCorruptBatch
				}
				if err := decodeField(fv, keys, m); err != nil {
					return nil, err
				}
				v = v[fl:]
			}
			val, data = m, data[n:]
		case num == fvList && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(data)
			if n < 0 {
				return nil, ErrCorruptBatch
			}
			list := make([]any, 0, 4)
			for len(v) > 0 {
				lnum, ltyp, ln := protowire.ConsumeTag(v)
				if ln < 0 {
					return nil, ErrCorruptBatch
				}
				v = v[ln:]
				if lnum != flValues || ltyp != protowire.BytesType {
					skip := protowire.ConsumeFieldValue(lnum, ltyp, v)
					if skip < 0 {
						return nil, ErrCorruptBatch
					}
					v = v[skip:]
					continue
				}
				lv, ll := protowire.ConsumeBytes(v)
				if ll < 0 {
					return nil, ErrCorruptBatch
				}
				x, err := decodeValue(lv, keys)
				if err != nil {
					return nil, err
				}
				list = append(list, x)
				v = v[ll:]
			}
			val, data = list, data[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, data)
			if n < 0 {
				return nil, ErrCorruptBatch
			}
			data = data[n:]
		}
	}
	return val, nil
}

// CountEvents counts the events in an encoded batch without decoding them.
func CountEvents(data []byte) (int, error) {
	count := 0
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return count, ErrCorruptBatch
		}
		data = data[n:]
		m := protowire.ConsumeFieldValue(num, typ, data)
		if m < 0 {
			return count, ErrCorruptBatch
		}
		if num == fbEvents {
			count++
		}
		data = data[m:]
	}
	return count, nil
}

// SelectEvents returns a batch holding only the events at the given
// (ascending) indexes, without decoding them: the core uses it to resend
// the events an output asked to retry.
func SelectEvents(data []byte, idx []uint32) ([]byte, error) {
	out := make([]byte, 0, len(data))
	i, want := uint32(0), 0
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return nil, ErrCorruptBatch
		}
		m := protowire.ConsumeFieldValue(num, typ, data[n:])
		if m < 0 {
			return nil, ErrCorruptBatch
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
