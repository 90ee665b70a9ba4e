package sdk

import (
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/encoding/protowire"
)

// rawFields holds an event's top-level fields as they arrived in a batch,
// each decoded only when something asks for it. Most stages touch a few
// fields of an event; decoding every field into a map and encoding it
// again was most of what crossing a process boundary cost (docs/benchmarks.md).
// The encoder copies the fields still raw into the next batch as they are.
//
// A field name is in the event's map or among the pending raw entries,
// never in both: a raw entry is marked done when it is decoded into the
// map, or when the map gets a new value under its name.
type rawFields struct {
	dict    *batchDict // the batch's field names; nil when nothing is raw
	pending int        // entries not yet done
	// base is the length of the dictionary generation the event arrived
	// with: only names numbered below it can be in span, so a set of a
	// name numbered since need not list the span's entries.
	base    int32
	indexed bool // span is listed in entries
	// dups: a name was written twice (not by this SDK), and take scans
	// to mark every copy done (see at).
	dups bool
	// What the event's map may hold, so that a raw set need not ask the
	// map for each name: decoded has bit id set when an entry numbered
	// id (< 64) was decoded into the map; foreign is set when the map was
	// written otherwise (or handed out, Event.Fields), and then any name
	// may be in it. (Beside the fields every look-up reads: a cache line
	// more per event cost grok 7%.)
	foreign bool
	decoded uint64
	// span is every entry as written, when they were written one after
	// the other: while none is done, the encoder copies it in one go, and
	// entries are only listed (indexed) when a name is looked up.
	span []byte
	// src is what the entries' offsets are into: the span, or the whole
	// event when its fields were written apart.
	src     []byte
	entries []rawEntry // kept across the events' reuse
	// at maps a dictionary number to 1 + the index of the entry of that
	// name (0: none), for dictionaries of up to maxAt names, so that a
	// look-up costs one dictionary look-up and one load instead of a scan
	// of the entries per name (mutate looks up five names an event, some
	// of them absent, and sets as many).
	at []int32
	// ext holds the fields set since the event arrived (SetScalars);
	// nil until the first, then kept across the event's reuse. Apart, as
	// the event's struct is what every look-up reads: a larger one cost
	// grok 7%.
	ext *rawExt
}

// rawExt holds fields set since an event arrived (FieldSet.SetScalars),
// written as the batch encoder would write them: such a set costs an
// append here instead of a map store and a boxed value, and the encoder
// copies the bytes on as they are.
type rawExt struct {
	// buf is kept across the events' reuse when the batch was released
	// (as the batch's boxed values are); else left to the strings read
	// from it, and the next one made hint long.
	buf  []byte
	hint int
	// listed: buf[:listed] is listed in entries; the fields after it are
	// listed when a name is looked up (listExtra), as the span's are: a
	// filter that sets fields nothing reads again pays no entry for them.
	listed int
}

// unlisted reports whether fields were set since the last look-up.
func (r *rawFields) unlisted() bool { return r.ext != nil && r.ext.listed < len(r.ext.buf) }

// mayMap reports whether the event's map may hold the name numbered id.
func (r *rawFields) mayMap(id int32) bool {
	return r.foreign || id >= 64 || r.decoded&(1<<id) != 0
}

// maxAt bounds the dictionaries whose names get an at table: it is
// cleared for each event listed, and kept across the events' reuse.
const maxAt = 256

// rawEntry is offsets into rawFields.src, not slices: without pointers,
// listing an event's entries costs no write barriers and the entries are
// not scanned by the garbage collector (the appends of slices were half
// of listing the entries, which mutate pays once an event).
type rawEntry struct {
	id           int32  // the name's (first) number in the batch's dictionary
	start, end   uint32 // the Event's field 2 as written: tag, length, Field
	vstart, vlen uint32 // the Field's Value message
	done         bool
	ext          bool // offsets into rawFields.ext.buf, not src
}

