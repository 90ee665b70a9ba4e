package host

import "github.com/gostash/gostash/sdk"

// Batches as they cross between processes: an EventBatch message of
// sdk/proto/v1/plugin.proto, names in a per-batch dictionary.

// EncodeBatch encodes events into a new buffer.
func EncodeBatch(events []*sdk.Event) []byte { return sdkAPI.EncodeBatch(events) }

// DecodeBatch decodes an encoded batch. The events' strings share data's
// memory (no copy per string): data must not be changed afterwards.
func DecodeBatch(data []byte) ([]*sdk.Event, error) { return sdkAPI.AppendDecodeBatch(nil, data) }

// AppendDecodeBatch decodes an encoded batch, appending to events. As
// with DecodeBatch, the events share data's memory and are the caller's
// to keep.
func AppendDecodeBatch(events []*sdk.Event, data []byte) ([]*sdk.Event, error) {
	return sdkAPI.AppendDecodeBatch(events, data)
}

// CountEvents counts the events in an encoded batch without decoding them.
func CountEvents(data []byte) (int, error) { return sdkAPI.CountEvents(data) }

// SelectEvents returns a batch holding only the events at the given
// (ascending) indexes, without decoding them: the core uses it to resend
// the events an output asked to retry.
func SelectEvents(data []byte, idx []uint32) ([]byte, error) {
	return sdkAPI.SelectEvents(data, idx)
}

// Encoder encodes batches, keeping its buffer and dictionary between
// them so a steady stream of batches does not allocate. The zero value is
// ready; not safe for concurrent use.
type Encoder struct {
	enc interface {
		Encode(events []*sdk.Event) []byte
	}
}

// Encode returns the encoded batch, valid until the next call.
func (e *Encoder) Encode(events []*sdk.Event) []byte {
	if e.enc == nil {
		e.enc = sdkAPI.NewEncoder().(interface {
			Encode(events []*sdk.Event) []byte
		})
	}
	return e.enc.Encode(events)
}

// Decoder decodes batch after batch into the same events and maps, as a
// plugin process does. The events of one Decode are valid until the next
// (keep a Clone of one needed later). The zero value is ready.
type Decoder struct{ dec decoder }

type decoder interface {
	Decode(data []byte) ([]*sdk.Event, error)
	Release()
}

func (d *Decoder) get() decoder {
	if d.dec == nil {
		d.dec = sdkAPI.NewDecoder().(decoder)
	}
	return d.dec
}

// Decode decodes data. The result and its events are valid until the next
// call; the events share data's memory. Top-level fields are decoded when
// first read, so one event must not be used from two goroutines at once.
func (d *Decoder) Decode(data []byte) ([]*sdk.Event, error) { return d.get().Decode(data) }

// Release tells the decoder that no value of the last batch's events is
// held any longer, by anyone: not the events, nor a string, map or list
// read from them. The next Decode then boxes its values in the memory of
// the last batch's instead of allocating.
func (d *Decoder) Release() { d.get().Release() }
