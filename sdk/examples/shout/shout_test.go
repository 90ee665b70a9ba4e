package shout_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"

	_ "github.com/gostash/gostash/sdk/examples/shout"
)

func TestUpperCasesTheField(t *testing.T) {
	out := sdktest.RunFilters(t, context.Background(),
		[]sdktest.FilterSpec{{Name: "shout", Settings: map[string]any{"field": "[user][name]", "add_tag": []any{"shouted"}}}},
		[]*sdk.Event{sdktest.Event(map[string]any{"[user][name]": "ada", "message": "hi"})})
	if len(out) != 1 {
		t.Fatalf("want 1 event, got %d", len(out))
	}
	if v, _ := out[0].Get("[user][name]"); v != "ADA" {
		t.Errorf("[user][name] = %v, want ADA", v)
	}
	if out[0].Message() != "hi" {
		t.Errorf("another field changed: message = %q", out[0].Message())
	}
	if !out[0].HasTag("shouted") {
		t.Errorf("a matched event gets add_tag: tags %v", out[0].Tags())
	}
}

func TestMissingOrNonStringFieldIsTagged(t *testing.T) {
	out := sdktest.RunFilters(t, context.Background(),
		[]sdktest.FilterSpec{{Name: "shout", Settings: map[string]any{"field": "n", "add_tag": []any{"shouted"}}}},
		[]*sdk.Event{sdktest.Event(map[string]any{"n": 5}), sdktest.Event(map[string]any{"message": "x"})})
	for _, e := range out {
		if !e.HasTag("_shoutfailure") || e.HasTag("shouted") {
			t.Errorf("want _shoutfailure and no add_tag, got tags %v", e.Tags())
		}
	}
}

func TestConfigtestPointsAtABadField(t *testing.T) {
	comp := sdktest.Lookup(t, sdk.KindFilter, "shout")
	got := sdktest.Errors(sdktest.Validate(comp, map[string]any{"field": "[bad"}))
	if !strings.Contains(got, "field") || !strings.Contains(got, "field reference") {
		t.Errorf("configtest of a bad field reference: %q", got)
	}
	if got := sdktest.Errors(sdktest.Validate(comp, map[string]any{})); got != "" {
		t.Errorf("the default settings must be valid: %q", got)
	}
}