func (r *rawFields) whole(en *rawEntry) []byte {
	if en.ext {
		return r.ext.buf[en.start:en.end]
	}
	return r.src[en.start:en.end]
}

func (r *rawFields) value(en *rawEntry) []byte {
	if en.ext {
		return r.ext.buf[en.vstart : en.vstart+en.vlen]
	}
	return r.src[en.vstart : en.vstart+en.vlen]
}

// batchDict is one decoded batch's dictionary, and what decoding a raw
// value needs. The encoder seeds its own dictionary with it, so raw
// fields (whose names are numbers in it) can be copied unchanged.
type batchDict struct {
	keys []string
	dec  *batchDecoder
	gen  uint64           // this dictionary's number among all a process decodes (refID)
	ids  map[string]int32 // numbers of keys, for long dictionaries
	// canon maps each number to the first number of the same name, when
	// a name is in the dictionary twice (not written by this SDK).
	canon []int32
	// root is the first generation of the family this dictionary belongs
	// to: a decoded batch's, or a rawBuilder's. Each later generation
	// extends the one before (same numbers, more names), so the encoder
	// can seed its dictionary with the longest one of a batch's events.
	root *batchDict
	// latest, on a decoded batch's root, is the longest generation made
	// for names its events were given (extend); nil: none.
	latest atomic.Pointer[batchDict]
}

// extend returns a new generation of d with names added after its own;
// the caller holds d.dec.mu and stores it as the family's latest.
func (d *batchDict) extend(names []string) *batchDict {
	n := len(d.keys)
	keys := append(d.keys[:n:n], names...)
	x := &batchDict{keys: keys, dec: d.dec, gen: newDictGen(), root: d.root}
	if d.canon != nil {
		x.canon = append(d.canon[:n:n], make([]int32, len(names))...)
		for i := n; i < len(keys); i++ {
			x.canon[i] = int32(i)
		}
	}
	if len(keys) > 32 {
		// Shorter ones are scanned: a generation is made per batch.
		x.ids = make(map[string]int32, len(keys))
		for i, k := range keys {
			if _, dup := x.ids[k]; !dup {
				x.ids[k] = int32(i)
			}
		}
	}
	return x
}

// id returns k's number in the dictionary, or -1: a name that is not in
// the dictionary is in no event's raw fields, which spares listing them
// to look (a filter setting a new field asks this for every event).
func (d *batchDict) id(k string) int32 {
	if d.ids == nil { // up to 16 names (32 in a generation made by extend)
		for i, x := range d.keys {
			if x == k {
				return int32(i)
			}
		}
		return -1
	}
	if i, ok := d.ids[k]; ok { // built by Decode, so readers only read it
		return i
	}
	return -1
}

// checkField checks a Field message's framing and that its name is in the
// dictionary, without decoding its value: a truncated field is rejected
// with the batch, not dropped when the event is read. The value inside is
// checked when it is decoded (see decodeEntry): walking every value here
// cost as much as the rest of decoding (+150 ns an event), for batches
// that the SDK's own encoder (round-trip tested and fuzzed) wrote.
func checkField(field []byte, dictLen int) error {
	_, _, err := splitField(field, dictLen)
	return err
}

// index lists the entries of span.
func (r *rawFields) index() {
	if r.unlisted() {
		r.listExtra()
	}
	if r.indexed {
		return
	}
	r.indexed = true
	for data := r.span; len(data) > 0; {
		_, _, n := consumeTag(data)
		v, m := consumeBytes(data[n:])
		// The decoder checked every entry when it measured the span.
		_ = r.add(data[:n+m], v)
		data = data[n+m:]
	}
}

