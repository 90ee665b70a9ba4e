package kafka

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/gostash/gostash/sdk"
)

// reserved reports whether w.reserve returns within a short wait.
func reserved(t *testing.T, w *commitWindow) bool {
	t.Helper()
	got := make(chan bool, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	go func() { got <- w.reserve(ctx) }()
	return <-got
}

// reserveThenWait reserves n batches, each at once, and checks that one
// more waits.
func reserveThenWait(t *testing.T, w *commitWindow, n int, why string) {
	t.Helper()
	for i := range n {
		if !reserved(t, w) {
			t.Fatalf("batch %d of %d waited (%s)", i+1, n, why)
		}
	}
	if reserved(t, w) {
		t.Fatalf("%d batches went out, not %d (%s)", n+1, n, why)
	}
}

// The window bounds the batches published and not committed, whether in
// the pipeline or delivered: so however slow commits get, a kill -9
// reads again at most limit batches.
func TestCommitWindowBoundsBatchesOut(t *testing.T) {
	w := newCommitWindow(6)
	reserveThenWait(t, w, 6, "the limit")
	// Delivered is not enough: only a commit makes room.
	w.marked(2)
	if reserved(t, w) {
		t.Fatal("a batch went out before any commit")
	}
	w.committed(w.snapshot())
	reserveThenWait(t, w, 2, "2 committed")
	// A batch never published, or given up with its partition, leaves
	// the count.
	w.release(1)
	if !reserved(t, w) {
		t.Fatal("a released batch did not make room")
	}
}

// Without the pipeline's credits (a test harness's publisher) the window
// bounds the delivered batches waiting for their commit alone.
func TestCommitWindowWithoutCreditsBoundsDelivered(t *testing.T) {
	w := newCommitWindow(0)
	for i := range 20 {
		if !reserved(t, w) {
			t.Fatalf("batch %d waited with nothing delivered", i+1)
		}
	}
	w.marked(commitWindowBatches)
	if reserved(t, w) {
		t.Fatalf("a batch went out with %d delivered batches uncommitted", commitWindowBatches)
	}
	w.committed(1)
	if !reserved(t, w) {
		t.Fatal("a commit did not make room")
	}
}

func TestCommitWindowEndsWithItsContext(t *testing.T) {
	w := newCommitWindow(1)
	if !reserved(t, w) {
		t.Fatal("the first batch waited")
	}
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan bool, 1)
	go func() { got <- w.reserve(ctx) }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case ok := <-got:
		if ok {
			t.Fatal("reserve said yes after its context ended")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("reserve did not return when its context ended")
	}
}

type creditPublisher struct{ n int }

func (creditPublisher) Publish(context.Context, []*sdk.Event, func()) error { return nil }
func (p creditPublisher) Credits() int                                      { return p.n }

// Each member gets commitWindowBatches and its share of the credits, so
// the members together never have more out than the credits and
// commitWindowBatches each.
func TestWindowLimitSharesTheCredits(t *testing.T) {
	for _, c := range []struct {
		members, credits, want int
	}{
		{1, 6, 6 + commitWindowBatches},
		{3, 6, 2 + commitWindowBatches},
		{8, 6, 0 + commitWindowBatches},
		{1, 0, 0}, // unknown: the delivered batches alone are bounded
	} {
		in := &Input{cfgs: make([]*sarama.Config, c.members)}
		var pub sdk.Publisher = creditPublisher{c.credits}
		if c.credits == 0 {
			pub = &holdingPublisher{}
		}
		if got := in.windowLimit(pub); got != c.want {
			t.Errorf("%d members, %d credits: limit %d, want %d", c.members, c.credits, got, c.want)
		}
	}
}

// runCommitter runs a member's committer over w with send, and returns
// a function that marks n delivered batches and one that stops it.
func runCommitter(t *testing.T, w *commitWindow, linger time.Duration, send func() error) (mark func(n int), stop func()) {
	t.Helper()
	h := &handler{in: &Input{set: &settings{}}}
	dirty, quit, done := make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	go h.commit(send, w, linger, dirty, quit, done)
	mark = func(n int) {
		w.marked(n)
		select {
		case dirty <- struct{}{}:
		default:
		}
	}
	var once bool
	stop = func() {
		if !once {
			once = true
			close(quit)
			<-done
		}
	}
	t.Cleanup(stop)
	return mark, stop
}

