package sdk

// RawField is a top-level field of an event decoded from a batch that
// nothing has read or replaced yet: Key numbers its name in the batch's
// dictionary and Value is its Value message (sdk/proto/v1/plugin.proto)
// as it arrived, nested names numbered in the same dictionary.
type RawField struct {
	Key   uint32
	Value []byte
}

// RawView lets an encoder write an event without decoding the fields
// still raw (codecs.JSONEncoder transcodes them from their wire bytes).
// It appends those fields to raw and returns them, the dictionary their
// names index, and the map of the fields already decoded; a name is in
// one or the other, never both. An event with nothing raw gives back raw
// unchanged, a nil dict and all its fields.
//
// It only reads the event: nothing is decoded or marked. The caller must
// change none of what it returns, which is valid while the event is (the
// batch's memory). A raw value may be malformed inside (only its framing
// was checked when the batch was decoded): a reader that cannot use it
// should fall back to Fields(), which decodes as every accessor does.
func RawView(e *Event, raw []RawField) (fields map[string]any, dict []string, out []RawField) {
	r := &e.raw
	if r.pending == 0 || r.dict == nil {
		return e.fields, nil, raw
	}
	n := len(r.dict.keys)
	if r.span != nil {
		for data := r.span; len(data) > 0; {
			_, _, t := consumeTag(data)
			field, m := consumeBytes(data[t:])
			if key, value, err := splitField(field, n); err == nil {
				raw = append(raw, RawField{Key: uint32(key), Value: value})
			}
			data = data[t+m:]
		}
		return e.fields, r.dict.keys, raw
	}
	for i := range r.entries {
		en := &r.entries[i]
		if en.done {
			continue
		}
		raw = append(raw, RawField{Key: uint32(en.id), Value: r.value(en)})
	}
	return e.fields, r.dict.keys, raw
}
