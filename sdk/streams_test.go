package sdk

import (
	"context"
	"sync"
	"testing"
	"time"

	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// blockingStream is a Read stream whose Send waits to be let go, as a
// data plane's does while the core has not read the socket.
type blockingStream struct {
	pluginv1.Plugin_ReadServer // nil: Publish calls only Send
	sent                       chan *pluginv1.InputMessage
	release                    chan struct{}
}

func (s *blockingStream) Send(m *pluginv1.InputMessage) error {
	s.sent <- m
	<-s.release
	return nil
}

// An acknowledgement returns a credit and lets the input commit: it must
// not wait behind a batch whose Send is blocked on a full socket (the
// kafka input's partitions stalled on each other that way).
func TestAckIsNotHeldUpByABlockedSend(t *testing.T) {
	s := &blockingStream{sent: make(chan *pluginv1.InputMessage), release: make(chan struct{})}
	p := &publisher{stream: s, decorate: &InputDecorator{common: &common{}}, credits: make(chan struct{}, 4), acks: map[uint64]func(){}}
	p.grant(2)
	acked := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	publish := func(ack func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.Publish(context.Background(), []*Event{NewEvent("x")}, ack); err != nil {
				t.Error(err)
			}
		}()
	}
	publish(func() { close(acked) })
	first := (<-s.sent).GetBatch().GetBatchId()
	s.release <- struct{}{}
	publish(nil)
	<-s.sent // the second batch's Send now waits
	defer close(s.release)

	go p.acked(first)
	select {
	case <-acked:
	case <-time.After(2 * time.Second):
		t.Fatal("the first batch's ack waited for the second batch's Send")
	}
}
