package host

import (
	"context"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/internal/hostlink"
	"github.com/gostash/gostash/sdk/internal/wire"
	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// sdkAPI is what package sdk lends the host (see sdk/internal/hostlink).
// sdk's init has run by the time this is initialized: host imports sdk.
var sdkAPI = hostlink.SDK.(interface {
	EncodeBatch(events []*sdk.Event) []byte
	AppendDecodeBatch(events []*sdk.Event, data []byte) ([]*sdk.Event, error)
	CountEvents(data []byte) (int, error)
	SelectEvents(data []byte, idx []uint32) ([]byte, error)
	NewEncoder() any
	NewDecoder() any
	NewRawBuilder() any
	RawView(e *sdk.Event, raw []wire.RawField) (map[string]any, []string, []wire.RawField)
	RawDict(e *sdk.Event) ([]string, uint64)
	RawSpan(e *sdk.Event) ([]byte, map[string]any)
	RawUniqueNames(e *sdk.Event) bool
	Catalog() *pluginv1.Catalog
	KindToProto(k sdk.Kind) pluginv1.Kind
	KindFromProto(k pluginv1.Kind) sdk.Kind
	DiagnosticsToProto(ds sdk.Diagnostics) []*pluginv1.Diagnostic
	DiagnosticsFromProto(pds []*pluginv1.Diagnostic) sdk.Diagnostics
	ValidateComponent(comp *sdk.Component, cfg *sdk.Config) sdk.Diagnostics
	OpenFilter(ctx context.Context, comp *sdk.Component, c *sdk.Config, env sdk.Env) (sdk.Filter, any, error)
	NewChain(instances []any) func(context.Context, []*sdk.Event) []*sdk.Event
})
