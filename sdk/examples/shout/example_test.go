package shout_test

import (
	"context"
	"fmt"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/examples/shout"
	"github.com/gostash/gostash/sdk/sdktest"
)

// The filter upper-cases its field and tells the pipeline it matched, so
// the block's add_tag and add_field apply.
func Example() {
	f := &shout.Upper{Field: sdk.MustParseFieldRef("message")}
	e := sdk.NewEvent("hello, world")
	res := f.Apply(context.Background(), e, nil)
	fmt.Println(e.Message(), res == sdk.Matched)
	// Output: HELLO, WORLD true
}

// A field that is not a string is left alone and the event tagged, as
// Logstash's filters tag theirs.
func ExampleUpper_Apply_failure() {
	f := &shout.Upper{Field: sdk.MustParseFieldRef("[http][status]")}
	e := sdk.NewEvent("GET /")
	_ = e.Set("[http][status]", int64(200))
	res := f.Apply(context.Background(), e, nil)
	fmt.Println(e.Tags(), res == sdk.Failed)
	// Output: [_shoutfailure] true
}

// Validate is what `gostash --configtest` runs for a shout block, after
// the schema's checks: the path it returns points at the attribute.
func ExampleValidate() {
	comp, _ := sdk.Lookup(sdk.KindFilter, "shout")
	fmt.Print(sdktest.Errors(sdktest.Validate(comp, map[string]any{"field": "[bad"})))
	// Output: [field]: field is not a field reference: invalid field reference "[bad": missing ']'
}
