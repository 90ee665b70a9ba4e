package json

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
)

func run(t *testing.T, settings map[string]any, fields map[string]any) *sdk.Event {
	t.Helper()
	out := sdktest.RunFilters(t, context.Background(), []sdktest.FilterSpec{{Name: "json", Settings: settings}},
		[]*sdk.Event{sdktest.Event(fields)})
	return out[0]
}

var eventTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC) // sdktest.Event's

// TestSettings covers every setting, the tags, @timestamp and @metadata.
func TestSettings(t *testing.T) {
	msg := func(s string) map[string]any { return map[string]any{"message": s} }
	src := map[string]any{"source": "message"}
	with := func(kv ...any) map[string]any {
		m := map[string]any{"source": "message"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	cases := []struct {
		name     string
		settings map[string]any
		in       map[string]any
		want     map[string]any // field reference -> value
		absent   []string
		tags     []string // exactly these (nil: none)
		ts       time.Time
		tsNow    bool // the event's time was set to now
		meta     map[string]any
	}{
		{name: "object at the root", settings: src, in: msg(`{"hello":"world","list":[1,2,3],"hash":{"k":"v"},"f":1.5,"b":true,"n":null}`),
			want: map[string]any{"hello": "world", "list": []any{int64(1), int64(2), int64(3)}, "[hash][k]": "v", "f": 1.5, "b": true, "n": nil, "message": `{"hello":"world","list":[1,2,3],"hash":{"k":"v"},"f":1.5,"b":true,"n":null}`}},
		{name: "existing fields are replaced", settings: src, in: map[string]any{"message": `{"a":{"x":1}}`, "a": map[string]any{"y": 2}, "c": "kept"},
			want: map[string]any{"[a][x]": int64(1), "c": "kept"}, absent: []string{"[a][y]"}},
		{name: "source is the target", settings: map[string]any{"source": "example", "target": "example"}, in: map[string]any{"example": `{"hello":"world"}`},
			want: map[string]any{"[example][hello]": "world"}},
		{name: "target", settings: with("target", "[data]"), in: msg(`{"hello":"world","list":[1]}`),
			want: map[string]any{"[data][hello]": "world", "[data][list]": []any{int64(1)}}, absent: []string{"hello"}},
		{name: "nested target", settings: with("target", "[a][b]"), in: msg(`{"k":"v"}`), want: map[string]any{"[a][b][k]": "v"}},
		{name: "array with a target", settings: with("target", "data"), in: msg(`[{"k":"v"},{"l":[1,2,3]}]`),
			want: map[string]any{"data": []any{map[string]any{"k": "v"}, map[string]any{"l": []any{int64(1), int64(2), int64(3)}}}}},
		{name: "scalar with a target", settings: with("target", "n"), in: msg(` 42 `), want: map[string]any{"n": int64(42)}},
		{name: "array without a target is a failure", settings: src, in: msg(`[1, 2, 3]`),
			want: map[string]any{"message": `[1, 2, 3]`}, tags: []string{"_jsonparsefailure"}},
		{name: "scalar without a target is a failure", settings: src, in: msg(`"text"`), tags: []string{"_jsonparsefailure"}},
		{name: "invalid JSON", settings: src, in: msg(`random_message`), want: map[string]any{"message": "random_message"}, tags: []string{"_jsonparsefailure"}},
		{name: "truncated JSON sets nothing", settings: src, in: msg(`{"a":1,"b":`), absent: []string{"a"}, tags: []string{"_jsonparsefailure"}},
		{name: "empty text is not JSON", settings: src, in: msg(``), tags: []string{"_jsonparsefailure"}},
		{name: "failure tags pile up", settings: src, in: map[string]any{"message": "x", "tags": []any{"_other"}}, tags: []string{"_other", "_jsonparsefailure"}},
		{name: "tag_on_failure", settings: with("tag_on_failure", []any{"_jsonparsefailure", "_custom_failure_tag"}), in: msg(`nope`),
			tags: []string{"_jsonparsefailure", "_custom_failure_tag"}},
		{name: "tag_on_failure empty", settings: with("tag_on_failure", []any{}), in: msg(`nope`)},
		{name: "skip_on_invalid_json", settings: with("skip_on_invalid_json", true, "add_tag", []any{"parsed"}), in: msg(`this is not a json message`),
			want: map[string]any{"message": "this is not a json message"}},
		{name: "skip_on_invalid_json still needs a target for an array", settings: with("skip_on_invalid_json", true), in: msg(`[1]`),
			tags: []string{"_jsonparsefailure"}},
		{name: "a source that is not text is not JSON", settings: map[string]any{"source": "n"}, in: map[string]any{"n": 5}, tags: []string{"_jsonparsefailure"}},
		{name: "no source: left alone, no decoration", settings: map[string]any{"source": "nothere", "add_tag": []any{"parsed"}}, in: msg(`{"a":1}`), absent: []string{"a"}},
		{name: "parsed: decoration", settings: with("add_tag", []any{"parsed"}, "remove_field", []any{"message"}), in: msg(`{"a":1}`),
			want: map[string]any{"a": int64(1)}, absent: []string{"message"}, tags: []string{"parsed"}},
		{name: "failed: no decoration", settings: with("add_tag", []any{"parsed"}), in: msg(`{`), tags: []string{"_jsonparsefailure"}},
		{name: "@timestamp becomes the event's time", settings: src, in: msg(`{"foo":"bar","@timestamp":"2015-12-02T17:40:00.666Z"}`),
			want: map[string]any{"foo": "bar"}, absent: []string{"_@timestamp"}, ts: time.Date(2015, 12, 2, 17, 40, 0, 666e6, time.UTC)},
		{name: "@timestamp with an offset", settings: src, in: msg(`{"@timestamp":"2013-10-19T02:14:32.996+02:00"}`),
			ts: time.Date(2013, 10, 19, 0, 14, 32, 996e6, time.UTC)},
		{name: "@timestamp that is not a time", settings: src, in: msg(`{"foo":"bar","@timestamp":"foobar"}`),
			want: map[string]any{"foo": "bar", "_@timestamp": "foobar"}, tags: []string{"_timestampparsefailure"}, tsNow: true},
		{name: "@timestamp that is a number is not a time", settings: src, in: msg(`{"@timestamp":1449078000}`),
			want: map[string]any{"_@timestamp": "1449078000"}, tags: []string{"_timestampparsefailure"}, tsNow: true},
		{name: "@timestamp null is dropped", settings: src, in: msg(`{"@timestamp":null,"a":1}`),
			want: map[string]any{"a": int64(1)}, absent: []string{"_@timestamp"}},
		{name: "@timestamp under a target stays a field", settings: with("target", "doc"), in: msg(`{"@timestamp":"2015-12-02T17:40:00.666Z"}`),
			want: map[string]any{"[doc][@timestamp]": "2015-12-02T17:40:00.666Z"}},
		{name: "@metadata replaces the metadata", settings: src, in: map[string]any{"message": `{"@metadata":{"index":"logs"},"a":1}`, "[@metadata][old]": "x"},
			want: map[string]any{"a": int64(1), "[@metadata][index]": "logs"}, absent: []string{"[@metadata][old]"}},
		{name: "@metadata that is not an object is a failure", settings: src, in: msg(`{"@metadata":5,"a":1}`),
			want: map[string]any{"a": int64(1)}, tags: []string{"_jsonparsefailure"}},
		{name: "keys are field references", settings: src, in: msg(`{"[http][status]":200,"[@metadata][k]":"m"}`),
			want: map[string]any{"[http][status]": int64(200), "[@metadata][k]": "m"}},
		{name: "a key that is not a reference is a plain name", settings: src, in: msg(`{"okay":true,"un[sup]]ported":"foo"}`),
			want: map[string]any{"okay": true}},
		{name: "a key that cannot be set is a failure", settings: src, in: map[string]any{"message": `{"[a][b]":1,"c":2}`, "a": "text"},
			want: map[string]any{"a": "text", "c": int64(2)}, tags: []string{"_jsonparsefailure"}},
		{name: "escapes and unicode", settings: src, in: msg(`{"s":"a\"b\u00e9\n","big":12345678901234567890}`),
			want: map[string]any{"s": "a\"bé\n", "big": "12345678901234567890"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := time.Now()
			e := run(t, c.settings, c.in)
			for ref, want := range c.want {
				got, ok := e.Get(ref)
				if !ok || !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v (%v), want %#v", ref, got, ok, want)
				}
			}
			for _, ref := range c.absent {
				if v, ok := e.Get(ref); ok {
					t.Errorf("%s = %#v, want absent", ref, v)
				}
			}
			if tags := e.Tags(); !slices.Equal(tags, c.tags) && (len(tags) > 0 || len(c.tags) > 0) {
				t.Errorf("tags = %q, want %q", tags, c.tags)
			}
			ts, _ := e.Timestamp()
			switch {
			case c.tsNow:
				if ts.Before(before.Add(-time.Second)) {
					t.Errorf("@timestamp = %v, want now", ts)
				}
			case !c.ts.IsZero():
				if !ts.Equal(c.ts) {
					t.Errorf("@timestamp = %v, want %v", ts, c.ts)
				}
			default:
				if !ts.Equal(eventTime) {
					t.Errorf("@timestamp = %v, want unchanged %v", ts, eventTime)
				}
			}
		})
	}
}

// TestValidate: configtest catches a missing source and bad references.
func TestValidate(t *testing.T) {
	comp := sdktest.Lookup(t, sdk.KindFilter, "json")
	for _, c := range []struct {
		settings map[string]any
		want     string
	}{
		{map[string]any{}, "source"},
		{map[string]any{"source": "a[b"}, "invalid field reference"},
		{map[string]any{"source": "m", "target": "[x"}, "missing ']'"},
	} {
		ds := sdktest.Validate(comp, c.settings)
		if ds.Err() == nil || !strings.Contains(ds.Err().Error(), c.want) {
			t.Errorf("%v: got %v, want an error about %q", c.settings, ds.Err(), c.want)
		}
	}
	if ds := sdktest.Validate(comp, map[string]any{"source": "message", "target": "[a][b]"}); ds.Err() != nil {
		t.Errorf("valid settings: %v", ds.Err())
	}
}

type recorder struct {
	mu    sync.Mutex
	warns []string
}

func (r *recorder) Debug(string, ...any) {}
func (r *recorder) Info(string, ...any)  {}
func (r *recorder) Error(string, ...any) {}
func (r *recorder) Warn(msg string, _ ...any) {
	r.mu.Lock()
	r.warns = append(r.warns, msg)
	r.mu.Unlock()
}

// TestWarnings: invalid JSON and an array without a target are logged,
// at most once per interval; skip_on_invalid_json logs nothing.
func TestWarnings(t *testing.T) {
	comp := sdktest.Lookup(t, sdk.KindFilter, "json")
	open := func(settings map[string]any) (sdk.Filter, *recorder) {
		rec := &recorder{}
		env := sdktest.Env(t, "json")
		env.Logger = rec
		f, err := comp.NewFilter(context.Background(), sdktest.Config(t, comp, settings), env)
		if err != nil {
			t.Fatal(err)
		}
		return f, rec
	}
	f, rec := open(map[string]any{"source": "message"})
	for _, m := range []string{"nope", "[1]", "nope again"} {
		f.Apply(context.Background(), sdk.NewEvent(m), nil)
	}
	if len(rec.warns) != 1 || rec.warns[0] != "Error parsing json" {
		t.Errorf("warnings = %q, want one (rate-limited)", rec.warns)
	}
	f, rec = open(map[string]any{"source": "message"})
	f.Apply(context.Background(), sdk.NewEvent("[1]"), nil)
	if len(rec.warns) != 1 || !strings.Contains(rec.warns[0], "requires a target") {
		t.Errorf("warnings = %q, want the target one", rec.warns)
	}
	f, rec = open(map[string]any{"source": "message", "skip_on_invalid_json": true})
	f.Apply(context.Background(), sdk.NewEvent("nope"), nil)
	if len(rec.warns) != 0 {
		t.Errorf("warnings = %q with skip_on_invalid_json, want none", rec.warns)
	}

	var l limiter
	now := time.Now()
	if _, ok := l.allow(now); !ok {
		t.Fatal("first warning not let through")
	}
	l.allow(now.Add(time.Second))
	l.allow(now.Add(2 * time.Second))
	if n, ok := l.allow(now.Add(warnEvery)); !ok || n != 2 {
		t.Errorf("after the interval: %d suppressed, %v; want 2, true", n, ok)
	}
}

// TestKeysMoveBetweenLines: keys are set in the order written (the last
// of a key written twice wins) and their references remembered by place;
// lines whose keys change places still get their own.
func TestKeysMoveBetweenLines(t *testing.T) {
	lines := []string{`{"a":1,"b":"x"}`, `{"b":"y","a":2}`, `{"[n][m]":3,"a":4,"a":5}`, `{"a":6,"[n][m]":7,"@timestamp":"2026-12-04T10:00:00Z"}`}
	events := make([]*sdk.Event, len(lines))
	for i, l := range lines {
		events[i] = sdk.NewEvent(l)
	}
	out := sdktest.RunFilters(t, context.Background(), []sdktest.FilterSpec{{Name: "json", Settings: map[string]any{"source": "message"}}}, events)
	want := []map[string]any{{"a": int64(1), "b": "x"}, {"a": int64(2), "b": "y"},
		{"a": int64(5), "n": map[string]any{"m": int64(3)}}, {"a": int64(6), "n": map[string]any{"m": int64(7)}}}
	for i, e := range out {
		for k, v := range want[i] {
			if got, _ := e.Get(k); !reflect.DeepEqual(got, v) {
				t.Errorf("line %d: %s = %#v, want %#v", i, k, got, v)
			}
		}
	}
	if ts, _ := out[3].Timestamp(); ts.Format(time.RFC3339) != "2026-12-04T10:00:00Z" {
		t.Errorf("@timestamp = %v", ts)
	}
}
