// Package shout is a complete example of a third-party gostash plugin: a
// filter that upper-cases a field. It is its own Go module, built and
// tested the way an outside author's plugin is; the binary is
// cmd/gostash-shout.
//
// Importing the package registers the filter with the SDK, as the built-in
// plugins do:
//
//	filter "shout" "loud" { field = "message" }
//
// See docs/plugin-authoring.md.
package shout

import (
	"context"
	"strings"

	"github.com/gostash/gostash/sdk"
)

func init() {
	sdk.RegisterFilter("shout", Spec(), New).WithValidate(Validate)
}

// Spec is the filter's schema: the core checks every shout block against
// it, and `gostash plugin describe shout` and the README show it.
func Spec() *sdk.Spec {
	return sdk.NewSpec("Upper-cases a string field.").
		WithVersion("1.0.0").
		Field(sdk.String("field").Default("message").
			Doc("The field to upper-case (a field reference).").
			Example("[user][name]"))
}

// Validate runs at --configtest time: it checks what the schema cannot,
// and never connects anywhere.
func Validate(c *sdk.Config) sdk.Diagnostics {
	var ds sdk.Diagnostics
	if _, err := sdk.ParseFieldRef(c.String("field")); err != nil {
		ds.Errorf([]string{"field"}, "field is not a field reference: %v", err)
	}
	return ds
}

// New opens a filter from a block's settings: parse them once here, not
// per event.
func New(_ context.Context, c *sdk.Config, env sdk.Env) (sdk.Filter, error) {
	ref, err := sdk.ParseFieldRef(c.String("field"))
	if err != nil {
		return nil, err
	}
	env.Logger.Info("shout filter ready", "field", ref.String())
	return &Upper{Field: ref}, nil
}

// Upper upper-cases Field. An event whose field is missing or not a
// string is tagged _shoutfailure.
type Upper struct{ Field sdk.FieldRef }

// Filter runs per event. It keeps nothing of the event after it returns,
// hence Transient.
func (u *Upper) Apply(_ context.Context, e *sdk.Event, _ func(*sdk.Event)) sdk.Result {
	v, ok := u.Field.Get(e)
	s, isString := v.(string)
	if !ok || !isString {
		e.AddTag("_shoutfailure")
		return sdk.Failed
	}
	_ = u.Field.Set(e, strings.ToUpper(s))
	return sdk.Matched
}

// Transient tells the runtime Upper keeps nothing it read, so it may
// reuse a batch's memory for the next one.
func (*Upper) Transient() {}
