package kafka

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/IBM/sarama"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/codecs"
)

// drainTimeout bounds how long a partition that is being given up (a
// rebalance, a stop) waits for its records in flight to be delivered
// before it lets them go uncommitted: they are then read again by the
// partition's next owner. It stays well under max_poll_interval_ms's
// default, the most a rebalance waits for a member.
const drainTimeout = 20 * time.Second

// handler is one group member's sarama.ConsumerGroupHandler.
type handler struct {
	in     *Input
	p      sdk.Publisher
	member int
	client sarama.Client
	fatal  error // ends the member (auto_offset_reset = "none")

	// dirty asks the session's committer to commit what was marked.
	dirty         chan struct{}
	window        *commitWindow
	marksMu       sync.Mutex
	commitMu      sync.Mutex          // one commit at a time: an older one never lands after a newer
	marks         map[topicPart]int64 // the offsets to commit, by partition
	sess          sarama.ConsumerGroupSession
	stopCommitter chan struct{}
	committerDone chan struct{}

	connMu sync.Mutex
	conn   *sarama.Broker // the commits' own connection to the coordinator

	stopping <-chan struct{} // closed when the input stops (not on a rebalance)
	claims   atomic.Int32    // ConsumeClaims running
	cut      atomic.Bool     // the stop closed the connections (claimEnded)
}

func (h *handler) Setup(sess sarama.ConsumerGroupSession) error {
	if h.in.set.reset == "none" {
		if err := h.checkCommitted(sess); err != nil {
			h.fatal = err
			return err
		}
	}
	var starts map[topicPart]int64
	if h.in.set.byDuration {
		var err error
		if starts, err = h.startByDuration(sess); err != nil {
			return err
		}
	}
	h.dirty = make(chan struct{}, 1)
	h.window = newCommitWindow(h.in.windowLimit(h.p))
	h.marksMu.Lock()
	h.marks = nil // a new session commits only its own partitions' marks
	h.marksMu.Unlock()
	for tp, off := range starts {
		h.mark(tp.topic, tp.part, off)
	}
	if len(starts) > 0 {
		h.dirty <- struct{}{} // committed at once by the committer below
	}
	h.sess = sess
	h.stopCommitter, h.committerDone = make(chan struct{}), make(chan struct{})
	go h.commit(func() error { return h.commitMarks(sess) }, h.window, commitLinger, h.dirty, h.stopCommitter, h.committerDone)
	claims := sess.Claims()
	h.in.log.Info("partitions assigned", "group_id", h.in.set.group, "member", h.member, "partitions", fmt.Sprint(claims))
	return nil
}

// committedOffsets lists the claimed partitions the group has no
// committed offset for, and the offsets of the others.
func (h *handler) committedOffsets(sess sarama.ConsumerGroupSession) (none []topicPart, offsets map[topicPart]int64, err error) {
	om, err := sarama.NewOffsetManagerFromClient(h.in.set.group, h.client)
	if err != nil {
		return nil, nil, err
	}
	defer om.Close()
	offsets = map[topicPart]int64{}
	for topic, parts := range sess.Claims() {
		for _, part := range parts {
			pom, err := om.ManagePartition(topic, part)
			if err != nil {
				return nil, nil, err
			}
			off, _ := pom.NextOffset()
			pom.AsyncClose()
			if off < 0 {
				none = append(none, topicPart{topic, part})
			} else {
				offsets[topicPart{topic, part}] = off
			}
		}
	}
	return none, offsets, nil
}

// checkCommitted fails when a claimed partition has no committed offset,
// or one the partition no longer (or never) held, as Kafka's consumer
// does: auto_offset_reset = "none" asks for an error instead of a guess.
// The usual cause of the second is retention deleting records the group
// had not read yet.
func (h *handler) checkCommitted(sess sarama.ConsumerGroupSession) error {
	tps, offsets, err := h.committedOffsets(sess)
	if err != nil {
		return err
	}
	if len(tps) > 0 {
		return fmt.Errorf("group %q has no committed offset for %s/%d and auto_offset_reset is \"none\": set it to \"earliest\" or \"latest\"", h.in.set.group, tps[0].topic, tps[0].part)
	}
	for tp, off := range offsets {
		oldest, err := h.client.GetOffset(tp.topic, tp.part, sarama.OffsetOldest)
		if err != nil {
			return err
		}
		newest, err := h.client.GetOffset(tp.topic, tp.part, sarama.OffsetNewest)
		if err != nil {
			return err
		}
		if off < oldest || off > newest {
			return fmt.Errorf("group %q's committed offset %d for %s/%d is out of range (the partition holds offsets %d to %d: records not read yet were deleted by retention, or the topic was made again) and auto_offset_reset is \"none\": set it to \"earliest\" or \"latest\", or move the group's offset", h.in.set.group, off, tp.topic, tp.part, oldest, newest)
		}
	}
	return nil
}

