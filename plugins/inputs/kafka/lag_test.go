package kafka

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
	"github.com/gostash/gostash/sdk/sdktest/testenv"
)

// holdingPublisher takes batches without acknowledging them until told.
type holdingPublisher struct {
	mu   sync.Mutex
	n    int
	acks []func()
}

func (p *holdingPublisher) Publish(_ context.Context, events []*sdk.Event, ack func()) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n += len(events)
	p.acks = append(p.acks, ack)
	return nil
}

func (p *holdingPublisher) release() {
	p.mu.Lock()
	acks := p.acks
	p.acks = nil
	p.mu.Unlock()
	for _, ack := range acks {
		ack()
	}
}

// lines records the logger's Info lines.
type lines struct {
	mu  sync.Mutex
	out []string
}

func (l *lines) log(msg string, args ...any) {
	l.mu.Lock()
	l.out = append(l.out, fmt.Sprint(append([]any{msg}, args...)...))
	l.mu.Unlock()
}
func (l *lines) Debug(string, ...any)          {}
func (l *lines) Info(msg string, args ...any)  { l.log(msg, args...) }
func (l *lines) Warn(msg string, args ...any)  { l.log(msg, args...) }
func (l *lines) Error(msg string, args ...any) { l.log(msg, args...) }

func (l *lines) find(s string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.out) - 1; i >= 0; i-- {
		if strings.Contains(l.out[i], s) {
			return l.out[i]
		}
	}
	return ""
}

// What the pipeline has not delivered is consumer lag, per partition, in
// the input's log; once delivered (and committed) it is gone.
func TestConsumerLagIsLogged(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic := uniqueName("in-lag")
	createTopic(t, brokers, topic, 1)
	msgs := make([]*sarama.ProducerMessage, 40)
	for i := range msgs {
		msgs[i] = &sarama.ProducerMessage{Value: sarama.StringEncoder(fmt.Sprint(i))}
	}
	produce(t, brokers, topic, msgs)

	defer func(old time.Duration) { lagEvery = old }(lagEvery)
	lagEvery = 50 * time.Millisecond
	comp := sdktest.Lookup(t, sdk.KindInput, "kafka")
	log := &lines{}
	env := sdktest.Env(t, "in")
	env.Logger = log
	in, err := comp.NewInput(context.Background(), sdktest.Config(t, comp, map[string]any{
		"bootstrap_servers": strings.Join(brokers, ","), "topics": []any{topic},
		"group_id": uniqueName("g"), "auto_offset_reset": "earliest",
	}), env)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pub := &holdingPublisher{}
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx, pub) }()

	want := fmt.Sprintf("%s/0=40", topic)
	waitLine := func(s string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for log.find(s) == "" {
			if time.Now().After(deadline) {
				t.Fatalf("no log line with %q; lines:\n%s", s, strings.Join(log.out, "\n"))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitLine(want) // read, nothing delivered: all 40 are lag
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		pub.mu.Lock()
		n := pub.n
		pub.mu.Unlock()
		if n == 40 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 40 records published", n)
		}
	}
	pub.release() // delivered: committed, no lag
	waitLine(fmt.Sprintf("%s/0=0", topic))
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
