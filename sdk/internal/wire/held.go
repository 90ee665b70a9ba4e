package wire

import (
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// Received batches, held where gRPC read them.
//
// proto.Unmarshal copies a bytes field into a new allocation: for a batch
// that is a copy of ~170 KiB and garbage of the same size per message,
// which made the core and every output collect garbage about once per
// 20 batches. The messages below are read with their events aliasing the
// pooled buffer instead; Release gives the buffer back to the pool when
// the receiver is done with the events. A message never released is
// simply collected: forgetting Release costs the pool a buffer, nothing
// else. Releasing while the events are still in use is the one mistake to
// avoid, so only code that knows every user of the bytes releases them:
// the core (a batch's bytes are done when every output has them), and the
// runtime for outputs that only count and for filter chains whose every
// filter is Transient.

// heldBuffer is the buffer a message's events alias.
type heldBuffer struct{ buf mem.Buffer }

// Release returns the buffer the events alias to the pool. The events must
// not be used afterwards.
func (h *heldBuffer) Release() {
	if h.buf != nil {
		h.buf.Free()
		h.buf = nil
	}
}

func (h *heldBuffer) hold(buf mem.Buffer) { h.buf = buf }

// aliasing is a message whose bytes the codec reads in place.
type aliasing interface {
	unmarshalAliased(b []byte) error
	hold(buf mem.Buffer)
}

// InputMessage is pluginv1.InputMessage read in place: a batch's events
// alias the received buffer.
type InputMessage struct {
	pluginv1.InputMessage
	heldBuffer
}

// ProcessResponse is pluginv1.ProcessResponse read in place.
type ProcessResponse struct {
	pluginv1.ProcessResponse
	heldBuffer
}

// WriteRequest is pluginv1.WriteRequest read in place.
type WriteRequest struct {
	pluginv1.WriteRequest
	heldBuffer
}

// ProcessRequest is pluginv1.ProcessRequest read in place, for the plugin
// side. It is released only when every filter of the chain is Transient
// (others may keep what they read); reading in place spares a copy either
// way.
type ProcessRequest struct {
	pluginv1.ProcessRequest
	heldBuffer
}

func (m *ProcessRequest) unmarshalAliased(b []byte) error {
	m.Reset()
	return eachField(b, func(num protowire.Number, typ protowire.Type, v uint64, bytes []byte) error {
		switch {
		case num == 1 && typ == protowire.VarintType:
			m.Seq = v
		case num == 2 && typ == protowire.VarintType:
			m.InstanceIds = append(m.InstanceIds, v)
		case num == 2 && typ == protowire.BytesType: // packed, as proto3 writes it
			for len(bytes) > 0 {
				x, n := protowire.ConsumeVarint(bytes)
				if n < 0 {
					return protowire.ParseError(n)
				}
				m.InstanceIds = append(m.InstanceIds, x)
				bytes = bytes[n:]
			}
		case num == 3 && typ == protowire.BytesType:
			m.Events = bytes
		case num == 4 && typ == protowire.VarintType:
			m.MaxEvents = uint32(v)
		}
		return nil
	})
}

func (m *InputMessage) unmarshalAliased(b []byte) error {
	m.Reset()
	sb := nextField(b, 1, protowire.BytesType) // batch
	if sb == nil {
		// Not a batch: small messages, read the ordinary way.
		return proto.Unmarshal(b, &m.InputMessage)
	}
	batch := &pluginv1.SourceBatch{}
	err := eachField(sb, func(num protowire.Number, typ protowire.Type, v uint64, bytes []byte) error {
		switch {
		case num == 1 && typ == protowire.VarintType:
			batch.BatchId = v
		case num == 2 && typ == protowire.BytesType:
			batch.Events = bytes
		case num == 3 && typ == protowire.VarintType:
			batch.Count = uint32(v)
		}
		return nil
	})
	m.Msg = &pluginv1.InputMessage_Batch{Batch: batch}
	return err
}

func (m *ProcessResponse) unmarshalAliased(b []byte) error {
	m.Reset()
	return eachField(b, func(num protowire.Number, typ protowire.Type, v uint64, bytes []byte) error {
		switch {
		case num == 1 && typ == protowire.VarintType:
			m.Seq = v
		case num == 2 && typ == protowire.BytesType:
			m.Events = bytes
		case num == 3 && typ == protowire.VarintType:
			m.Count = uint32(v)
		case num == 4 && typ == protowire.BytesType:
			m.Error = string(bytes)
		case num == 5 && typ == protowire.VarintType:
			m.More = v != 0
		case num == 6 && typ == protowire.BytesType:
			fc := &pluginv1.FilterCount{}
			if err := proto.Unmarshal(bytes, fc); err != nil {
				return err
			}
			m.FilterCounts = append(m.FilterCounts, fc)
		}
		return nil
	})
}

func (m *WriteRequest) unmarshalAliased(b []byte) error {
	m.Reset()
	return eachField(b, func(num protowire.Number, typ protowire.Type, v uint64, bytes []byte) error {
		switch {
		case num == 1 && typ == protowire.VarintType:
			m.Seq = v
		case num == 2 && typ == protowire.VarintType:
			m.InstanceId = v
		case num == 3 && typ == protowire.BytesType:
			m.Events = bytes
		}
		return nil
	})
}

// eachField calls fn for each field of a message: v for varints, bytes
// (aliasing b) for length-delimited fields; other types are skipped.
func eachField(b []byte, fn func(num protowire.Number, typ protowire.Type, v uint64, bytes []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		switch typ {
		case protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			if err := fn(num, typ, v, nil); err != nil {
				return err
			}
			b = b[n:]
		case protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			if err := fn(num, typ, 0, v); err != nil {
				return err
			}
			b = b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			b = b[n:]
		}
	}
	return nil
}

// nextField returns the last bytes field num of a message (the value
// proto3 keeps), or nil.
func nextField(b []byte, want protowire.Number, wantType protowire.Type) []byte {
	var out []byte
	_ = eachField(b, func(num protowire.Number, typ protowire.Type, _ uint64, bytes []byte) error {
		if num == want && typ == wantType {
			out = bytes
		}
		return nil
	})
	return out
}