// listExtra lists the fields set since the last look-up (SetScalars
// wrote them one after the other into extra).
func (r *rawFields) listExtra() {
	if len(r.entries) == 0 || len(r.at) > 0 && len(r.at) < len(r.dict.keys) {
		r.sizeAt()
	}
	x := r.ext
	for data := x.buf[x.listed:]; len(data) > 0; {
		start := len(x.buf) - len(data)
		_, _, n := consumeTag(data)
		field, m := consumeBytes(data[n:])
		key, value, _ := splitField(field, len(r.dict.keys)) // written by SetScalars
		r.entries = append(r.entries, rawEntry{})
		en := &r.entries[len(r.entries)-1]
		en.id, en.ext = int32(key), true
		en.start, en.end = uint32(start), uint32(start+n+m)
		en.vstart, en.vlen = uint32(cap(x.buf)-cap(value)), uint32(len(value))
		if len(r.at) > 0 {
			r.at[key] = int32(len(r.entries))
		}
		data = data[n+m:]
	}
	x.listed = len(x.buf)
}

// add records one Field message (whole is it with its tag and length);
// both are slices of r.src.
// A name written twice stays twice: whoever decodes the event keeps the
// last value, as a map does, and find marks both done.
func (r *rawFields) add(whole, field []byte) error {
	key, value, err := splitField(field, len(r.dict.keys))
	if err != nil {
		return err
	}
	if len(r.entries) == 0 || len(r.at) > 0 && len(r.at) < len(r.dict.keys) {
		r.sizeAt() // the first entry, or the dictionary grew (extend)
	}
	id := int32(key)
	if r.dict.canon != nil {
		id = r.dict.canon[key]
	}
	// Filled in place: a whole entry built aside and copied in was a
	// store-forwarding stall per entry.
	r.entries = append(r.entries, rawEntry{})
	en := &r.entries[len(r.entries)-1]
	en.id, en.start = id, uint32(cap(r.src)-cap(whole))
	en.end = en.start + uint32(len(whole))
	if len(value) > 0 {
		en.vstart, en.vlen = uint32(cap(r.src)-cap(value)), uint32(len(value))
	}
	if len(r.at) > 0 {
		if r.at[id] != 0 {
			r.dups = true
		}
		r.at[id] = int32(len(r.entries))
	}
	return nil
}

// fitAt is sizeAt for a dictionary that grew (extend) before a raw set:
// with no entry listed yet there is nothing to number, and the table is
// dropped rather than cleared (a store per name, to memory the event has
// not touched yet); sizeAt builds it with the first entry.
func (r *rawFields) fitAt() {
	if len(r.entries) == 0 {
		r.at = r.at[:0]
		return
	}
	r.sizeAt()
}

// sizeAt readies the at table for an entry about to be listed: sized to
// the dictionary and cleared for the event's first entry, grown with the
// dictionary after (see extendDict). With a dictionary longer than maxAt
// it stays empty, and take scans the entries.
func (r *rawFields) sizeAt() {
	n := len(r.dict.keys)
	if len(r.entries) == 0 {
		if n > maxAt {
			r.at = r.at[:0]
			return
		}
		if cap(r.at) < n {
			r.at = make([]int32, n, max(n, 16))
		}
		r.at = r.at[:n]
		clear(r.at)
		return
	}
	if len(r.at) > 0 && len(r.at) < n {
		if n > maxAt {
			r.at = r.at[:0]
			return
		}
		r.at = append(r.at, make([]int32, n-len(r.at))...)
	}
}

// reset empties r for the event's reuse; released: nothing holds a
// value read from the last batch's events (batchDecoder.Release), so the
// memory of extra may be written again.
func (r *rawFields) reset(released bool) {
	if x := r.ext; x != nil {
		if released {
			x.buf = x.buf[:0]
		} else if x.buf != nil {
			x.hint = len(x.buf)
			x.buf = nil
		}
		x.listed = 0
	}
	r.entries = r.entries[:0] // offsets: nothing to drop
	r.src = nil
	r.pending = 0
	r.dict = nil
	r.span = nil
	r.indexed = false
	r.at = r.at[:0]
	r.dups = false
	r.base = 0
	r.decoded = 0
	r.foreign = false
}

// dictGen numbers dictionaries, so that a reference can remember its
// number in one (refID).
var dictGen atomic.Uint64