// startByDuration starts each claimed partition the group has no offset
// for at its first record written within auto_offset_reset's duration (as
// Kafka's by_duration: the offset for that time, the end when there is
// none), and returns those offsets. The claims start where the session's
// offsets say, after Setup; sarama commits nothing (auto-commit is off),
// so Setup has the committer commit them: a restart before the first
// delivery would otherwise apply the duration again, from a later time,
// and skip the records in between.
func (h *handler) startByDuration(sess sarama.ConsumerGroupSession) (map[topicPart]int64, error) {
	tps, _, err := h.committedOffsets(sess)
	if err != nil {
		return nil, err
	}
	starts := make(map[topicPart]int64, len(tps))
	// Not before 1970: the broker takes a negative time for a special
	// one (-1 the end, -2 the start) or refuses it, for ever.
	since := max(0, time.Now().Add(-h.in.set.resetBy).UnixMilli())
	for _, tp := range tps {
		off, err := h.client.GetOffset(tp.topic, tp.part, since)
		if err == nil && off < 0 { // no record since then: the end
			off, err = h.client.GetOffset(tp.topic, tp.part, sarama.OffsetNewest)
		}
		if err != nil {
			return nil, fmt.Errorf("auto_offset_reset by_duration: cannot find the offset of %s/%d at %s: %w", tp.topic, tp.part, time.UnixMilli(since).UTC().Format(time.RFC3339), err)
		}
		sess.MarkOffset(tp.topic, tp.part, off, "")
		starts[tp] = off
	}
	return starts, nil
}

func (h *handler) Cleanup(sess sarama.ConsumerGroupSession) error {
	if h.stopCommitter != nil {
		h.window.close()
		close(h.stopCommitter)
		<-h.committerDone
		h.stopCommitter = nil
	}
	// Each claim committed its partition's marks as it ended (release).
	return nil
}

// commit commits marked offsets, one commit at a time, coalescing what is
// marked in between: the next commit goes once commitLinger has passed
// since the last one, or at once when half the window's room for
// delivered batches is waiting for it (so reading never waits on the
// linger). A commit per batch (hundreds a second at full speed) cost the
// broker more CPU than the fetches (docs/benchmarks.md); a commit on a
// timer alone (Logstash's 5 s) would re-read five seconds of records after
// a crash. What is read again stays bounded by the window either way.
//
// It sends the commit itself rather than through sarama's offset manager,
// whose Commit does not say whether it worked: the commit window must not
// count a failed commit (the group's coordinator just died, say) as done,
// or publishing would run on while nothing is committed, and the next
// owner of the partitions would read all of it again.
func (h *handler) commit(send func() error, w *commitWindow, linger time.Duration, dirty, stop, done chan struct{}) {
	defer close(done)
	backoff := 100 * time.Millisecond
	later := time.NewTimer(time.Hour)
	later.Stop()
	var last time.Time // when the last commit went
	var every <-chan time.Time
	if d := h.in.set.autoCommitEvery; d > 0 {
		t := time.NewTicker(d)
		defer t.Stop()
		every = t.C
	}
	for {
		select {
		case <-every: // enable_auto_commit: what is marked, again, as Kafka's timer
		case <-dirty:
			since := time.Since(last)
			// A drained pipeline (every batch out delivered) commits at
			// once: waiting could add nothing, and the end of a backlog
			// is committed without the linger. A gap keeps a trickle of
			// single batches from committing each.
			if wait := linger - since; wait > 0 && !w.pressing() && !(since >= commitMinGap && w.idle()) {
				later.Reset(wait) // the same instant again for a mark during the wait
				continue
			}
		case <-later.C:
		case <-stop:
			return
		}
		later.Stop()
		last = time.Now()
		for {
			marked := w.snapshot()
			err := send()
			if err == nil {
				w.committed(marked)
				backoff = 100 * time.Millisecond
				break
			}
			if h.cut.Load() {
				return // the stop closed the connection: the claims committed as they ended
			}
			if errors.Is(err, sarama.ErrIllegalGeneration) || errors.Is(err, sarama.ErrUnknownMemberId) ||
				errors.Is(err, sarama.ErrRebalanceInProgress) || errors.Is(err, sarama.ErrFencedInstancedId) {
				// The group is rebalancing: this session's commits are
				// refused until it ends (or, with a cooperative strategy,
				// joins the new generation); what was not committed is
				// read again by the partitions' next owner.
				h.in.log.Info("offsets not committed while the group rebalances", "group_id", h.in.set.group, "error", err)
			} else {
				h.in.log.Warn("cannot commit offsets; retrying (reading waits meanwhile)", "group_id", h.in.set.group, "error", err, "retry_in", backoff.String())
				_ = h.client.RefreshCoordinator(h.in.set.group)
			}
			select {
			case <-time.After(backoff):
			case <-stop:
				return
			}
			backoff = min(2*backoff, 5*time.Second)
		}
	}
}

