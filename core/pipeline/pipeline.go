// Package pipeline is the core scheduler: it moves batches from inputs
// through filter chains to outputs, all of them plugin processes, and acks
// a batch to its input only when every output has accepted every event of
// it.
//
//	input ──batches──▶ work queue ──▶ workers ──▶ filter chain(s) ──▶ output queues ──▶ outputs
//	  ▲                                                                               │
//	  └──────────────────────────── ack (all outputs done) ◀─────────────────────────┘
//
// The core never decodes events: batches travel as encoded bytes, and
// `when` guards run inside the plugin processes. Memory is bounded by
// credits: an input may have at most Credits batches unacked.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gostash/gostash/core/pluginhost"
	"github.com/gostash/gostash/sdk"
	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// Settings tune a pipeline.
type Settings struct {
	ID         string
	Workers    int
	BatchSize  int
	BatchDelay time.Duration
	DataDir    string
	// DrainTimeout bounds how long a stop waits for in-flight batches.
	DrainTimeout time.Duration
	// Credits is how many batches each input may have unacked.
	Credits int
	// ReportEvery is how often a long run logs its throughput (default
	// 30 s; negative turns it off).
	ReportEvery time.Duration
}

// Block is one configured plugin instance and the process that hosts it.
type Block struct {
	Kind       sdk.Kind
	Type, Name string
	ConfigJSON []byte
	Proc       *pluginhost.Process
}

// Pipeline runs one pipeline.
type Pipeline struct {
	settings Settings
	log      *slog.Logger
	inputs   []*inputRunner
	segments []*segment // consecutive filters of one process form a segment
	outputs  []*outputRunner
	work     chan *batch
	dlq      *deadLetters

	inflight sync.WaitGroup // batches not yet acked
	stats    Stats
}

// Stats counts events through the pipeline.
type Stats struct {
	In, Filtered, Out, DeadLettered, Restarts atomic.Int64
}

// New prepares a pipeline; Run opens the instances and runs it.
func New(s Settings, blocks []Block, log *slog.Logger) *Pipeline {
	if s.Workers < 1 {
		s.Workers = 1
	}
	if s.BatchSize < 1 {
		s.BatchSize = sdk.DefaultBatchSize
	}
	if s.Credits < 1 {
		s.Credits = 2*s.Workers + 2
	}
	if s.DrainTimeout <= 0 {
		s.DrainTimeout = 30 * time.Second
	}
	if s.ReportEvery == 0 {
		s.ReportEvery = 30 * time.Second
	}
	p := &Pipeline{settings: s, log: log, work: make(chan *batch, s.Workers)}
	p.dlq = newDeadLetters(s.DataDir, s.ID, log)
	for _, b := range blocks {
		switch b.Kind {
		case sdk.KindInput:
			p.inputs = append(p.inputs, &inputRunner{p: p, block: b})
		case sdk.KindFilter:
			last := len(p.segments) - 1
			if last >= 0 && p.segments[last].proc == b.Proc {
				p.segments[last].blocks = append(p.segments[last].blocks, b)
			} else {
				p.segments = append(p.segments, &segment{proc: b.Proc, blocks: []Block{b}})
			}
		case sdk.KindOutput:
			p.outputs = append(p.outputs, &outputRunner{p: p, block: b, queue: make(chan *delivery, s.Workers)})
		}
	}
	return p
}

// Stats returns the pipeline's counters.
func (p *Pipeline) Stats() *Stats { return &p.stats }

func (p *Pipeline) open(ctx context.Context, b Block) (int, error) {
	h, ds, err := b.Proc.Open(ctx, &pluginv1.OpenRequest{
		Component:    b.Type,
		Kind:         sdk.KindToProto(b.Kind),
		ConfigJson:   b.ConfigJSON,
		PipelineId:   p.settings.ID,
		Name:         b.Name,
		DataDir:      p.instanceDir(b),
		BatchSize:    uint32(p.settings.BatchSize),
		BatchDelayMs: uint32(p.settings.BatchDelay / time.Millisecond),
	})
	if err != nil {
		return 0, fmt.Errorf("%s %q: open: %w", b.Kind, b.Name, err)
	}
	if err := ds.Err(); err != nil {
		return 0, fmt.Errorf("%s %q: %w", b.Kind, b.Name, err)
	}
	return h, nil
}

