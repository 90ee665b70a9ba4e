// Package lsonlytest checks a plugin's lsonly table the way a user meets
// it: through the plugin's validation, as --configtest runs it.
package lsonlytest

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
)

// Case is one Logstash setting with a value, and what --configtest must
// say about it: a warning or an error on that setting, containing Want.
type Case struct {
	Name, Value string // "true" and "false" are given as booleans
	Warning     bool   // else an error
	Want        string
}

// Run validates each case's setting on its own, beside base (the
// plugin's required settings), and wants exactly the one diagnostic.
func Run(t *testing.T, comp *sdk.Component, base map[string]any, cases []Case) {
	t.Helper()
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s=%s", c.Name, c.Value), func(t *testing.T) {
			var v any = c.Value
			if c.Value == "true" || c.Value == "false" {
				v = c.Value == "true"
			}
			settings := maps.Clone(base)
			if settings == nil {
				settings = map[string]any{}
			}
			settings[c.Name] = v
			ds := sdktest.Validate(comp, settings)
			if len(ds) != 1 {
				t.Fatalf("want one diagnostic, got %v", ds)
			}
			if ds[0].Warning != c.Warning || ds[0].Path[0] != c.Name || !strings.Contains(ds[0].Error(), c.Want) {
				t.Fatalf("got %+v, want warning=%v on %s with %q", ds[0], c.Warning, c.Name, c.Want)
			}
		})
	}
}
