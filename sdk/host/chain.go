package host

import (
	"context"

	"github.com/gostash/gostash/sdk"
)

// FilterInstance is an opened filter with its common options compiled:
// the `when` guard and what to do on success. A plugin process and the
// test harness both run filters this way, so a filter behaves the same in
// a test as in a pipeline.
type FilterInstance struct {
	Name   string
	Filter sdk.Filter
	impl   any
}

// OpenFilter builds a filter instance from its component and settings.
func OpenFilter(ctx context.Context, comp *sdk.Component, c *sdk.Config, env sdk.Env) (*FilterInstance, error) {
	f, impl, err := sdkAPI.OpenFilter(ctx, comp, c, env)
	if err != nil {
		return nil, err
	}
	return &FilterInstance{Name: env.Name, Filter: f, impl: impl}, nil
}

// Chain is filter instances run in order, as a plugin process runs them.
type Chain struct {
	run func(context.Context, []*sdk.Event) []*sdk.Event
}

// NewChain returns the chain of filters, in order.
func NewChain(filters ...*FilterInstance) *Chain {
	impls := make([]any, len(filters))
	for i, fi := range filters {
		impls[i] = fi.impl
	}
	return &Chain{run: sdkAPI.NewChain(impls)}
}

// Run runs events through the chain and returns the events that go on.
// Dropped events are gone; emitted events follow the event that emitted
// them and pass through the rest of the chain.
func (c *Chain) Run(ctx context.Context, events []*sdk.Event) []*sdk.Event {
	return c.run(ctx, events)
}
