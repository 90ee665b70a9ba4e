package sdk

import "maps"

// rawBuilder makes events whose top-level fields are given as they will
// cross to the next process: Field messages of sdk/proto/v1/plugin.proto,
// names numbered by Key. Such an event is like one decoded from a batch
// with every field still raw: reading a field decodes it, and the batch
// encoder copies the fields nothing touched as they are. An input codec
// that validates its text and writes it in this form (codecs' json)
// spares building maps and encoding them again.
//
// The dictionary only grows: each new name makes a new generation that
// extends the last, so events made earlier keep valid numbers, and the
// encoder writes a batch of them with the longest generation among them.
// Not safe for concurrent use; the events it made are, as any events.
type rawBuilder struct {
	dec  *batchDecoder // shared by every generation: marks them as one family
	dict *batchDict    // the current generation, never changed once made
	ids  map[string]uint32
	// Room carved for the events: each gets its struct, its entries'
	// list and its name table from chunks shared by many events instead
	// of an allocation each (events are not reused: the pipeline owns a
	// published batch). A chunk is collected with its last event.
	events  []Event
	entries []rawEntry
	at      []int32
}

const rawChunk = 256

func (b *rawBuilder) start() {
	b.dec = &batchDecoder{grows: true, uniqueNames: true} // Event's contract
	b.dict = &batchDict{dec: b.dec, gen: newDictGen()}
	b.dict.root = b.dict
	b.ids = make(map[string]uint32, 32)
}

// Key returns name's number, numbering it if it is new (name is copied);
// ok is false when the dictionary is full.
func (b *rawBuilder) Key(name string) (key uint32, ok bool) {
	if b.dec == nil {
		b.start()
	}
	if i, ok := b.ids[name]; ok {
		return i, true
	}
	n := len(b.dict.keys)
	if n >= maxAt {
		return 0, false
	}
	name = string([]byte(name)) // names may alias a reused line buffer
	keys := append(b.dict.keys[:n:n], name)
	// A generation of its own: a reference remembers a name's number, or
	// its absence, per dictionary generation (batchDict.refID).
	d := &batchDict{keys: keys, dec: b.dec, gen: newDictGen(), root: b.dict.root}
	if len(keys) > 16 {
		d.ids = make(map[string]int32, len(keys))
		if b.dict.ids != nil {
			maps.Copy(d.ids, b.dict.ids)
		} else {
			for i, k := range b.dict.keys {
				d.ids[k] = int32(i)
			}
		}
		d.ids[name] = int32(n)
	}
	b.dict = d
	b.ids[name] = uint32(n)
	return uint32(n), true
}

// Event returns an event stamped ts (ns since the epoch) whose top-level
// fields are the n Field messages in fields, each written as an Event's
// field 2 (tag, length, message), with names numbered by Key and no name
// twice. fields must be well formed and must not change while the event
// lives: the event reads it, it does not copy it.
func (b *rawBuilder) Event(ts int64, fields []byte, n int) *Event {
	if b.dec == nil {
		b.start()
	}
	if len(b.events) == 0 {
		b.events = make([]Event, rawChunk)
	}
	e := &b.events[0]
	b.events = b.events[1:]
	e.fields = make(map[string]any, 2)
	b.fill(e, ts, fields, n)
	return e
}

// Refill makes e, an event its owner is done with (its batch was
// encoded), what Event would make, keeping e's map and tables: an input
// that hands its events back fills them again instead of making an
// event and a map per line.
func (b *rawBuilder) Refill(e *Event, ts int64, fields []byte, n int) {
	if b.dec == nil {
		b.start()
	}
	entries, at := e.raw.entries, e.raw.at
	e.Reset()
	e.raw.entries, e.raw.at = entries, at
	b.fill(e, ts, fields, n)
}

// fill sets e's time and raw fields; e has an empty map and nothing raw,
// and keeps the room of its entries' list and name table when it has
// enough.
func (b *rawBuilder) fill(e *Event, ts int64, fields []byte, n int) {
	e.ts = ts
	if n == 0 {
		return
	}
	e.raw.dict = b.dict
	e.raw.base = int32(len(b.dict.keys))
	e.raw.pending = n
	e.raw.span = fields
	e.raw.src = fields
	// Listed when a name is first looked up (rawFields.add).
	if cap(e.raw.entries) >= n {
		e.raw.entries = e.raw.entries[:0]
	} else {
		if cap(b.entries) < n {
			b.entries = make([]rawEntry, max(n, rawChunk*8))
		}
		e.raw.entries = b.entries[:0:n]
		b.entries = b.entries[n:]
	}
	if k := len(b.dict.keys); k <= maxAt {
		if cap(e.raw.at) >= k {
			e.raw.at = e.raw.at[:0]
		} else {
			if cap(b.at) < k {
				b.at = make([]int32, max(k, rawChunk*8))
			}
			e.raw.at = b.at[:0:k]
			b.at = b.at[k:]
		}
	} else {
		e.raw.at = nil
	}
}

// Name returns the name numbered key (the builder's copy).
func (b *rawBuilder) Name(key uint32) string { return b.dict.keys[key] }

// Rotate starts a new dictionary family when the current one is full:
// call it between events, never while writing one. It reports
// whether it did: numbers given before mean nothing in the new family.
func (b *rawBuilder) Rotate() bool {
	if b.dec == nil || len(b.dict.keys) >= maxAt {
		b.start()
		return true
	}
	return false
}
