package kafka

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
)

// mockBroker is a one-broker cluster leading partition 0 of topic "t",
// which answers produce requests with produce; closed when t ends.
func mockBroker(t *testing.T, produce sarama.MockResponse) *sarama.MockBroker {
	b := sarama.NewMockBroker(t, 1)
	t.Cleanup(b.Close)
	b.SetHandlerByMap(map[string]sarama.MockResponse{
		"ApiVersionsRequest": sarama.NewMockApiVersionsResponse(t).SetApiKeys([]sarama.ApiVersionsResponseKey{
			{ApiKey: 0, MaxVersion: 9}, {ApiKey: 3, MaxVersion: 10}, {ApiKey: 18, MaxVersion: 3}, {ApiKey: 22, MaxVersion: 4},
		}),
		"MetadataRequest": sarama.NewMockMetadataResponse(t).SetBroker(b.Addr(), b.BrokerID()).
			SetController(b.BrokerID()).SetLeader("t", 0, b.BrokerID()),
		"InitProducerIDRequest": sarama.NewMockInitProducerIDResponse(t).SetProducerID(7),
		"ProduceRequest":        produce,
	})
	return b
}

// Faults a real broker will not give on demand, from sarama's mock broker:
// what the output does with each answer to a produce request.
func TestProduceAnswers(t *testing.T) {
	for _, c := range []struct {
		name     string
		settings map[string]any
		answers  []sarama.KError // to the produce requests, in turn; the last repeats
		// want: the reason every event is rejected with ("" for written),
		// and how many produce and InitProducerId requests were sent.
		want          string
		produces, ids int
	}{
		{"a leader election is retried, with new metadata", map[string]any{"acks": "1"},
			[]sarama.KError{sarama.ErrNotLeaderForPartition, sarama.ErrNoError}, "", 2, 0},
		{"retries used up: dead-lettered", map[string]any{"acks": "1", "retries": 1},
			[]sarama.KError{sarama.ErrNotEnoughReplicas}, "gave up after 1 retries", 2, 0},
		{"a refused record is not retried", map[string]any{"acks": "1"},
			[]sarama.KError{sarama.ErrInvalidRecord}, "kafka: " + sarama.ErrInvalidRecord.Error(), 1, 0},
		{"idempotent: a producer the broker lost gets a new ID", map[string]any{"acks": "all"},
			[]sarama.KError{sarama.ErrOutOfOrderSequenceNumber, sarama.ErrNoError}, "", 2, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			var answers []any
			for _, e := range c.answers {
				answers = append(answers, sarama.NewMockProduceResponse(t).SetError("t", 0, e))
			}
			b := mockBroker(t, sarama.NewMockSequence(answers...))
			settings := map[string]any{"bootstrap_servers": b.Addr(), "topic_id": "t", "retry_backoff_ms": 1}
			for k, v := range c.settings {
				settings[k] = v
			}
			var events []*sdk.Event
			for i := range 5 {
				events = append(events, sdktest.Event(map[string]any{"message": fmt.Sprint(i)}))
			}
			err := sdktest.RunOutput(t, context.Background(), sdktest.OutputSpec{Name: "kafka", Settings: settings}, events)
			var werr *sdk.WriteError
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("write: %v, want every event written", err)
			case c.want != "" && (!errors.As(err, &werr) || len(werr.Items) != len(events)):
				t.Fatalf("write: %v, want every event rejected", err)
			}
			if werr != nil {
				for _, it := range werr.Items {
					if !it.Reject || !strings.Contains(it.Reason, c.want) {
						t.Fatalf("outcome %+v, want rejected with %q", it, c.want)
					}
				}
			}
			var produces, ids int
			for _, rr := range b.History() {
				switch rr.Request.(type) {
				case *sarama.ProduceRequest:
					produces++
				case *sarama.InitProducerIDRequest:
					ids++
				}
			}
			if produces != c.produces || ids != c.ids {
				t.Errorf("%d produce and %d InitProducerId requests, want %d and %d", produces, ids, c.produces, c.ids)
			}
		})
	}
}

// A batch whose fate stays unknown after the producer's retries (the
// broker may have written it) goes back to the pipeline; its next send
// takes a new producer ID first, so its old sequence numbers cannot make
// the broker drop it as a duplicate.
func TestUnknownFateTakesANewProducerID(t *testing.T) {
	timeout := sarama.NewMockProduceResponse(t).SetError("t", 0, sarama.ErrRequestTimedOut)
	// The first attempt and its 3 retries time out, then it is taken.
	b := mockBroker(t, sarama.NewMockSequence(timeout, timeout, timeout, timeout, sarama.NewMockProduceResponse(t)))
	d := sdktest.DeliverOutput(t, context.Background(), sdktest.OutputSpec{Name: "kafka", Settings: map[string]any{
		"bootstrap_servers": b.Addr(), "topic_id": "t", "retry_backoff_ms": 1,
	}}, []*sdk.Event{sdktest.Event(map[string]any{"message": "a"})}, 3)
	if d.Err != nil || len(d.Accepted) != 1 || d.Writes != 2 {
		t.Fatalf("delivery %+v, want the event accepted on the second write", d)
	}
	var ids int
	for _, rr := range b.History() {
		if _, ok := rr.Request.(*sarama.InitProducerIDRequest); ok {
			ids++
		}
	}
	if ids != 2 {
		t.Errorf("%d InitProducerId requests, want 2 (one at the start, one before the send again)", ids)
	}
}

// A topic the cluster does not know (being created, or auto-creation off)
// is retried, not dead-lettered at once: a new topic is unknown for a
// moment on a busy cluster. Only past the grace are its records rejected,
// with a reason that says what to do.
func TestUnknownTopicIsWaitedFor(t *testing.T) {
	defer func(g time.Duration) { unknownTopicGrace = g }(unknownTopicGrace)
	unknownTopicGrace = 300 * time.Millisecond
	b := mockBroker(t, sarama.NewMockProduceResponse(t))
	settings := map[string]any{"bootstrap_servers": b.Addr(), "topic_id": "missing", "retry_backoff_ms": 1}
	comp := sdktest.Lookup(t, sdk.KindOutput, "kafka")
	out, err := comp.NewOutput(context.Background(), sdktest.Config(t, comp, settings), sdktest.Env(t, "kafka"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.(sdk.Closer).Close(context.Background())
	write := func() *sdk.WriteError {
		var werr *sdk.WriteError
		if err := out.Write(context.Background(), []*sdk.Event{sdktest.Event(map[string]any{"message": "m"})}); !errors.As(err, &werr) || len(werr.Items) != 1 {
			t.Fatalf("write: %v, want a per-event outcome", err)
		}
		return werr
	}
	if it := write().Items[0]; it.Reject || !strings.Contains(it.Reason, "not known to the cluster yet") {
		t.Fatalf("first write: %+v, want a retry while the topic may be being created", it)
	}
	time.Sleep(unknownTopicGrace)
	if it := write().Items[0]; !it.Reject || !strings.Contains(it.Reason, `topic "missing" does not exist`) {
		t.Fatalf("after the grace: %+v, want rejected saying the topic does not exist", it)
	}
}