// commitMarks commits the marked offsets of the session's partitions to
// the group's coordinator, and says whether every one of them took.
func (h *handler) commitMarks(sess sarama.ConsumerGroupSession) error {
	// The committer and a claim letting its partition go (release) both
	// commit: built from the marks of one instant and sent one after the
	// other, a commit never moves an offset back.
	h.commitMu.Lock()
	defer h.commitMu.Unlock()
	h.marksMu.Lock()
	if len(h.marks) == 0 {
		h.marksMu.Unlock()
		return nil
	}
	req := &sarama.OffsetCommitRequest{
		Version:                 8, // Kafka 2.4's, for the protocol version gostash speaks (2.8)
		ConsumerGroup:           h.in.set.group,
		ConsumerID:              sess.MemberID(),
		ConsumerGroupGeneration: sess.GenerationID(),
	}
	if id := h.client.Config().Consumer.Group.InstanceId; id != "" {
		req.GroupInstanceId = &id
	}
	for tp, off := range h.marks {
		req.AddBlockWithLeaderEpoch(tp.topic, tp.part, off, -1, 0, "")
	}
	h.marksMu.Unlock()
	coord, err := h.coordinator()
	if err != nil {
		return err
	}
	resp, err := coord.CommitOffset(req)
	if err != nil {
		h.closeConn(coord) // the next commit connects again
		return err
	}
	for _, parts := range resp.Errors {
		for _, kerr := range parts {
			if kerr != sarama.ErrNoError {
				return kerr
			}
		}
	}
	return nil
}

// coordinator returns a connection of the handler's own to the group's
// coordinator, for commits. The client's connection to that broker also
// carries the fetches, which a broker answers one at a time: a commit
// queued behind a fetch that waits for new records (up to
// fetch_max_wait_ms, 500 ms) waited that long, and the commit window held
// reading back meanwhile.
func (h *handler) coordinator() (*sarama.Broker, error) {
	coord, err := h.client.Coordinator(h.in.set.group)
	if err != nil {
		return nil, err
	}
	h.connMu.Lock()
	defer h.connMu.Unlock()
	if h.conn != nil && h.conn.Addr() == coord.Addr() {
		return h.conn, nil
	}
	if h.conn != nil {
		_ = h.conn.Close()
	}
	// Open connects in the background (TLS and SASL as the client's);
	// the first request waits for it and returns its error.
	b := sarama.NewBroker(coord.Addr())
	if err := b.Open(h.client.Config()); err != nil {
		return nil, err
	}
	h.conn = b
	return b, nil
}

// closeConn closes the commit connection b if it is still the current
// one; nil closes the current one.
func (h *handler) closeConn(b *sarama.Broker) {
	h.connMu.Lock()
	defer h.connMu.Unlock()
	if b == nil {
		b = h.conn
	}
	if b != nil && h.conn == b {
		_ = b.Close()
		h.conn = nil
	}
}

// release commits what is marked, then forgets a partition given up:
// committing its old offset later would move its next owner back.
func (h *handler) release(topic string, part int32) {
	if sess := h.sess; sess != nil {
		// Once more on a new connection (commitMarks drops a failed one):
		// the broker may have closed an idle one, or the coordinator moved.
		err := h.commitMarks(sess)
		if err != nil && !h.cut.Load() {
			_ = h.client.RefreshCoordinator(h.in.set.group)
			err = h.commitMarks(sess)
		}
		if err != nil {
			h.in.log.Warn("offsets of a partition given up not committed; its next owner reads them again", "topic", topic, "partition", part, "error", err)
		}
	}
	h.marksMu.Lock()
	delete(h.marks, topicPart{topic, part})
	h.marksMu.Unlock()
}

type topicPart struct {
	topic string
	part  int32
}

// mark records the offset to commit for a partition.
func (h *handler) mark(topic string, part int32, next int64) {
	h.marksMu.Lock()
	if h.marks == nil {
		h.marks = map[topicPart]int64{}
	}
	h.marks[topicPart{topic, part}] = next
	h.marksMu.Unlock()
}

