package sdk

import (
	"sync"

	"google.golang.org/protobuf/encoding/protowire"
)

// batchDecoder decodes batch after batch into the same events and maps, so a
// plugin process's steady stream of batches barely allocates: building a
// map per event and per nested object was the largest cost of crossing a
// process boundary.
//
// The events of one Decode are valid until the next Decode: the runtime
// decodes a batch, hands it to the filter chain or output, encodes or
// answers, and only then decodes the next one. This is the contract
// Filter and Output document: keep a Clone of an event needed later.
type batchDecoder struct {
	last []*Event         // handed out by the previous Decode
	lent []map[string]any // nested maps handed out by the previous Decode
	// lists handed out by the previous Decode, and lists to reuse
	lentLists, freeLists [][]any
	free                 []*Event
	maps                 []map[string]any
	out                  []*Event
	keys                 []string
	slab                 slab
	// eager decodes every field at once, for events that outlive the
	// decoder's next batch (appendDecodeBatch).
	eager bool
	// released: nothing holds a value of the last batch (Release).
	released bool
	// grows: the dictionaries of this decoder are a rawBuilder's
	// generations, each extending the one before.
	grows bool
	// uniqueNames: the last batch said no object of it holds a name twice
	// (EventBatch.unique_names); always, for a rawBuilder's.
	uniqueNames bool
	// mu guards slab and the free and lent maps and lists once Decode has
	// returned: the batch's events decode their fields through them.
	mu sync.Mutex
}

// maxFreeMaps bounds the maps kept for reuse, so one batch of unusually
// wide events does not pin memory for the life of the process.
const maxFreeMaps = 16384

// Decode decodes data. The result and its events are valid until the next
// call; the events share data's memory.
//
// Top-level fields are decoded when first asked for (see rawFields), so
// reading an event can change it: one event must not be used from two
// goroutines at once. Different events of the batch may be.
func (d *batchDecoder) Decode(data []byte) ([]*Event, error) {
	d.recycle()
	d.keys = d.keys[:0]
	d.uniqueNames = false
	for rest := data; len(rest) > 0; {
		num, typ, n := consumeTag(rest)
		if n < 0 {
			return nil, errCorruptBatch
		}
		rest = rest[n:]
		m := protowire.ConsumeFieldValue(num, typ, rest)
		if m < 0 {
			return nil, errCorruptBatch
		}
		switch {
		case num == fbKeys && typ == protowire.BytesType:
			v, _ := consumeBytes(rest)
			d.keys = append(d.keys, aliasString(v))
		case num == fbUniqueNames && typ == protowire.VarintType:
			v, _ := consumeVarint(rest)
			d.uniqueNames = v != 0
		}
		rest = rest[m:]
	}
	d.slab.dec = d
	dict := &batchDict{keys: d.keys, dec: d, gen: newDictGen()}
	dict.root = dict
	if len(d.keys) > 16 {
		dict.ids = make(map[string]int32, len(d.keys))
		for i, k := range d.keys {
			if first, ok := dict.ids[k]; ok {
				dict.canonical(first, i)
				continue
			}
			dict.ids[k] = int32(i)
		}
	} else {
		for i, k := range d.keys {
			for j, x := range d.keys[:i] {
				if x == k {
					dict.canonical(int32(j), i)
					break
				}
			}
		}
	}
	if d.eager {
		dict = nil
	}
	d.out = d.out[:0]
	for len(data) > 0 {
		num, typ, n := consumeTag(data)
		if n < 0 {
			return nil, errCorruptBatch
		}
		data = data[n:]
		if num == fbEvents && typ == protowire.BytesType {
			v, n := consumeBytes(data)
			if n < 0 {
				return nil, errCorruptBatch
			}
			e := d.event()
			if err := decodeEventInto(e, v, d.keys, &d.slab, dict); err != nil {
				d.last = append(d.last[:0], d.out...)
				d.last = append(d.last, e)
				return nil, err
			}
			d.out = append(d.out, e)
			data = data[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, data)
		if n < 0 {
			return nil, errCorruptBatch
		}
		data = data[n:]
	}
	d.last = append(d.last[:0], d.out...)
	return d.out, nil
}

// Release tells the decoder that no value of the last batch's events is
// held any longer, by anyone: not the events, nor a string, map or list
// read from them (as when every filter of a chain is Transient and the
// batch has been encoded). The next Decode then boxes its values in the
// memory of the last batch's instead of allocating.
func (d *batchDecoder) Release() { d.released = true }

// canonical records that name i is the name first numbered first: raw
// fields are found by the first number of their name (rawFields.at).
func (d *batchDict) canonical(first int32, i int) {
	if d.canon == nil {
		d.canon = make([]int32, len(d.keys))
		for j := range d.canon {
			d.canon[j] = int32(j)
		}
	}
	d.canon[i] = d.canon[first]
}

func (d *batchDecoder) event() *Event {
	if n := len(d.free); n > 0 {
		e := d.free[n-1]
		d.free = d.free[:n-1]
		return e
	}
	return &Event{fields: make(map[string]any, 8)}
}

func (d *batchDecoder) newMap() map[string]any {
	if d.grows {
		// A rawBuilder's events are not recycled: nothing takes the
		// map back, the garbage collector does.
		return make(map[string]any, 4)
	}
	var m map[string]any
	if n := len(d.maps); n > 0 {
		m = d.maps[n-1]
		d.maps = d.maps[:n-1]
	} else {
		m = make(map[string]any, 4)
	}
	d.lent = append(d.lent, m)
	return m
}

func (d *batchDecoder) newList() []any {
	var l []any
	if n := len(d.freeLists); n > 0 {
		l = d.freeLists[n-1][:0]
		d.freeLists = d.freeLists[:n-1]
	} else {
		l = make([]any, 0, 4)
	}
	return l
}

// recycle takes back the previous batch's events and the nested maps it
// lent them. It keeps a list of what it lent rather than walking the
// events: walking maps cost as much as decoding them. Maps a plugin added
// are left to the garbage collector.
func (d *batchDecoder) recycle() {
	if d.slab.chunks == nil && !d.eager {
		d.slab.chunks = &chunks{}
	}
	released := d.released
	d.slab.recycle(released)
	d.released = false
	for _, e := range d.last {
		e.raw.reset(released)
		clear(e.fields)
		if e.meta != nil {
			clear(e.meta)
		}
		e.ts = 0
		d.free = append(d.free, e)
	}
	d.last = d.last[:0]
	for _, m := range d.lent {
		if len(d.maps) < maxFreeMaps {
			clear(m)
			d.maps = append(d.maps, m)
		}
	}
	clear(d.lent)
	d.lent = d.lent[:0]
	for _, l := range d.lentLists {
		if cap(l) <= 64 && len(d.freeLists) < maxFreeMaps {
			clear(l[:cap(l)]) // drop what the old values held
			d.freeLists = append(d.freeLists, l[:0])
		}
	}
	clear(d.lentLists)
	d.lentLists = d.lentLists[:0]
}
