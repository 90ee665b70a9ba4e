package sdk

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// exprEvent is a typical event: what an access-log pipeline carries after
// parsing.
func exprEvent() *Event {
	e := NewEvent("GET /index.html 503")
	e.SetTimestamp(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC))
	f := e.Fields()
	f["host"] = map[string]any{"name": "web-1"}
	f["http"] = map[string]any{"status": int64(503), "method": "GET"}
	f["bytes"] = 1024.5
	f["tags"] = []any{"nginx", "prod"}
	f["user"] = "alice"
	f["code"] = 200.0 // a number read from JSON
	f["items"] = []any{map[string]any{"name": "a", "n": int64(1)}, map[string]any{"name": "b", "n": int64(2)}}
	e.Metadata()["kafka"] = map[string]any{"topic": "logs"}
	return e
}

func TestConditionMatch(t *testing.T) {
	tests := []struct {
		src     string
		want    bool
		wantErr bool
	}{
		{src: `http.status >= 500`, want: true},
		{src: `http["status"] == 503`, want: true},
		{src: `http.method == "POST"`, want: false},
		{src: `host.name startsWith "web"`, want: true},
		{src: `"prod" in tags`, want: true},
		{src: `"dev" in tags`, want: false},
		{src: `message contains "index"`, want: true},
		{src: `bytes > 1000 && user == "alice"`, want: true},
		{src: `code == 200`, want: true},
		{src: `any(items, .name == "b")`, want: true},
		{src: `metadata.kafka.topic == "logs"`, want: true},
		{src: `timestamp.Year() == 2024`, want: true},
		{src: `timestamp < now()`, want: true},
		// Missing fields are nil, at any depth, rather than errors.
		{src: `missing == nil`, want: true},
		{src: `missing.deeper.still == nil`, want: true},
		{src: `metadata.nothing == nil`, want: true},
		{src: `missing`, want: false},
		{src: `(missing ?? 0) >= 500`, want: false},
		{src: `missing[0] == nil`, want: true},
		{src: `tags[0] == "nginx"`, want: true},
		{src: `$env["user"] == "alice" && timestamp.Day() == 1`, want: true},
		// Ordering a missing field is an error: the guard does not hold.
		{src: `missing >= 500`, wantErr: true},
		{src: `user > 3`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			c, err := CompileCondition(tt.src)
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			got, err := c.Match(exprEvent())
			if (err != nil) != tt.wantErr {
				t.Fatalf("Match error = %v, want error: %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		src, want string
		cond      bool
	}{
		{src: `status >=`, want: "unexpected token EOF"},
		{src: `"a" + 1`, want: "mismatched types string and int"},
		{src: `lenght(tags) > 1`, want: "unknown function lenght()"},
		{src: `upper(message) == 1`, want: "mismatched types string and int"},
		{src: `timestamp + 1`, want: "mismatched types time.Time and int"},
		{src: `1 + 2`, want: "expected bool, but got int", cond: true},
		{src: `upper(message)`, want: "expected bool, but got string", cond: true},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			var err error
			if tt.cond {
				_, err = CompileCondition(tt.src)
			} else {
				_, err = CompileExpression(tt.src)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("compile %q: error %v, want it to contain %q", tt.src, err, tt.want)
			}
		})
	}
}

func TestExpressionEval(t *testing.T) {
	tests := []struct {
		src  string
		want any
	}{
		{`http.status + 1`, int64(504)},
		{`len(tags)`, int64(2)},
		{`bytes * 2`, 2049.0},
		{`upper(user)`, "ALICE"},
		{`user + "@" + host.name`, "alice@web-1"},
		{`http.status >= 500`, true},
		{`missing`, nil},
		{`timestamp`, "2024-03-01T12:00:00.000Z"},
		{`duration("1500ms")`, "1.5s"},
		{`metadata.kafka.topic`, "logs"},
		{`[1, "a"]`, []any{int64(1), "a"}},
		{`{"code": http.status, "ok": false}`, map[string]any{"code": int64(503), "ok": false}},
		{`split("a,b", ",")`, []any{"a", "b"}},
		{`map(items, .name)`, []any{"a", "b"}},
		{`map(filter(items, #.n > 1), .name)`, []any{"b"}},
		{`items[0].name`, "a"},
		{`let m = {"a": {"b": 1}}; m.a.b`, int64(1)},
		{`(missing ?? {"a": 2}).a`, int64(2)},
		{`"prod"`, "prod"},
		{`2 * 1024`, int64(2048)},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			x, err := CompileExpression(tt.src)
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			got, err := x.Eval(exprEvent())
			if err != nil {
				t.Fatalf("Eval: %v", err)
			}
			if !equalValues(got, tt.want) {
				t.Errorf("Eval = %#v, want %#v", got, tt.want)
			}
		})
	}
}

