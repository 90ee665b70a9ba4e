package wire

import (
	"fmt"
	"math/bits"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/experimental"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// gRPC receives each message into a buffer from its pool, and its default
// pool zeroes a whole buffer of the next size up on every Get: a 40 KiB
// batch landed in the 1 MiB tier and cleared 1 MiB per message, a third
// of a plugin's CPU. Batches are overwritten in full when read, so this
// pool keeps one tier per power of two and does not zero.
type bufferPool struct {
	tiers [40]sync.Pool
}

var batchBuffers = &bufferPool{}

func (p *bufferPool) Get(n int) *[]byte {
	t := tier(n)
	if v := p.tiers[t].Get(); v != nil {
		b := v.(*[]byte)
		*b = (*b)[:n]
		return b
	}
	b := make([]byte, n, 1<<t)
	return &b
}

func (p *bufferPool) Put(b *[]byte) {
	c := cap(*b)
	if c == 0 || c&(c-1) != 0 {
		return // not one of ours
	}
	p.tiers[tier(c)].Put(b)
}

func tier(n int) int {
	if n <= 256 {
		return 8
	}
	return bits.Len(uint(n - 1))
}

var _ mem.BufferPool = (*bufferPool)(nil)

// GRPCServerOptions and GRPCDialOptions install the pool and the codec
// that uses it on either side of the plugin connection.
func GRPCServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{experimental.BufferPool(batchBuffers), grpc.ForceServerCodecV2(protoCodec{})}
}

func GRPCDialOptions() []grpc.DialOption {
	return []grpc.DialOption{experimental.WithBufferPool(batchBuffers), grpc.WithDefaultCallOptions(grpc.ForceCodecV2(protoCodec{}))}
}

// protoCodec is grpc's proto codec with batchBuffers in place of grpc's
// default pool, which the stock codec uses whatever the options say. It
// is forced on the plugin connection only: registered globally it would
// replace the "proto" codec of every gRPC client and server in a plugin
// author's program.
type protoCodec struct{}

func (protoCodec) Name() string { return "proto" }

func (protoCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("proto: cannot marshal %T", v)
	}
	size := proto.Size(m)
	buf := batchBuffers.Get(size)
	out, err := proto.MarshalOptions{UseCachedSize: true}.MarshalAppend((*buf)[:0], m)
	if err != nil {
		batchBuffers.Put(buf)
		return nil, err
	}
	*buf = out
	return mem.BufferSlice{mem.NewBuffer(buf, batchBuffers)}, nil
}

func (protoCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if a, ok := v.(aliasing); ok {
		buf := data.MaterializeToBuffer(batchBuffers)
		if err := a.unmarshalAliased(buf.ReadOnlyData()); err != nil {
			buf.Free()
			return err
		}
		a.hold(buf)
		return nil
	}
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("proto: cannot unmarshal into %T", v)
	}
	buf := data.MaterializeToBuffer(batchBuffers)
	defer buf.Free()
	// proto.Unmarshal copies bytes fields, so the events outlive buf.
	return proto.Unmarshal(buf.ReadOnlyData(), m)
}
