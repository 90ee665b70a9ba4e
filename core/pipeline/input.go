package pipeline

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gostash/gostash/sdk/host"
	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

type inputRunner struct {
	p      *Pipeline
	block  Block
	handle int
	// stoppedReading is called once the input reads no more: it ended,
	// or its runner returned.
	stoppedReading func()
	// unacked* count what the input handed over and no output finished:
	// after a cancelled drain, what was not delivered.
	unackedBatches, unackedEvents atomic.Int64

	stats  pluginStats
	gauges gaugeSet // what the input last reported about itself
}

// readSession is one Read stream of an input. Acks go back on the session
// that produced the batch; after a crash that session is dead and its
// acks are dropped (the restarted input reads those events again).
type readSession struct {
	mu     sync.Mutex
	stream pluginv1.Plugin_ReadClient
	dead   bool
	// unacked counts batches sent to the pipeline and not yet acked.
	unacked sync.WaitGroup
}

func (s *readSession) send(m *pluginv1.InputControl) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.dead {
		if err := s.stream.Send(m); err != nil {
			s.dead = true
		}
	}
}

// ack tells the input its batch is delivered, which also gives its
// credit back.
func (s *readSession) ack(id uint64) {
	s.mu.Lock()
	if !s.dead {
		// The ack also returns the batch's credit: one message, not two.
		err := s.stream.Send(&pluginv1.InputControl{Msg: &pluginv1.InputControl_Ack{Ack: &pluginv1.Ack{BatchId: id}}})
		if err != nil {
			s.dead = true
		}
	}
	s.mu.Unlock()
	s.unacked.Done()
}

// run reads batches until the input ends. stop (the caller's ctx) asks the
// input to drain; ctx bounds the streams themselves.
func (in *inputRunner) run(stop, ctx context.Context) {
	if in.stoppedReading != nil {
		defer in.stoppedReading()
	}
	backoff := 100 * time.Millisecond
	for {
		ended := in.session(stop, ctx)
		if ended || stop.Err() != nil || ctx.Err() != nil {
			return
		}
		select {
		case <-time.After(backoff):
		case <-stop.Done():
			return
		}
		if backoff < 10*time.Second {
			backoff *= 2
		}
	}
}

// session runs one Read stream. It returns true when the input ended
// cleanly (and every batch of it was acked), false when the stream broke
// and the input must be started again.
func (in *inputRunner) session(stop, ctx context.Context) bool {
	p := in.p
	rpc, gen := in.block.Proc.Client()
	streamCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := rpc.Read(streamCtx)
	if err != nil {
		if ctx.Err() != nil {
			return true
		}
		p.log.Warn("input process failed; restarting it", "input", in.block.Name, "error", err)
		in.restart(ctx, gen)
		return false
	}
	s := &readSession{stream: stream}
	s.send(&pluginv1.InputControl{Msg: &pluginv1.InputControl_Start{Start: &pluginv1.Start{
		InstanceId: in.block.Proc.InstanceID(in.handle),
		Credits:    uint32(p.settings.Credits),
	}}})

	// Forward a stop request as Drain; the input then ends on its own.
	drainDone := make(chan struct{})
	defer close(drainDone)
	go func() {
		select {
		case <-stop.Done():
			s.send(&pluginv1.InputControl{Msg: &pluginv1.InputControl_Drain{Drain: &pluginv1.Drain{}}})
		case <-drainDone:
		}
	}()

	for {
		m := &host.InputMessage{}
		err := stream.RecvMsg(m)
		if err != nil {
			s.mu.Lock()
			s.dead = true
			s.mu.Unlock()
			if ctx.Err() != nil {
				return true
			}
			p.log.Warn("input process failed; restarting it (unacked events will be read again)", "input", in.block.Name, "error", err)
			in.restart(ctx, gen)
			return false
		}
		switch msg := m.Msg.(type) {
		case *pluginv1.InputMessage_Batch:
			b := &batch{session: s, input: in, id: msg.Batch.BatchId, data: msg.Batch.Events, count: int(msg.Batch.Count), read: time.Now()}
			b.held = append(b.held, m)
			p.stats.In.Add(int64(b.count))
			in.stats.out.Add(int64(b.count))
			in.unackedBatches.Add(1)
			in.unackedEvents.Add(int64(b.count))
			p.inflight.Add(1)
			s.unacked.Add(1)
			select {
			case p.work <- b:
			case <-ctx.Done():
				p.inflight.Done()
				s.unacked.Done()
				return true
			}
		case *pluginv1.InputMessage_Gauges:
			in.gauges.set(msg.Gauges.Gauges)
		case *pluginv1.InputMessage_End:
			// Read to the end: what is left is in flight, and the
			// drain's deadline starts.
			in.stoppedReading()
			in.finish(ctx, s)
			return true
		case *pluginv1.InputMessage_Error:
			p.log.Error("input failed; starting it again", "input", in.block.Name, "error", msg.Error.Summary)
			in.finish(ctx, s)
			return stop.Err() != nil
		}
	}
}

// restart restarts the input's process after a crash seen at gen.
func (in *inputRunner) restart(ctx context.Context, gen int) {
	restarted, err := in.block.Proc.Restart(ctx, gen)
	in.stats.restarted(restarted, err)
	if restarted {
		in.p.stats.Restarts.Add(1)
	}
}

// finish waits until the session's batches are acked, so the input can
// commit them, then closes the stream and waits for the input to end its
// side: the acks are handled (a sincedb written, offsets committed) only
// when the plugin has read them, and cancelling the stream before that
// could drop the last ones.
func (in *inputRunner) finish(ctx context.Context, s *readSession) {
	done := make(chan struct{})
	go func() { s.unacked.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	s.mu.Lock()
	_ = s.stream.CloseSend()
	s.mu.Unlock()
	for {
		// The plugin sends nothing after its end; this returns io.EOF
		// once it has handled every ack, or an error when ctx ends.
		if err := s.stream.RecvMsg(&host.InputMessage{}); err != nil {
			return
		}
	}
}
