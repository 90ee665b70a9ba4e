package sdk

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseFieldRef(t *testing.T) {
	tests := []struct {
		in   string
		path []string
	}{
		{"message", []string{"message"}},
		{"[message]", []string{"message"}},
		{"[a][b]", []string{"a", "b"}},
		{"[a][b][c]", []string{"a", "b", "c"}},
		{"@timestamp", []string{"@timestamp"}},
		{"[@metadata][kafka][topic]", []string{"@metadata", "kafka", "topic"}},
		{"@metadata", []string{"@metadata"}},
		{"a.b", []string{"a.b"}}, // dots are part of the name, as in Logstash
		{"with space", []string{"with space"}},
		{"[with space][x-y]", []string{"with space", "x-y"}},
		{"[0]", []string{"0"}},
	}
	for _, tt := range tests {
		r, err := ParseFieldRef(tt.in)
		if err != nil {
			t.Errorf("ParseFieldRef(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(r.Path(), tt.path) || r.String() != tt.in {
			t.Errorf("ParseFieldRef(%q) = %q %v, want path %v", tt.in, r.String(), r.Path(), tt.path)
		}
	}
}

func TestParseFieldRefErrors(t *testing.T) {
	tests := []struct{ in, mention string }{
		{"", "empty"},
		{"a[b]", "[a][b]"},
		{"a]", "[a][b]"},
		{"[a]b", "expected '['"},
		{"[a][b", "missing ']'"},
		{"[]", "empty"},
		{"[a][]", "empty"},
		{"[a[b]]", "nested"},
		{"[a] [b]", "expected '['"},
	}
	for _, tt := range tests {
		_, err := ParseFieldRef(tt.in)
		if err == nil {
			t.Errorf("ParseFieldRef(%q) succeeded, want an error", tt.in)
			continue
		}
		if !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("ParseFieldRef(%q) error %q should mention %q", tt.in, err, tt.mention)
		}
	}
}

func TestFieldRefGet(t *testing.T) {
	e := NewEmptyEvent()
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	e.SetTimestamp(at)
	e.Fields()["message"] = "m"
	e.Fields()["host"] = map[string]any{"name": "web-1", "tags": []any{"x"}}
	e.Fields()["null"] = nil
	e.Metadata()["kafka"] = map[string]any{"topic": "logs"}

	tests := []struct {
		ref   string
		want  any
		found bool
	}{
		{"message", "m", true},
		{"[message]", "m", true},
		{"[host][name]", "web-1", true},
		{"[host][tags]", []any{"x"}, true},
		{"[host][port]", nil, false},
		{"[message][x]", nil, false},   // through a string
		{"[host][tags][0]", "x", true}, // a number indexes a list, as Logstash
		{"[host][tags][-1]", "x", true},
		{"[host][tags][1]", nil, false},
		{"[host][tags][-2]", nil, false},
		{"[host][tags][x]", nil, false},
		{"null", nil, true}, // present, and null
		{"nope", nil, false},
		{"@timestamp", at, true},
		{"[@timestamp]", at, true},
		{"[@metadata][kafka][topic]", "logs", true},
		{"[@metadata]", map[string]any{"kafka": map[string]any{"topic": "logs"}}, true},
		{"[@metadata][none]", nil, false},
	}
	for _, tt := range tests {
		got, found := MustParseFieldRef(tt.ref).Get(e)
		if found != tt.found || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Get(%s) = %#v, %v; want %#v, %v", tt.ref, got, found, tt.want, tt.found)
		}
	}
	if _, ok := MustParseFieldRef("[@metadata][x]").Get(NewEmptyEvent()); ok {
		t.Error("metadata lookup on an event without metadata found something")
	}
	if _, ok := MustParseFieldRef("@timestamp").Get(NewEmptyEvent()); ok {
		t.Error("@timestamp found on an event without one")
	}
	if _, ok := NewEmptyEvent().Get("[bad"); ok {
		t.Error("Event.Get of an invalid reference found something")
	}
}

func TestFieldRefSet(t *testing.T) {
	tests := []struct {
		name   string
		ref    string
		value  any
		check  string // reference to read back
		want   any
		fields map[string]any // the fields after, when checked whole
	}{
		{"top level", "a", "x", "a", "x", map[string]any{"a": "x"}},
		{"creates nested maps", "[a][b][c]", int64(1), "[a][b][c]", int64(1),
			map[string]any{"a": map[string]any{"b": map[string]any{"c": int64(1)}}}},
		{"normalizes Go values", "[n]", 7, "[n]", int64(7), nil},
		{"normalizes string lists", "[l]", []string{"p", "q"}, "[l]", []any{"p", "q"}, nil},
		{"metadata", "[@metadata][x]", "y", "[@metadata][x]", "y", map[string]any{}},
		{"timestamp from time", "@timestamp", time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
			"@timestamp", time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), map[string]any{}},
		{"timestamp from ISO text", "@timestamp", "2024-05-06T07:08:09.5Z",
			"@timestamp", time.Date(2024, 5, 6, 7, 8, 9, 5e8, time.UTC), map[string]any{}},
		{"timestamp from epoch millis", "@timestamp", int64(1714979289000),
			"@timestamp", time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), map[string]any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEmptyEvent()
			if err := e.Set(tt.ref, tt.value); err != nil {
				t.Fatalf("Set(%s): %v", tt.ref, err)
			}
			got, ok := e.Get(tt.check)
			if !ok || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("after Set(%s, %#v), Get(%s) = %#v, %v; want %#v", tt.ref, tt.value, tt.check, got, ok, tt.want)
			}
			if tt.fields != nil && !reflect.DeepEqual(e.Fields(), tt.fields) {
				t.Errorf("fields = %#v, want %#v", e.Fields(), tt.fields)
			}
		})
	}
}

