package sdk

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/gostash/gostash/sdk/internal/wire"
	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// What a plugin process tells the core about its components: the
// catalog (Describe) and the checks of a block's settings (Validate).

// kindOf converts a Kind from its wire form (0 if unknown).
func kindOf(k pluginv1.Kind) Kind {
	switch k {
	case pluginv1.Kind_INPUT:
		return KindInput
	case pluginv1.Kind_FILTER:
		return KindFilter
	case pluginv1.Kind_OUTPUT:
		return KindOutput
	}
	return 0
}

// kindToProto converts a Kind to its wire form.
func kindToProto(k Kind) pluginv1.Kind {
	switch k {
	case KindInput:
		return pluginv1.Kind_INPUT
	case KindFilter:
		return pluginv1.Kind_FILTER
	case KindOutput:
		return pluginv1.Kind_OUTPUT
	}
	return pluginv1.Kind_KIND_UNSPECIFIED
}

// catalog describes the registered components as the protocol sends them.
func catalog() *pluginv1.Catalog {
	cat := &pluginv1.Catalog{ProtocolMinor: wire.ProtocolMinor, SdkVersion: wire.SDKVersion}
	for _, c := range Components() {
		pc := &pluginv1.Component{
			Name:       c.Name,
			Kind:       kindToProto(c.Kind),
			Version:    c.Spec.Version,
			Summary:    c.Spec.Summary,
			WantsStdin: c.Spec.Stdin,
		}
		for _, f := range c.Fields() {
			a := &pluginv1.Attribute{Name: f.Name, Type: string(f.Type), Required: f.Required, Doc: f.Doc, OneOf: f.OneOf}
			if f.Default != nil {
				a.DefaultJson, _ = json.Marshal(f.Default)
			}
			for _, ex := range f.Examples {
				if b, err := json.Marshal(ex); err == nil {
					a.ExamplesJson = append(a.ExamplesJson, b)
				}
			}
			pc.Attributes = append(pc.Attributes, a)
		}
		cat.Components = append(cat.Components, pc)
	}
	return cat
}

func (s *server) Describe(context.Context, *pluginv1.DescribeRequest) (*pluginv1.Catalog, error) {
	return catalog(), nil
}

func (s *server) Validate(_ context.Context, req *pluginv1.ValidateRequest) (*pluginv1.ValidateResponse, error) {
	comp, ok := Lookup(kindOf(req.Kind), req.Component)
	if !ok {
		return nil, fmt.Errorf("this plugin has no %s %q", kindOf(req.Kind), req.Component)
	}
	cfg, err := ParseConfig(req.ConfigJson)
	if err != nil {
		return nil, err
	}
	return &pluginv1.ValidateResponse{Diagnostics: diagnosticsToProto(validateComponent(comp, cfg))}, nil
}

// validateComponent runs the common options' checks and the component's
// own. It never connects anywhere.
func validateComponent(comp *Component, cfg *Config) Diagnostics {
	_, ds := compileCommon(comp.Kind, cfg, nil)
	if comp.Validate != nil {
		ds = append(ds, comp.Validate(cfg)...)
	}
	return ds
}

// diagnosticsToProto converts diagnostics to their wire form.
func diagnosticsToProto(ds Diagnostics) []*pluginv1.Diagnostic {
	out := make([]*pluginv1.Diagnostic, 0, len(ds))
	for _, d := range ds {
		pd := &pluginv1.Diagnostic{Summary: d.Summary, Detail: d.Detail, Path: d.Path}
		if d.Warning {
			pd.Severity = pluginv1.Diagnostic_WARNING
		}
		out = append(out, pd)
	}
	return out
}

// diagnosticsFromProto converts diagnostics from their wire form.
func diagnosticsFromProto(pds []*pluginv1.Diagnostic) Diagnostics {
	out := make(Diagnostics, 0, len(pds))
	for _, pd := range pds {
		out = append(out, Diagnostic{
			Warning: pd.Severity == pluginv1.Diagnostic_WARNING,
			Summary: pd.Summary, Detail: pd.Detail, Path: pd.Path,
		})
	}
	return out
}
