package grok

import (
	"context"
	"testing"

	"github.com/gostash/gostash/plugins/filters/grok/benchdata"
	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/host"
	"github.com/gostash/gostash/sdk/sdktest"
)

// Building a capture group's object whole gives the event that storing
// the captures one by one gives: on the ECS access log, on events that
// already hold some of the objects (or a string where an object goes),
// on events from a batch and on events made in the process.
func TestObjectsAsOneByOne(t *testing.T) {
	lines := benchdata.AccessLog(200)
	existing := []map[string]any{
		nil,
		{"[http][version]": "2.0"},              // object there: the capture joins it
		{"url": "not an object"},                // [url][original] cannot be set
		{"[http][request][method]": []any{"X"}}, // a list gets the value appended
		{"[user_agent][original]": "old", "source": 1}, // string becomes a list; a number stays
	}
	for _, ecs := range []string{"v8", "v1", "disabled"} {
		for _, target := range []string{"", "[apache]"} {
			settings := map[string]any{"match": match("%{COMBINEDAPACHELOG}"), "ecs_compatibility": ecs}
			if target != "" {
				settings["target"] = target
			}
			whole, byOne := newTestFilter(t, settings), newTestFilter(t, settings)
			planned := 0
			for i := range byOne.fields {
				for _, p := range byOne.fields[i].patterns {
					if p.objects != nil {
						planned++
					}
					p.objects = nil
				}
			}
			if (ecs != "disabled" || target != "") && planned == 0 {
				t.Fatalf("ecs %s, target %q: no pattern builds its objects whole", ecs, target)
			}
			for i, line := range lines {
				fields := map[string]any{"message": line}
				for k, v := range existing[i%len(existing)] {
					fields[k] = v
				}
				for _, decoded := range []bool{true, false} {
					a, b := testEvent(t, fields, decoded), testEvent(t, fields, decoded)
					ra := whole.Apply(context.Background(), a, nil)
					rb := byOne.Apply(context.Background(), b, nil)
					ja, jb := js(a.ToMap(true)), js(b.ToMap(true))
					if ra != rb || ja != jb {
						t.Fatalf("ecs %s, target %q, decoded %v, %q:\nwhole:  %v %s\nby one: %v %s", ecs, target, decoded, line, ra, ja, rb, jb)
					}
				}
			}
		}
	}
}

// Two captures of one nested name make a list, as two top-level ones do;
// a pattern whose capture names a field another capture goes into keeps
// the one-by-one way, where the order of the captures decides.
func TestObjectsSharedAndConflicting(t *testing.T) {
	e := one(t, map[string]any{"match": match("%{WORD:[a][w]} %{WORD:[a][w]} %{INT:[a][n][i]:int}")}, map[string]any{"message": "x y 7"})
	if got := js(e.ToMap(false)["a"]); got != `{"n":{"i":7},"w":["x","y"]}` {
		t.Errorf("[a] = %s", got)
	}
	p, err := compile("%{WORD:[a][b]} %{WORD:[a][b][c]}", compileOptions{defs: standardPatterns("v8")})
	if err != nil {
		t.Fatal(err)
	}
	if p.objects != nil {
		t.Errorf("[a][b] and [a][b][c] planned as one object")
	}
	e = one(t, map[string]any{"match": match("%{WORD:[a][b]} %{WORD:[a][b][c]}")}, map[string]any{"message": "x y"})
	if got := js(e.ToMap(false)["a"]); got != `{"b":"x"}` {
		t.Errorf("[a] = %s", got)
	}
}

func newTestFilter(t *testing.T, settings map[string]any) *filter {
	t.Helper()
	comp := sdktest.Lookup(t, sdk.KindFilter, "grok")
	f, err := comp.NewFilter(context.Background(), sdktest.Config(t, comp, settings), sdktest.Env(t, "grok"))
	if err != nil {
		t.Fatal(err)
	}
	return f.(*filter)
}

// testEvent makes an event of fields, decoded from a batch (as a plugin
// process gets it) or made in the process.
func testEvent(t *testing.T, fields map[string]any, decoded bool) *sdk.Event {
	t.Helper()
	e := sdktest.Event(fields)
	if !decoded {
		return e
	}
	out, err := new(host.Decoder).Decode(host.EncodeBatch([]*sdk.Event{e}))
	if err != nil {
		t.Fatal(err)
	}
	return out[0]
}
