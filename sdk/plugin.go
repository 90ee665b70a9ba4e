package sdk

import (
	"context"
	"errors"
	"time"
)

// Input reads events from a source and publishes them in batches.
//
// Run is called once per instance. It reads until ctx is cancelled (the
// pipeline is stopping: return nil) or the source ends (return nil or
// ErrEndOfInput). Publish blocks while the pipeline is full, which is how
// backpressure reaches the source.
type Input interface {
	Run(ctx context.Context, p Publisher) error
}

// Publisher takes batches from an input.
type Publisher interface {
	// Publish hands events to the pipeline. ack, when not nil, is called
	// exactly once, after every output has accepted every event of the
	// batch: only then may the input commit its position (file offsets,
	// Kafka offsets). A batch not acked before a crash is read again.
	Publish(ctx context.Context, events []*Event, ack func()) error
}

// Gauge is a value an input reports about itself, such as a Kafka
// consumer's lag on one partition. The core shows it at /metrics as
// gostash_<Name>, labelled with the pipeline, the plugin and Labels.
type Gauge struct {
	Name   string // a Prometheus name without the gostash_ prefix
	Labels map[string]string
	Value  float64
	// Lag marks a gauge of how far behind its source the input is: while
	// their sum grows report after report, the input is called lagging.
	Lag bool
}

// GaugeReporter is implemented by the Publisher the plugin runtime hands
// an input.
type GaugeReporter interface {
	// ReportGauges sends the input's gauges; each report replaces the last.
	ReportGauges(gauges []Gauge) error
}

// ReportGauges reports an input's gauges through pub, when pub can carry
// them (a test harness's may not: then it does nothing).
func ReportGauges(pub Publisher, gauges []Gauge) error {
	if r, ok := pub.(GaugeReporter); ok {
		return r.ReportGauges(gauges)
	}
	return nil
}

// Credits says how many batches pub lets an input have unacknowledged at
// once (the pipeline's credits: Publish blocks beyond them), or 0 when
// pub does not say (a test harness's publisher). An input that bounds
// what it reads again after a crash counts these in.
func Credits(pub Publisher) int {
	if c, ok := pub.(interface{ Credits() int }); ok {
		return c.Credits()
	}
	return 0
}

// ReportWriteGauges reports an output's gauges while its Write runs, such
// as documents waiting for a retry inside Write: ctx is the one Write was
// given. Each report replaces the last of that Write; its answer clears
// them. The core adds up the gauges of an output's concurrent Writes (by
// name and labels), so report amounts, not ages. Outside a plugin process
// (a test harness) it does nothing.
func ReportWriteGauges(ctx context.Context, gauges []Gauge) error {
	if r, ok := ctx.Value(writeGaugesKey{}).(func([]Gauge) error); ok {
		return r(gauges)
	}
	return nil
}

type writeGaugesKey struct{}

// Filter changes events one at a time: the pipeline applies it to each
// event of a batch in turn.
//
// Apply returns Matched when it did its job, so the common options
// (add_field, add_tag, remove_field, remove_tag) apply; Failed when it did
// not (it tags the event itself, e.g. _grokparsefailure); Dropped to drop
// the event. emit adds a new event (a clone or a split) after this one;
// emitted events inherit the batch's delivery tracking.
//
// Events belong to the pipeline: after Apply returns, an event and the
// maps and lists in it may be reused for a later batch. A filter that
// needs an event later (to aggregate, to deduplicate) keeps e.Clone().
type Filter interface {
	Apply(ctx context.Context, e *Event, emit func(*Event)) Result
}

// Transient is implemented by a Filter that keeps nothing it read from an
// event (no event, map, list or string, not even a substring of one) once
// Apply returns. When every filter of a chain is transient, the runtime
// reads the next batch into the memory of the last instead of allocating
// (the strings of a decoded event share the batch's memory). Most filters
// are transient; one that deduplicates or aggregates is not.
type Transient interface{ Transient() }

