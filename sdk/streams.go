package sdk

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/gostash/gostash/sdk/internal/wire"
	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// The protocol's streams: batches published by inputs (Read), filtered
// (Process) and written (Write).

// publisher implements Publisher over a Read stream: a batch goes out only
// against a credit from the core, so a full pipeline blocks Publish.
type publisher struct {
	stream   pluginv1.Plugin_ReadServer
	decorate *InputDecorator
	credits  chan struct{}
	granted  atomic.Int64 // credits granted in all (acks only return them)

	// Inputs publish from several goroutines (the kafka input, one per
	// partition): each batch is encoded outside mu by an encoder of its
	// own, so one partition's encoding does not wait for another's.
	encMu sync.Mutex
	encs  []*batchEncoder // free encoders, warm

	// Acks take acksMu only: a Send blocked on a full socket must not hold
	// up the acks that would return credits.
	sendMu sync.Mutex // guards stream.Send
	acksMu sync.Mutex // guards nextID and acks
	nextID uint64
	acks   map[uint64]func()
}

func (p *publisher) getEncoder() *batchEncoder {
	p.encMu.Lock()
	defer p.encMu.Unlock()
	if n := len(p.encs); n > 0 {
		enc := p.encs[n-1]
		p.encs = p.encs[:n-1]
		return enc
	}
	return &batchEncoder{}
}

func (p *publisher) putEncoder(enc *batchEncoder) {
	p.encMu.Lock()
	p.encs = append(p.encs, enc)
	p.encMu.Unlock()
}

func (p *publisher) Publish(ctx context.Context, events []*Event, ack func()) error {
	if len(events) == 0 {
		if ack != nil {
			ack()
		}
		return nil
	}
	select {
	case <-p.credits:
	case <-ctx.Done():
		return ctx.Err()
	}
	for _, e := range events {
		p.decorate.Decorate(e)
	}
	enc := p.getEncoder()
	defer p.putEncoder(enc) // after Send, which copies data out
	data := enc.Encode(events)
	p.acksMu.Lock()
	p.nextID++
	id := p.nextID
	if ack != nil {
		p.acks[id] = ack
	}
	p.acksMu.Unlock()
	p.sendMu.Lock()
	defer p.sendMu.Unlock()
	return p.stream.Send(&pluginv1.InputMessage{Msg: &pluginv1.InputMessage_Batch{Batch: &pluginv1.SourceBatch{
		BatchId: id, Events: data, Count: uint32(len(events)),
	}}})
}

// ReportGauges sends the input's gauges on its Read stream.
func (p *publisher) ReportGauges(gauges []Gauge) error {
	msg := gaugesProto(gauges)
	p.sendMu.Lock()
	defer p.sendMu.Unlock()
	return p.stream.Send(&pluginv1.InputMessage{Msg: &pluginv1.InputMessage_Gauges{Gauges: msg}})
}

func gaugesProto(gauges []Gauge) *pluginv1.Gauges {
	msg := &pluginv1.Gauges{}
	for _, g := range gauges {
		msg.Gauges = append(msg.Gauges, &pluginv1.Gauge{Name: g.Name, Labels: g.Labels, Value: g.Value, Lag: g.Lag})
	}
	return msg
}

func (p *publisher) acked(id uint64) {
	p.acksMu.Lock()
	ack := p.acks[id]
	delete(p.acks, id)
	p.acksMu.Unlock()
	if ack != nil {
		ack()
	}
}

// Credits is how many batches the core lets this input have unacked.
func (p *publisher) Credits() int { return int(p.granted.Load()) }

func (p *publisher) grant(n uint32) {
	for i := uint32(0); i < n; i++ {
		p.credits <- struct{}{}
	}
}

