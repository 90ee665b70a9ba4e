package expr

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/host"
	"github.com/gostash/gostash/sdk/sdktest"
)

func access(line string) *sdk.Event { return sdktest.Event(map[string]any{"message": line}) }

func run(t *testing.T, settings map[string]any, events ...*sdk.Event) []*sdk.Event {
	t.Helper()
	return sdktest.RunFilters(t, t.Context(), []sdktest.FilterSpec{{Name: "expr", Settings: settings}}, events)
}

func get(e *sdk.Event, ref string) any {
	v, _ := e.Get(ref)
	return v
}

func TestSetComputesNestedFields(t *testing.T) {
	out := run(t, map[string]any{"set": map[string]any{
		"[http][method]":   "split(message, ' ')[0]",
		"[http][status]":   "int(split(message, ' ')[2])",
		"[http][error]":    "int(split(message, ' ')[2]) >= 500",
		"[@metadata][len]": "len(message)",
	}}, access("GET /index.html 200 512"), access("POST /login 500 64"))
	want := []struct {
		method string
		status int64
		error  bool
	}{{"GET", 200, false}, {"POST", 500, true}}
	for i, w := range want {
		e := out[i]
		if get(e, "[http][method]") != w.method || get(e, "[http][status]") != w.status || get(e, "[http][error]") != w.error {
			t.Errorf("event %d: http = %v, want %+v", i, get(e, "[http]"), w)
		}
	}
	if got := get(out[0], "[@metadata][len]"); got != int64(23) {
		t.Errorf("[@metadata][len] = %#v, want 23", got)
	}
}

// Every expression sees the event as it came in: b is computed from the
// old a, not from the a this filter sets.
func TestSetSeesTheIncomingEvent(t *testing.T) {
	out := run(t, map[string]any{"set": map[string]any{"a": "a + 1", "b": "a + 1"}},
		sdktest.Event(map[string]any{"a": 0}))
	if a, b := get(out[0], "a"), get(out[0], "b"); a != int64(1) || b != int64(1) {
		t.Errorf("a = %v, b = %v; want 1 and 1", a, b)
	}
}

// remove runs after set, so the two together rename a field.
func TestSetThenRemoveRenames(t *testing.T) {
	out := run(t, map[string]any{
		"set":    map[string]any{"[client][ip]": "clientip"},
		"remove": []string{"clientip", "[nope][deeper]"},
	}, sdktest.Event(map[string]any{"clientip": "10.0.0.1"}))
	if got := get(out[0], "[client][ip]"); got != "10.0.0.1" {
		t.Errorf("[client][ip] = %v", got)
	}
	if _, ok := out[0].Get("clientip"); ok {
		t.Errorf("clientip still there")
	}
}

func TestSetTimestamp(t *testing.T) {
	out := run(t, map[string]any{"set": map[string]any{"[@timestamp]": `date(when)`}},
		sdktest.Event(map[string]any{"when": "2020-05-06T07:08:09.5Z"}))
	ts, _ := out[0].Timestamp()
	if got := sdk.FormatTimestamp(ts.UnixNano()); got != "2020-05-06T07:08:09.500Z" {
		t.Errorf("@timestamp = %s", got)
	}
}

func TestDropAndWhen(t *testing.T) {
	var in []*sdk.Event
	for _, s := range []struct {
		status int
		tag    string
	}{{200, "web"}, {404, "web"}, {503, "web"}, {200, "db"}} {
		in = append(in, sdktest.Event(map[string]any{"status": s.status, "tags": []string{s.tag}}))
	}
	out := run(t, map[string]any{
		"when":    `"web" in tags`,
		"drop":    "status < 400",
		"add_tag": []string{"kept"},
	}, in...)
	// The 200 web event is dropped; the db event is not looked at.
	var got []string
	for _, e := range out {
		got = append(got, strings.Join(e.Tags(), "+"))
	}
	if want := []string{"web+kept", "web+kept", "db"}; !slices.Equal(got, want) {
		t.Errorf("tags of what is left: %v, want %v", got, want)
	}
}

