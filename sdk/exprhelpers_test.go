package sdk

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestExprHelpers: has, get, sprintf and now in conditions and
// expressions, with constant and computed arguments.
func TestExprHelpers(t *testing.T) {
	e := exprEvent()
	e.Fields()["nothing"] = nil
	e.Fields()["which"] = "[http][status]"
	conds := []struct {
		src  string
		want bool
	}{
		{`has("[http][status]")`, true},
		{`has("http")`, true},
		{`has("[http][nope]")`, false},
		{`has("[nope][deeper]")`, false},
		{`has("nothing")`, true}, // present, holding null
		{`!has("[http][nope]")`, true},
		{`has("[@metadata][kafka][topic]")`, true},
		{`has("[@metadata][other]")`, false},
		{`has("@timestamp")`, true},
		{`has(which)`, true}, // computed: parsed per event
		{`get("[http][status]") == 503`, true},
		{`get("[@metadata][kafka][topic]") == "logs"`, true},
		{`get("[nope][x]") == nil`, true},
		{`get("@timestamp").Year() == 2024`, true},
		{`get(which) >= 500`, true},
		{`sprintf("%{[http][method]} %{user}") == "GET alice"`, true},
		{`sprintf("%{+yyyy.MM.dd}") == "2024.03.01"`, true},
		{`sprintf("%{[@metadata][kafka][topic]}") == "logs"`, true},
		{`now().After(timestamp)`, true},
		{`now().Year() >= 2024`, true},
		{`get([1, 2, 3], 1) == 2`, true}, // expr-lang's get(list, index) is unchanged
		{`type == nil`, true},            // [type] is a field...
		{`type(user) == "string"`, true}, // ...and type() still the builtin
	}
	for _, c := range conds {
		cond, err := CompileCondition(c.src)
		if err != nil {
			t.Errorf("%s: %v", c.src, err)
			continue
		}
		if got, err := cond.Match(e); err != nil || got != c.want {
			t.Errorf("%s = %v, %v; want %v", c.src, got, err, c.want)
		}
	}

	exprs := []struct {
		src  string
		want any
	}{
		{`get("[http][method]")`, "GET"},
		{`get("[http]")`, map[string]any{"status": int64(503), "method": "GET"}},
		{`sprintf("%{user}@%{[host][name]}")`, "alice@web-1"},
		{`sprintf("%{missing}")`, "%{missing}"},
		{`has("user") ? "yes" : "no"`, "yes"},
	}
	for _, c := range exprs {
		x, err := CompileExpression(c.src)
		if err != nil {
			t.Errorf("%s: %v", c.src, err)
			continue
		}
		if got, err := x.Eval(e); err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s = %#v, %v; want %#v", c.src, got, err, c.want)
		}
	}
	x, _ := CompileExpression(`now()`)
	got, err := x.Eval(e)
	if s, ok := got.(string); err != nil || !ok || !strings.HasPrefix(s, time.Now().UTC().Format("2006-01-02")) {
		t.Errorf("now() = %#v, %v; want today's timestamp", got, err)
	}
}

// TestExprHelpersCompileErrors: constant arguments are checked once, at
// compile time, so configtest reports them.
func TestExprHelpersCompileErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{`has("[a][b")`, "missing ']'"},
		{`get("a[b]")`, "invalid field reference"},
		{`sprintf("%{}") == ""`, "sprintf(): template"},
		{`has("a", "b")`, "takes one argument"},
		{`has(1)`, ""}, // computed: fails per event
		{`$event != nil`, "unknown name"},
		{`has("a") + 1`, "mismatched types"},
	} {
		_, err := CompileCondition(c.src)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v, want it to compile", c.src, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want an error with %q", c.src, err, c.want)
		}
	}
	cond, _ := CompileCondition(`has(1)`)
	if _, err := cond.Match(exprEvent()); err == nil {
		t.Error("has(1) matched without an error")
	}
}

// TestExprHelpersRaw: the helpers read fields an event from a batch has
// not decoded yet.
func TestExprHelpersRaw(t *testing.T) {
	evs, err := new(batchDecoder).Decode(encodeBatch([]*Event{exprEvent()}))
	if err != nil {
		t.Fatal(err)
	}
	cond, err := CompileCondition(`has("[http][status]") && get("[http][status]") == 503 && sprintf("%{user}") == "alice"`)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := cond.Match(evs[0]); !ok || err != nil {
		t.Errorf("raw event: %v, %v", ok, err)
	}
}

func BenchmarkExprHas(b *testing.B) {
	e := exprEvent()
	cond, err := CompileCondition(`has("[http][status]") && get("[http][method]") == "GET"`)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if ok, _ := cond.Match(e); !ok {
			b.Fatal("no match")
		}
	}
}
