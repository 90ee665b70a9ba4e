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

// TestLogstashSpec ports logstash-filter-json's spec/filters/json_spec.rb
// (at 11fac50) and the examples of its docs/index.asciidoc: each row is
// one of their cases, named as there, with what they assert. A row with
// skip says why it cannot run here; diff names a documented difference.
func TestLogstashSpec(t *testing.T) {
	src := map[string]any{"source": "message"}
	with := func(kv ...any) map[string]any {
		m := map[string]any{"source": "message"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	msg := func(s string) map[string]any { return map[string]any{"message": s} }
	const sample = `{ "hello": "world", "list": [ 1, 2, 3 ], "hash": { "k": "v" } }`
	list := []any{int64(1), int64(2), int64(3)}
	// Logstash 8 logs it at startup: ECS is on by default and no target.
	notice := "INFO " + ecsTargetNotice
	cases := []struct {
		name     string
		settings map[string]any
		in       map[string]any
		want     map[string]any // field reference -> value
		absent   []string
		tags     []string // exactly these, in this order (nil: no tags)
		ts       time.Time
		tsNow    bool     // the event's time was set to now
		logged   []string // exactly these warnings and notices, when not nil
		skip     string
	}{
		{name: "parse message into the event", settings: src, in: msg(sample),
			want: map[string]any{"hello": "world", "list": list, "hash": map[string]any{"k": "v"}}},
		{name: "parse message into a target field", settings: with("target", "data"), in: msg(sample),
			want: map[string]any{"[data][hello]": "world", "[data][list]": list, "[data][hash]": map[string]any{"k": "v"}}, absent: []string{"hello"}},
		{name: "tag invalid json", settings: with("target", "data", "tag_on_failure", []any{"_jsonparsefailure", "_custom_failure_tag"}), in: msg("invalid json"),
			absent: []string{"data"}, tags: []string{"_jsonparsefailure", "_custom_failure_tag"}},
		// The spec runs the next two only on Logstash 7.x to 8.2, whose
		// field references could not hold brackets; 8.3+ (whose behaviour
		// gostash follows, README) sets such a key as a plain name.
		{name: "unsupported field name using `target` (Logstash 8.3+)", settings: with("target", "data"), in: msg(`{"okay":true, "un[sup]]ported": "foo", "another": "okay"}`),
			want: map[string]any{"data": map[string]any{"okay": true, "un[sup]]ported": "foo", "another": "okay"}}},
		{name: "unsupported field name without target (Logstash 8.3+)", settings: src, in: msg(`{"okay":true, "un[sup]]ported": "foo", "another": "okay"}`),
			want: map[string]any{"okay": true, "another": "okay"}},
		{name: "fixing @timestamp (#pull 733)", settings: src, in: msg(`{ "@timestamp": "2013-10-19T00:14:32.996Z" }`),
			ts: time.Date(2013, 10, 19, 0, 14, 32, 996e6, time.UTC), absent: []string{"_@timestamp"}},
		{name: "source == target", settings: map[string]any{"source": "example", "target": "example"}, in: map[string]any{"example": `{ "hello": "world" }`},
			want: map[string]any{"example": map[string]any{"hello": "world"}}},
		{name: "parse JSON array into target field", settings: with("target", "data"), in: msg(`[ { "k": "v" }, { "l": [1, 2, 3] } ]`),
			want: map[string]any{"data": []any{map[string]any{"k": "v"}, map[string]any{"l": list}}}},
		{name: "when json could not be parsed: add a json parser failure tag, in an array", settings: src, in: msg("random_message"),
			want: map[string]any{"message": "random_message"}, tags: []string{"_jsonparsefailure"}, logged: []string{notice, "WARN Error parsing json"}},
		{name: "there are two different errors added: pile them, keep the former", settings: src,
			in:   map[string]any{"message": "random_message", "tags": []any{"_anotherkinfoffailure"}},
			tags: []string{"_anotherkinfoffailure", "_jsonparsefailure"}},
		{name: "the JSON is an ArrayList: failure tag", settings: src, in: msg("[1, 2, 3]"),
			want: map[string]any{"message": "[1, 2, 3]"}, tags: []string{"_jsonparsefailure"},
			logged: []string{notice, "WARN Parsed JSON object/hash requires a target configuration option"}},
		{name: "json contains valid timestamp", settings: src, in: msg(`{"foo":"bar", "@timestamp":"2015-12-02T17:40:00.666Z"}`),
			want: map[string]any{"foo": "bar"}, ts: time.Date(2015, 12, 2, 17, 40, 0, 666e6, time.UTC)},
		{name: "json contains invalid timestamp: current time, tag, original in _@timestamp", settings: src, in: msg(`{"foo":"bar", "@timestamp":"foobar"}`),
			want: map[string]any{"foo": "bar", "_@timestamp": "foobar"}, tags: []string{"_timestampparsefailure"}, tsNow: true,
			logged: []string{notice, "WARN Unrecognized @timestamp value, setting current time to @timestamp, original in _@timestamp field"}},
		{name: "target not set in ECS mode: works, with Logstash's notice", settings: with("ecs_compatibility", "v1"), in: msg(` { "foo": "bar" } `),
			want: map[string]any{"foo": "bar"}, logged: []string{notice}},
		{name: "target set in ECS mode: works, no notice", settings: with("ecs_compatibility", "v1", "target", "[baz]"), in: msg(` { "foo": "bar" } `),
			want: map[string]any{"baz": map[string]any{"foo": "bar"}}, absent: []string{"foo"}, logged: []string{}},
		{name: "ECS disabled without target: no notice", settings: with("ecs_compatibility", "disabled"), in: msg(`{"foo":"bar"}`),
			want: map[string]any{"foo": "bar"}, logged: []string{}},
		{name: "skip_on_invalid_json false: warns, keeps the source, adds a parse-error tag",
			settings: with("remove_field", []any{"message"}, "skip_on_invalid_json", false), in: msg("this is not a json message"),
			want: map[string]any{"message": "this is not a json message"}, tags: []string{"_jsonparsefailure"}, logged: []string{notice, "WARN Error parsing json"}},
		{name: "skip_on_invalid_json true: no warning, keeps the source, no tag",
			settings: with("remove_field", []any{"message"}, "skip_on_invalid_json", true, "ecs_compatibility", "disabled"), in: msg("this is not a json message"),
			want: map[string]any{"message": "this is not a json message"}, logged: []string{}},
		// json.rb's `return unless source`: nil and false are left alone.
		{name: "filter: a null source is left alone", settings: with("add_tag", []any{"parsed"}), in: map[string]any{"message": nil}},
		{name: "filter: a false source is left alone", settings: with("add_tag", []any{"parsed"}), in: map[string]any{"message": false},
			want: map[string]any{"message": false}},
		{name: "filter: a true source is not JSON text", settings: src, in: map[string]any{"message": true}, tags: []string{"_jsonparsefailure"}},
		// docs/index.asciidoc examples.
		{name: "docs: source => message", settings: src, in: msg(`{"a":{"b":1}}`), want: map[string]any{"[a][b]": int64(1)}},
		{name: "docs: target => doc, an existing target is overwritten", settings: with("target", "doc"),
			in: map[string]any{"message": `{"a":1}`, "doc": map[string]any{"old": true}}, want: map[string]any{"doc": map[string]any{"a": int64(1)}}},
		{name: "Event API: LogStash::Json.dump(@timestamp) keeps the milliseconds", skip: "Ruby event API (Json.dump of a Timestamp object); the time itself is asserted above"},
		{name: "metrics and logger mocks (have_received(:warn) with anything())", skip: "rspec mocks of the Ruby logger; the warnings themselves are asserted through logged"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.skip != "" {
				t.Skip(c.skip)
			}
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
			if tags := e.Tags(); !slices.Equal(tags, c.tags) {
				t.Errorf("tags = %q, want %q", tags, c.tags)
			}
			ts, _ := e.Timestamp()
			switch {
			case c.tsNow:
				if ts.Before(before.Add(-time.Second)) || ts.After(time.Now()) {
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
			if c.logged != nil {
				if got := logged(t, c.settings, c.in); !slices.Equal(got, c.logged) {
					t.Errorf("logged %q, want %q", got, c.logged)
				}
			}
		})
	}
}

// levels records warnings and notices as "LEVEL message".
type levels struct {
	mu  sync.Mutex
	got []string
}

func (l *levels) add(level, msg string) {
	l.mu.Lock()
	l.got = append(l.got, level+" "+msg)
	l.mu.Unlock()
}
func (l *levels) Debug(string, ...any)       {}
func (l *levels) Info(msg string, _ ...any)  { l.add("INFO", msg) }
func (l *levels) Warn(msg string, _ ...any)  { l.add("WARN", msg) }
func (l *levels) Error(msg string, _ ...any) { l.add("ERROR", msg) }

// logged is what a new filter logs when it starts and filters one event.
func logged(t *testing.T, settings, fields map[string]any) []string {
	t.Helper()
	comp := sdktest.Lookup(t, sdk.KindFilter, "json")
	rec := &levels{}
	env := sdktest.Env(t, "json")
	env.Logger = rec
	f, err := comp.NewFilter(context.Background(), sdktest.Config(t, comp, settings), env)
	if err != nil {
		t.Fatal(err)
	}
	f.Apply(context.Background(), sdktest.Event(fields), nil)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]string{}, rec.got...)
}

// TestLogstashOptions: every option of Logstash's docs, with its type and
// default, and ecs_compatibility's values.
func TestLogstashOptions(t *testing.T) {
	comp := sdktest.Lookup(t, sdk.KindFilter, "json")
	cfg := sdktest.Config(t, comp, map[string]any{"source": "message"})
	if got := cfg.Bool("skip_on_invalid_json"); got {
		t.Errorf("skip_on_invalid_json defaults to %v, want false", got)
	}
	if got := cfg.StringList("tag_on_failure"); !slices.Equal(got, []string{"_jsonparsefailure"}) {
		t.Errorf("tag_on_failure defaults to %q", got)
	}
	if got := cfg.String("target"); got != "" {
		t.Errorf("target defaults to %q, want none", got)
	}
	if got := cfg.String("ecs_compatibility"); got != "v8" {
		t.Errorf("ecs_compatibility defaults to %q, want v8 (Logstash 8's pipeline.ecs_compatibility)", got)
	}
	for _, v := range []string{"disabled", "v1", "v8"} {
		if ds := sdktest.Validate(comp, map[string]any{"source": "m", "ecs_compatibility": v}); ds.Err() != nil {
			t.Errorf("ecs_compatibility %q: %v", v, ds.Err())
		}
	}
	if ds := sdktest.Validate(comp, map[string]any{"source": "m", "ecs_compatibility": "v2"}); ds.Err() == nil || !strings.Contains(ds.Err().Error(), "ecs_compatibility") {
		t.Errorf("ecs_compatibility v2: %v, want an error naming the setting", ds.Err())
	}
}
