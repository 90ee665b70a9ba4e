package kafka

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

// The read-ahead takes sarama's records while the claim is busy (a batch
// waiting for the pipeline), so sarama can fetch again, but only up to its
// byte limit: past it, records stay in sarama's channel, and sarama stops
// fetching that partition, as before. Every record comes out, in order,
// and the end of sarama's channel ends it.
func TestReadAheadIsBoundedAndKeepsOrder(t *testing.T) {
	const recs, size = 40, 100 // each record costs size + recordOverhead
	// sarama's channel holds 5; the "fetches" go on while there is room.
	msgs := make(chan *sarama.ConsumerMessage, 5)
	var sent atomic.Int64
	fetched := make(chan struct{})
	go func() {
		defer close(fetched)
		for i := range recs {
			msgs <- &sarama.ConsumerMessage{Offset: int64(i), Value: make([]byte, size)}
			sent.Add(1)
		}
	}()
	limit := int64(10 * (size + recordOverhead)) // 10 records
	ra := startReadAhead(msgs, limit)
	defer ra.stop()

	// Nothing is taken from the read-ahead: it stops at its limit.
	queued := func() int64 {
		ra.mu.Lock()
		defer ra.mu.Unlock()
		return ra.bytes
	}
	deadline := time.Now().Add(2 * time.Second)
	for queued() < limit && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // room to read on, if it wrongly would
	if got := queued(); got != limit {
		t.Fatalf("read ahead %d bytes, want the limit %d", got, limit)
	}
	// 10 read ahead, 5 more in sarama's channel and one waiting to go in.
	if n := sent.Load(); n > 16 {
		t.Fatalf("%d records left sarama's channel with a read-ahead limit of 10", n)
	}

	// Taking makes room: every record comes out, in order, and the end
	// of sarama's channel ends the read-ahead.
	go func() { <-fetched; close(msgs) }()
	var next int64
	var got []*sarama.ConsumerMessage
	for done := false; !done; {
		<-ra.ready
		done = ra.closed() // before taking: what was queued before the end is taken below
		// In threes, as a claim takes a batch.
		for got = ra.take(got, 3); len(got) > 0; got = ra.take(got, 3) {
			if len(got) > 3 {
				t.Fatalf("took %d records, asked for 3", len(got))
			}
			for _, m := range got {
				if m.Offset != next {
					t.Fatalf("offset %d came out where %d was due", m.Offset, next)
				}
				next++
			}
		}
	}
	if next != recs {
		t.Fatalf("%d records came out, want %d", next, recs)
	}
	if got := queued(); got != 0 {
		t.Fatalf("%d bytes still counted as read ahead after all were taken", got)
	}
}

// A claim that ends (a rebalance, a stop) stops its read-ahead even while
// sarama's channel stays open and the reader waits for room.
func TestReadAheadStops(t *testing.T) {
	msgs := make(chan *sarama.ConsumerMessage, 4)
	for i := range 4 {
		msgs <- &sarama.ConsumerMessage{Offset: int64(i), Value: []byte("x")}
	}
	ra := startReadAhead(msgs, 1) // full after the first record
	ra.stop()
	deadline := time.After(2 * time.Second)
	for {
		select {
		case <-ra.ready:
			if ra.closed() {
				return
			}
		case <-deadline:
			t.Fatal("the read-ahead did not end after stop")
		}
	}
}

// Sarama's feeder hands records over one at a time, as fast as they are
// taken: the read-ahead still fills to its byte limit (it once stopped
// at 64 hand-overs, a few dozen records, whatever its limit).
func TestReadAheadFillsToItsLimitOneRecordAtATime(t *testing.T) {
	const recs, size = 400, 100
	msgs := make(chan *sarama.ConsumerMessage) // unbuffered: one at a time
	go func() {
		for i := range recs {
			msgs <- &sarama.ConsumerMessage{Offset: int64(i), Value: make([]byte, size)}
		}
	}()
	const want = 300
	ra := startReadAhead(msgs, want*(size+recordOverhead))
	defer ra.stop()
	deadline := time.Now().Add(2 * time.Second)
	var n int
	for n < want && time.Now().Before(deadline) {
		ra.mu.Lock()
		n = len(ra.queue) - ra.head
		ra.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
	if n != want {
		t.Fatalf("read ahead %d records, want %d (its limit)", n, want)
	}
}

// A claim reads ahead readAheadFetches × max_partition_fetch_bytes, and a
// member's claims together no more than fetch_max_bytes (unless that is
// less than max_partition_fetch_bytes each).
func TestReadAheadBytes(t *testing.T) {
	s := &settings{fetchBytes: 1 << 20, fetchMaxBytes: 50 << 20}
	for _, c := range []struct {
		claims int
		want   int64
	}{{0, readAheadFetches << 20}, {1, readAheadFetches << 20}, {3, readAheadFetches << 20}, {25, 2 << 20}, {200, 1 << 20}} {
		if got := s.readAheadBytes(c.claims); got != c.want {
			t.Errorf("%d claims: %d bytes each, want %d", c.claims, got, c.want)
		}
	}
}

// Under back-pressure (the pipeline slower than Kafka) the read-ahead is
// full whenever the claim comes back for the next batch, so its queue is
// never empty and take never resets head. The live records stay at the
// limit, but the queue's array must not grow with the number of records
// that went through it.
func TestReadAheadQueueStaysBoundedUnderBackPressure(t *testing.T) {
	const size, perRecord = 100, 100 + recordOverhead
	const limitRecords, batch = 1000, 125
	msgs := make(chan *sarama.ConsumerMessage, 256)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i := int64(0); ; i++ {
			select {
			case msgs <- &sarama.ConsumerMessage{Offset: i, Value: make([]byte, size)}:
			case <-stop:
				return
			}
		}
	}()
	ra := startReadAhead(msgs, limitRecords*perRecord)
	defer ra.stop()
	full := func() bool {
		ra.mu.Lock()
		defer ra.mu.Unlock()
		return ra.bytes >= ra.limit
	}
	var got []*sarama.ConsumerMessage
	var next int64
	for round := 0; round < 4000; round++ { // 500,000 records
		deadline := time.Now().Add(2 * time.Second)
		for !full() { // the claim was in Publish meanwhile
			if time.Now().After(deadline) {
				t.Fatal("read-ahead did not fill")
			}
			time.Sleep(10 * time.Microsecond)
		}
		<-ra.ready
		got = ra.take(got, batch)
		for _, m := range got {
			if m.Offset != next {
				t.Fatalf("offset %d where %d was due", m.Offset, next)
			}
			next++
		}
	}
	ra.mu.Lock()
	live, capacity, head := len(ra.queue)-ra.head, cap(ra.queue), ra.head
	ra.mu.Unlock()
	t.Logf("after %d records: %d live, head %d, cap %d", next, live, head, capacity)
	if capacity > 4*limitRecords {
		t.Fatalf("the queue's array holds %d slots for %d live records (head %d): it grows with what went through", capacity, live, head)
	}
}
