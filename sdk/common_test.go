package sdk

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// An input's options apply as Logstash's decorate does: type only when the
// event has none, add_field appending to a field the codec already set,
// then tags.
func TestInputDecorate(t *testing.T) {
	d, err := NewInputDecorator(NewConfig(map[string]any{
		"type":      "syslog",
		"tags":      []any{"in"},
		"add_field": map[string]any{"host": "%{src}", "[app][name]": "web"},
	}))
	if err != nil {
		t.Fatal(err)
	}
	e := NewEvent("m")
	_ = e.Set("host", "a")
	_ = e.Set("src", "b")
	d.Decorate(e)
	if got := e.Fields()["type"]; got != "syslog" {
		t.Errorf("type %v", got)
	}
	if got, _ := e.Get("host"); !slices.Equal(asStrings(got), []string{"a", "b"}) {
		t.Errorf("host %v, want [a b]: add_field appends to a field the event has", got)
	}
	if got, _ := e.Get("[app][name]"); got != "web" {
		t.Errorf("[app][name] %v", got)
	}
	if !e.HasTag("in") {
		t.Errorf("tags %v", e.Tags())
	}
	typed := NewEvent("m")
	_ = typed.Set("type", "kept")
	d.Decorate(typed)
	if got := typed.Fields()["type"]; got != "kept" {
		t.Errorf("type of an event that had one: %v", got)
	}
	// A codec's single tag as a string becomes a list, as Logstash's
	// add_tags sets Array(tags) back, even when it already holds the tag.
	tagged := NewEvent("m")
	_ = tagged.Set("tags", "in")
	d.Decorate(tagged)
	if got, _ := tagged.Get("tags"); !reflect.DeepEqual(got, []any{"in"}) {
		t.Errorf("tags %#v, want [in]", got)
	}
}

