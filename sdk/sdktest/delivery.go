package sdktest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/gostash/gostash/sdk"
)

// Delivery is what became of the events an output was given, delivered
// as the core delivers them.
type Delivery struct {
	Accepted    []*sdk.Event // in the order the output accepted them
	DeadLetters []DeadLetter // the events it rejected for good
	Writes      int          // calls to Write
	Retried     int          // events written again, counted per retry
	// Err is set when events were still being retried after the last
	// write DeliverOutput allowed.
	Err error
}

// DeadLetter is a rejected event and the output's reason, as the core
// writes it to the dead letter queue.
type DeadLetter struct {
	Event  *sdk.Event
	Reason string
}

// DeliverOutput opens the output and delivers events in one batch the way
// the core does: events a *sdk.WriteError marks Retry (or the whole batch,
// for any other error) are written again, alone and freshly decoded,
// without waiting their RetryAfter, until each is accepted or rejected or
// maxWrites writes were made; rejected events become dead letters. The
// output is closed at the end. Use it to test an output's per-event
// outcomes; RunOutput makes a single Write.
func DeliverOutput(t testing.TB, ctx context.Context, spec OutputSpec, events []*sdk.Event, maxWrites int) *Delivery {
	t.Helper()
	out, _ := openOutput(t, ctx, spec)
	d := &Delivery{}
	pending := crossWire(t, events)
	for len(pending) > 0 {
		if d.Writes == maxWrites {
			d.Err = fmt.Errorf("%d events still retried after %d writes", len(pending), d.Writes)
			break
		}
		d.Writes++
		var retry []*sdk.Event
		err := out.Write(ctx, pending)
		var werr *sdk.WriteError
		switch {
		case err == nil:
			d.Accepted = append(d.Accepted, pending...)
		case errors.As(err, &werr):
			outcome := map[int]sdk.ItemError{}
			for _, it := range werr.Items {
				outcome[it.Index] = it
			}
			for i, e := range pending {
				it, marked := outcome[i]
				switch {
				case !marked:
					d.Accepted = append(d.Accepted, e)
				case it.Reject:
					d.DeadLetters = append(d.DeadLetters, DeadLetter{Event: e, Reason: it.Reason})
				default:
					retry = append(retry, e)
				}
			}
		default: // nothing of the batch was written
			retry = pending
		}
		d.Retried += len(retry)
		pending = nil
		if len(retry) > 0 {
			pending = crossWire(t, retry)
		}
	}
	closeOutput(t, ctx, spec, out)
	return d
}
