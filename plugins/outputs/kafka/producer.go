package kafka

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/gostash/gostash/sdk"
)

// producer writes record batches with sarama's broker API, one goroutine
// and one request in flight per broker, one batch per partition in each
// request. sarama's AsyncProducer moves every record through four
// goroutines and channels, which cost as much CPU as everything else the
// output does; here a Write's records are queued per partition under one
// lock and leave in the next request to the partition's leader.
//
// Each partition has at most one batch in flight, so records keep their
// order and an idempotent producer's sequence numbers can be given when a
// batch is sent: a batch the broker refused for good gives its numbers
// back, and a batch whose fate is unknown (retries used up) makes the
// producer take a new producer ID before the next request, as Kafka's own
// producer does.
type producer struct {
	client     sarama.Client
	acks       sarama.RequiredAcks
	timeout    int32 // ms, the broker's wait for replicas
	version    int16 // of ProduceRequest
	codec      sarama.CompressionCodec
	level      int
	linger     time.Duration
	batchBytes int // a partition with this much waiting is sent without linger
	maxBytes   int // the most record bytes in one batch
	retries    int
	backoff    time.Duration
	idempotent bool
	logger     sdk.Logger

	mu      sync.Mutex
	parts   map[topicPartition]*partQueue
	brokers map[int32]*brokerQueue
	pid     int64
	epoch   int16
	pidGen  int  // counts producer IDs: a partition's sequence restarts with a new one
	stale   bool // the producer ID must be replaced before the next request
	queued  int  // records queued or in flight
	drained *sync.Cond
	closing bool
	stopped bool // no sender starts any more

	stop chan struct{}
	wg   sync.WaitGroup
}

type topicPartition struct {
	topic     string
	partition int32
}

// rec is one record on its way, with the Write it belongs to.
type rec struct {
	r     sarama.Record
	topic string
	part  int32
	size  int
	alone bool // sent in a batch of its own
	w     *write
	index int
}

// partQueue holds a partition's records waiting to be sent.
type partQueue struct {
	topicPartition
	pending  []*rec
	bytes    int       // of pending
	since    time.Time // when the oldest pending record came
	retry    *batch    // sent again before pending
	inflight bool
	listed   bool // on a brokerQueue's ready list
	seq      int32
	pidGen   int
}

// brokerQueue is one broker's sender: the partitions it leads that have
// records to send.
type brokerQueue struct {
	id    int32
	ready []*partQueue
	wake  chan struct{}
}

// batch is one partition's records in one request.
type batch struct {
	q        *partQueue
	recs     []*rec
	rb       sarama.RecordBatch
	attempts int
	pidGen   int // the producer ID its sequence numbers belong to; 0: none yet
}

func newProducer(client sarama.Client, cfg *sarama.Config, logger sdk.Logger) (*producer, error) {
	p := &producer{
		client: client, acks: cfg.Producer.RequiredAcks,
		timeout: int32(cfg.Producer.Timeout / time.Millisecond), version: produceVersion(cfg.Version),
		codec: cfg.Producer.Compression, level: cfg.Producer.CompressionLevel,
		linger: cfg.Producer.Flush.Frequency, batchBytes: cfg.Producer.Flush.Bytes, maxBytes: cfg.Producer.MaxMessageBytes,
		retries: cfg.Producer.Retry.Max, backoff: cfg.Producer.Retry.Backoff,
		idempotent: cfg.Producer.Idempotent, logger: logger,
		parts: map[topicPartition]*partQueue{}, brokers: map[int32]*brokerQueue{},
		pid: -1, epoch: -1, stop: make(chan struct{}),
	}
	p.drained = sync.NewCond(&p.mu)
	if p.idempotent {
		if err := p.initProducerID(); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// produceVersion is the ProduceRequest version sarama's producer uses
// for a protocol version (record batches need 3 or more).
func produceVersion(v sarama.KafkaVersion) int16 {
	switch {
	case v.IsAtLeast(sarama.V3_7_0_0):
		return 10
	case v.IsAtLeast(sarama.V2_8_0_0):
		return 9
	case v.IsAtLeast(sarama.V2_4_0_0):
		return 8
	case v.IsAtLeast(sarama.V2_1_0_0):
		return 7
	case v.IsAtLeast(sarama.V2_0_0_0):
		return 6
	case v.IsAtLeast(sarama.V1_0_0_0):
		return 5
	}
	return 3
}

// initProducerID asks the cluster for a new producer ID (idempotence),
// retrying for up to 10 s while the transaction coordinator loads (a
// broker just started) or moves.
func (p *producer) initProducerID() error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := p.tryInitProducerID()
		if err == nil || time.Now().After(deadline) ||
			!errors.Is(err, sarama.ErrOffsetsLoadInProgress) && !errors.Is(err, sarama.ErrConsumerCoordinatorNotAvailable) &&
				!errors.Is(err, sarama.ErrNotCoordinatorForConsumer) {
			return err
		}
		if !p.sleep(max(p.backoff, 50*time.Millisecond)) {
			return err
		}
	}
}