func asStrings(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// Every common option is checked by the SDK's own validation, which a
// third-party plugin's --configtest runs: each problem at its setting
// and entry.
func TestValidateCommonOptions(t *testing.T) {
	comp := &Component{Kind: KindFilter, Name: "f", Spec: NewSpec("f")}
	ds := validateComponent(comp, NewConfig(map[string]any{
		"when":         "message ==",
		"add_field":    map[string]any{"[a][": "x", "ok": "%{[b][}"},
		"add_tag":      []any{"fine-%{x}", "%{}"},
		"remove_field": []any{"[%{x}]", "[a]b"},
		"remove_tag":   []any{"%{+yyyy.q}"},
	}))
	var got []string
	for _, d := range ds {
		got = append(got, d.Summary+" @ "+strings.Join(d.Path, "/"))
	}
	want := []string{
		"Invalid when expression @ when",
		"Invalid field reference in add_field @ add_field/[a][",
		"Invalid template in add_field @ add_field/ok",
		"Invalid field reference in remove_field @ remove_field/1",
		"Invalid template in add_tag @ add_tag/1",
		"Invalid template in remove_tag @ remove_tag/0",
	}
	if !slices.Equal(got, want) {
		t.Errorf("diagnostics\n got %q\nwant %q", got, want)
	}
	if _, err := openFilter(context.Background(), &Component{Kind: KindFilter, Name: "f", Spec: NewSpec("f"), NewFilter: func(context.Context, *Config, Env) (Filter, error) { return nil, nil }},
		NewConfig(map[string]any{"remove_field": []any{"[a]b"}}), Env{}); err == nil || !strings.Contains(err.Error(), "remove_field") {
		t.Errorf("opening with a bad remove_field: %v", err)
	}
}

// add_field as Logstash's decorators apply it (filters/base_spec.rb and
// Decorators.add_fields): entries in the order written, so a value may
// use a field an earlier entry added; a list value adds each element; a
// field that exists becomes a list, a null one a one-value list.
func TestAddFieldLogstash(t *testing.T) {
	for _, tt := range []struct {
		name   string
		config string
		fields map[string]any
		want   map[string]any
	}{
		{"a later entry sees an earlier one, whatever the names' order",
			`{"add_field": {"z": "1", "a": "%{z}"}}`, nil,
			map[string]any{"z": "1", "a": "1"}},
		{"a list value adds each (base_spec: adding multiple values to one field)",
			`{"add_field": {"new_field": ["new_value", "new_value_2"]}}`, nil,
			map[string]any{"new_field": []any{"new_value", "new_value_2"}}},
		{"an existing string becomes a list",
			`{"add_field": {"f": "b"}}`, map[string]any{"f": "a"},
			map[string]any{"f": []any{"a", "b"}}},
		{"an existing list gets the values appended",
			`{"add_field": {"f": ["c", "%{g}"]}}`, map[string]any{"f": []any{"a", "b"}, "g": "d"},
			map[string]any{"f": []any{"a", "b", "c", "d"}, "g": "d"}},
		{"a null field is an empty list (Ruby's Array(nil))",
			`{"add_field": {"f": "x"}}`, map[string]any{"f": nil},
			map[string]any{"f": []any{"x"}}},
		{"a dynamic name",
			`{"add_field": {"foo_%{somefield}": "Hello world, from %{host}"}}`, map[string]any{"somefield": "s", "host": "h"},
			map[string]any{"somefield": "s", "host": "h", "foo_s": "Hello world, from h"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := afterMatch(t, tt.config, tt.fields); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// add_tag, remove_tag and remove_field, the cases of Logstash's
// logstash-core/spec/logstash/filters/base_spec.rb.
func TestFilterMatchedLogstashBaseSpec(t *testing.T) {
	for _, tt := range []struct {
		name   string
		config string
		fields map[string]any
		want   map[string]any
	}{
		{"add_tag to no tags", `{"add_tag": ["test"]}`, nil, map[string]any{"tags": []any{"test"}}},
		{"add_tag to a list", `{"add_tag": ["test"]}`, map[string]any{"tags": []any{"t1", "t2"}}, map[string]any{"tags": []any{"t1", "t2", "test"}}},
		{"add_tag to a string", `{"add_tag": ["bar"]}`, map[string]any{"tags": "foo"}, map[string]any{"tags": []any{"foo", "bar"}}},
		// Logstash's spec wants ["foo", "foo"] ("completely weird"): a tag
		// is added once here (docs/pipeline-language.md).
		{"add_tag of a tag the event has", `{"add_tag": ["foo"]}`, map[string]any{"tags": "foo"}, map[string]any{"tags": []any{"foo"}}},
		{"remove_tag from a string it is not: a list", `{"remove_tag": ["t2", "t3"]}`, map[string]any{"tags": "foo"}, map[string]any{"tags": []any{"foo"}}},
		{"remove_tag from a string it is", `{"remove_tag": ["t2", "t3"]}`, map[string]any{"tags": "t2"}, map[string]any{"tags": []any{}}},
		{"remove_tag from a list", `{"remove_tag": ["t2", "t3"]}`, map[string]any{"tags": []any{"t1", "t2", "t3"}}, map[string]any{"tags": []any{"t1"}}},
		{"remove_tag of another tag", `{"remove_tag": ["t2", "t3"]}`, map[string]any{"tags": []any{"t4"}}, map[string]any{"tags": []any{"t4"}}},
		{"remove_tag with a dynamic value", `{"remove_tag": ["%{blackhole}"]}`, map[string]any{"tags": []any{"t1", "goaway", "t3"}, "blackhole": "goaway"},
			map[string]any{"tags": []any{"t1", "t3"}, "blackhole": "goaway"}},
		{"remove_field", `{"remove_field": ["t2", "t3"]}`, map[string]any{"t1": "one", "t2": "two", "t3": "three"}, map[string]any{"t1": "one"}},
		{"remove_field on tags", `{"remove_field": ["tags"]}`, map[string]any{"tags": "foo"}, map[string]any{}},
		{"remove_field on deep objects", `{"remove_field": ["[t1][t2]"]}`, map[string]any{"t1": map[string]any{"t2": "two", "t3": "three"}},
			map[string]any{"t1": map[string]any{"t3": "three"}}},
		{"remove_field on an array", `{"remove_field": ["[t1][0]"]}`, map[string]any{"t1": []any{"t2", "t3"}}, map[string]any{"t1": []any{"t3"}}},
		{"remove_field with a dynamic name", `{"remove_field": ["%{blackhole}"]}`, map[string]any{"blackhole": "go", "go": "away"}, map[string]any{"blackhole": "go"}},
		{"neither add_tag nor remove_tag: tags untouched", `{}`, map[string]any{"tags": map[string]any{"blackhole": "go"}}, map[string]any{"tags": map[string]any{"blackhole": "go"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := afterMatch(t, tt.config, tt.fields); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// afterMatch is the fields of an event holding fields once a filter with
// the common options config (JSON, keys in order) has succeeded on it.
func afterMatch(t *testing.T, config string, fields map[string]any) map[string]any {
	t.Helper()
	cfg, err := ParseConfig([]byte(config))
	if err != nil {
		t.Fatal(err)
	}
	co, err := openCommon(KindFilter, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := NewEvent("")
	e.Delete("message")
	for k, v := range fields {
		_ = e.Set(k, v)
	}
	co.matched(e)
	got := e.Fields()
	delete(got, "@timestamp")
	delete(got, "@version")
	return got
}

// remove_tag runs on every event a filter matches: an event that does not
// have the tag, the usual case, costs no allocation (a string tags field
// becoming a list aside).
func TestRemoveTagAllocs(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{"remove_tag": ["_grokparsefailure", "%{kind}"]}`))
	if err != nil {
		t.Fatal(err)
	}
	co, err := openCommon(KindFilter, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := NewEvent("x")
	_ = e.Set("kind", "k")
	e.AddTag("t1")
	if n := testing.AllocsPerRun(100, func() { co.matched(e) }); n != 0 {
		t.Errorf("remove_tag of tags the event does not have: %v allocations an event, want 0", n)
	}
	if got := e.Tags(); !slices.Equal(got, []string{"t1"}) {
		t.Errorf("tags = %v, want [t1]", got)
	}
}
