package kafka

import (
	"context"
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
