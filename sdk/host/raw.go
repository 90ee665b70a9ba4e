package host

import (
	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/internal/wire"
)

// Fields as they crossed: an event decoded from a batch keeps its
// top-level fields in their wire bytes until something reads them, so an
// encoder (codecs.JSONEncoder) can write them without decoding, and an
// input codec can build events in that form (RawBuilder).

// RawField is a top-level field still in its wire bytes: Key numbers its
// name in the batch's dictionary and Value is its Value message.
type RawField = wire.RawField

// MaxRawNames is how many names one RawBuilder dictionary family holds.
const MaxRawNames = wire.MaxRawNames

// RawView lets an encoder write an event without decoding the fields
// still raw. It appends those fields to raw and returns them, the
// dictionary their names index, and the map of the fields already
// decoded; a name is in one or the other, never both. An event with
// nothing raw gives back raw unchanged, a nil dict and all its fields.
//
// It only reads the event. The caller must change none of what it
// returns, which is valid while the event is. A raw value may be
// malformed inside (only its framing was checked when the batch was
// decoded): a reader that cannot use it should fall back to Fields().
func RawView(e *sdk.Event, raw []RawField) (fields map[string]any, dict []string, out []RawField) {
	return sdkAPI.RawView(e, raw)
}

// RawDict returns the dictionary e's raw fields number their names in and
// a number telling it apart from every other dictionary this process has
// decoded (0 and nil when nothing is raw): an encoder can check a cache
// built from one dictionary once per batch instead of once per name.
func RawDict(e *sdk.Event) (dict []string, gen uint64) { return sdkAPI.RawDict(e) }

// RawSpan returns e's top-level fields as they arrived, when nothing has
// read or replaced any of them: one Event.fields entry (tag, length,
// Field message) after another, names numbered in RawDict's dictionary.
// Otherwise it returns nil, and RawView lists what is still raw. fields
// are the fields already decoded (none of them in span), as RawView's.
// The caller must change neither; they are valid while the event is.
func RawSpan(e *sdk.Event) (span []byte, fields map[string]any) { return sdkAPI.RawSpan(e) }

// RawUniqueNames reports whether no object of e's raw fields (the event's
// own, or a map inside one) holds a name twice: the batch they came in
// said so (EventBatch.unique_names, which this SDK's encoder sets), or a
// RawBuilder made them. A JSON writer may then skip checking for repeats;
// otherwise it must check, as a decoder keeps the last of a name.
func RawUniqueNames(e *sdk.Event) bool { return sdkAPI.RawUniqueNames(e) }

// RawBuilder makes events whose top-level fields are given as they will
// cross to the next process: Field messages of sdk/proto/v1/plugin.proto,
// names numbered by Key. Such an event is like one decoded from a batch
// with every field still raw: reading a field decodes it, and the batch
// encoder copies the fields nothing touched as they are. An input codec
// that validates its text and writes it in this form (codecs' json)
// spares building maps and encoding them again.
//
// The dictionary only grows: each new name makes a new generation that
// extends the last, so events made earlier keep valid numbers. Beyond
// MaxRawNames names Key says no, the caller builds its event another way,
// and Rotate starts a new family. The zero value is ready; not safe for
// concurrent use, the events it made are, as any events.
type RawBuilder struct{ b rawBuilder }

type rawBuilder interface {
	Key(name string) (key uint32, ok bool)
	Event(ts int64, fields []byte, n int) *sdk.Event
	Refill(e *sdk.Event, ts int64, fields []byte, n int)
	Name(key uint32) string
	Rotate() bool
}

func (r *RawBuilder) get() rawBuilder {
	if r.b == nil {
		r.b = sdkAPI.NewRawBuilder().(rawBuilder)
	}
	return r.b
}

// Key returns name's number, numbering it if it is new (name is copied);
// ok is false when the dictionary is full.
func (r *RawBuilder) Key(name string) (key uint32, ok bool) { return r.get().Key(name) }

// Event returns an event stamped ts (ns since the epoch) whose top-level
// fields are the n Field messages in fields, each written as an Event's
// field 2 (tag, length, message), with names numbered by Key and no name
// twice, neither among them nor in any object inside them (batches of
// these events say so: RawUniqueNames). fields must be well formed and
// must not change while the event lives: the event reads it, it does not
// copy it.
func (r *RawBuilder) Event(ts int64, fields []byte, n int) *sdk.Event {
	return r.get().Event(ts, fields, n)
}

// Refill makes e what Event would make, keeping e's memory: e must be an
// event its owner is done with (a published batch is encoded before
// Publish returns), from this builder or any other source.
func (r *RawBuilder) Refill(e *sdk.Event, ts int64, fields []byte, n int) {
	r.get().Refill(e, ts, fields, n)
}

// Name returns the name numbered key (the builder's copy).
func (r *RawBuilder) Name(key uint32) string { return r.get().Name(key) }

// Rotate starts a new dictionary family when the current one is full:
// call it between events, never while writing one. It reports whether it
// did: numbers given before mean nothing in the new family.
func (r *RawBuilder) Rotate() bool { return r.get().Rotate() }
