package config

import (
	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/host"

	// Built-in plugins whose own checks a golden case shows. Only this
	// test links them: the core itself never imports a plugin.
	_ "github.com/gostash/gostash/plugins/filters/dissect"
	_ "github.com/gostash/gostash/plugins/filters/json"
	_ "github.com/gostash/gostash/plugins/filters/mutate"
)

// goldenSchemas is the fake catalog, then the real plugins linked above
// (their own schemas), so that a golden case can show a built-in
// plugin's Validate error placed on the user's source. Types lists the
// fake ones only, so the suggestions in the other cases stay as they are.
type goldenSchemas struct{ fakeSchemas }

func (s goldenSchemas) Lookup(kind sdk.Kind, typ string) ([]sdk.Field, bool) {
	if f, ok := s.fakeSchemas.Lookup(kind, typ); ok {
		return f, true
	}
	if c, ok := sdk.Lookup(kind, typ); ok {
		return c.Fields(), true
	}
	return nil, false
}

// goldenValidate runs a real plugin's checks, as its process would for
// --configtest (host.ValidateComponent on the JSON the core sends), and
// the fake ones for the fake plugins.
func goldenValidate(b *Block) sdk.Diagnostics {
	if _, fake := testSchemas[b.Kind][b.Type]; !fake {
		if c, ok := sdk.Lookup(b.Kind, b.Type); ok {
			cfg, err := sdk.ParseConfig(b.ConfigJSON)
			if err != nil {
				return sdk.Diagnostics{{Summary: err.Error()}}
			}
			return host.ValidateComponent(c, cfg)
		}
	}
	return fakeValidate(b.Config)
}