// instanceDir is where an instance keeps its state (a file input's
// positions): <path.data>/plugins/<kind>s/<type>/<name>, as Logstash keeps
// plugin state under path.data/plugins. It is created on first use.
func (p *Pipeline) instanceDir(b Block) string {
	if p.settings.DataDir == "" {
		return ""
	}
	dir := filepath.Join(p.settings.DataDir, "plugins", b.Kind.String()+"s", b.Type, b.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.log.Warn("cannot create the instance's data directory", "dir", dir, "error", err)
	}
	return dir
}

// Run opens outputs, then filters, then inputs, and moves batches until
// every input has ended or ctx is cancelled; then it drains what is in
// flight (bounded by DrainTimeout) and closes the instances. Cancelling
// ctx is a graceful stop.
func (p *Pipeline) Run(ctx context.Context) error {
	// runCtx lives until the drain is over; ctx only says "stop reading".
	runCtx, cancelRun := context.WithCancel(context.Background())
	defer cancelRun()

	for _, o := range p.outputs {
		h, err := p.open(runCtx, o.block)
		if err != nil {
			return err
		}
		o.handle = h
	}
	for _, s := range p.segments {
		for _, b := range s.blocks {
			h, err := p.open(runCtx, b)
			if err != nil {
				return err
			}
			s.handles = append(s.handles, h)
		}
	}
	for _, in := range p.inputs {
		h, err := p.open(runCtx, in.block)
		if err != nil {
			return err
		}
		in.handle = h
	}

	var outWG, workWG sync.WaitGroup
	for _, o := range p.outputs {
		for i := 0; i < p.settings.Workers; i++ {
			outWG.Add(1)
			go func() { defer outWG.Done(); o.run(runCtx) }()
		}
	}
	for i := 0; i < p.settings.Workers; i++ {
		workWG.Add(1)
		go func() { defer workWG.Done(); p.worker(runCtx) }()
	}
	var inWG sync.WaitGroup
	for _, in := range p.inputs {
		inWG.Add(1)
		go func() { defer inWG.Done(); in.run(ctx, runCtx) }()
	}

	inputsDone := make(chan struct{})
	go func() { inWG.Wait(); close(inputsDone) }()
	if p.settings.ReportEvery > 0 {
		go p.report(runCtx, p.settings.ReportEvery)
	}
	select {
	case <-inputsDone:
	case <-ctx.Done():
		p.log.Info("stopping: inputs stop reading, in-flight events drain", "timeout", p.settings.DrainTimeout)
		select {
		case <-inputsDone:
		case <-time.After(p.settings.DrainTimeout):
			p.log.Error("inputs did not stop in time; stopping anyway (unacked events will be read again)")
		}
	}
	// Every input has ended: what is left is in flight.
	drained := make(chan struct{})
	go func() { p.inflight.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(p.settings.DrainTimeout):
		p.log.Error("in-flight batches did not drain in time; they were not acked and will be read again")
	}
	close(p.work)
	workWG.Wait()
	for _, o := range p.outputs {
		close(o.queue)
	}
	outWG.Wait()

	closeCtx, cancel := context.WithTimeout(context.Background(), p.settings.DrainTimeout)
	defer cancel()
	closed := map[*pluginhost.Process]bool{}
	closeProc := func(proc *pluginhost.Process) {
		if !closed[proc] {
			closed[proc] = true
			proc.CloseInstances(closeCtx)
		}
	}
	for _, in := range p.inputs {
		closeProc(in.block.Proc)
	}
	for _, s := range p.segments {
		closeProc(s.proc)
	}
	for _, o := range p.outputs {
		closeProc(o.block.Proc)
	}
	p.dlq.close()
	return nil
}

