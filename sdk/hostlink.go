package sdk

import (
	"context"

	"github.com/gostash/gostash/sdk/internal/hostlink"
	"github.com/gostash/gostash/sdk/internal/wire"
	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// The engine's side of package sdk, reached by sdk/host through
// sdk/internal/hostlink: none of it is an author's API, so none of it is
// exported here. The methods are per batch, never per field, except the
// raw builder's, which sdk/host calls on the value hostAPI returns.

func init() { hostlink.SDK = hostAPI{} }

type rawField = wire.RawField

// The raw dictionary's bound is wire's, which sdk/host publishes.
var _ = [1]int{}[maxAt-wire.MaxRawNames]

type hostAPI struct{}

func (hostAPI) EncodeBatch(events []*Event) []byte { return encodeBatch(events) }
func (hostAPI) AppendDecodeBatch(events []*Event, data []byte) ([]*Event, error) {
	return appendDecodeBatch(events, data)
}
func (hostAPI) CountEvents(data []byte) (int, error) { return countEvents(data) }
func (hostAPI) SelectEvents(data []byte, idx []uint32) ([]byte, error) {
	return selectEvents(data, idx)
}

// NewEncoder, NewDecoder and NewRawBuilder return pointers whose methods
// sdk/host asserts once, when it makes its wrapper.
func (hostAPI) NewEncoder() any    { return new(batchEncoder) }
func (hostAPI) NewDecoder() any    { return new(batchDecoder) }
func (hostAPI) NewRawBuilder() any { return new(rawBuilder) }

func (hostAPI) RawView(e *Event, raw []wire.RawField) (map[string]any, []string, []wire.RawField) {
	return rawView(e, raw)
}
func (hostAPI) RawDict(e *Event) ([]string, uint64)       { return rawDict(e) }
func (hostAPI) RawSpan(e *Event) ([]byte, map[string]any) { return rawSpan(e) }
func (hostAPI) RawUniqueNames(e *Event) bool              { return rawUniqueNames(e) }

func (hostAPI) Catalog() *pluginv1.Catalog         { return catalog() }
func (hostAPI) KindToProto(k Kind) pluginv1.Kind   { return kindToProto(k) }
func (hostAPI) KindFromProto(k pluginv1.Kind) Kind { return kindOf(k) }
func (hostAPI) DiagnosticsToProto(ds Diagnostics) []*pluginv1.Diagnostic {
	return diagnosticsToProto(ds)
}
func (hostAPI) DiagnosticsFromProto(pds []*pluginv1.Diagnostic) Diagnostics {
	return diagnosticsFromProto(pds)
}
func (hostAPI) ValidateComponent(comp *Component, cfg *Config) Diagnostics {
	return validateComponent(comp, cfg)
}

// OpenFilter returns the opened filter and its instance, which only
// RunChain reads back.
func (hostAPI) OpenFilter(ctx context.Context, comp *Component, c *Config, env Env) (Filter, any, error) {
	fi, err := openFilter(ctx, comp, c, env)
	if err != nil {
		return nil, nil, err
	}
	return fi.Filter, fi, nil
}

// NewChain returns the chain of the instances OpenFilter gave.
func (hostAPI) NewChain(instances []any) func(context.Context, []*Event) []*Event {
	chain := make([]*filterInstance, len(instances))
	for i, in := range instances {
		chain[i] = in.(*filterInstance)
	}
	return func(ctx context.Context, events []*Event) []*Event { return runChain(ctx, chain, events) }
}
