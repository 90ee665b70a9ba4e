package decorate_events

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
)

// kafkaEvent is an event as the kafka input hands it over when the
// pipeline has this filter.
func kafkaEvent() *sdk.Event {
	e := sdktest.Event(map[string]any{"message": "hello"})
	sdk.SetSource(e, "kafka", map[string]any{
		"topic": "logs", "consumer_group": "g", "partition": int64(2), "offset": int64(41),
		"key": "k", "timestamp": int64(1700000000123), "msg_size": int64(5),
		"headers": map[string]any{"src": "kcat"},
	})
	return e
}

func run(t *testing.T, settings map[string]any, events ...*sdk.Event) []*sdk.Event {
	t.Helper()
	return sdktest.RunFilters(t, context.Background(), []sdktest.FilterSpec{{Name: "decorate_events", Settings: settings}}, events)
}

func TestDefaultTargetIsLogstashsMetadata(t *testing.T) {
	out := run(t, map[string]any{}, kafkaEvent())
	got, _ := out[0].Metadata()["kafka"].(map[string]any)
	want := map[string]any{"topic": "logs", "consumer_group": "g", "partition": int64(2), "offset": int64(41),
		"key": "k", "timestamp": int64(1700000000123), "msg_size": int64(5)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("[@metadata][kafka] = %v, want %v", got, want)
	}
	if _, ok := out[0].Fields()["kafka"]; ok {
		t.Fatal("the default target is @metadata: nothing visible is added")
	}
}

func TestVisibleTargetWithHeadersAndSubset(t *testing.T) {
	out := run(t, map[string]any{"target": "[kafka]", "headers": true, "fields": []any{"topic", "offset", "msg_size"}}, kafkaEvent())
	got, _ := out[0].Fields()["kafka"].(map[string]any)
	want := map[string]any{"topic": "logs", "offset": int64(41), "msg_size": int64(5), "headers": map[string]any{"src": "kcat"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("[kafka] = %v, want %v", got, want)
	}
}

func TestEventWithoutCoordinatesIsLeftAlone(t *testing.T) {
	out := run(t, map[string]any{"target": "[src]"}, sdktest.Event(map[string]any{"message": "x"}))
	if _, ok := out[0].Fields()["src"]; ok || out[0].HasTag("_decorate_events_failure") {
		t.Fatalf("event %v: an event no input decorated is passed on unchanged", out[0].Fields())
	}
}

func TestValidate(t *testing.T) {
	comp := sdktest.Lookup(t, sdk.KindFilter, "decorate_events")
	ds := sdktest.Validate(comp, map[string]any{"fields": []any{"topic", "partiton"}, "target": "[a]["})
	var msgs []string
	for _, d := range ds {
		msgs = append(msgs, d.Error())
	}
	all := strings.Join(msgs, "\n")
	if !strings.Contains(all, `"partiton"`) || !strings.Contains(all, "target") {
		t.Fatalf("diagnostics:\n%s\nwant the unknown coordinate and the bad target", all)
	}
}