// ConsumeClaim reads one partition in batches. When the partition is
// taken away (a rebalance) or the input stops, it stops reading, waits
// for its batches in flight to be delivered (up to drainTimeout), marks
// them, and returns; acks that come later commit nothing.
func (h *handler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	in := h.in
	h.claims.Add(1)
	defer h.claimEnded() // after the drain below
	st := in.track(claim.Topic(), claim.Partition(), claim)
	pt := &partition{h: h, topic: claim.Topic(), part: claim.Partition(), dirty: h.dirty, window: h.window, state: st}
	defer pt.drain(in.log)

	dec := newDecoder(in.set.codec)
	events := make([]*sdk.Event, 0, in.batch)
	var last int64 = -1
	publish := func() bool {
		if len(events) == 0 {
			return true
		}
		if !h.window.reserve(sess.Context()) {
			return false
		}
		b := pt.add(last + 1)
		err := h.p.Publish(sess.Context(), events, func() { pt.ack(b) })
		// Publish encoded the events: the decoder fills them again.
		dec.reuse(events)
		clear(events)
		events = events[:0]
		if err != nil {
			pt.cancel(b) // never reached the pipeline: read again by whoever owns the partition next
			h.window.release(1)
			return false
		}
		return true
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	// Read ahead of the batch being filled (see readAhead).
	ra := startReadAhead(claim.Messages(), in.set.readAheadBytes(h.claimCount(sess)))
	defer ra.stop()
	var taken, pending []*sarama.ConsumerMessage
	for {
		if len(pending) == 0 {
			select {
			case <-ra.ready:
				if ra.closed() {
					// Sarama closed the channel: the partition is revoked
					// (a cooperative rebalance) or the session ends. What is
					// read ahead or in the batch being filled is not
					// published: never marked, it is read again by the
					// partition's next owner, and the revoke waits only for
					// the batches already out, not for a read-ahead's worth.
					return nil
				}
				taken = ra.take(taken, in.batch)
				pending = taken
				if len(pending) == 0 {
					continue
				}
			case <-timer.C:
				if !publish() {
					return nil
				}
				continue
			case <-sess.Context().Done():
				return nil // what was read and not published is read again
			}
		}
		if len(events) == 0 {
			timer.Reset(in.delay)
		}
		if last < 0 {
			st.started(pending[0].Offset)
		}
		// One clock reading for the records taken together: they were
		// all there at this instant.
		now := time.Now().UnixNano()
		for len(events) < in.batch && len(pending) > 0 {
			m := pending[0]
			pending = pending[1:]
			events = dec.decode(m, now, events, in)
			last = m.Offset
		}
		if len(events) >= in.batch {
			timer.Stop()
			if !publish() {
				return nil
			}
		}
	}
}

// claimCount is how many partitions the member has in this session.
func (h *handler) claimCount(sess sarama.ConsumerGroupSession) int {
	n := 0
	for _, parts := range sess.Claims() {
		n += len(parts)
	}
	return n
}

// claimEnded cuts the fetches short once the last claim of a stopping
// member has delivered and committed what it published. Sarama lets a
// session go only when every partition's fetch has come back, and the
// fetch of a caught-up partition waits at the broker for new records, up
// to fetch_max_wait_ms (500 ms by default: Ctrl-C waited that long for
// records nobody would read). Closing the member's connections ends the
// fetches at once, as a lost connection would; the group's coordinator
// is dialled again for the last commit and the leave. A rebalance keeps
// them: the next session fetches over them.
func (h *handler) claimEnded() {
	if h.claims.Add(-1) > 0 {
		return
	}
	select {
	case <-h.stopping:
	default:
		return
	}
	if t, ok := h.client.Config().Net.Proxy.Dialer.(*connTracker); ok {
		h.cut.Store(true)
		t.closeAll()
	}
}

// readAhead takes a partition's records off sarama's channel ahead of the
// batch being filled, up to limit bytes (keys and values, see
// readAheadBytes), into a queue the claim takes a batch at a time from.
// Sarama fetches again only once every partition it fetched for has taken
// all of the last response into its channel (256 records): while a batch
// waited for the pipeline, that held back the next fetch of every
// partition of the broker, and reading stalled on the fetch's round trip
// and decoding afterwards. The more of a response is read ahead, the more
// the next fetch overlaps the pipeline (see readAheadFetches). What is
// read ahead and not published is read again by the partition's next
// owner, as sarama's own buffer.
type readAhead struct {
	ready chan struct{} // cap 1: records were queued, or the reader ended
	room  chan struct{} // cap 1: the claim took records
	quit  chan struct{}
	limit int64

	mu    sync.Mutex
	queue []*sarama.ConsumerMessage // from head on: read ahead, not taken
	head  int
	bytes int64 // queued and not taken
	ended bool  // sarama closed its channel, or stop
}

// recordOverhead is what a buffered record costs beyond its key and value.
const recordOverhead = 128

func startReadAhead(msgs <-chan *sarama.ConsumerMessage, limit int64) *readAhead {
	ra := &readAhead{ready: make(chan struct{}, 1), room: make(chan struct{}, 1), quit: make(chan struct{}), limit: max(limit, 1)}
	go ra.run(msgs)
	return ra
}

func (ra *readAhead) stop() { close(ra.quit) }

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// take moves up to n of the records queued into dst, oldest first.
// Taking a batch at a time, not all there is, keeps what the claim holds
// beside the queue to a batch.
func (ra *readAhead) take(dst []*sarama.ConsumerMessage, n int) []*sarama.ConsumerMessage {
	ra.mu.Lock()
	q := ra.queue[ra.head:]
	q = q[:min(n, len(q))]
	dst = append(dst[:0], q...)
	var freed int64
	for _, m := range q {
		freed += recordCost(m)
	}
	clear(q) // the records go to the garbage collector once published
	ra.head += len(q)
	if live := len(ra.queue) - ra.head; ra.head >= live {
		// More taken than left: the rest moves to the front, at a cost
		// the takes since the last move have paid for. Under back-pressure
		// the queue never empties, and without this its array grew by
		// every record that went through.
		n := copy(ra.queue, ra.queue[ra.head:])
		clear(ra.queue[ra.head:]) // the moved records' old places; before head, taken ones were cleared
		ra.queue, ra.head = ra.queue[:n], 0
	}
	ra.bytes -= freed
	left := len(ra.queue) - ra.head
	ra.mu.Unlock()
	if freed > 0 {
		signal(ra.room)
	}
	if left > 0 {
		signal(ra.ready) // the rest is for the next take
	}
	return dst
}

// closed says the reader has stopped: sarama closed its channel.
func (ra *readAhead) closed() bool {
	ra.mu.Lock()
	defer ra.mu.Unlock()
	return ra.ended
}

func recordCost(m *sarama.ConsumerMessage) int64 {
	return int64(len(m.Key) + len(m.Value) + recordOverhead)
}

func (ra *readAhead) run(msgs <-chan *sarama.ConsumerMessage) {
	defer func() {
		ra.mu.Lock()
		ra.ended = true
		ra.mu.Unlock()
		signal(ra.ready)
	}()
	for {
		var m *sarama.ConsumerMessage
		var ok bool
		select {
		case m, ok = <-msgs:
			if !ok {
				return
			}
		case <-ra.quit:
			return
		}
		// What sarama has buffered goes in under one lock.
		ra.mu.Lock()
		for {
			ra.queue = append(ra.queue, m)
			ra.bytes += recordCost(m)
			if ra.bytes >= ra.limit || len(msgs) == 0 {
				break
			}
			// len(msgs) > 0, but once the claim has returned sarama drains
			// the channel too: never wait here holding the lock.
			select {
			case m, ok = <-msgs:
			default:
				m = nil
			}
			if !ok || m == nil {
				break
			}
		}
		full := ra.bytes >= ra.limit
		ra.mu.Unlock()
		signal(ra.ready)
		if !ok {
			return // sarama closed the channel: the claim sees ended next
		}
		for full {
			select {
			case <-ra.room:
			case <-ra.quit:
				return
			}
			ra.mu.Lock()
			full = ra.bytes >= ra.limit
			ra.mu.Unlock()
		}
	}
}

// ---- delivery tracking ------------------------------------------------------

// partition tracks one claimed partition's batches in flight: an offset
// is marked only when every batch before it is delivered too, so a slow
// batch holds back the commit of later ones.
type partition struct {
	h      *handler
	topic  string
	part   int32
	dirty  chan<- struct{}
	window *commitWindow
	state  *partitionState

	mu       sync.Mutex
	inflight []*inflightBatch // in the order published
	closed   bool             // given up: acks commit nothing any more
	empty    chan struct{}    // signalled when inflight empties
}

type inflightBatch struct {
	next  int64 // the offset to commit once this batch is delivered
	acked bool
}

func (pt *partition) add(next int64) *inflightBatch {
	b := &inflightBatch{next: next}
	pt.mu.Lock()
	pt.inflight = append(pt.inflight, b)
	pt.mu.Unlock()
	return b
}

// cancel forgets a batch that was never published.
func (pt *partition) cancel(b *inflightBatch) {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	for i, x := range pt.inflight {
		if x == b {
			pt.inflight = append(pt.inflight[:i], pt.inflight[i+1:]...)
			break
		}
	}
	// Later batches cannot be marked past this one: nothing was published
	// after it (Publish failing ends the claim).
	pt.signal()
}

func (pt *partition) ack(b *inflightBatch) {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	if pt.closed {
		return // the partition is no longer ours: its next owner reads these again
	}
	b.acked = true
	mark, n := int64(-1), 0
	for len(pt.inflight) > 0 && pt.inflight[0].acked {
		mark = pt.inflight[0].next
		pt.inflight = pt.inflight[1:]
		n++
	}
	if mark >= 0 {
		pt.h.mark(pt.topic, pt.part, mark)
		pt.window.marked(n)
		pt.state.committed(mark)
		select {
		case pt.dirty <- struct{}{}:
		default: // a commit is already asked for
		}
	}
	pt.signal()
}

func (pt *partition) signal() {
	if len(pt.inflight) == 0 && pt.empty != nil {
		close(pt.empty)
		pt.empty = nil
	}
}

// drain waits for the batches in flight, up to drainTimeout, then fences
// the partition off.
func (pt *partition) drain(log sdk.Logger) {
	pt.mu.Lock()
	var wait chan struct{}
	if len(pt.inflight) > 0 {
		wait = make(chan struct{})
		pt.empty = wait
	}
	pt.mu.Unlock()
	if wait != nil {
		select {
		case <-wait:
		case <-time.After(drainTimeout):
		}
	}
	pt.mu.Lock()
	pt.closed = true
	left := len(pt.inflight)
	pt.mu.Unlock()
	pt.window.release(left) // never committed by this session: out of its count
	pt.h.release(pt.topic, pt.part)
	pt.state.released()
	if left > 0 {
		log.Warn("partition given up with batches still in flight; they are not committed and will be read again",
			"topic", pt.topic, "partition", pt.part, "batches", left)
	}
}

// commitWindow bounds what a kill -9 reads again: the batches published
// and not yet committed, whether still in the pipeline or delivered and
// waiting for their commit. A publish waits while limit of them are out:
// the member's share of the pipeline's credits (which bound the batches in
// the pipeline anyway) plus commitWindowBatches. So however slow the
// commits get (a loaded machine, a far coordinator, a coordinator that
// just died) the bound holds, and while the outputs are quick the commits
// have that many batches of room. With credits unknown (limit 0: a test
// harness's publisher) it bounds the delivered batches alone, to
// commitWindowBatches.
type commitWindow struct {
	mu     sync.Mutex
	cond   *sync.Cond
	limit  uint64 // the most batches out; 0: bound the marked ones only
	out    uint64 // batches reserved for publishing, less those given up
	mark   uint64 // batches marked so far
	done   uint64 // batches marked before the last commit that finished
	closed bool
}

// commitWindowBatches is how many batches beyond the pipeline's credits
// may be out: room for the batches delivered while commits coalesce
// (see commit) and while one is on its way (5-50 ms on a busy broker).
// With 4, reading waited on commits near 100,000 records/s while the
// outputs could take more; with 16 and a commit as soon as anything was
// delivered, the broker spent more CPU on commits (hundreds a second)
// than on serving the fetches. With 64, a commit goes at the latest when
// 32 delivered batches wait for it, and a kill -9 reads again at most
// (credits + 64) batches: 35,000 records with the defaults.
const commitWindowBatches = 64

// commitLinger is the least time between two commits of a member while
// fewer than half the window's batches wait for one (see commit).
const commitLinger = 50 * time.Millisecond

// commitMinGap is the least time between two commits of a member even
// when its pipeline has drained (see commit).
const commitMinGap = 5 * time.Millisecond

// windowLimit is a member's limit for its commit window: commitWindowBatches
// and its share of the credits pub allows the input (members share them),
// or 0 when pub does not say.
func (in *Input) windowLimit(pub sdk.Publisher) int {
	c := sdk.Credits(pub)
	if c <= 0 {
		return 0
	}
	return commitWindowBatches + c/len(in.cfgs)
}

func newCommitWindow(limit int) *commitWindow {
	w := &commitWindow{limit: uint64(max(limit, 0))}
	w.cond = sync.NewCond(&w.mu)
	return w
}

func (w *commitWindow) marked(n int) {
	w.mu.Lock()
	w.mark += uint64(n)
	w.mu.Unlock()
}

// pressing says whether half the room for delivered batches is taken by
// batches waiting for their commit: commit now rather than after the linger.
func (w *commitWindow) pressing() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.mark-w.done >= commitWindowBatches/2
}