// An expression that names nothing is computed once; one that calls a
// function is not, even without fields: now() moves.
func TestExpressionConstants(t *testing.T) {
	c, err := CompileExpression(`"a" + "b"`)
	if err != nil || !c.p.constant || c.p.value != "ab" {
		t.Errorf(`"a" + "b": constant %v value %v err %v`, c.p.constant, c.p.value, err)
	}
	n, err := CompileExpression(`now().UnixNano()`)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := n.Eval(NewEmptyEvent())
	time.Sleep(time.Millisecond)
	b, _ := n.Eval(NewEmptyEvent())
	if a == b {
		t.Errorf("now() gave %v twice: computed once", a)
	}
}

// Storing a result must not alias the event: changing the copy leaves the
// original field alone.
func TestExpressionResultIsACopy(t *testing.T) {
	x, err := CompileExpression(`http`)
	if err != nil {
		t.Fatal(err)
	}
	e := exprEvent()
	v, err := x.Eval(e)
	if err != nil {
		t.Fatal(err)
	}
	v.(map[string]any)["status"] = int64(200)
	if got, _ := e.Get("[http][status]"); got != int64(503) {
		t.Fatalf("[http][status] = %v after changing the result, want 503", got)
	}
}

// Pooled environments must not leak one event's fields into another's
// evaluation, including under concurrency.
func TestExpressionConcurrentEvents(t *testing.T) {
	x, err := CompileExpression(`user + "/" + (metadata.id ?? "none")`)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				e := NewEvent("")
				want := "u/none"
				if i%2 == 0 {
					e.Fields()["user"] = "u"
					e.Metadata()["id"] = "m"
					want = "u/m"
				} else {
					e.Fields()["user"] = "u"
				}
				got, err := x.Eval(e)
				if err != nil || got != want {
					t.Errorf("Eval = %v, %v; want %q", got, err, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func equalValues(a, b any) bool {
	switch at := a.(type) {
	case []any:
		bt, ok := b.([]any)
		if !ok || len(at) != len(bt) {
			return false
		}
		for i := range at {
			if !equalValues(at[i], bt[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		bt, ok := b.(map[string]any)
		if !ok || len(at) != len(bt) {
			return false
		}
		for k, v := range at {
			if !equalValues(v, bt[k]) {
				return false
			}
		}
		return true
	}
	return a == b
}

func benchCondition(b *testing.B, src string) {
	c, err := CompileCondition(src)
	if err != nil {
		b.Fatal(err)
	}
	e := exprEvent()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if ok, err := c.Match(e); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkConditionMatch(b *testing.B) {
	b.Run("top-level", func(b *testing.B) { benchCondition(b, `user == "alice"`) })
	b.Run("nested-and-tags", func(b *testing.B) { benchCondition(b, `http.status >= 500 && "prod" in tags`) })
	b.Run("metadata", func(b *testing.B) { benchCondition(b, `metadata.kafka.topic == "logs"`) })
}
