// Command gostash-shout is an example third-party plugin: a filter that
// upper-cases a field. Build it, put it where gostash looks for plugins,
// and use it like a built-in:
//
//	go build -o plugins/gostash-shout ./sdk/examples/shout
//
//	filter "shout" "loud" { field = "message" }
//
// See docs/plugin-authoring.md.
package main

import (
	"context"
	"strings"

	"github.com/gostash/gostash/sdk"
)

func init() {
	spec := sdk.NewSpec("Upper-cases a string field.").
		WithVersion("1.0.0").
		Field(sdk.String("field").Default("message").Doc("The field to upper-case (a field reference)."))
	sdk.RegisterFilter("shout", spec, newShout).WithValidate(validate)
}

// validate runs at --configtest time: check what the schema cannot.
func validate(c *sdk.Config) sdk.Diagnostics {
	var ds sdk.Diagnostics
	if _, err := sdk.ParseFieldRef(c.String("field")); err != nil {
		ds.Errorf([]string{"field"}, "field is not a field reference: %v", err)
	}
	return ds
}

type shout struct{ field sdk.FieldRef }

// newShout parses the settings once; Filter runs per event.
func newShout(_ context.Context, c *sdk.Config, env sdk.Env) (sdk.Filter, error) {
	ref, err := sdk.ParseFieldRef(c.String("field"))
	if err != nil {
		return nil, err
	}
	env.Logger.Info("shout filter ready", "field", ref.String())
	return &shout{field: ref}, nil
}

func (s *shout) Filter(_ context.Context, e *sdk.Event, _ func(*sdk.Event)) sdk.Result {
	v, ok := s.field.Get(e)
	str, isString := v.(string)
	if !ok || !isString {
		e.AddTag("_shoutfailure")
		return sdk.Failed
	}
	_ = s.field.Set(e, strings.ToUpper(str))
	return sdk.Matched
}

func main() { sdk.Serve() }
