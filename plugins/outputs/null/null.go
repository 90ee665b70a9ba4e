// Package null is the null output: it accepts every event and writes
// nothing, as Logstash's null output does. It is for benchmarks and for
// pipelines whose filters do the work.
package null

import (
	"context"

	"github.com/gostash/gostash/sdk"
)

func init() {
	sdk.RegisterOutput("null", sdk.NewSpec("Accepts every event and writes nothing (for benchmarks)."),
		func(context.Context, *sdk.Config, sdk.Env) (sdk.Output, error) { return output{}, nil })
}

type output struct{}

func (output) Write(context.Context, []*sdk.Event) error { return nil }

// WriteCount lets the SDK skip decoding batches nobody looks at.
func (output) WriteCount(context.Context, int) error { return nil }
