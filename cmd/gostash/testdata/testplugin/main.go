// Command testplugin is a third-party plugin for the CLI's tests. It
// misbehaves on purpose: it prints to stdout before the handshake, and its
// "slow" output takes its time, so tests can show that neither breaks
// gostash.
package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gostash/gostash/sdk"
)

func init() {
	// A plugin (or a library it uses) that prints to stdout must not
	// break go-plugin's handshake, which also uses stdout.
	fmt.Println("hello from the test plugin's init")

	sdk.RegisterFilter("tagger", sdk.NewSpec("Tags every event with its tag setting.").
		Field(sdk.String("tag").Required().Doc("The tag to add.").Example("seen")),
		func(_ context.Context, c *sdk.Config, env sdk.Env) (sdk.Filter, error) {
			env.Logger.Warn("tagger opened", "tag", c.String("tag"))
			env.Logger.Debug("tagger debug detail", "tag", c.String("tag"))
			return tagger(c.String("tag")), nil
		})
	sdk.RegisterOutput("slow", sdk.NewSpec("Accepts one batch per delay.").
		Field(sdk.Duration("delay").Default("100ms")),
		func(_ context.Context, c *sdk.Config, _ sdk.Env) (sdk.Output, error) {
			return slow(c.Duration("delay")), nil
		})
	sdk.RegisterOutput("flaky", sdk.NewSpec("Rejects events whose message contains reject, asks to retry every event the first time it sees it, and prints what it accepts.").
		Field(sdk.String("reject").Default("reject")),
		func(_ context.Context, c *sdk.Config, _ sdk.Env) (sdk.Output, error) {
			return &flaky{reject: c.String("reject"), seen: map[string]bool{}}, nil
		})
}

// flaky exercises the per-event outcomes of Output.Write.
type flaky struct {
	reject string
	seen   map[string]bool
}

func (f *flaky) Write(_ context.Context, events []*sdk.Event) error {
	var we sdk.WriteError
	var accepted strings.Builder
	for i, e := range events {
		msg := e.Message()
		switch {
		case strings.Contains(msg, f.reject):
			we.RejectItem(i, "rejected on purpose")
		case !f.seen[msg]:
			f.seen[msg] = true
			we.Retry(i, 10*time.Millisecond, "not yet")
		default:
			fmt.Fprintf(&accepted, "ACCEPTED %s\n", msg)
		}
	}
	_, _ = sdk.Stdout().Write([]byte(accepted.String()))
	if len(we.Items) > 0 {
		return &we
	}
	return nil
}

type tagger string

func (t tagger) Apply(_ context.Context, e *sdk.Event, _ func(*sdk.Event)) sdk.Result {
	e.AddTag(string(t))
	return sdk.Matched
}

type slow time.Duration

func (s slow) Write(ctx context.Context, events []*sdk.Event) error {
	select {
	case <-time.After(time.Duration(s)):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func main() { sdk.Serve() }