func TestFailureTagsAndKeepsTheEvent(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]any
		wantTags []string
	}{
		{"set", map[string]any{"set": map[string]any{"ok": `"fine"`, "n": "message * 2"}, "add_tag": []string{"done"}}, []string{"_exprfailure"}},
		{"drop", map[string]any{"drop": "message > 5", "set": map[string]any{"ok": `"fine"`}}, []string{"_exprfailure"}},
		{"custom tags", map[string]any{"set": map[string]any{"n": "message * 2"}, "tag_on_failure": []string{"a", "b"}}, []string{"a", "b"}},
		{"field cannot be stored", map[string]any{"set": map[string]any{"[message][x]": "1"}}, []string{"_exprfailure"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := run(t, tt.settings, access("not a number"))
			if len(out) != 1 {
				t.Fatalf("got %d events, want the event kept", len(out))
			}
			e := out[0]
			if !slices.Equal(e.Tags(), tt.wantTags) {
				t.Errorf("tags %v, want %v (and no add_tag)", e.Tags(), tt.wantTags)
			}
			if _, ok := e.Get("ok"); ok {
				t.Errorf("a field was set although an expression failed")
			}
			if e.Message() != "not a number" {
				t.Errorf("message changed to %v", e.Fields()["message"])
			}
		})
	}
}

func TestValidatePointsAtTheSetting(t *testing.T) {
	comp := sdktest.Lookup(t, sdk.KindFilter, "expr")
	tests := []struct {
		name     string
		settings map[string]any
		path     string
		detail   string
	}{
		{"syntax", map[string]any{"set": map[string]any{"[a][b]": "1 +"}}, "set.[a][b]", "unexpected token EOF"},
		{"type", map[string]any{"set": map[string]any{"x": `"a" + 1`}}, "set.x", "mismatched types string and int"},
		{"unknown function", map[string]any{"set": map[string]any{"x": "lenght(message)"}}, "set.x", "unknown function lenght()"},
		{"bad key", map[string]any{"set": map[string]any{"[a": "1"}}, "set.[a", "missing ']'"},
		{"drop not boolean", map[string]any{"drop": "1 + 2"}, "drop", "expected bool"},
		{"remove", map[string]any{"remove": []string{"ok", "a]b"}}, "remove.1", "invalid field reference"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := sdktest.Validate(comp, tt.settings)
			if len(ds) != 1 {
				t.Fatalf("got %v, want one diagnostic", ds)
			}
			if got := strings.Join(ds[0].Path, "."); got != tt.path || !strings.Contains(ds[0].Detail, tt.detail) {
				t.Errorf("diagnostic at %q: %s; want at %q with %q", got, ds[0].Error(), tt.path, tt.detail)
			}
		})
	}
	valid := map[string]any{"set": map[string]any{"[a][b]": "upper(message)"}, "drop": `"debug" in tags`, "remove": []string{"[x][y]"}}
	if ds := sdktest.Validate(comp, valid); len(ds) != 0 {
		t.Errorf("valid settings: %v", ds)
	}
}

// Two expr filters in one chain, as the quickstart pipeline runs them.
func TestChain(t *testing.T) {
	out := sdktest.RunFilters(t, t.Context(), []sdktest.FilterSpec{
		{Name: "expr", Settings: map[string]any{"set": map[string]any{"[http][status]": "int(split(message, ' ')[2])"}}},
		{Name: "expr", Settings: map[string]any{"when": "http.status >= 400", "add_tag": []string{"error"}}},
	}, []*sdk.Event{access("GET / 200 1"), access("GET /x 404 1")})
	if out[0].HasTag("error") || !out[1].HasTag("error") {
		t.Errorf("tags %v and %v; want only the 404 tagged", out[0].Tags(), out[1].Tags())
	}
}

func BenchmarkFilter(b *testing.B) {
	comp := sdktest.Lookup(b, sdk.KindFilter, "expr")
	cfg := sdktest.Config(b, comp, map[string]any{
		"when": `"web" in tags`,
		"set": map[string]any{
			"[http][error]": "http.status >= 500",
			"[user][id]":    "lower(user.name)",
		},
	})
	fi, err := host.OpenFilter(context.Background(), comp, cfg, sdktest.Env(b, "bench"))
	if err != nil {
		b.Fatal(err)
	}
	batch := make([]*sdk.Event, 125)
	for i := range batch {
		batch[i] = sdktest.Event(map[string]any{
			"message": "GET /index.html 503", "[http][status]": 503, "[user][name]": "Alice",
			"tags": []string{"web"}, "[host][name]": "web-1",
		})
	}
	chain := host.NewChain(fi)
	events := make([]*sdk.Event, len(batch))
	b.ReportAllocs()
	for b.Loop() {
		copy(events, batch)
		if got := chain.Run(b.Context(), events); len(got) != len(batch) || got[0].HasTag("_exprfailure") {
			b.Fatal(len(got), got[0].Tags())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/event")
}
