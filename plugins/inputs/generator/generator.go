// Package generator is the generator input: it makes events from fixed
// lines, for tests, demos and benchmarks, as Logstash's generator does.
package generator

import (
	"context"
	"os"
	"time"

	"github.com/gostash/gostash/sdk"
)

var spec = sdk.NewSpec("Generates events from fixed lines: for tests, demos and benchmarks.").
	Field(sdk.StringList("lines").
		Doc("Lines to emit, in order, one event each; after the last, the first again. Set, it replaces `message`.").
		Example([]string{"line one", "line two"})).
	Field(sdk.String("message").Default("Hello world!").
		Doc("The line to emit when `lines` is not set.")).
	Field(sdk.Int("count").Default(0).
		Doc("How many events to emit; 0 means without end.")).
	Field(sdk.Float("rate").Default(0.0).
		Doc("Events per second at most; 0 means as fast as the pipeline takes them.")).
	Field(sdk.String("ecs_compatibility").Default("v8").OneOf("disabled", "v1", "v8").
		Doc("Where the host name and the sequence number go: `[host][name]` and `[event][sequence]` (v1, v8) or `host` and `sequence` (disabled)."))

func init() {
	sdk.RegisterInput("generator", spec, New).WithValidate(validate)
}

func validate(c *sdk.Config) sdk.Diagnostics {
	var ds sdk.Diagnostics
	if c.Has("lines") && len(c.StringList("lines")) == 0 {
		ds.Errorf([]string{"lines"}, "lines is empty: give at least one line, or remove it to emit `message`")
	}
	if c.Int("count") < 0 {
		ds.Errorf([]string{"count"}, "count must be 0 (without end) or more, not %d", c.Int("count"))
	}
	if c.Float("rate") < 0 {
		ds.Errorf([]string{"rate"}, "rate must be 0 (as fast as possible) or more, not %g", c.Float("rate"))
	}
	return ds
}

// Generator is the generator input.
type Generator struct {
	lines []string
	count int64
	rate  float64
	batch int
	ecs   bool
	host  string
	// coords: attach source coordinates (a decorate_events filter asks).
	coords bool

	events []*sdk.Event     // reused for every batch (see reuse)
	nested []map[string]any // [host] and [event] of each reused event
}

// New builds a generator from its settings.
func New(_ context.Context, c *sdk.Config, env sdk.Env) (sdk.Input, error) {
	g := &Generator{
		lines: c.StringList("lines"),
		count: int64(c.Int("count")),
		rate:  c.Float("rate"),
		batch: env.BatchSize,
		ecs:   c.String("ecs_compatibility") != "disabled",

		coords: env.SourceCoordinates,
	}
	if len(g.lines) == 0 {
		g.lines = []string{c.String("message")}
	}
	if g.rate > 0 {
		// Small batches at low rates, so events come out steadily rather
		// than in bursts: about ten batches a second.
		g.batch = min(g.batch, max(1, int(g.rate/10)))
	}
	g.host, _ = os.Hostname()
	return g, nil
}

// Run publishes events until count events are out or ctx is cancelled.
func (g *Generator) Run(ctx context.Context, p sdk.Publisher) error {
	var (
		seq   int64 // events made so far: the next one's sequence number
		line  int
		start     = time.Now()
		host  any = g.host // boxed once, not per event
	)
	for ctx.Err() == nil {
		n := int64(g.batch)
		if g.count > 0 {
			n = min(n, g.count-seq)
		}
		batch := g.reuse(int(n))
		// One clock read per batch: the events of a batch are made within
		// microseconds of each other.
		now := time.Now().UnixNano()
		for i, e := range batch {
			e.SetTimestampNano(now)
			f := e.Fields()
			clear(f)
			f[sdk.FieldVersion] = "1"
			f[sdk.FieldMessage] = g.lines[line]
			if g.ecs {
				hm, em := g.nested[2*i], g.nested[2*i+1]
				hm["name"] = host
				em["sequence"] = seq
				f["host"], f["event"] = hm, em
			} else {
				f["host"] = host
				f["sequence"] = seq
			}
			if g.coords {
				sdk.SetSource(e, "generator", map[string]any{"host": host, "sequence": seq})
			}
			seq++
			if line++; line == len(g.lines) {
				line = 0
			}
		}
		if err := p.Publish(ctx, batch, nil); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if g.count > 0 && seq >= g.count {
			return nil
		}
		if g.rate > 0 && !g.pace(ctx, start, seq) {
			return nil
		}
	}
	return nil
}

// reuse returns n events to fill. Publish encodes a batch before it
// returns, so the same events (and their nested maps) serve every batch:
// the generator is the benchmark source and should cost next to nothing.
func (g *Generator) reuse(n int) []*sdk.Event {
	for len(g.events) < n {
		g.events = append(g.events, sdk.NewEmptyEvent())
		g.nested = append(g.nested, make(map[string]any, 1), make(map[string]any, 1))
	}
	return g.events[:n]
}

// pace waits until emitted events are due at the configured rate; false
// means ctx was cancelled while waiting.
func (g *Generator) pace(ctx context.Context, start time.Time, emitted int64) bool {
	due := start.Add(time.Duration(float64(emitted) / g.rate * float64(time.Second)))
	wait := time.Until(due)
	if wait <= 0 {
		return true
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