// idle says whether every batch published has been delivered and marked:
// nothing is in the pipeline.
func (w *commitWindow) idle() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.out == w.mark
}

func (w *commitWindow) snapshot() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.mark
}

func (w *commitWindow) committed(upTo uint64) {
	w.mu.Lock()
	w.done = max(w.done, upTo)
	w.cond.Broadcast()
	w.mu.Unlock()
}

// release takes n reserved batches out of the count: never published, or
// given up uncommitted with their partition.
func (w *commitWindow) release(n int) {
	if n <= 0 {
		return
	}
	w.mu.Lock()
	w.out -= uint64(n)
	w.cond.Broadcast()
	w.mu.Unlock()
}

func (w *commitWindow) close() {
	w.mu.Lock()
	w.closed = true
	w.cond.Broadcast()
	w.mu.Unlock()
}

func (w *commitWindow) room() bool {
	if w.limit == 0 {
		return w.mark-w.done < commitWindowBatches
	}
	return w.out-w.done < w.limit
}

// reserve waits until the window has room for one more batch and counts
// it out; false when ctx ended first.
func (w *commitWindow) reserve(ctx context.Context) bool {
	stop := context.AfterFunc(ctx, func() {
		w.mu.Lock()
		w.cond.Broadcast()
		w.mu.Unlock()
	})
	defer stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	for !w.room() && !w.closed && ctx.Err() == nil {
		w.cond.Wait()
	}
	if ctx.Err() != nil {
		return false
	}
	w.out++
	return true
}