// report logs the pipeline's throughput every interval while events
// flow, so a long run shows it is alive and how fast it goes.
func (p *Pipeline) report(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	lastIn, lastOut, last := int64(0), int64(0), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			in, out := p.stats.In.Load(), p.stats.Out.Load()
			if in == lastIn && out == lastOut {
				continue // quiet: nothing to say
			}
			secs := now.Sub(last).Seconds()
			p.log.Info("throughput",
				"events_in", in, "events_out", out,
				"in_per_sec", int64(float64(in-lastIn)/secs), "out_per_sec", int64(float64(out-lastOut)/secs),
				"dead_lettered", p.stats.DeadLettered.Load(), "restarts", p.stats.Restarts.Load())
			lastIn, lastOut, last = in, out, now
		}
	}
}

// batch is one input batch in flight.
type batch struct {
	session *readSession
	id      uint64
	data    []byte
	count   int
	pending atomic.Int32 // outputs still to accept it
	// held are the received messages whose buffers the batch's bytes
	// (as read, and as each filter chain returned them) alias.
	held []interface{ Release() }
}

// done marks one output done with the batch; the last one acks it and
// gives its buffers back: no output or chain uses its bytes any more.
func (b *batch) done(p *Pipeline) {
	if b.pending.Add(-1) == 0 {
		b.session.ack(b.id)
		for _, h := range b.held {
			h.Release()
		}
		b.held = nil
		p.inflight.Done()
	}
}

// ---- workers and filter chains --------------------------------------------

type segment struct {
	proc    *pluginhost.Process
	blocks  []Block
	handles []int
}

func (s *segment) ids() []uint64 {
	ids := make([]uint64, len(s.handles))
	for i, h := range s.handles {
		ids[i] = s.proc.InstanceID(h)
	}
	return ids
}

// chainStream is one worker's stream to a segment's process.
type chainStream struct {
	seg    *segment
	stream pluginv1.Plugin_ProcessClient
	gen    int
	seq    uint64
}

// process runs data through the segment. A broken stream means the
// plugin process died: restart it and send the batch again, since nothing
// downstream has seen it.
func (c *chainStream) process(ctx context.Context, p *Pipeline, b *batch, data []byte) ([]byte, int, error) {
	for {
		if c.stream == nil {
			rpc, gen := c.seg.proc.Client()
			s, err := rpc.Process(ctx)
			if err != nil {
				if err := c.restart(ctx, p, gen, err); err != nil {
					return nil, 0, err
				}
				continue
			}
			c.stream, c.gen = s, gen
		}
		c.seq++
		err := c.stream.Send(&pluginv1.ProcessRequest{Seq: c.seq, InstanceIds: c.seg.ids(), Events: data})
		resp := &sdk.ProcessResponse{}
		if err == nil {
			err = c.stream.RecvMsg(resp)
		}
		if err != nil {
			c.stream = nil
			if err := c.restart(ctx, p, c.gen, err); err != nil {
				return nil, 0, err
			}
			continue
		}
		b.held = append(b.held, resp)
		if resp.Error != "" {
			return nil, 0, errors.New(resp.Error)
		}
		return resp.Events, int(resp.Count), nil
	}
}

func (c *chainStream) restart(ctx context.Context, p *Pipeline, gen int, cause error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	p.log.Warn("filter process failed; restarting it and resending the batch", "process", c.seg.proc.Name(), "error", cause)
	p.stats.Restarts.Add(1)
	return c.seg.proc.Restart(ctx, gen)
}

func (p *Pipeline) worker(ctx context.Context) {
	streams := make([]*chainStream, len(p.segments))
	for i, s := range p.segments {
		streams[i] = &chainStream{seg: s}
	}
	defer func() {
		for _, c := range streams {
			if c.stream != nil {
				_ = c.stream.CloseSend()
			}
		}
	}()
	for b := range p.work {
		data, count, ok := p.filter(ctx, streams, b)
		if !ok {
			p.inflight.Done() // stopping: the batch is not acked and will be read again
			continue
		}
		p.stats.Filtered.Add(int64(count))
		if count == 0 {
			b.pending.Store(1)
			b.done(p)
			continue
		}
		b.pending.Store(int32(len(p.outputs)))
		// The outputs share the chain's result read-only.
		for _, o := range p.outputs {
			o.queue <- &delivery{batch: b, data: data, count: count}
		}
	}
}