func (p *producer) tryInitProducerID() error {
	b := p.client.LeastLoadedBroker()
	if b == nil {
		return sarama.ErrOutOfBrokers
	}
	req := &sarama.InitProducerIDRequest{Version: 4, ProducerID: -1, ProducerEpoch: -1}
	resp, err := b.InitProducerID(req)
	if err == nil && !errors.Is(resp.Err, sarama.ErrNoError) {
		return resp.Err
	}
	if err != nil {
		_ = b.Close() // the next try reconnects, maybe elsewhere
		return err
	}
	p.mu.Lock()
	p.pid, p.epoch, p.stale = resp.ProducerID, resp.ProducerEpoch, false
	p.pidGen++
	p.mu.Unlock()
	return nil
}

// add queues a Write's records, which are sorted by partition; their
// outcomes come to their write.
func (p *producer) add(recs []*rec) {
	for start := 0; start < len(recs); {
		end := start + 1
		for end < len(recs) && recs[end].topic == recs[start].topic && recs[end].part == recs[start].part {
			end++
		}
		p.addPartition(recs[start:end])
		start = end
	}
}

func (p *producer) addPartition(recs []*rec) {
	tp := topicPartition{recs[0].topic, recs[0].part}
	p.mu.Lock()
	q := p.parts[tp]
	if q == nil {
		q = &partQueue{topicPartition: tp}
		p.parts[tp] = q
	}
	if len(q.pending) == 0 {
		q.since = time.Now()
	}
	for _, r := range recs {
		q.pending = append(q.pending, r)
		q.bytes += r.size
	}
	p.queued += len(recs)
	list := !q.listed && !q.inflight
	p.mu.Unlock()
	if list {
		p.route(q)
	}
}

// route lists q with its leader's sender. A partition without a leader
// is tried again after the backoff.
func (p *producer) route(q *partQueue) {
	leader, err := p.client.Leader(q.topic, q.partition)
	p.mu.Lock()
	defer p.mu.Unlock()
	if q.listed || q.inflight || p.stopped {
		return
	}
	if err != nil {
		// No leader now (an election, a broker down): the batch in q's
		// head counts an attempt and waits out the backoff.
		p.failHead(q, err)
		return
	}
	bq := p.brokers[leader.ID()]
	if bq == nil {
		bq = &brokerQueue{id: leader.ID(), wake: make(chan struct{}, 1)}
		p.brokers[bq.id] = bq
		p.wg.Add(1)
		go p.send(bq)
	}
	q.listed = true
	bq.ready = append(bq.ready, q)
	select {
	case bq.wake <- struct{}{}:
	default:
	}
}

// failHead takes q's next batch as having failed with err, a retriable
// error, while p.mu is held: it is retried after the backoff or, its
// retries used up, handed back to its Writes.
func (p *producer) failHead(q *partQueue, err error) {
	b := q.retry
	if b == nil {
		b = p.next(q)
		if b == nil {
			return
		}
	}
	q.retry = nil
	p.retryOrFail(b, err)
	if q.retry != nil || len(q.pending) > 0 {
		q.inflight = true // held back until the backoff ends
		time.AfterFunc(p.backoff, func() {
			p.mu.Lock()
			q.inflight = false
			p.mu.Unlock()
			p.route(q)
		})
	}
}

// retryOrFail puts b back in its queue for another attempt, or ends it
// with err when it has had its retries. Called with p.mu held.
func (p *producer) retryOrFail(b *batch, err error) {
	if b.attempts++; b.attempts <= p.retries {
		b.q.retry = b
		return
	}
	if p.idempotent {
		p.stale = true // the broker may have written it: a new ID, not its numbers again
	}
	p.finish(b, err)
}