// ---- decoding ---------------------------------------------------------------

type decoder struct {
	dec   *codecs.Decoder
	split bool // one event a line
	recs  []codecs.Record

	// The coordinates' maps and numbers of the batch being filled, made
	// again for the next once Publish has encoded it (reuse): a map and
	// two boxed numbers per event were most of decorate_events' cost.
	coords []map[string]any
	used   int
	vals   sdk.Values
}

// reuse takes back the events' coordinates: Publish has encoded them.
func (d *decoder) reuse(events []*sdk.Event) {
	d.dec.Reuse(events)
	d.used = 0
}

// coordMap returns an empty map for one event's coordinates.
func (d *decoder) coordMap() map[string]any {
	if d.used == len(d.coords) {
		// Eight entries at most (see coordinates): one group of a map,
		// no table.
		d.coords = append(d.coords, make(map[string]any, 8))
	}
	m := d.coords[d.used]
	d.used++
	clear(m)
	return m
}

func newDecoder(codec string) *decoder {
	name := codecs.CodecLine
	switch codec {
	case "json", "json_lines":
		name = codecs.CodecJSON
	}
	set := codecs.Settings{Codec: name, Delimiter: "\n"}
	return &decoder{dec: set.NewDecoder(), split: codec == "line" || codec == "json_lines"}
}