// filter runs a batch through every segment. A chain that fails on a batch
// (not a crash, which process handles) is retried with backoff: dropping
// the batch would lose events, and acking it would lie to the input.
func (p *Pipeline) filter(ctx context.Context, streams []*chainStream, b *batch) ([]byte, int, bool) {
	backoff := 100 * time.Millisecond
	for {
		data, count := b.data, b.count
		var err error
		for _, c := range streams {
			if count == 0 {
				break
			}
			if data, count, err = c.process(ctx, p, b, data); err != nil {
				break
			}
		}
		if err == nil {
			return data, count, true
		}
		if ctx.Err() != nil {
			return nil, 0, false
		}
		p.log.Error("filter chain failed on a batch; retrying it", "error", err, "in", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil, 0, false
		}
		if backoff < 30*time.Second {
			backoff *= 2
		}
	}
}

// ---- outputs ---------------------------------------------------------------

type outputRunner struct {
	p      *Pipeline
	block  Block
	handle int
	queue  chan *delivery
}

type delivery struct {
	batch *batch
	data  []byte
	count int
}

// run writes deliveries on its own stream until the queue closes. Events
// an output asks to retry are sent again (alone) after a backoff; the
// batch is done only when all of it is accepted or dead-lettered.
func (o *outputRunner) run(ctx context.Context) {
	var (
		stream pluginv1.Plugin_WriteClient
		gen    int
		seq    uint64
	)
	defer func() {
		if stream != nil {
			_ = stream.CloseSend()
		}
	}()
	for d := range o.queue {
		data := d.data
		backoff := 100 * time.Millisecond
		for len(data) > 0 {
			if stream == nil {
				rpc, g := o.block.Proc.Client()
				s, err := rpc.Write(ctx)
				if err != nil {
					o.restart(ctx, g, err)
					continue
				}
				stream, gen = s, g
			}
			seq++
			err := stream.Send(&pluginv1.WriteRequest{Seq: seq, InstanceId: o.block.Proc.InstanceID(o.handle), Events: data})
			var resp *pluginv1.WriteResponse
			if err == nil {
				resp, err = stream.Recv()
			}
			if err != nil {
				stream = nil
				if ctx.Err() != nil {
					return
				}
				o.restart(ctx, gen, err)
				continue
			}
			n, _ := sdk.CountEvents(data)
			retry, wait, rejected := o.sort(data, resp.Results)
			o.p.stats.Out.Add(int64(n - len(retry) - rejected))
			if len(retry) == 0 {
				break
			}
			data, _ = sdk.SelectEvents(data, retry)
			if wait < backoff {
				wait = backoff
			}
			o.p.log.Warn("output asked to retry events", "output", o.block.Name, "events", len(retry), "in", wait)
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return
			}
			if backoff < 60*time.Second {
				backoff *= 2
			}
		}
		d.batch.done(o.p)
	}
}

// sort splits a write's results: rejected events go to the dead letter
// queue; it returns the indexes to retry, the longest wait asked for, and
// how many events were dead-lettered. A rejected event the dead letter
// queue cannot take is retried: the output rejects it again and the dead
// letter write is tried again, so it is never acked without being
// somewhere (its batch waits, and the error says why).
func (o *outputRunner) sort(data []byte, results []*pluginv1.ItemResult) ([]uint32, time.Duration, int) {
	var (
		retry    []uint32
		wait     time.Duration
		rejected int
	)
	for _, r := range results {
		switch r.Code {
		case pluginv1.ItemResult_RETRY:
			retry = append(retry, r.Index)
			if d := time.Duration(r.RetryAfterMs) * time.Millisecond; d > wait {
				wait = d
			}
		case pluginv1.ItemResult_REJECT:
			if err := o.p.dlq.write(o.block.Name, data, r.Index, r.Reason); err != nil {
				retry = append(retry, r.Index)
				continue
			}
			o.p.stats.DeadLettered.Add(1)
			rejected++
		}
	}
	slices.Sort(retry)
	return retry, wait, rejected
}

func (o *outputRunner) restart(ctx context.Context, gen int, cause error) {
	o.p.log.Warn("output process failed; restarting it and resending the batch", "output", o.block.Name, "error", cause)
	o.p.stats.Restarts.Add(1)
	_ = o.block.Proc.Restart(ctx, gen)
}