func TestFieldRefSetKeepsSiblings(t *testing.T) {
	e := NewEmptyEvent()
	must(t, e.Set("[host][name]", "web-1"))
	must(t, e.Set("[host][ip]", "10.0.0.1"))
	want := map[string]any{"host": map[string]any{"name": "web-1", "ip": "10.0.0.1"}}
	if !reflect.DeepEqual(e.Fields(), want) {
		t.Errorf("fields = %v, want %v", e.Fields(), want)
	}
}

func TestFieldRefSetErrors(t *testing.T) {
	tests := []struct {
		name     string
		ref      string
		value    any
		mentions []string
	}{
		{"through a string", "[message][x]", "v", []string{"[message][x]", "[message]", "string", "not a map"}},
		{"through a list", "[list][x][y]", "v", []string{"[list]", "list", "not a map"}},
		{"through a number deep down", "[host][port][x]", "v", []string{"[port]", "integer"}},
		{"timestamp from bad text", "@timestamp", "yesterday", []string{"@timestamp", "ISO 8601"}},
		{"timestamp from a bool", "@timestamp", true, []string{"@timestamp", "bool"}},
		{"metadata replaced by a string", "[@metadata]", "x", []string{"@metadata", "map"}},
		{"invalid reference", "[a", "v", []string{"missing ']'"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEmptyEvent()
			e.Fields()["message"] = "m"
			e.Fields()["list"] = []any{"a"}
			e.Fields()["host"] = map[string]any{"port": int64(80)}
			before := e.Clone()
			err := e.Set(tt.ref, tt.value)
			if err == nil {
				t.Fatalf("Set(%s) succeeded, want an error", tt.ref)
			}
			for _, m := range tt.mentions {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("Set(%s) error %q should mention %q", tt.ref, err, m)
				}
			}
			if !reflect.DeepEqual(e.ToMap(true), before.ToMap(true)) {
				t.Errorf("a failed Set changed the event: %v", e.ToMap(true))
			}
		})
	}
}

func TestFieldRefDelete(t *testing.T) {
	e := NewEmptyEvent()
	e.SetTimestamp(time.Unix(1, 0))
	must(t, e.Set("[a][b]", "x"))
	must(t, e.Set("[a][c]", "y"))
	must(t, e.Set("[@metadata][m]", "z"))

	if v, ok := MustParseFieldRef("[a][b]").Delete(e); !ok || v != "x" {
		t.Errorf("Delete([a][b]) = %v, %v", v, ok)
	}
	if got, want := e.Fields(), map[string]any{"a": map[string]any{"c": "y"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("after Delete([a][b]) fields = %v, want %v", got, want)
	}
	if _, ok := MustParseFieldRef("[a][zz]").Delete(e); ok {
		t.Error("Delete of a missing field reported success")
	}
	if _, ok := MustParseFieldRef("[nope][x]").Delete(e); ok {
		t.Error("Delete under a missing parent reported success")
	}
	e.Delete("@timestamp")
	if _, ok := e.Timestamp(); ok {
		t.Error("@timestamp still set after Delete")
	}
	e.Delete("[@metadata][m]")
	if _, ok := e.Get("[@metadata][m]"); ok {
		t.Error("metadata field still there after Delete")
	}
	e.Delete("[@metadata]")
	if _, ok := e.Get("[@metadata]"); ok {
		t.Error("@metadata still there after Delete")
	}
}

func TestTypeName(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{nil, "null"}, {"s", "string"}, {int64(1), "integer"}, {1.5, "float"}, {true, "boolean"},
		{[]any{}, "list"}, {map[string]any{}, "map"}, {time.Time{}, "timestamp"},
	}
	for _, tt := range tests {
		if got := TypeName(tt.v); got != tt.want {
			t.Errorf("TypeName(%#v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

// As in Logstash, an index deletes one element of a list, and the list
// others hold is not changed under them.
func TestFieldRefDeleteListElement(t *testing.T) {
	e := NewEmptyEvent()
	shared := []any{"a", "b", "c"}
	must(t, e.Set("[x][l]", shared))
	held, _ := e.Get("[x][l]")
	if v, ok := MustParseFieldRef("[x][l][1]").Delete(e); !ok || v != "b" {
		t.Errorf("Delete([x][l][1]) = %v, %v; want b, true", v, ok)
	}
	if v, ok := MustParseFieldRef("[x][l][-1]").Delete(e); !ok || v != "c" {
		t.Errorf("Delete([x][l][-1]) = %v, %v; want c, true", v, ok)
	}
	if got, _ := e.Get("[x][l]"); !reflect.DeepEqual(got, []any{"a"}) {
		t.Errorf("[x][l] = %v, want [a]", got)
	}
	if !reflect.DeepEqual(held, []any{"a", "b", "c"}) {
		t.Errorf("a list read before the deletes changed to %v", held)
	}
	for _, ref := range []string{"[x][l][5]", "[x][l][0][y]", "[x][l][k]"} {
		if _, ok := MustParseFieldRef(ref).Delete(e); ok {
			t.Errorf("Delete(%s) reported success", ref)
		}
	}
}