// finish hands b's outcome to its records' Writes. Called with p.mu held.
func (p *producer) finish(b *batch, err error) {
	for _, r := range b.recs {
		r.w.outcome(r.index, err)
	}
	p.queued -= len(b.recs)
	if p.queued == 0 {
		p.drained.Broadcast()
	}
	b.recs = nil
}

// next takes q's next batch of pending records, or nil. Called with p.mu
// held.
func (p *producer) next(q *partQueue) *batch {
	if len(q.pending) == 0 {
		return nil
	}
	n, size := 1, q.pending[0].size
	if !q.pending[0].alone {
		for n < len(q.pending) && !q.pending[n].alone && size+q.pending[n].size <= p.maxBytes {
			size += q.pending[n].size
			n++
		}
	}
	b := &batch{q: q, recs: make([]*rec, n)}
	copy(b.recs, q.pending[:n])
	clear(q.pending[:n])
	q.pending = q.pending[n:]
	q.bytes -= size
	if len(q.pending) == 0 {
		q.pending, q.bytes = q.pending[:0:0], 0
	} else {
		q.since = time.Now()
	}
	now := time.Now()
	b.rb = sarama.RecordBatch{
		Version: 2, Codec: p.codec, CompressionLevel: p.level,
		FirstTimestamp: now, MaxTimestamp: now,
		ProducerID: -1, ProducerEpoch: -1,
		LastOffsetDelta: int32(n - 1),
		Records:         make([]*sarama.Record, n),
	}
	for i, r := range b.recs {
		r.r.OffsetDelta = int64(i)
		b.rb.Records[i] = &r.r
	}
	return b
}

// stamp gives b the producer ID and its partition's next sequence numbers
// unless it has them. Called with p.mu held.
func (p *producer) stamp(b *batch) {
	if !p.idempotent || b.pidGen == p.pidGen {
		return
	}
	q := b.q
	if q.pidGen != p.pidGen {
		q.seq, q.pidGen = 0, p.pidGen
	}
	b.pidGen = p.pidGen
	b.rb.ProducerID, b.rb.ProducerEpoch, b.rb.FirstSequence = p.pid, p.epoch, q.seq
	q.seq += int32(len(b.recs))
}

// send is one broker's sender: it takes its partitions' batches into one
// request, sends it and sorts out the answer, until Close.
func (p *producer) send(bq *brokerQueue) {
	defer p.wg.Done()
	for {
		select {
		case <-bq.wake:
		case <-p.stop:
			return
		}
		select {
		case <-p.stop: // a wake-up may win the select above
			return
		default:
		}
		if !p.lingerFor(bq) {
			return
		}
		if p.idempotent && p.isStale() {
			if err := p.initProducerID(); err != nil {
				p.logger.Warn("kafka: cannot get a new producer ID; retrying", "error", err)
				if !p.sleep(p.backoff) {
					return
				}
				p.poke(bq)
				continue
			}
		}
		batches, moved := p.take(bq)
		for _, q := range moved {
			p.route(q)
		}
		if len(batches) == 0 {
			continue
		}
		req := &sarama.ProduceRequest{RequiredAcks: p.acks, Timeout: p.timeout, Version: p.version}
		for _, b := range batches {
			req.AddBatch(b.q.topic, b.q.partition, &b.rb)
		}
		var resp *sarama.ProduceResponse
		broker, err := p.client.Broker(bq.id)
		if err == nil {
			resp, err = broker.Produce(req)
			if err != nil {
				_ = broker.Close() // sarama reconnects on the next use
			}
		}
		if p.answer(batches, resp, err) {
			// A leader moved or a broker failed: new metadata, after the
			// backoff, before the batches go anywhere again.
			if !p.sleep(p.backoff) {
				return
			}
			_ = p.client.RefreshMetadata(topicsOf(batches)...)
		}
		p.mu.Lock()
		var again []*partQueue
		for _, b := range batches {
			q := b.q
			q.inflight = false
			if (q.retry != nil || len(q.pending) > 0) && !q.listed {
				again = append(again, q)
			}
		}
		p.mu.Unlock()
		for _, q := range again {
			p.route(q)
		}
	}
}