// newDictGen numbers a new dictionary.
func newDictGen() uint64 { return dictGen.Add(1) & (1<<(64-idBits) - 1) }

// A reference's remembered number: 1 + the number in its low idBits bits
// (0: not in the dictionary), the dictionary's gen in the other 48, which
// a process would need centuries of batches to wrap.
const idBits = 16

// refID is id for the top name of ref, remembered in the reference: a
// filter asks for the same few names event after event, and the scan of
// the dictionary (a string compare per name) was most of finding one.
func (d *batchDict) refID(ref *FieldRef) int32 {
	c := ref.id
	if c == nil || len(d.keys) >= 1<<idBits-1 {
		return d.id(ref.path[0])
	}
	if v := c.Load(); v>>idBits == d.gen {
		return int32(v&(1<<idBits-1)) - 1
	}
	id := d.id(ref.path[0])
	c.Store(d.gen<<idBits | uint64(id+1))
	return id
}

// take marks every pending entry named k done and returns the last of
// them (the value a map would hold), or nil.
func (r *rawFields) take(k string) *rawEntry {
	if r.pending == 0 {
		return nil
	}
	return r.takeID(r.dict.id(k))
}

// takeID is take for the name numbered id (-1: none).
func (r *rawFields) takeID(id int32) *rawEntry {
	if id < 0 {
		return nil
	}
	if id < r.base {
		r.index() // it may be among the fields as they arrived
	} else if r.unlisted() {
		r.listExtra() // or among those set since
	}
	if len(r.at) > 0 && !r.dups {
		i := r.at[id]
		if i == 0 || r.entries[i-1].done {
			return nil
		}
		en := &r.entries[i-1]
		en.done = true
		r.pending--
		if !en.ext {
			r.span = nil
		}
		return en
	}
	var last *rawEntry
	for i := range r.entries {
		if en := &r.entries[i]; !en.done && en.id == id {
			en.done = true
			r.pending--
			if !en.ext {
				r.span = nil
			}
			last = en
		}
	}
	return last
}

// peekString returns the pending raw field numbered id when its value is
// a string, without decoding it into the map: found is false when there
// is no such field or its value is anything else (the caller decodes it).
func (r *rawFields) peekString(id int32) (s string, found, ok bool) {
	if id < 0 {
		return "", false, false
	}
	var value []byte
	switch {
	case !r.indexed && id < r.base:
		// Not listed yet: walk the span rather than list every entry
		// (a field set since, see SetScalars, is not of these names).
		for data := r.span; len(data) > 0; {
			_, _, n := consumeTag(data)
			field, m := consumeBytes(data[n:])
			key, v, err := splitField(field, len(r.dict.keys))
			if err != nil {
				return "", false, false
			}
			if r.dict.canon != nil {
				key = uint64(r.dict.canon[key])
			}
			if int32(key) == id {
				value = v // the last of a name written twice wins
				found = true
			}
			data = data[n+m:]
		}
	case len(r.at) > 0 && !r.dups:
		// Every entry listed or set, or (not listed) every entry set.
		if r.unlisted() {
			r.listExtra()
		}
		if i := r.at[id]; i != 0 && !r.entries[i-1].done {
			value, found = r.value(&r.entries[i-1]), true
		}
	case len(r.entries) == 0 && !r.unlisted():
	default:
		return "", false, false
	}
	if !found {
		return "", false, false
	}
	// The shape the SDK writes: the string's tag and length, then it.
	if len(value) >= 2 && value[0] == byte(fvString<<3|protowire.BytesType) {
		if v, n := consumeBytes(value[1:]); n == len(value)-1 {
			return aliasString(v), true, true
		}
	}
	return "", false, false
}

// touch decodes the raw field k, if there is one, into the event's map.
func (e *Event) touch(k string) {
	if en := e.raw.take(k); en != nil {
		e.decodeEntry(en)
	}
}

