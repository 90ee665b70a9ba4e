package sdktest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
)

// moody asks to retry each event the first time it sees it, rejects the
// ones that say "bad", and fails the whole batch when one says "down".
type moody struct{ seen map[string]bool }

func (m *moody) Write(_ context.Context, events []*sdk.Event) error {
	var werr sdk.WriteError
	for i, e := range events {
		msg := e.Message()
		switch {
		case msg == "down":
			return errors.New("server down")
		case strings.Contains(msg, "bad"):
			werr.RejectItem(i, "bad event")
		case !m.seen[msg]:
			m.seen[msg] = true
			werr.Retry(i, 0, "busy")
		}
	}
	if len(werr.Items) > 0 {
		return &werr
	}
	return nil
}

func init() {
	sdk.RegisterOutput("sdktest_moody", sdk.NewSpec("test output"),
		func(context.Context, *sdk.Config, sdk.Env) (sdk.Output, error) {
			return &moody{seen: map[string]bool{}}, nil
		})
}

func TestDeliverOutputRetriesAndDeadLetters(t *testing.T) {
	d := sdktest.DeliverOutput(t, context.Background(), sdktest.OutputSpec{Name: "sdktest_moody"},
		[]*sdk.Event{sdk.NewEvent("a"), sdk.NewEvent("bad b"), sdk.NewEvent("c")}, 5)
	if d.Err != nil {
		t.Fatal(d.Err)
	}
	var accepted []string
	for _, e := range d.Accepted {
		accepted = append(accepted, e.Message())
	}
	if strings.Join(accepted, ",") != "a,c" {
		t.Errorf("accepted %v, want a and c after their retry", accepted)
	}
	if len(d.DeadLetters) != 1 || d.DeadLetters[0].Event.Message() != "bad b" || d.DeadLetters[0].Reason != "bad event" {
		t.Errorf("dead letters %+v, want bad b with its reason", d.DeadLetters)
	}
	if d.Writes != 2 || d.Retried != 2 {
		t.Errorf("%d writes, %d retried: want 2 and 2", d.Writes, d.Retried)
	}
}

func TestDeliverOutputStopsAtMaxWrites(t *testing.T) {
	d := sdktest.DeliverOutput(t, context.Background(), sdktest.OutputSpec{Name: "sdktest_moody"},
		[]*sdk.Event{sdk.NewEvent("x"), sdk.NewEvent("down")}, 3)
	if d.Err == nil || d.Writes != 3 || len(d.Accepted) != 0 || d.Retried != 6 {
		t.Errorf("a batch failing as a whole: %d writes, %d retried, %d accepted, err %v", d.Writes, d.Retried, len(d.Accepted), d.Err)
	}
}
