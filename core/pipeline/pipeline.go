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

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gostash/gostash/core/pluginhost"
	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/host"
	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// Settings tune a pipeline.
type Settings struct {
	ID         string
	Workers    int
	BatchSize  int
	BatchDelay time.Duration
	DataDir    string
	// StateDir is where instances keep their state (see StateDir);
	// empty means DataDir.
	StateDir string
	// DrainTimeout bounds how long a stop waits for in-flight batches.
	DrainTimeout time.Duration
	// Credits is how many batches each input may have unacked.
	Credits int
	// SourceCoordinates asks inputs to attach where each event came from
	// (the pipeline has a decorate_events filter).
	SourceCoordinates bool
	// DeadLetterMaxBytes bounds the dead letter queue (default 1024 MiB,
	// as Logstash's dead_letter_queue.max_bytes); DeadLetterStoragePolicy
	// says what gives when it is full: DropNewer (default) or DropOlder.
	DeadLetterMaxBytes      int64
	DeadLetterStoragePolicy string
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

	started      time.Time
	batchLatency prometheus.Histogram // read to ack, per batch
	opened       chan struct{}
}

// Stats counts events through the pipeline.
type Stats struct {
	In, Filtered, Out, DeadLettered, Restarts atomic.Int64
	// DeadLetterDropped counts rejected events the dead letter queue's
	// size bound dropped (dead_letter_queue.max_bytes).
	DeadLetterDropped atomic.Int64
}

