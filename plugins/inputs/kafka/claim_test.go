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
// off: every record is published once, in order, when sarama closes the
// channel (a cooperative revoke), the claim returns, and the last offset
// is marked. A lost wake-up hangs the claim.
func TestConsumeClaimDeliversEverythingInOrder(t *testing.T) {
	for round := range 10 {
		rng := rand.New(rand.NewPCG(uint64(round), 9))
		in := &Input{set: &settings{codec: "plain", fetchBytes: 1000, fetchMaxBytes: 1 << 20}, log: hclog.NewNullLogger(),
			batch: 1 + rng.IntN(40), delay: time.Hour, lag: map[string]map[int32]*partitionState{}}
		pub := &slowPublisher{rng: rand.New(rand.NewPCG(uint64(round), 10))}
		h := &handler{in: in, p: pub, window: newCommitWindow(1 << 30)}
		msgs := make(chan *sarama.ConsumerMessage, 1+rng.IntN(256))
		const n = 3000
		feed := rand.New(rand.NewPCG(uint64(round), 11))
		go func() {
			for i := 0; i < n; i++ {
				msgs <- &sarama.ConsumerMessage{Topic: "t", Offset: int64(i), Value: []byte(strconv.Itoa(i)), Key: make([]byte, feed.IntN(300))}
				if feed.IntN(50) == 0 {
					time.Sleep(time.Duration(feed.IntN(300)) * time.Microsecond)
				}
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
		if len(pub.got) != n {
			t.Fatalf("round %d: %d published, want %d", round, len(pub.got), n)
		}
		for i, m := range pub.got {
			if m != strconv.Itoa(i) {
				t.Fatalf("round %d: event %d is record %s", round, i, m)
			}
		}
		if c := in.lag["t"][0].commit; c != n {
			t.Fatalf("round %d: marked %d, want %d", round, c, n)
		}
	}
}