// decode appends the events of one record, read at now (ns since the
// epoch), to dst.
func (d *decoder) decode(m *sarama.ConsumerMessage, now int64, dst []*sdk.Event, in *Input) []*sdk.Event {
	d.recs = d.recs[:0]
	if d.split {
		data := m.Value
		for len(data) > 0 {
			line := data
			if i := bytes.IndexByte(data, '\n'); i >= 0 {
				line, data = data[:i], data[i+1:]
			} else {
				data = nil
			}
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			d.recs = d.dec.Decode(codecs.Line{Data: line}, now, d.recs)
		}
	} else {
		d.recs = d.dec.Decode(codecs.Line{Data: m.Value}, now, d.recs)
	}
	for j, r := range d.recs {
		if in.set.decorate != decorateNone {
			r.Event.Metadata()["kafka"] = d.coordinates(m, in, in.set.decorate == decorateExtended, false)
		}
		if in.env.SourceCoordinates {
			k := d.coordinates(m, in, true, true)
			if j > 0 {
				k[sdk.SourceSeq] = int64(j)
			}
			sdk.SetSource(r.Event, "kafka", k)
		}
		dst = append(dst, r.Event)
	}
	return dst
}

// coordinates are a record's, with Logstash's names: topic,
// consumer_group, partition, offset, key, timestamp (epoch ms), then
// headers (UTF-8 values only) and msg_size (the value's bytes, as Logstash
// 2.x's decorate_events wrote it) when asked.
func (d *decoder) coordinates(m *sarama.ConsumerMessage, in *Input, headers, size bool) map[string]any {
	k := d.coordMap()
	k["topic"] = m.Topic
	k["consumer_group"] = in.set.group
	k["partition"] = d.vals.Int(int64(m.Partition))
	k["offset"] = d.vals.Int(m.Offset)
	if m.Key != nil {
		k["key"] = codecs.Text(m.Key) // as Kafka's StringDeserializer: U+FFFD for bytes that are not UTF-8
	} else {
		k["key"] = nil
	}
	k["timestamp"] = d.vals.Int(m.Timestamp.UnixMilli())
	if size {
		k["msg_size"] = d.vals.Int(int64(len(m.Value)))
	}
	if headers && len(m.Headers) > 0 {
		hs := make(map[string]any, len(m.Headers))
		for _, h := range m.Headers {
			// As Logstash: only values that are UTF-8 text; a repeated key
			// keeps its last value. A name is decoded as Kafka's Java client
			// decodes it, U+FFFD for bad bytes: event strings are UTF-8.
			if h == nil || h.Value == nil || !utf8.Valid(h.Value) {
				continue
			}
			hs[codecs.Text(h.Key)] = string(h.Value)
		}
		k[sdk.SourceHeaders] = hs
	}
	return k
}