// Result is what a Filter did with an event.
type Result uint8

const (
	Matched Result = iota
	Failed
	Dropped
)

// Output writes batches to a destination.
//
// Write returns nil when every event was accepted. To report per-event
// outcomes it returns a *WriteError: events marked Retry are sent again
// later, events marked Reject are dead-lettered. Any other error retries
// the whole batch. An event is accepted once it is written where a crash
// of this process cannot lose it. As with filters, the events are reused
// after Write returns: an output that sends asynchronously encodes them
// (or clones them) before it returns.
type Output interface {
	Write(ctx context.Context, events []*Event) error
}

// CountingOutput is implemented by outputs that never look at the events
// (the null output, the dots codec): the SDK then skips decoding their
// batches and hands them only the count. An output with a `when` guard
// always gets events.
type CountingOutput interface {
	Output
	WriteCount(ctx context.Context, n int) error
}

// Closer is implemented by components that hold resources. Outputs flush
// before Close returns.
type Closer interface {
	Close(ctx context.Context) error
}

// ErrEndOfInput is returned by an input whose source has ended.
var ErrEndOfInput = errors.New("end of input")

// WriteError reports per-event outcomes of an Output.Write.
type WriteError struct {
	Items []ItemError
}

// ItemError is the outcome of one event of a batch.
type ItemError struct {
	Index      int
	Reject     bool          // never writable: dead-letter it
	RetryAfter time.Duration // for retries; 0 lets the core choose
	Reason     string
}

func (e *WriteError) Error() string {
	if len(e.Items) == 0 {
		return "write failed"
	}
	return e.Items[0].Reason
}

// Retry marks event i of a batch for a retry.
func (e *WriteError) Retry(i int, after time.Duration, reason string) {
	e.Items = append(e.Items, ItemError{Index: i, RetryAfter: after, Reason: reason})
}

// RejectItem marks event i of a batch as never writable.
func (e *WriteError) RejectItem(i int, reason string) {
	e.Items = append(e.Items, ItemError{Index: i, Reject: true, Reason: reason})
}

// DefaultBatchSize is the pipeline's batch size when none is set.
// Logstash's default is 125, but in gostash a batch is also what crosses a
// process boundary, and each crossing has a fixed cost (gRPC framing,
// system calls): 500 events a batch took a third off the CPU of a file ->
// null pipeline against 125, for under a megabyte more in flight.
const DefaultBatchSize = 500

// DefaultBatchDelay is the pipeline's batch delay when none is set, as in
// Logstash (pipeline.batch.delay).
const DefaultBatchDelay = 50 * time.Millisecond

// DefaultPipelineID is the id of a pipeline that does not set one, as in
// Logstash: Env.Pipeline holds it then.
const DefaultPipelineID = "main"

// Env is what a component gets when it is opened.
type Env struct {
	// Name is the block's name label, Pipeline the pipeline's id.
	Name, Pipeline string
	// Logger writes to the core's log under the component's name.
	Logger Logger
	// DataDir is a directory under --path.data for this instance's state.
	DataDir string
	// BatchSize is the pipeline's batch size: inputs publish batches of
	// about this many events. Serve and sdktest.Env always set it and
	// BatchDelay, so a plugin needs no default of its own.
	BatchSize int
	// BatchDelay is how long an input may wait to fill a batch before it
	// publishes a partial one (Logstash's pipeline.batch.delay).
	BatchDelay time.Duration
	// SourceCoordinates asks an input to attach where each event came from
	// (SetSource): the pipeline has a decorate_events filter. When it is
	// false, attach nothing: nobody reads them.
	SourceCoordinates bool
}

// Logger is the structured logger a component writes to. Arguments are
// alternating keys and values, as in log/slog.
type Logger interface {
	Debug(msg string, args ...any)
	Info(msg string, args ...any)
	Warn(msg string, args ...any)
	Error(msg string, args ...any)
}
