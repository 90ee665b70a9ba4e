package kafka

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/hashicorp/go-hclog"

	"github.com/gostash/gostash/sdk"
)

// fakeSession and fakeClaim drive ConsumeClaim without a broker, so its
// hand-over from the read-ahead can be stressed in a unit test.
type fakeSession struct {
	sarama.ConsumerGroupSession
	ctx context.Context
}

func (s fakeSession) Context() context.Context   { return s.ctx }
func (s fakeSession) Claims() map[string][]int32 { return map[string][]int32{"t": {0}} }
func (s fakeSession) MemberID() string           { return "m" }
func (s fakeSession) GenerationID() int32        { return 1 }

type fakeClaim struct {
	sarama.ConsumerGroupClaim
	msgs chan *sarama.ConsumerMessage
}

func (c fakeClaim) Topic() string                            { return "t" }
func (c fakeClaim) Partition() int32                         { return 0 }
func (c fakeClaim) InitialOffset() int64                     { return -1 }
func (c fakeClaim) HighWaterMarkOffset() int64               { return 0 }
func (c fakeClaim) Messages() <-chan *sarama.ConsumerMessage { return c.msgs }

// slowPublisher publishes slowly and acks later, in another goroutine, as the core.
type slowPublisher struct {
	mu   sync.Mutex
	got  []string
	rng  *rand.Rand
	acks sync.WaitGroup
}

func (p *slowPublisher) Publish(ctx context.Context, events []*sdk.Event, ack func()) error {
	p.mu.Lock()
	for _, e := range events {
		p.got = append(p.got, e.Message())
	}
	d := time.Duration(p.rng.IntN(50)) * time.Microsecond
	p.mu.Unlock()
	time.Sleep(d)
	p.acks.Add(1)
	go func() { defer p.acks.Done(); time.Sleep(d); ack() }()
	return nil
}

// Records fed in random bursts, the claim's batches small and its timer
// off: every whole batch is published once and in order; when sarama then
// closes the channel (a cooperative revoke) the claim returns at once
// without publishing the part batch it was filling (its partition's next
// owner reads that again), and what was published is marked. A lost
// wake-up hangs the claim.
func TestConsumeClaimDeliversEverythingInOrder(t *testing.T) {
	for round := range 10 {
		rng := rand.New(rand.NewPCG(uint64(round), 9))
		in := &Input{set: &settings{codec: "plain", fetchBytes: 1000, fetchMaxBytes: 1 << 20}, log: hclog.NewNullLogger(),
			batch: 1 + rng.IntN(40), delay: time.Hour, lag: map[string]map[int32]*partitionState{}}
		pub := &slowPublisher{rng: rand.New(rand.NewPCG(uint64(round), 10))}
		h := &handler{in: in, p: pub, window: newCommitWindow(1 << 30)}
		msgs := make(chan *sarama.ConsumerMessage, 1+rng.IntN(256))
		const n = 3000
		whole := n - n%in.batch // in batches; the rest waits for the timer, off here
		published := func() int {
			pub.mu.Lock()
			defer pub.mu.Unlock()
			return len(pub.got)
		}
		feed := rand.New(rand.NewPCG(uint64(round), 11))
		go func() {
			for i := 0; i < n; i++ {
				msgs <- &sarama.ConsumerMessage{Topic: "t", Offset: int64(i), Value: []byte(strconv.Itoa(i)), Key: make([]byte, feed.IntN(300))}
				if feed.IntN(50) == 0 {
					time.Sleep(time.Duration(feed.IntN(300)) * time.Microsecond)
				}
			}
			for deadline := time.Now().Add(20 * time.Second); published() < whole && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			close(msgs)
		}()
		done := make(chan error, 1)
		go func() { done <- h.ConsumeClaim(fakeSession{ctx: context.Background()}, fakeClaim{msgs: msgs}) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			pub.mu.Lock()
			t.Fatalf("round %d (batch %d): the claim hangs with %d of %d published", round, in.batch, len(pub.got), n)
		}
		pub.acks.Wait()
		if len(pub.got) != whole {
			t.Fatalf("round %d (batch %d): %d published, want the %d in whole batches", round, in.batch, len(pub.got), whole)
		}
		for i, m := range pub.got {
			if m != strconv.Itoa(i) {
				t.Fatalf("round %d: event %d is record %s", round, i, m)
			}
		}
		if c := in.lag["t"][0].commit; c != int64(whole) {
			t.Fatalf("round %d: marked %d, want %d", round, c, whole)
		}
	}
}

// gatePublisher holds every Publish until open is closed.
type gatePublisher struct {
	open chan struct{}
	mu   sync.Mutex
	got  int
}

func (p *gatePublisher) Publish(ctx context.Context, events []*sdk.Event, ack func()) error {
	<-p.open
	p.mu.Lock()
	p.got += len(events)
	p.mu.Unlock()
	go ack()
	return nil
}

// A cooperative revoke closes sarama's channel while the claim waits on
// the pipeline: the claim returns without publishing what it read ahead
// (a read-ahead's worth of batches would each have had to be delivered
// within the revoke's deadline, or be read twice).
func TestRevokeDoesNotPublishTheReadAhead(t *testing.T) {
	in := &Input{set: &settings{codec: "plain", fetchBytes: 1 << 20, fetchMaxBytes: 1 << 20}, log: hclog.NewNullLogger(),
		batch: 10, delay: time.Hour, lag: map[string]map[int32]*partitionState{}}
	pub := &gatePublisher{open: make(chan struct{})}
	h := &handler{in: in, p: pub, window: newCommitWindow(1 << 30)}
	msgs := make(chan *sarama.ConsumerMessage, 256)
	for i := range 200 {
		msgs <- &sarama.ConsumerMessage{Topic: "t", Offset: int64(i), Value: []byte(strconv.Itoa(i))}
	}
	done := make(chan error, 1)
	go func() { done <- h.ConsumeClaim(fakeSession{ctx: context.Background()}, fakeClaim{msgs: msgs}) }()
	// The first batch waits in Publish while the rest is read ahead.
	for deadline := time.Now().Add(5 * time.Second); len(msgs) > 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	close(msgs)
	time.Sleep(20 * time.Millisecond) // the reader sees the end
	close(pub.open)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the claim did not return after the revoke")
	}
	if pub.got != 10 {
		t.Fatalf("%d records published after the revoke, want the 10 of the batch already in Publish", pub.got)
	}
	if c := in.lag["t"][0].commit; c != 10 {
		t.Fatalf("marked up to %d, want 10", c)
	}
}
