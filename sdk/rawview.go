package sdk

// rawView lets an encoder write an event without decoding the fields
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
func rawView(e *Event, raw []rawField) (fields map[string]any, dict []string, out []rawField) {
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
				raw = append(raw, rawField{Key: uint32(key), Value: value})
			}
			data = data[t+m:]
		}
	}
	for i := range r.entries {
		en := &r.entries[i]
		// With a span, only the fields set since (see SetScalars).
		if en.done || r.span != nil && !en.ext {
			continue
		}
		raw = append(raw, rawField{Key: uint32(en.id), Value: r.value(en)})
	}
	// Set since and not looked up: walked, not listed (nothing changes).
	if r.unlisted() {
		for data := r.ext.buf[r.ext.listed:]; len(data) > 0; {
			_, _, t := consumeTag(data)
			field, m := consumeBytes(data[t:])
			if key, value, err := splitField(field, n); err == nil {
				raw = append(raw, rawField{Key: uint32(key), Value: value})
			}
			data = data[t+m:]
		}
	}
	return e.fields, r.dict.keys, raw
}

// rawDict returns the dictionary e's raw fields number their names in and
// a number telling it apart from every other dictionary this process has
// decoded (0 and nil when nothing is raw): an encoder can check a cache
// built from one dictionary once per batch instead of once per name.
func rawDict(e *Event) (dict []string, gen uint64) {
	r := &e.raw
	if r.pending == 0 || r.dict == nil {
		return nil, 0
	}
	return r.dict.keys, r.dict.gen
}

// rawSpan returns e's top-level fields as they arrived, when nothing has
// read or replaced any of them: one Event.fields entry (tag, length,
// Field message) after another, names numbered in rawDict's dictionary.
// Otherwise it returns nil, and rawView lists what is still raw. fields
// are the fields already decoded (none of them in span), as rawView's.
// The caller must change neither; they are valid while the event is.
func rawSpan(e *Event) (span []byte, fields map[string]any) {
	r := &e.raw
	if r.pending == 0 || r.dict == nil || r.ext != nil && len(r.ext.buf) > 0 {
		return nil, e.fields // nothing raw, or fields set since (rawView)
	}
	return r.span, e.fields
}

// rawUniqueNames reports whether no object of e's raw fields holds a name
// twice, as the batch they came in said (EventBatch.unique_names) or as
// rawBuilder's contract says: an encoder may then skip checking.
func rawUniqueNames(e *Event) bool {
	r := &e.raw
	return r.pending > 0 && r.dict != nil && r.dict.dec.uniqueNames
}