// ---- lag ------------------------------------------------------------------------

// partitionState is what the input knows of a partition's progress, for
// the lag it logs.
type partitionState struct {
	mu     sync.Mutex
	claim  sarama.ConsumerGroupClaim
	commit int64 // the committed offset; -1 before the group has one
	owned  bool
}

// started notes the first offset read: with nothing committed yet, the
// lag counts from there (what came before is not this group's to read).
func (s *partitionState) started(off int64) {
	s.mu.Lock()
	if s.commit < 0 {
		s.commit = off
	}
	s.mu.Unlock()
}

func (s *partitionState) committed(next int64) {
	s.mu.Lock()
	s.commit = next
	s.mu.Unlock()
}

func (s *partitionState) released() {
	s.mu.Lock()
	s.owned = false
	s.claim = nil
	s.mu.Unlock()
}

func (in *Input) track(topic string, part int32, claim sarama.ConsumerGroupClaim) *partitionState {
	in.lagMu.Lock()
	defer in.lagMu.Unlock()
	byPart := in.lag[topic]
	if byPart == nil {
		byPart = map[int32]*partitionState{}
		in.lag[topic] = byPart
	}
	st := byPart[part]
	if st == nil {
		st = &partitionState{}
		byPart[part] = st
	}
	st.mu.Lock()
	st.claim, st.owned = claim, true
	// InitialOffset is where reading starts: a committed offset, or one of
	// sarama's negative markers (oldest, newest) when there is none.
	st.commit = max(claim.InitialOffset(), -1)
	st.mu.Unlock()
	return st
}

// consumerLag is, per owned partition, how many records the group has not
// committed yet: the high watermark less the committed offset.
func (in *Input) consumerLag() map[string]int64 {
	out := map[string]int64{}
	in.lagMu.Lock()
	defer in.lagMu.Unlock()
	for topic, parts := range in.lag {
		for part, st := range parts {
			st.mu.Lock()
			if st.owned && st.claim != nil {
				if st.commit >= 0 { // else nothing read or committed yet
					out[fmt.Sprintf("%s/%d", topic, part)] = max(0, st.claim.HighWaterMarkOffset()-st.commit)
				}
			}
			st.mu.Unlock()
		}
	}
	return out
}

// reportLag logs the consumer lag every 30 s while it changes.
func (in *Input) reportLag(ctx context.Context, every time.Duration) {
	last := ""
	for sleep(ctx, every) {
		lag := in.consumerLag()
		if len(lag) == 0 {
			continue
		}
		var total int64
		parts := make([]string, 0, len(lag))
		for k, v := range lag {
			total += v
			parts = append(parts, fmt.Sprintf("%s=%d", k, v))
		}
		sort.Strings(parts)
		line := strings.Join(parts, " ")
		if line == last {
			continue
		}
		last = line
		in.log.Info("consumer lag", "group_id", in.set.group, "total", total, "partitions", line)
	}
}

var lagEvery = 30 * time.Second

// reportGauges sends the lag per partition to the core, for /metrics
// (gostash_kafka_consumer_lag) and the health report, more often than the
// log line: a scrape every 15 s should see it move.
func (in *Input) reportGauges(ctx context.Context, p sdk.Publisher, every time.Duration) {
	for sleep(ctx, every) {
		lag := in.consumerLag()
		gauges := make([]sdk.Gauge, 0, len(lag))
		for k, v := range lag {
			topic, part, _ := strings.Cut(k, "/")
			gauges = append(gauges, sdk.Gauge{Name: "kafka_consumer_lag", Value: float64(v), Lag: true,
				Labels: map[string]string{"topic": topic, "partition": part, "group_id": in.set.group}})
		}
		if err := sdk.ReportGauges(p, gauges); err != nil {
			return // the stream is gone: the input is ending
		}
	}
}

var gaugeEvery = 5 * time.Second