// New prepares a pipeline; Run opens the instances and runs it.
func New(s Settings, blocks []Block, log *slog.Logger) *Pipeline {
	if s.Workers < 1 {
		s.Workers = 1
	}
	// Plugins get both in OpenRequest: a 0 would leave the default to them.
	if s.BatchSize < 1 {
		s.BatchSize = sdk.DefaultBatchSize
	}
	if s.BatchDelay <= 0 {
		s.BatchDelay = sdk.DefaultBatchDelay
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
	p := &Pipeline{settings: s, log: log, work: make(chan *batch, s.Workers),
		batchLatency: newBatchLatency(s.ID), started: time.Now(), opened: make(chan struct{})}
	p.dlq = newDeadLetters(s.DataDir, s.ID, log, &p.stats.DeadLetterDropped)
	if s.DeadLetterMaxBytes > 0 {
		p.dlq.maxBytes = s.DeadLetterMaxBytes
	}
	if s.DeadLetterStoragePolicy != "" {
		p.dlq.policy = s.DeadLetterStoragePolicy
	}
	for _, b := range blocks {
		switch b.Kind {
		case sdk.KindInput:
			p.inputs = append(p.inputs, &inputRunner{p: p, block: b})
		case sdk.KindFilter:
			last := len(p.segments) - 1
			if last >= 0 && p.segments[last].proc == b.Proc {
				p.segments[last].blocks = append(p.segments[last].blocks, b)
				p.segments[last].filters = append(p.segments[last].filters, &pluginStats{})
			} else {
				p.segments = append(p.segments, &segment{proc: b.Proc, blocks: []Block{b}, filters: []*pluginStats{{}}})
			}
		case sdk.KindOutput:
			p.outputs = append(p.outputs, &outputRunner{p: p, block: b, queue: make(chan *delivery, s.Credits), writeLatency: newWriteLatency(s.ID, b)})
		}
	}
	return p
}

// Stats returns the pipeline's counters.
func (p *Pipeline) Stats() *Stats { return &p.stats }

// Opened is closed once Run has opened every instance: a reload tells a
// configuration its plugins refuse from one that runs.
func (p *Pipeline) Opened() <-chan struct{} { return p.opened }

func (p *Pipeline) open(ctx context.Context, b Block) (int, error) {
	h, ds, err := b.Proc.Open(ctx, &pluginv1.OpenRequest{
		Component:    b.Type,
		Kind:         host.KindToProto(b.Kind),
		ConfigJson:   b.ConfigJSON,
		PipelineId:   p.settings.ID,
		Name:         b.Name,
		DataDir:      p.instanceDir(b),
		BatchSize:    uint32(p.settings.BatchSize),
		BatchDelayMs: uint32(p.settings.BatchDelay / time.Millisecond),
		// Only inputs attach source coordinates, and only when asked.
		SourceCoordinates: b.Kind == sdk.KindInput && p.settings.SourceCoordinates,
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
// positions): <state dir>/plugins/<kind>s/<type>/<name>, as Logstash keeps
// plugin state under path.data/plugins. It is created on first use.
func (p *Pipeline) instanceDir(b Block) string {
	if p.settings.DataDir == "" {
		return ""
	}
	state := p.settings.StateDir
	if state == "" {
		state = p.settings.DataDir
	}
	rel := filepath.Join("plugins", b.Kind.String()+"s", b.Type, b.Name)
	dir := filepath.Join(state, rel)
	if _, err := os.Stat(dir); os.IsNotExist(err) && state != p.settings.DataDir {
		if legacy := filepath.Join(p.settings.DataDir, rel); dirExists(legacy) {
			// Before pipelines had their own state, every pipeline kept it
			// there: say so rather than start over in silence.
			p.log.Warn("an instance of the same name kept state where a single pipeline keeps it; this pipeline keeps its own apart: move it here if it is this pipeline's",
				"pipeline", p.settings.ID, "found", legacy, "dir", dir)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.log.Warn("cannot create the instance's data directory", "dir", dir, "error", err)
	}
	return dir
}

// StateDir is where pipeline id's instances keep their state under
// dataDir: dataDir itself for "main" (where a single pipeline always kept
// it), <dataDir>/pipelines/<id> for any other, so two pipelines with
// instances of the same name (each pipeline's own `input "file" "logs"`)
// never share positions. Dead letters are apart by id in any case
// (<dataDir>/dead_letter_queue/<id>, as Logstash keeps them).
func StateDir(dataDir, id string) string {
	if id == "" || id == sdk.DefaultPipelineID {
		return dataDir
	}
	return filepath.Join(dataDir, "pipelines", id)
}

func dirExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// ErrNotDrained is returned by Run when a stop's deadline passed with
// batches still in flight: they were cancelled and not acked, so their
// inputs read them again on the next start.
var ErrNotDrained = errors.New("in-flight batches did not drain before the deadline")

// closeGrace bounds closing the instances after a missed deadline: a
// process that did not drain in time may not answer a Close either.
const closeGrace = 5 * time.Second

// Run opens outputs, then filters, then inputs, and moves batches until
// every input has ended or ctx is cancelled. Then what is in flight
// drains, bounded by DrainTimeout: past it, whatever is left (filters,
// writes, retries, restarts) is cancelled and Run returns ErrNotDrained.
// Last it closes the instances, bounded too. Cancelling ctx is a graceful
// stop.
func (p *Pipeline) Run(ctx context.Context) error {
	// runCtx lives until the drain is over; ctx only says "stop reading".
	runCtx, cancelRun := context.WithCancel(context.Background())
	defer cancelRun()
	// quit ends the workers' and writers' loops. The queues are never
	// closed: an input session may still be sending when a stop cancels
	// it, and a send on a closed channel would panic.
	quit := make(chan struct{})

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
	close(p.opened)

	var wg sync.WaitGroup // every goroutine that moves batches
	// Each output writes on as many streams as an input may have batches
	// unacked: an output that answers only once a remote end has a batch
	// (Kafka's acks, a bulk request) keeps all of them in flight, instead
	// of one per worker waiting a round trip each.
	for _, o := range p.outputs {
		for i := 0; i < p.settings.Credits; i++ {
			wg.Add(1)
			go func() { defer wg.Done(); o.run(runCtx, quit) }()
		}
	}
	for i := 0; i < p.settings.Workers; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); p.worker(runCtx, quit) }()
	}
	// reading is closed once every input has stopped reading (ended, or
	// its runner returned): from then on only in-flight batches are left.
	reading := make(chan struct{})
	var readers atomic.Int32
	readers.Store(int32(len(p.inputs)))
	if len(p.inputs) == 0 {
		close(reading)
	}
	var inWG sync.WaitGroup
	for _, in := range p.inputs {
		var once sync.Once
		in.stoppedReading = func() {
			once.Do(func() {
				if readers.Add(-1) == 0 {
					close(reading)
				}
			})
		}
		inWG.Add(1)
		wg.Add(1)
		go func() { defer wg.Done(); defer inWG.Done(); in.run(ctx, runCtx) }()
	}

	if p.settings.ReportEvery > 0 {
		go p.report(runCtx, p.settings.ReportEvery)
	}
	select {
	case <-reading:
	case <-ctx.Done():
		p.log.Info("stopping: inputs stop reading, in-flight events drain", "timeout", p.settings.DrainTimeout)
	}
	// One deadline for the whole drain, whether a signal or the end of
	// the inputs started it.
	deadline := time.NewTimer(p.settings.DrainTimeout)
	defer deadline.Stop()
	drained := make(chan struct{})
	go func() {
		// Once the inputs have returned nothing adds to inflight, so
		// waiting on it is safe.
		inWG.Wait()
		p.inflight.Wait()
		close(drained)
	}()
	var result error
	select {
	case <-drained:
	case <-deadline.C:
		p.log.Error("in-flight batches did not drain in time: cancelling them; none of them is acked",
			"timeout", p.settings.DrainTimeout, "hint", "a stuck or failing output holds them; raise --pipeline.drain_timeout if it is only slow")
		cancelRun()
		result = ErrNotDrained
	}
	close(quit)
	// Everything takes runCtx, so the goroutines end at once; a wedged
	// one is left behind rather than holding the stop.
	if !waitFor(&wg, closeGrace) {
		p.log.Warn("some pipeline workers did not end in time; closing anyway")
	}
	if result != nil {
		p.logUndelivered()
	}

	closeTimeout := p.settings.DrainTimeout
	if result != nil && closeTimeout > closeGrace {
		closeTimeout = closeGrace
	}
	closeCtx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	// Each process closes its instances in parallel with the others, so a
	// stuck one costs closeTimeout once, not once per process.
	var closing sync.WaitGroup
	closed := map[*pluginhost.Process]bool{}
	closeProc := func(proc *pluginhost.Process) {
		if !closed[proc] {
			closed[proc] = true
			closing.Add(1)
			go func() { defer closing.Done(); proc.CloseInstances(closeCtx) }()
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
	closing.Wait()
	p.dlq.close()
	return result
}

// waitFor waits for wg at most d and reports whether it was done.
func waitFor(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// logUndelivered says, per input, what a cancelled drain left unacked.
func (p *Pipeline) logUndelivered() {
	var batches, events int64
	for _, in := range p.inputs {
		b, e := in.unackedBatches.Load(), in.unackedEvents.Load()
		if b == 0 {
			continue
		}
		batches += b
		events += e
		p.log.Error("not delivered and not acked: an input that keeps its position (file, Kafka) reads these events again on its next start",
			"input", in.block.Name, "batches", b, "events", e)
	}
	if batches == 0 {
		p.log.Warn("every batch read was delivered; an input did not end in time")
	}
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
				"dead_lettered", p.stats.DeadLettered.Load(), "restarts", p.stats.Restarts.Load(), "dead_letter_dropped", p.stats.DeadLetterDropped.Load())
			lastIn, lastOut, last = in, out, now
		}
	}
}

// batch is one input batch in flight.
type batch struct {
	session *readSession
	input   *inputRunner // nil in tests
	id      uint64
	data    []byte
	count   int
	read    time.Time // when the core received it
	// pending counts the deliveries of its pieces not yet done, plus one
	// for the worker until every piece of the batch is queued.
	pending atomic.Int32
	// abandoned is set when a stop cut the batch's filtering short: what
	// was delivered stays delivered, but the batch is not acked (it will
	// be read again).
	abandoned atomic.Bool
	// held are the received messages whose buffers the batch's bytes
	// (as read) alias.
	held []interface{ Release() }
}

// done marks one delivery (or the worker) done with the batch; the last
// one acks it, unless it was abandoned, and gives its buffers back: no
// output or chain uses its bytes any more.
func (b *batch) done(p *Pipeline) {
	if b.pending.Add(-1) == 0 {
		if !b.abandoned.Load() {
			b.session.ack(b.id)
			if !b.read.IsZero() {
				p.batchLatency.Observe(time.Since(b.read).Seconds())
			}
			if b.input != nil {
				b.input.unackedBatches.Add(-1)
				b.input.unackedEvents.Add(-int64(b.count))
			}
		}
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
	// stats is the chain as the core sees it: events sent and received,
	// time, restarts. filters are each filter's own counts, which the
	// plugin process reports (perFilter: it does).
	stats     pluginStats
	filters   []*pluginStats
	perFilter atomic.Bool
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
	cancel context.CancelFunc // ends stream
	gen    int
	seq    uint64
}

// process runs data through the segment and hands each piece of the
// answer to each, which owns the piece (and releases it) from then on.
// The process sends pieces of at most a batch's size, so a filter that
// emits many events per event never makes one huge answer. A broken
// stream means the plugin process died: restart it and send the batch
// again, since nothing downstream has seen it (or, if the stream broke
// between pieces, nothing is lost: the pieces passed on come again).
func (c *chainStream) process(ctx context.Context, p *Pipeline, data []byte, each func(*host.ProcessResponse) error) error {
	// The chain's time excludes what each takes: the segments after this
	// one and the outputs' queues.
	start := time.Now()
	var downstream time.Duration
	defer func() { c.seg.stats.durationNanos.Add(int64(time.Since(start) - downstream)) }()
	for {
		if c.stream == nil {
			rpc, gen := c.seg.proc.Client()
			sctx, cancel := context.WithCancel(ctx)
			s, err := rpc.Process(sctx)
			if err != nil {
				cancel()
				if err := c.restart(ctx, p, gen, err); err != nil {
					return err
				}
				continue
			}
			c.stream, c.cancel, c.gen = s, cancel, gen
		}
		c.seq++
		err := c.stream.Send(&pluginv1.ProcessRequest{Seq: c.seq, InstanceIds: c.seg.ids(), Events: data,
			MaxEvents: uint32(p.settings.BatchSize)})
		for err == nil {
			resp := &host.ProcessResponse{}
			if err = c.stream.RecvMsg(resp); err != nil {
				break
			}
			if resp.Error != "" {
				resp.Release()
				if resp.More { // not this protocol: start afresh
					c.drop()
				}
				return errors.New(resp.Error)
			}
			more := resp.More
			c.seg.count(resp)
			t := time.Now()
			err := each(resp)
			downstream += time.Since(t)
			if err != nil {
				if more { // the rest of the answer would be read as the next one's
					c.drop()
				}
				return err
			}
			if !more {
				return nil
			}
		}
		c.drop()
		if err := c.restart(ctx, p, c.gen, err); err != nil {
			return err
		}
	}
}

// drop ends the stream; the next batch opens a new one.
func (c *chainStream) drop() {
	if c.cancel != nil {
		c.cancel()
	}
	c.stream, c.cancel = nil, nil
}

func (c *chainStream) restart(ctx context.Context, p *Pipeline, gen int, cause error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	p.log.Warn("filter process failed; restarting it and resending the batch", "process", c.seg.proc.Name(), "error", cause)
	restarted, err := c.seg.proc.Restart(ctx, gen)
	c.seg.stats.restarted(restarted, err)
	if restarted {
		p.stats.Restarts.Add(1)
	}
	return err
}

func (p *Pipeline) worker(ctx context.Context, quit <-chan struct{}) {
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
	for {
		var b *batch
		select {
		case b = <-p.work:
		case <-quit:
			return
		}
		b.pending.Store(1) // the worker's, until every piece is queued
		if !p.filter(ctx, streams, 0, b, b.data, b.count, nil) {
			b.abandoned.Store(true) // stopping: not acked, it will be read again
		}
		b.done(p)
	}
}

// errStopping ends a chain whose pieces can no longer go on.
var errStopping = errors.New("pipeline stopping")

// filter runs data (a batch, or a piece of what segment i-1 made of it)
// through segments i and on, and queues every piece that comes out of the
// last for the outputs as soon as it does: memory holds a piece per
// segment, not everything a fan-out makes. held is what data aliases; it
// is released once the segment no longer needs it. A segment that fails
// on a piece (not a crash, which process handles) is retried with backoff:
// dropping it would lose events, and acking it would lie to the input.
// It returns false when the pipeline stopped first.
func (p *Pipeline) filter(ctx context.Context, streams []*chainStream, i int, b *batch, data []byte, count int, held interface{ Release() }) bool {
	if count == 0 {
		release(held)
		return true
	}
	if i == len(streams) {
		return p.deliver(ctx, b, data, count, held)
	}
	streams[i].seg.stats.in.Add(int64(count))
	backoff := 100 * time.Millisecond
	for {
		err := streams[i].process(ctx, p, data, func(piece *host.ProcessResponse) error {
			if !p.filter(ctx, streams, i+1, b, piece.Events, int(piece.Count), piece) {
				return errStopping
			}
			return nil
		})
		if err == nil {
			release(held)
			return true
		}
		if ctx.Err() != nil || errors.Is(err, errStopping) {
			release(held)
			return false
		}
		p.log.Error("filter chain failed on a batch; retrying it", "error", err, "in", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			release(held)
			return false
		}
		if backoff < 30*time.Second {
			backoff *= 2
		}
	}
}

// deliver queues one piece of a batch for every output; the outputs share
// it read-only, and the last one done gives its buffer back. It returns
// false when a cancelled drain stopped it: the batch then never completes,
// so it is not acked.
func (p *Pipeline) deliver(ctx context.Context, b *batch, data []byte, count int, held interface{ Release() }) bool {
	p.stats.Filtered.Add(int64(count))
	pc := &piece{held: held}
	pc.pending.Store(int32(len(p.outputs)))
	b.pending.Add(int32(len(p.outputs)))
	for _, o := range p.outputs {
		select {
		case o.queue <- &delivery{batch: b, piece: pc, data: data, count: count}:
		case <-ctx.Done():
			return false
		}
	}
	return true
}

func release(h interface{ Release() }) {
	if h != nil {
		h.Release()
	}
}

// piece is what a delivery's bytes alias, shared by the outputs.
type piece struct {
	held    interface{ Release() } // nil: the batch's own bytes
	pending atomic.Int32           // outputs still to accept it
}

// ---- outputs ---------------------------------------------------------------

type outputRunner struct {
	p      *Pipeline
	block  Block
	handle int
	queue  chan *delivery

	retryLog retryLog // the output's writers share its "retry" log line

	stats        pluginStats
	writeLatency prometheus.Histogram
	gauges       writeGauges // what running Writes report (sdk.ReportWriteGauges)
}

// retryLog keeps an output's retries to one log line a second, with the
// counts of what it stands for: an outage of a minute is a minute of
// lines, not one per batch per writer per backoff.
type retryLog struct {
	mu      sync.Mutex
	last    time.Time
	events  int // retried since the last line
	batches int
}

func (o *outputRunner) logRetry(events int, wait time.Duration, reason string) {
	l := &o.retryLog
	l.mu.Lock()
	l.events += events
	l.batches++
	if time.Since(l.last) < time.Second {
		l.mu.Unlock()
		return
	}
	ev, b := l.events, l.batches
	l.events, l.batches, l.last = 0, 0, time.Now()
	l.mu.Unlock()
	o.p.log.Warn("output asked to retry events", "output", o.block.Name, "events", ev, "batches", b, "in", wait.String(), "reason", reason)
}

type delivery struct {
	batch *batch
	piece *piece
	data  []byte
	count int
}

// done marks one output done with the delivery's piece and its batch.
func (d *delivery) done(p *Pipeline) {
	if d.piece.pending.Add(-1) == 0 {
		release(d.piece.held)
	}
	d.batch.done(p)
}

// run writes deliveries on its own stream until quit is closed. Events
// an output asks to retry are sent again (alone) after a backoff; the
// batch is done only when all of it is accepted or dead-lettered.
func (o *outputRunner) run(ctx context.Context, quit <-chan struct{}) {
	var (
		stream pluginv1.Plugin_WriteClient
		gen    int
		seq    uint64
	)
	slot := o.gauges.slot()
	defer func() {
		o.gauges.set(slot, nil)
		if stream != nil {
			_ = stream.CloseSend()
		}
	}()
	for {
		var d *delivery
		select {
		case d = <-o.queue:
		case <-quit:
			return
		}
		data, n := d.data, d.count // n: the events in data
		o.stats.in.Add(int64(d.count))
		backoff := 100 * time.Millisecond
		attempts := 0 // writes of the events still in data
		for len(data) > 0 {
			if stream == nil {
				rpc, g := o.block.Proc.Client()
				s, err := rpc.Write(ctx)
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					o.restart(ctx, g, err)
					continue
				}
				stream, gen = s, g
			}
			seq++
			sent := time.Now()
			err := stream.Send(&pluginv1.WriteRequest{Seq: seq, InstanceId: o.block.Proc.InstanceID(o.handle), Events: data})
			var resp *pluginv1.WriteResponse
			for err == nil {
				// Reports of the running Write (seq 0) come before its answer.
				if resp, err = stream.Recv(); err != nil || resp.Seq != 0 {
					break
				}
				o.gauges.set(slot, resp.Gauges.GetGauges())
			}
			o.gauges.set(slot, nil)
			took := time.Since(sent)
			o.stats.durationNanos.Add(int64(took))
			if err != nil {
				stream = nil
				if ctx.Err() != nil {
					return
				}
				o.restart(ctx, gen, err)
				continue
			}
			o.writeLatency.Observe(took.Seconds())
			attempts++
			retry, wait, rejected := o.sort(data, resp.Results, attempts)
			accepted := int64(n - len(retry) - rejected - int(resp.Skipped))
			o.p.stats.Out.Add(accepted)
			o.stats.out.Add(accepted)
			o.stats.skipped.Add(int64(resp.Skipped))
			o.stats.deadLettered.Add(int64(rejected))
			if len(retry) == 0 {
				break
			}
			o.retrying(len(retry), firstRetryReason(resp.Results))
			data, _ = host.SelectEvents(data, retry)
			n, _ = host.CountEvents(data) // retry may name an event twice
			if wait < backoff {
				wait = backoff
			}
			o.logRetry(len(retry), wait, firstRetryReason(resp.Results))
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return
			}
			if backoff < 60*time.Second {
				backoff *= 2
			}
		}
		d.done(o.p)
	}
}

// sort splits a write's results: rejected events go to the dead letter
// queue; it returns the indexes to retry, the longest wait asked for, and
// how many events were dead-lettered. A rejected event the dead letter
// queue cannot take is retried: the output rejects it again and the dead
// letter write is tried again, so it is never acked without being
// somewhere (its batch waits, and the error says why).
func (o *outputRunner) sort(data []byte, results []*pluginv1.ItemResult, attempts int) ([]uint32, time.Duration, int) {
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
			if err := o.p.dlq.write(o.block.Name, data, r.Index, r.Reason, attempts); err != nil {
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

// firstRetryReason is the reason an output gave for its first retry.
func firstRetryReason(results []*pluginv1.ItemResult) string {
	for _, r := range results {
		if r.Code == pluginv1.ItemResult_RETRY {
			return r.Reason
		}
	}
	return ""
}

func (o *outputRunner) restart(ctx context.Context, gen int, cause error) {
	o.p.log.Warn("output process failed; restarting it and resending the batch", "output", o.block.Name, "error", cause)
	restarted, err := o.block.Proc.Restart(ctx, gen)
	o.stats.restarted(restarted, err)
	if restarted {
		o.p.stats.Restarts.Add(1)
	}
}

// retrying counts events an output asked to retry, and when it last did:
// the health report calls an output that retried lately degraded.
func (o *outputRunner) retrying(events int, reason string) {
	o.stats.retried.Add(int64(events))
	o.stats.backoffs.Add(1)
	o.stats.lastRetry.Store(time.Now().UnixNano())
	o.stats.retryReason.Store(&reason)
}

// count adds one piece of a chain's answer to the segment's counts; the
// last piece of a plugin that counts per filter carries each filter's.
func (s *segment) count(resp *host.ProcessResponse) {
	s.stats.out.Add(int64(resp.Count))
	if len(resp.FilterCounts) != len(s.filters) {
		return // not the last piece, or a plugin that does not count
	}
	s.perFilter.Store(true)
	for i, c := range resp.FilterCounts {
		f := s.filters[i]
		f.in.Add(int64(c.In))
		f.out.Add(int64(c.Out))
		f.dropped.Add(int64(c.Dropped))
		f.durationNanos.Add(int64(c.DurationNanos))
	}
}
