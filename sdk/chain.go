package sdk

import (
	"context"
	"fmt"
	"time"
)

// filterInstance is an opened filter with its common options compiled:
// the `when` guard and what to do on success. The plugin runtime and the
// test harness both run filters through it, so a filter behaves the same
// in a test as in a pipeline.
type filterInstance struct {
	Name   string
	Filter Filter
	common *common
	logger Logger
}

// fieldName is a field reference that may be a template: one without
// %{...} is parsed once, here, not for every event.
type fieldName struct {
	t      *Template
	ref    FieldRef
	static bool
}

// resolve is the reference for e; false when the rendered name is not one.
func (n fieldName) resolve(e *Event) (FieldRef, bool) {
	if n.static {
		return n.ref, true
	}
	ref, err := parseFieldRef(n.t.Render(e)) // for this event only
	return ref, err == nil
}

// openFilter builds a filter instance from its component and settings.
func openFilter(ctx context.Context, comp *Component, c *Config, env Env) (*filterInstance, error) {
	if comp.Kind != KindFilter {
		return nil, fmt.Errorf("%s %q is not a filter", comp.Kind, comp.Name)
	}
	f, err := comp.NewFilter(ctx, c, env)
	if err != nil {
		return nil, err
	}
	co, err := openCommon(KindFilter, c, env.Logger)
	if err != nil {
		return nil, err
	}
	return &filterInstance{Name: env.Name, Filter: f, common: co, logger: env.Logger}, nil
}

// applies reports whether the instance's `when` holds for e. An
// expression that fails to evaluate counts as false (the guard counts and
// logs it): the filter is skipped and the event goes on unchanged.
func (fi *filterInstance) applies(e *Event) bool { return fi.common.passes(e) }

// runChain runs events through the filters in order and returns the
// events that go on. Dropped events are gone; emitted events follow the
// event that emitted them and pass through the rest of the chain.
// events' backing array is reused.
func runChain(ctx context.Context, chain []*filterInstance, events []*Event) []*Event {
	for _, fi := range chain {
		out := events[:0]
		var extra []*Event
		emit := func(e *Event) { extra = append(extra, e) }
		for _, e := range events {
			if !fi.applies(e) {
				out = append(out, e)
				continue
			}
			extra = extra[:0]
			switch fi.Filter.Apply(ctx, e, emit) {
			case Matched:
				fi.common.matched(e)
				out = append(out, e)
			case Failed:
				out = append(out, e)
			case Dropped:
			}
			if len(extra) > 0 {
				// out may alias events ahead of the read position, so
				// splice the emitted events in through a fresh slice.
				grown := make([]*Event, len(out), len(out)+len(extra)+len(events))
				copy(grown, out)
				out = append(grown, extra...)
			}
		}
		events = out
	}
	return events
}

// InputDecorator applies an input's common options (type, tags,
// add_field) to each event it reads.
type InputDecorator struct{ common *common }

// NewInputDecorator compiles an input's common options.
func NewInputDecorator(c *Config) (*InputDecorator, error) {
	co, err := openCommon(KindInput, c, nil)
	if err != nil {
		return nil, err
	}
	return &InputDecorator{co}, nil
}

// Decorate applies the options to e, as Logstash's decorate does.
func (d *InputDecorator) Decorate(e *Event) { d.common.decorate(e) }

// filterCount is what one filter of a chain did with a request's events,
// for the core's per-filter statistics. Counting is a few increments per
// event per filter, next to the filter's own work.
type filterCount struct{ in, out, dropped, nanos uint64 }

// timeEvery: a filter's time is measured on one event in timeEvery and
// scaled up; reading the clock around every event would cost more than a
// cheap filter itself.
const timeEvery = 16

// runChainPieces runs events through the filters as runChain does, with
// the same events in the same order, but hands them to flush in pieces of
// at most max events as they come out, so a chain that emits many events
// per event (clones, splits) holds one piece and one event's emits per
// filter, never its whole result. Each event goes through the whole chain
// before the next one starts. The last piece (possibly empty) is left for
// the caller: runChainPieces returns it, with what each filter did. An error from flush stops the
// chain and is returned.
func runChainPieces(ctx context.Context, chain []*filterInstance, events []*Event, max int, flush func([]*Event) error) ([]*Event, []filterCount, error) {
	r := &pieceRunner{ctx: ctx, chain: chain, max: max, flush: flush, extras: make([][]*Event, len(chain)), counts: make([]filterCount, len(chain))}
	r.emits = make([]func(*Event), len(chain))
	for i := range chain {
		r.emits[i] = func(e *Event) { r.extras[i] = append(r.extras[i], e) }
	}
	for _, e := range events {
		r.run(0, e)
		if r.err != nil {
			return nil, nil, r.err
		}
	}
	return r.out, r.counts, nil
}

type pieceRunner struct {
	ctx    context.Context
	chain  []*filterInstance
	max    int
	flush  func([]*Event) error
	err    error
	out    []*Event
	extras [][]*Event // per filter: what the event it runs on emitted
	emits  []func(*Event)
	counts []filterCount
}

// run passes e through filters i and on. A filter's emits are kept in
// that filter's own buffer while they pass through the filters after it:
// those use buffers of their own, so one buffer per filter is enough.
func (r *pieceRunner) run(i int, e *Event) {
	if r.err != nil {
		return
	}
	if i == len(r.chain) {
		r.out = append(r.out, e)
		if len(r.out) >= r.max {
			r.err = r.flush(r.out)
			r.out = r.out[:0]
		}
		return
	}
	fi := r.chain[i]
	if !fi.applies(e) {
		r.run(i+1, e)
		return
	}
	start := len(r.extras[i])
	c := &r.counts[i]
	c.in++
	var began time.Time
	timed := c.in%timeEvery == 1
	if timed {
		began = time.Now()
	}
	res := fi.Filter.Apply(r.ctx, e, r.emits[i])
	if res == Matched {
		fi.common.matched(e)
	}
	if timed {
		c.nanos += uint64(time.Since(began)) * timeEvery
	}
	switch res {
	case Matched, Failed:
		c.out++
		r.run(i+1, e)
	case Dropped:
		c.dropped++
	}
	c.out += uint64(len(r.extras[i]) - start)
	// Indexing, not ranging: the buffer may grow while its events run.
	for j := start; j < len(r.extras[i]); j++ {
		r.run(i+1, r.extras[i][j])
	}
	clear(r.extras[i][start:])
	r.extras[i] = r.extras[i][:start]
}