// lingerFor waits until one of bq's partitions has batch_size bytes
// waiting, or the oldest record linger_ms; false once stopped.
func (p *producer) lingerFor(bq *brokerQueue) bool {
	if p.linger <= 0 {
		return true
	}
	for {
		p.mu.Lock()
		var oldest time.Time
		full := p.closing
		for _, q := range bq.ready {
			if q.retry != nil || q.bytes >= p.batchBytes {
				full = true
			}
			if len(q.pending) > 0 && (oldest.IsZero() || q.since.Before(oldest)) {
				oldest = q.since
			}
		}
		p.mu.Unlock()
		wait := time.Until(oldest.Add(p.linger))
		if full || oldest.IsZero() || wait <= 0 {
			return true
		}
		t := time.NewTimer(wait)
		select {
		case <-bq.wake:
		case <-t.C:
		case <-p.stop:
			t.Stop()
			return false
		}
		t.Stop()
	}
}

// take takes a batch from each of bq's ready partitions that bq's broker
// still leads; the others are handed back to be routed again.
func (p *producer) take(bq *brokerQueue) (batches []*batch, moved []*partQueue) {
	p.mu.Lock()
	ready := bq.ready
	bq.ready = nil
	p.mu.Unlock()
	for i, q := range ready {
		if leader, err := p.client.Leader(q.topic, q.partition); err != nil || leader.ID() != bq.id {
			moved = append(moved, q)
			ready[i] = nil
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, q := range ready {
		if q == nil {
			continue
		}
		q.listed = false
		if q.inflight {
			continue // routed again once its batch is answered
		}
		b := q.retry
		q.retry = nil
		if b == nil {
			b = p.next(q)
		}
		if b == nil {
			continue
		}
		p.stamp(b)
		q.inflight = true
		batches = append(batches, b)
	}
	for _, q := range moved {
		q.listed = false
	}
	return batches, moved
}

// answer sorts out a request's answer; true when metadata should be
// refreshed before the next attempt.
func (p *producer) answer(batches []*batch, resp *sarama.ProduceResponse, err error) (refresh bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, b := range batches {
		berr := err
		if berr == nil && p.acks != sarama.NoResponse {
			blk := resp.GetBlock(b.q.topic, b.q.partition)
			switch {
			case blk == nil:
				berr = sarama.ErrIncompleteResponse
			case errors.Is(blk.Err, sarama.ErrNoError), errors.Is(blk.Err, sarama.ErrDuplicateSequenceNumber):
				// Written (a duplicate: by an attempt whose answer was lost).
			default:
				berr = blk.Err
			}
		}
		switch {
		case berr == nil:
			p.finish(b, nil)
		case permanent(berr) && !errors.Is(berr, sarama.ErrUnknownTopicOrPartition) && !errors.Is(berr, sarama.ErrInvalidMessage):
			// (A partition being moved or created is unknown for a moment,
			// and a record corrupted on the way is invalid: both are
			// retried first, as sarama's producer does.)
			if p.idempotent && b.pidGen == b.q.pidGen && b.q.seq == b.rb.FirstSequence+int32(len(b.recs)) {
				b.q.seq = b.rb.FirstSequence // refused: its numbers are free again
			}
			p.finish(b, berr)
		case errors.Is(berr, sarama.ErrOutOfOrderSequenceNumber), errors.Is(berr, sarama.ErrUnknownProducerID),
			errors.Is(berr, sarama.ErrInvalidProducerEpoch):
			// The broker lost track of the producer (its state expired,
			// a leader without it): a new producer ID, and the batch again.
			p.stale = true
			b.pidGen = 0
			p.retryOrFail(b, berr)
		default:
			refresh = true
			p.retryOrFail(b, berr)
		}
	}
	return refresh
}

func (p *producer) isStale() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stale
}

func (p *producer) poke(bq *brokerQueue) {
	select {
	case bq.wake <- struct{}{}:
	default:
	}
}

// sleep waits d; false when the producer stopped first.
func (p *producer) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.stop:
		return false
	}
}

func topicsOf(batches []*batch) []string {
	var out []string
	for _, b := range batches {
		if !contains(out, b.q.topic) {
			out = append(out, b.q.topic)
		}
	}
	return out
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// close sends what is queued (without lingering) and waits for its
// answers, or for ctx; then stops the senders.
func (p *producer) close(ctx context.Context) {
	p.mu.Lock()
	p.closing = true
	for _, bq := range p.brokers {
		p.poke(bq)
	}
	stopWait := context.AfterFunc(ctx, func() {
		p.mu.Lock()
		p.drained.Broadcast()
		p.mu.Unlock()
	})
	for p.queued > 0 && ctx.Err() == nil {
		p.drained.Wait()
	}
	stopWait()
	p.stopped = true
	p.mu.Unlock()
	close(p.stop)
	p.wg.Wait()
}
