package wire

import (
	"testing"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// The messages read in place must read as the generated code reads them,
// with the events aliasing the received buffer rather than copied.
func TestReadInPlace(t *testing.T) {
	events := []byte("\x12\x05bytes that stand for an encoded batch")
	tests := []struct {
		name string
		sent proto.Message
		recv interface {
			aliasing
			proto.Message
		}
		events func(m proto.Message) []byte
	}{
		{"batch", &pluginv1.InputMessage{Msg: &pluginv1.InputMessage_Batch{Batch: &pluginv1.SourceBatch{BatchId: 7, Events: events, Count: 4}}},
			&InputMessage{}, func(m proto.Message) []byte { return m.(*InputMessage).GetBatch().GetEvents() }},
		{"end of input", &pluginv1.InputMessage{Msg: &pluginv1.InputMessage_End{End: &pluginv1.EndOfInput{}}},
			&InputMessage{}, nil},
		{"filtered", &pluginv1.ProcessResponse{Seq: 3, Events: events, Count: 4, Error: ""},
			&ProcessResponse{}, func(m proto.Message) []byte { return m.(*ProcessResponse).Events }},
		{"piece", &pluginv1.ProcessResponse{Seq: 3, Events: events, Count: 4, More: true},
			&ProcessResponse{}, func(m proto.Message) []byte { return m.(*ProcessResponse).Events }},
		{"filter error", &pluginv1.ProcessResponse{Seq: 1 << 40, Error: "chain failed"},
			&ProcessResponse{}, nil},
		{"write", &pluginv1.WriteRequest{Seq: 9, InstanceId: 300, Events: events},
			&WriteRequest{}, func(m proto.Message) []byte { return m.(*WriteRequest).Events }},
		{"process", &pluginv1.ProcessRequest{Seq: 2, InstanceIds: []uint64{1, 200, 1 << 33}, Events: events, MaxEvents: 500},
			&ProcessRequest{}, func(m proto.Message) []byte { return m.(*ProcessRequest).Events }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wire, err := proto.Marshal(tt.sent)
			if err != nil {
				t.Fatal(err)
			}
			// As gRPC hands it over: in frames of 16 KiB.
			var data mem.BufferSlice
			for rest := wire; len(rest) > 0; {
				n := min(len(rest), 16<<10)
				data = append(data, mem.SliceBuffer(rest[:n]))
				rest = rest[n:]
			}
			if err := (protoCodec{}).Unmarshal(data, tt.recv); err != nil {
				t.Fatal(err)
			}
			// Compare through the generated type's wire form.
			var got proto.Message
			switch m := tt.recv.(type) {
			case *InputMessage:
				got = &m.InputMessage
			case *ProcessResponse:
				got = &m.ProcessResponse
			case *WriteRequest:
				got = &m.WriteRequest
			case *ProcessRequest:
				got = &m.ProcessRequest
			}
			if !proto.Equal(got, tt.sent) {
				t.Errorf("read %v, want %v", got, tt.sent)
			}
			if tt.events != nil {
				ev := tt.events(tt.recv)
				buf := tt.recv.(interface{ Release() })
				h := held(tt.recv)
				if h == nil || !within(h.ReadOnlyData(), ev) {
					t.Error("events were copied, not read in place")
				}
				buf.Release()
				if held(tt.recv) != nil {
					t.Error("Release kept the buffer")
				}
			}
		})
	}
}

func held(m any) mem.Buffer {
	switch m := m.(type) {
	case *InputMessage:
		return m.buf
	case *ProcessResponse:
		return m.buf
	case *WriteRequest:
		return m.buf
	case *ProcessRequest:
		return m.buf
	}
	return nil
}

// within reports whether sub lies inside b's memory.
func within(b, sub []byte) bool {
	if len(sub) == 0 || len(b) == 0 {
		return false
	}
	for i := range b {
		if &b[i] == &sub[0] {
			return len(b)-i >= len(sub)
		}
	}
	return false
}

func TestReadInPlaceRejectsCorrupt(t *testing.T) {
	wire, _ := proto.Marshal(&pluginv1.WriteRequest{Seq: 1, Events: []byte("abc")})
	for _, m := range []aliasing{&InputMessage{}, &ProcessResponse{}, &WriteRequest{}, &ProcessRequest{}} {
		if err := (protoCodec{}).Unmarshal(mem.BufferSlice{mem.SliceBuffer(wire[:len(wire)-1])}, m); err == nil {
			t.Errorf("%T: a truncated message was read without error", m)
		}
	}
}

// Importing the SDK leaves gRPC's global "proto" codec alone: a plugin
// author's own gRPC clients and servers keep the stock one. The SDK's
// pooled codec is forced on the plugin connection only.
func TestGlobalProtoCodecUntouched(t *testing.T) {
	if _, ours := encoding.GetCodecV2("proto").(protoCodec); ours {
		t.Fatal(`importing sdk replaced gRPC's global "proto" codec`)
	}
}
