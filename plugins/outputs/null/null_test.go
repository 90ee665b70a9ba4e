package null

import (
	"context"
	"testing"

	"github.com/gostash/gostash/sdk"
)

func TestAcceptsEverything(t *testing.T) {
	comp, ok := sdk.Lookup(sdk.KindOutput, "null")
	if !ok {
		t.Fatal("null output not registered")
	}
	out, err := comp.NewOutput(context.Background(), sdk.NewConfig(nil), sdk.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Write(context.Background(), []*sdk.Event{sdk.NewEvent("a"), sdk.NewEvent("b")}); err != nil {
		t.Fatalf("null output refused events: %v", err)
	}
}