func (s *server) Read(stream pluginv1.Plugin_ReadServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	start := first.GetStart()
	if start == nil {
		return errors.New("read stream must begin with Start")
	}
	s.mu.Lock()
	inst := s.inputs[start.InstanceId]
	s.mu.Unlock()
	if inst == nil {
		return fmt.Errorf("no input instance %d", start.InstanceId)
	}
	// Credits are bounded by what the core grants; the channel only has
	// to hold them.
	pub := &publisher{stream: stream, decorate: inst.decorate, credits: make(chan struct{}, 1<<16), acks: map[uint64]func(){}}
	pub.granted.Add(int64(start.Credits))
	pub.grant(start.Credits)

	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	recvDone := make(chan error, 1)
	go func() {
		for {
			m, err := stream.Recv()
			if err != nil {
				cancel() // the core is gone or done: stop reading
				recvDone <- err
				return
			}
			switch msg := m.Msg.(type) {
			case *pluginv1.InputControl_Credit:
				pub.granted.Add(int64(msg.Credit.Batches))
				pub.grant(msg.Credit.Batches)
			case *pluginv1.InputControl_Ack:
				pub.acked(msg.Ack.BatchId)
				pub.grant(1) // an ack returns the batch's credit
			case *pluginv1.InputControl_Drain:
				cancel()
			}
		}
	}()

	runErr := inst.input.Run(ctx, pub)
	end := &pluginv1.InputMessage{Msg: &pluginv1.InputMessage_End{End: &pluginv1.EndOfInput{}}}
	if runErr != nil && !errors.Is(runErr, ErrEndOfInput) && !errors.Is(runErr, context.Canceled) {
		inst.logger.Error("input failed", "error", runErr)
		end = &pluginv1.InputMessage{Msg: &pluginv1.InputMessage_Error{Error: &pluginv1.Diagnostic{Summary: runErr.Error()}}}
	}
	pub.sendMu.Lock()
	sendErr := stream.Send(end)
	pub.sendMu.Unlock()
	if sendErr != nil {
		return sendErr
	}
	// Keep taking acks until the core closes its side: they let the input
	// commit what the outputs have.
	<-recvDone
	return nil
}

// ---- filter stream --------------------------------------------------------

func (s *server) Process(stream pluginv1.Plugin_ProcessServer) error {
	var (
		enc    batchEncoder
		dec    batchDecoder
		events []*Event
		chain  []*filterInstance
		ids    []uint64
	)
	ctx := stream.Context()
	for {
		req := &wire.ProcessRequest{}
		if err := stream.RecvMsg(req); err != nil {
			return nil // the core closed the stream
		}
		if !sameIDs(ids, req.InstanceIds) {
			ids = append(ids[:0], req.InstanceIds...)
			chain = chain[:0]
			s.mu.Lock()
			for _, id := range ids {
				fi := s.filters[id]
				if fi == nil {
					s.mu.Unlock()
					return fmt.Errorf("no filter instance %d", id)
				}
				chain = append(chain, fi)
			}
			s.mu.Unlock()
		}
		resp := &pluginv1.ProcessResponse{Seq: req.Seq}
		decoded, err := dec.Decode(req.Events)
		switch {
		case err != nil:
			resp.Error = err.Error()
		case req.MaxEvents > 0:
			// Pieces of at most MaxEvents go out as the chain makes
			// them: a 1000x fan-out never exists as one batch.
			last, counts, err := runChainPieces(ctx, chain, decoded, int(req.MaxEvents), func(piece []*Event) error {
				return stream.Send(&pluginv1.ProcessResponse{Seq: req.Seq, Events: enc.Encode(piece), Count: uint32(len(piece)), More: true})
			})
			if err != nil {
				return err
			}
			resp.Events, resp.Count = enc.Encode(last), uint32(len(last))
			for _, c := range counts {
				resp.FilterCounts = append(resp.FilterCounts, &pluginv1.FilterCount{In: c.in, Out: c.out, Dropped: c.dropped, DurationNanos: c.nanos})
			}
		default: // a core that takes the answer in one piece
			// runChain reuses its argument's array: give it a copy of
			// the decoder's list, which the decoder needs to recycle.
			events = append(events[:0], decoded...)
			out := runChain(ctx, chain, events)
			resp.Events = enc.Encode(out)
			resp.Count = uint32(len(out))
		}
		if err := stream.Send(resp); err != nil {
			return err
		}
		if transient(chain) {
			// Nothing holds the batch's bytes or values any longer: the
			// next batch is read into their memory.
			req.Release()
			dec.Release()
		}
	}
}