// Commits coalesce: batches delivered one after the other, faster than
// the linger, go in a few commits, not one each (hundreds a second cost
// the broker more than the fetches), and the last of them is committed
// within the linger without any further delivery.
func TestCommitsCoalesceAndTheLastGoesWithinTheLinger(t *testing.T) {
	w := newCommitWindow(0)
	var sends atomic.Int64
	send := func() error { sends.Add(1); time.Sleep(time.Millisecond); return nil }
	const linger = 40 * time.Millisecond
	mark, _ := runCommitter(t, w, linger, send)
	start := time.Now()
	marked := 0
	for time.Since(start) < 200*time.Millisecond {
		mark(1)
		marked++
		// Publishing waits while commitWindowBatches wait for a commit;
		// so does this loop, as the claims would.
		for w.snapshot()-committedOf(w) >= commitWindowBatches-1 {
			time.Sleep(100 * time.Microsecond)
		}
		time.Sleep(200 * time.Microsecond)
	}
	end := time.Now()
	deadline := end.Add(linger + time.Second)
	for committedOf(w) < uint64(marked) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := committedOf(w); got != uint64(marked) {
		t.Fatalf("%d of %d delivered batches committed a second after the last", got, marked)
	}
	n := sends.Load()
	// 200 ms at one commit per 40 ms linger, plus the ones that half a
	// full window forces: far fewer than the batches.
	if n < 2 || n*8 > int64(marked) {
		t.Fatalf("%d commits for %d batches delivered in %v: want them coalesced", n, marked, end.Sub(start).Round(time.Millisecond))
	}
	t.Logf("%d batches, %d commits", marked, n)
}

// Half the window waiting for a commit does not wait for the linger: the
// claims would soon stop reading.
func TestHalfAWindowIsCommittedAtOnce(t *testing.T) {
	w := newCommitWindow(0)
	var sends atomic.Int64
	mark, _ := runCommitter(t, w, time.Hour, func() error { sends.Add(1); return nil })
	mark(1) // the first commit goes at once: none went before
	waitFor(t, func() bool { return sends.Load() == 1 }, "first commit")
	mark(commitWindowBatches/2 - 1)
	time.Sleep(50 * time.Millisecond)
	if sends.Load() != 1 {
		t.Fatalf("%d commits with fewer than half the window waiting and an hour's linger", sends.Load())
	}
	mark(1)
	waitFor(t, func() bool { return sends.Load() == 2 && committedOf(w) == 1+commitWindowBatches/2 }, "commit of half the window")
}

func committedOf(w *commitWindow) uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.done
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 5 s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// Once every batch out is delivered, the commit goes at once rather than
// after the linger: the end of a backlog is committed when it is read.
// While a batch is still in the pipeline, the linger holds.
func TestADrainedPipelineCommitsAtOnce(t *testing.T) {
	w := newCommitWindow(10)
	var sends atomic.Int64
	mark, _ := runCommitter(t, w, time.Hour, func() error { sends.Add(1); return nil })
	for range 2 {
		if !reserved(t, w) {
			t.Fatal("reserve waited")
		}
	}
	mark(1) // the first commit goes at once: none went before
	waitFor(t, func() bool { return sends.Load() == 1 }, "first commit")
	time.Sleep(2 * commitMinGap)
	if !reserved(t, w) {
		t.Fatal("reserve waited")
	}
	mark(1) // one batch still out: the linger (an hour) holds
	time.Sleep(50 * time.Millisecond)
	if n := sends.Load(); n != 1 {
		t.Fatalf("%d commits with a batch still in the pipeline, want 1", n)
	}
	mark(1) // the last one delivered: drained
	waitFor(t, func() bool { return sends.Load() == 2 && committedOf(w) == 3 }, "commit of a drained pipeline")
}
