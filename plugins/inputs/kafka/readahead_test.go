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

	// Nothing is taken from the read-ahead: it stops once at its limit.
	deadline := time.Now().Add(2 * time.Second)
	for ra.bytes.Load() < limit && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // room to read on, if it wrongly would
	if got := ra.bytes.Load(); got < limit {
		t.Fatalf("read ahead %d bytes, want at least the limit %d", got, limit)
	}
	// Past the limit by one chunk at most (what sarama had buffered), so
	// at most 10 + 6 read ahead and 5 more in sarama's channel.
	if n := sent.Load(); n > 21 {
		t.Fatalf("%d records left sarama's channel with a read-ahead limit of 10", n)
	}

	// Taking chunks makes room: every record comes out, in order, and
	// the end of sarama's channel ends the read-ahead.
	go func() { <-fetched; close(msgs) }()
	var next int64
	for c := range ra.out {
		ra.took(c.bytes)
		for _, m := range c.msgs {
			if m.Offset != next {
				t.Fatalf("offset %d came out where %d was due", m.Offset, next)
			}
			next++
		}
	}
	if next != recs {
		t.Fatalf("%d records came out, want %d", next, recs)
	}
	if got := ra.bytes.Load(); got != 0 {
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
	ra := startReadAhead(msgs, 1) // full after the first chunk
	ra.stop()
	select {
	case <-drained(ra.out):
	case <-time.After(2 * time.Second):
		t.Fatal("the read-ahead did not end after stop")
	}
}

// drained is closed once out is closed, after taking what it holds.
func drained(out <-chan chunk) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		for range out {
		}
		close(done)
	}()
	return done
}