// transient reports whether no filter of chain keeps what it reads.
func transient(chain []*filterInstance) bool {
	for _, fi := range chain {
		if _, ok := fi.Filter.(Transient); !ok {
			return false
		}
	}
	return true
}

func sameIDs(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ---- output stream --------------------------------------------------------

func (s *server) Write(stream pluginv1.Plugin_WriteServer) error {
	var (
		dec      batchDecoder
		selected []*Event
		index    []int
	)
	// Gauges go out on the stream before the answer (seq 0), from the
	// goroutine running Write: never at the same time as the answer.
	ctx := context.WithValue(stream.Context(), writeGaugesKey{}, func(gauges []Gauge) error {
		return stream.Send(&pluginv1.WriteResponse{Gauges: gaugesProto(gauges)})
	})
	for {
		req := &wire.WriteRequest{}
		if err := stream.RecvMsg(req); err != nil {
			return nil
		}
		s.mu.Lock()
		oi := s.outputs[req.InstanceId]
		s.mu.Unlock()
		if oi == nil {
			return fmt.Errorf("no output instance %d", req.InstanceId)
		}
		resp := &pluginv1.WriteResponse{Seq: req.Seq}
		if co, ok := oi.output.(CountingOutput); ok && oi.when == nil {
			n, err := countEvents(req.Events)
			req.Release() // counted: the bytes are not needed again
			if err != nil {
				return fmt.Errorf("write: %w", err)
			}
			if werr := co.WriteCount(ctx, n); werr != nil {
				index = index[:0]
				for i := 0; i < n; i++ {
					index = append(index, i)
				}
				resp.Results = writeResults(werr, index, oi.logger)
			}
			if err := stream.Send(resp); err != nil {
				return err
			}
			continue
		}
		events, err := dec.Decode(req.Events)
		if err != nil {
			return fmt.Errorf("write: %w", err)
		}
		// Events the output's `when` excludes (or fails on) are done:
		// they are accepted without being written.
		selected, index = selected[:0], index[:0]
		for i, e := range events {
			if !oi.when.match(e) {
				continue
			}
			selected = append(selected, e)
			index = append(index, i)
		}
		resp.Skipped = uint32(len(events) - len(selected))
		if len(selected) > 0 {
			if werr := oi.output.Write(ctx, selected); werr != nil {
				resp.Results = writeResults(werr, index, oi.logger)
			}
		}
		if err := stream.Send(resp); err != nil {
			return err
		}
		clear(selected)
	}
}

func writeResults(err error, index []int, logger hclog.Logger) []*pluginv1.ItemResult {
	var we *WriteError
	if !errors.As(err, &we) {
		// The whole batch failed: retry all of it.
		logger.Warn("write failed; the batch will be retried", "error", err)
		out := make([]*pluginv1.ItemResult, len(index))
		for i, idx := range index {
			out[i] = &pluginv1.ItemResult{Index: uint32(idx), Code: pluginv1.ItemResult_RETRY, Reason: err.Error()}
		}
		return out
	}
	out := make([]*pluginv1.ItemResult, 0, len(we.Items))
	for _, it := range we.Items {
		if it.Index < 0 || it.Index >= len(index) {
			continue
		}
		r := &pluginv1.ItemResult{Index: uint32(index[it.Index]), Reason: it.Reason, RetryAfterMs: uint32(it.RetryAfter / time.Millisecond)}
		if it.Reject {
			r.Code = pluginv1.ItemResult_REJECT
		} else {
			r.Code = pluginv1.ItemResult_RETRY
		}
		out = append(out, r)
	}
	return out
}