// touchRef is touch for the top name of ref.
func (e *Event) touchRef(ref *FieldRef) {
	if e.raw.pending == 0 {
		return
	}
	if en := e.raw.takeID(e.raw.dict.refID(ref)); en != nil {
		e.decodeEntry(en)
	}
}

// shadowRef forgets the raw field named by ref's top name without
// decoding it: the caller is about to replace or remove it.
func (e *Event) shadowRef(ref *FieldRef) {
	if e.raw.pending > 0 {
		e.raw.takeID(e.raw.dict.refID(ref))
	}
}

// materialize decodes every raw field: for callers that see the whole map.
func (e *Event) materialize() {
	if e.raw.pending == 0 {
		return
	}
	e.raw.index()
	for i := range e.raw.entries {
		if en := &e.raw.entries[i]; !en.done {
			en.done = true
			e.decodeEntry(en)
		}
	}
	e.raw.pending = 0
	e.raw.span = nil
}

func (e *Event) decodeEntry(en *rawEntry) {
	d := e.raw.dict
	// Events of a batch share their decoder's slab and free maps; the
	// lock lets different events be read from different goroutines (an
	// output serializing in parallel), as when each had its own maps.
	d.dec.mu.Lock()
	value := e.raw.value(en)
	v, err := decodeValue(value, d.keys, &d.dec.slab)
	d.dec.mu.Unlock()
	if err != nil {
		// The batch's structure was checked when it was decoded; a value
		// that is still corrupt inside is kept as its bytes rather than lost.
		v = string(value)
	}
	e.fields[d.keys[en.id]] = v
	if en.id < 64 {
		e.raw.decoded |= 1 << en.id
	}
}

// newMap returns an empty map for a nested object. An event from a
// batchDecoder takes it from the decoder, which takes it back with the batch
// (grok in ECS mode makes about ten per event); other events get a new one.
func (e *Event) newMap() map[string]any {
	if d := e.raw.dict; d != nil {
		d.dec.mu.Lock()
		m := d.dec.newMap()
		d.dec.mu.Unlock()
		return m
	}
	return make(map[string]any, 2)
}

// StringValue returns s as a field value. For an event decoded from a
// batch the value is boxed among the batch's instead of in an allocation
// of its own: for filters that set many string fields per event (grok).
func (e *Event) StringValue(s string) any {
	if d := e.raw.dict; d != nil {
		d.dec.mu.Lock()
		v := d.dec.slab.String(s)
		d.dec.mu.Unlock()
		return v
	}
	return s
}

// WithValues calls fn with the Values to make the event's new values in
// (strings, numbers, maps): its batch's, for an event from a batchDecoder, so
// that they are made in memory reused batch after batch, as the event's
// own values are; else a Values of its own. The batch is locked while fn
// runs: fn must not use the event, nor any event of its batch.
func (e *Event) WithValues(fn func(v *Values)) {
	if d := e.raw.dict; d != nil {
		d.dec.mu.Lock()
		defer d.dec.mu.Unlock()
		fn(&d.dec.slab.Values)
		return
	}
	v := looseValues.Get().(*Values)
	fn(v)
	looseValues.Put(v)
}

// looseValues box the values of events that are not a batch's, many
// events to an array.
var looseValues = sync.Pool{New: func() any { return new(Values) }}

// appendRaw writes the fields still raw.
func (r *rawFields) appendRaw(b []byte) []byte {
	if r.span != nil {
		// As they arrived, then those set since (see SetScalars).
		b = append(b, r.span...)
		if r.ext != nil && r.ext.listed > 0 {
			for i := range r.entries {
				if en := &r.entries[i]; en.ext && !en.done {
					b = append(b, r.whole(en)...)
				}
			}
		}
	} else {
		for i := range r.entries {
			if en := &r.entries[i]; !en.done {
				b = append(b, r.whole(en)...)
			}
		}
	}
	if r.unlisted() {
		b = append(b, r.ext.buf[r.ext.listed:]...)
	}
	return b
}
