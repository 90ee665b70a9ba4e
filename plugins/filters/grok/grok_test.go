package grok

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
)

// run runs one grok filter with settings over events built from fields.
func run(t *testing.T, settings map[string]any, events ...map[string]any) []*sdk.Event {
	t.Helper()
	in := make([]*sdk.Event, len(events))
	for i, f := range events {
		in[i] = sdktest.Event(f)
	}
	return sdktest.RunFilters(t, context.Background(), []sdktest.FilterSpec{{Name: "grok", Settings: settings}}, in)
}

func one(t *testing.T, settings map[string]any, fields map[string]any) *sdk.Event {
	t.Helper()
	out := run(t, settings, fields)
	if len(out) != 1 {
		t.Fatalf("%d events out, want 1", len(out))
	}
	return out[0]
}

func match(patterns ...string) map[string]any {
	return map[string]any{"message": toAny(patterns)}
}

// Every pattern of both standard sets compiles; only the ones that need
// what the linear-time engine lacks run on the backtracking one.
func TestStandardPatternsCompile(t *testing.T) {
	for _, set := range []string{"v8", "disabled"} {
		defs := standardPatterns(set)
		if len(defs) < 150 {
			t.Fatalf("%s: only %d patterns", set, len(defs))
		}
		var fallback []string
		for _, name := range sortedNames(defs) {
			for _, named := range []bool{true, false} {
				p, err := compile("%{"+name+"}", compileOptions{defs: defs, namedCapturesOnly: named})
				if err != nil {
					t.Errorf("%s %%{%s}: %v", set, name, err)
					continue
				}
				if p.Fallback != "" && named {
					fallback = append(fallback, name)
				}
			}
		}
		t.Logf("%s: %d patterns, on the backtracking engine: %v", set, len(defs), fallback)
		// Logstash's SYSLOGPAMSESSION captures the message with a
		// lookahead; nothing else in the sets needs the fallback.
		if !slices.Equal(fallback, []string{"SYSLOGPAMSESSION"}) {
			t.Errorf("%s: patterns on the backtracking engine %v, want only SYSLOGPAMSESSION", set, fallback)
		}
	}
}

// The list of pattern families, in both naming schemes.
func TestPatternFamiliesPresent(t *testing.T) {
	families := []string{"COMBINEDAPACHELOG", "COMMONAPACHELOG", "HTTPD_COMBINEDLOG", "HTTPD_COMMONLOG", "HTTPD_ERRORLOG", "SYSLOGLINE", "SYSLOGBASE",
		"SYSLOG5424LINE", "JAVASTACKTRACEPART", "HAPROXYHTTP", "BIND9", "SQUID3", "REDISLOG", "POSTGRESQL",
		"MONGO3_LOG", "ELB_ACCESS_LOG", "S3_ACCESS_LOG", "CISCOFW106001", "NETSCREENSESSIONLOG",
		// the ones issue #13 found missing with the libraries' sets
		"NAGIOSLOGLINE", "BACULA_LOGLINE", "REDISMONLOG", "URN", "EXIM_MESSAGE_ARRIVAL", "MAVEN_VERSION", "SFW2",
		"CLOUDFRONT_ACCESS_LOG", "CISCOFW304001", "BRO_HTTP"}
	for _, set := range []string{"v8", "disabled"} {
		defs := standardPatterns(set)
		for _, f := range families {
			if _, ok := defs[f]; !ok {
				t.Errorf("%s set lacks %s", set, f)
			}
		}
	}
}

func TestSyslogFamilies(t *testing.T) {
	tests := []struct {
		name, ecs, pattern, input string
		want                      map[string]any
	}{
		{"ecs syslog5424", "v8", "%{SYSLOG5424LINE}",
			`<165>1 2026-11-22T08:00:00.000Z host1 app 42 ID7 - hello there`,
			map[string]any{"[host][hostname]": "host1", "[process][name]": "app", "[process][pid]": int64(42), "message": []any{`<165>1 2026-11-22T08:00:00.000Z host1 app 42 ID7 - hello there`, "hello there"}}},
		{"ecs syslogbase facility", "v8", "%{SYSLOGBASE} %{GREEDYDATA:rest}",
			`Nov  2 08:15:01 <4.6> web-01 sshd: bye`,
			map[string]any{"[log][syslog][facility][code]": int64(4), "[log][syslog][priority]": int64(6), "[process][name]": "sshd", "rest": "bye"}},
		{"legacy time is not followed by a digit", "disabled", "%{TIME:t}", "at 12:30:455 or 08:15:01.",
			map[string]any{"t": "08:15:01"}},
		{"legacy squid", "disabled", "%{SQUID3}",
			`1700000000.123    120 10.0.0.1 TCP_MISS/200 1024 GET http://example.com/ - HIER_DIRECT/93.184.216.34 text/html`,
			map[string]any{"client_address": "10.0.0.1", "status_code": "200", "request_method": "GET", "server": "93.184.216.34"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := one(t, map[string]any{"match": match(tt.pattern), "ecs_compatibility": tt.ecs}, map[string]any{"message": tt.input})
			if e.HasTag("_grokparsefailure") {
				t.Fatalf("no match: %v", e.ToMap(false))
			}
			for ref, want := range tt.want {
				if got, _ := e.Get(ref); js(got) != js(want) {
					t.Errorf("%s = %s, want %s", ref, js(got), js(want))
				}
			}
		})
	}
}

func TestFailureTagging(t *testing.T) {
	base := map[string]any{"match": match("%{INT:n:int} apples"), "add_tag": []any{"parsed"}, "add_field": map[string]any{"ok": "yes"}}
	e := one(t, base, map[string]any{"message": "no fruit here"})
	if !e.HasTag("_grokparsefailure") || e.HasTag("parsed") {
		t.Errorf("tags %v: want _grokparsefailure and not the add_tag of a success", e.Tags())
	}
	if _, ok := e.Get("ok"); ok {
		t.Error("add_field applied on a failure")
	}
	e = one(t, base, map[string]any{"message": "7 apples"})
	if e.HasTag("_grokparsefailure") || !e.HasTag("parsed") {
		t.Errorf("tags %v: want parsed only", e.Tags())
	}
	if v, _ := e.Get("ok"); v != "yes" {
		t.Errorf("add_field: ok = %v", v)
	}

	custom := map[string]any{"match": match("%{INT:n}"), "tag_on_failure": []any{"_nonum", "_check"}}
	e = one(t, custom, map[string]any{"message": "none", "tags": []any{"_nonum"}})
	if got := e.Tags(); !slices.Equal(got, []string{"_nonum", "_check"}) {
		t.Errorf("tags %v, want [_nonum _check] (no duplicate)", got)
	}
	// A missing field is matched as an empty string, as in Logstash.
	e = one(t, map[string]any{"match": map[string]any{"nope": "%{WORD:w}"}}, map[string]any{"message": "x"})
	if !e.HasTag("_grokparsefailure") {
		t.Error("a missing field matched %{WORD}")
	}
}

// The overwrite and append rules of logstash-compat B.4.
func TestExistingFields(t *testing.T) {
	tests := []struct {
		name      string
		existing  any
		overwrite bool
		want      any
	}{
		{"string becomes a list", "old", false, []any{"old", "new"}},
		{"list gets the value appended", []any{"a", "b"}, false, []any{"a", "b", "new"}},
		{"number stays", int64(5), false, int64(5)},
		{"map stays", map[string]any{"k": "v"}, false, map[string]any{"k": "v"}},
		{"overwrite replaces a string", "old", true, "new"},
		{"overwrite replaces a number", int64(5), true, "new"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := map[string]any{"match": match("v=%{WORD:[f][x]}")}
			if tt.overwrite {
				s["overwrite"] = []any{"[f][x]"}
			}
			e := one(t, s, map[string]any{"message": "v=new", "[f][x]": tt.existing})
			if got, _ := e.Get("[f][x]"); js(got) != js(tt.want) {
				t.Errorf("[f][x] = %s, want %s", js(got), js(tt.want))
			}
		})
	}
	// Two captures of one name in one pattern: the second appends.
	e := one(t, map[string]any{"match": match("%{WORD:w} %{WORD:w}")}, map[string]any{"message": "a b"})
	if got, _ := e.Get("w"); js(got) != `["a","b"]` {
		t.Errorf("w = %s", js(got))
	}
}

func TestTargetTypesAndEmptyCaptures(t *testing.T) {
	e := one(t, map[string]any{"match": match("%{IP:[client][ip]} %{NUMBER:n:int} %{NUMBER:f:float} %{WORD:w}"), "target": "[parsed]"},
		map[string]any{"message": "10.0.0.1 12.9 3 ok"})
	for ref, want := range map[string]any{"[parsed][client][ip]": "10.0.0.1", "[parsed][n]": int64(12), "[parsed][f]": 3.0, "[parsed][w]": "ok"} {
		if got, _ := e.Get(ref); js(got) != js(want) {
			t.Errorf("%s = %s, want %s", ref, js(got), js(want))
		}
	}
	if _, ok := e.Get("w"); ok {
		t.Error("a capture landed at the root despite target")
	}
	// overwrite names the capture as written, not under target
	e = one(t, map[string]any{"match": match("%{WORD:w}"), "target": "p", "overwrite": []any{"w"}},
		map[string]any{"message": "new", "[p][w]": "old"})
	if got, _ := e.Get("[p][w]"); got != "new" {
		t.Errorf("[p][w] = %v, want new (overwritten)", got)
	}

	// keep_empty_captures also sets a group that took no part, to null
	e = one(t, map[string]any{"match": match(`x(?<opt>y)?z`), "keep_empty_captures": true}, map[string]any{"message": "xz"})
	if v, ok := e.Get("opt"); !ok || v != nil {
		t.Errorf("opt = %v (present %v), want null", v, ok)
	}
	for _, keep := range []bool{false, true} {
		e := one(t, map[string]any{"match": match(`a=(?<a>[0-9]*);b=%{WORD:b}`), "keep_empty_captures": keep},
			map[string]any{"message": "a=;b=x"})
		v, ok := e.Get("a")
		if ok != keep || (keep && v != "") {
			t.Errorf("keep_empty_captures %v: a = %v (present %v)", keep, v, ok)
		}
	}

	e = one(t, map[string]any{"match": match("%{WORD} %{INT:n}"), "named_captures_only": false}, map[string]any{"message": "hello 42"})
	if v, _ := e.Get("WORD"); v != "hello" {
		t.Errorf("named_captures_only false: WORD = %v", v)
	}
}

func TestArraysAndBreakOnMatch(t *testing.T) {
	e := one(t, map[string]any{"match": match("%{WORD:w} %{INT:n:int}")}, map[string]any{"message": []any{"a 1", "nope", "b 2"}})
	if got, _ := e.Get("w"); js(got) != `["a","b"]` {
		t.Errorf("w = %s, want each matching element's capture", js(got))
	}
	// The first element's 1 is a number: Logstash leaves a number as it
	// is instead of appending to it.
	if got, _ := e.Get("n"); js(got) != `1` {
		t.Errorf("n = %s, want 1", js(got))
	}
	if e.HasTag("_grokparsefailure") {
		t.Error("tagged although elements matched")
	}

	patterns := match("%{WORD:first} %{GREEDYDATA}", "%{GREEDYDATA} %{WORD:last}")
	e = one(t, map[string]any{"match": patterns}, map[string]any{"message": "alpha beta"})
	if _, ok := e.Get("last"); ok {
		t.Error("break_on_match true tried the second pattern")
	}
	e = one(t, map[string]any{"match": patterns, "break_on_match": false}, map[string]any{"message": "alpha beta"})
	if f, _ := e.Get("first"); f != "alpha" {
		t.Errorf("first = %v", f)
	}
	if l, _ := e.Get("last"); l != "beta" {
		t.Errorf("break_on_match false: last = %v", l)
	}
}

func TestPatternsDirAndDefinitions(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.patterns"), []byte("# mine\nAPPID app-[0-9]{3}\nQUEUE %{APPID}/q\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ignored.txt"), []byte("APPID nothing\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := map[string]any{"match": match("%{QUEUE:q} %{NUM:n}"), "patterns_dir": []any{dir}, "patterns_files_glob": "*.patterns",
		"pattern_definitions": map[string]any{"NUM": "[0-9]+"}}
	e := one(t, s, map[string]any{"message": "see app-042/q 7"})
	if q, _ := e.Get("q"); q != "app-042/q" {
		t.Errorf("q = %v (tags %v)", q, e.Tags())
	}
	// pattern_definitions win over files and built-ins
	s["pattern_definitions"] = map[string]any{"NUM": "[0-9]+", "APPID": "svc"}
	e = one(t, s, map[string]any{"message": "svc/q 7"})
	if q, _ := e.Get("q"); q != "svc/q" {
		t.Errorf("q = %v", q)
	}
}

// %{NAME:field=regex} defines NAME in the pattern itself, as Logstash's
// grok allows: braces inside the regex are its own, a later %{NAME} can
// use the definition, and a type suffix still applies.
func TestInlineDefinitions(t *testing.T) {
	tests := []struct {
		pattern, line string
		want          map[string]any
	}{
		{`%{QID:qid=[0-9A-F]{10}}: %{WORD:w}`, "id 0123456789: sent", map[string]any{"qid": "0123456789", "w": "sent"}},
		{`%{N2=\d{2}}-%{N2:b}`, "12-34", map[string]any{"b": "34"}},
		{`%{N:n:int=\d+} %{WORD:unit}`, "42 ms", map[string]any{"n": int64(42), "unit": "ms"}},
		{`(?<x>[a-z]{2,3})%{SEP=[\}]}`, "abc}", map[string]any{"x": "abc"}},
	}
	for _, tt := range tests {
		e := one(t, map[string]any{"match": match(tt.pattern)}, map[string]any{"message": tt.line})
		if e.HasTag("_grokparsefailure") {
			t.Errorf("%s on %q: no match", tt.pattern, tt.line)
			continue
		}
		for k, want := range tt.want {
			if got, _ := e.Get(k); got != want {
				t.Errorf("%s on %q: %s = %#v, want %#v", tt.pattern, tt.line, k, got, want)
			}
		}
	}
	comp := sdktest.Lookup(t, sdk.KindFilter, "grok")
	ds := sdktest.Validate(comp, map[string]any{"match": map[string]any{"message": `%{X=\d{2}`}})
	if !ds.HasErrors() {
		t.Error("an unterminated inline definition was accepted")
	}
}

// A pathological pattern on a long line ends in _groktimeout within the
// bound, and the next event is parsed as usual.
func TestTimeout(t *testing.T) {
	long := strings.Repeat("a", 200_000)
	for _, tt := range []struct{ name, pattern string }{
		{"linear engine", `^%{GREEDYDATA:a}%{GREEDYDATA:b}%{GREEDYDATA:c}[0-9]`},
		{"backtracking engine", `^(?=(a|aa)+[0-9])`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := map[string]any{"match": match(tt.pattern, "%{WORD:w}"), "timeout_millis": 100}
			start := time.Now()
			out := run(t, s, map[string]any{"message": long}, map[string]any{"message": "fine"})
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v with timeout_millis 100", d)
			}
			if !out[0].HasTag("_groktimeout") || out[0].HasTag("_grokparsefailure") {
				t.Errorf("tags %v, want _groktimeout only", out[0].Tags())
			}
			if w, _ := out[1].Get("w"); w != "fine" {
				t.Errorf("the next event: w = %v, tags %v", w, out[1].Tags())
			}
		})
	}
}

func TestValidate(t *testing.T) {
	comp := sdktest.Lookup(t, sdk.KindFilter, "grok")
	tests := []struct {
		name     string
		match    any
		defs     map[string]any
		path     string
		summary  string
		warnOnly bool
	}{
		{"unknown pattern", map[string]any{"message": "%{COMBINEDAPACHLOG}"}, nil, "match.message", "did you mean %{COMBINEDAPACHELOG}", false},
		{"lower case name", map[string]any{"message": "%{ip:x}"}, nil, "match.message", "did you mean %{IP}", false},
		{"index in a list", map[string]any{"message": []any{"%{IP:x}", "%{INT:n:long}"}}, nil, "match.message.1", `unknown type "long"`, false},
		{"bad regex", map[string]any{"message": "(unclosed %{IP:x}"}, nil, "match.message", "invalid regular expression", false},
		{"cycle", map[string]any{"message": "%{A}"}, map[string]any{"A": "x%{B}", "B": "%{A}"}, "match.message", "refers to itself", false},
		{"fallback is a warning", map[string]any{"message": `(?<x>a)\k<x>`}, nil, "match.message", "backtracking engine", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := map[string]any{"match": tt.match}
			if tt.defs != nil {
				s["pattern_definitions"] = tt.defs
			}
			ds := sdktest.Validate(comp, s)
			if len(ds) != 1 {
				t.Fatalf("diagnostics %v, want one", ds)
			}
			d := ds[0]
			if got := strings.Join(d.Path, "."); got != tt.path {
				t.Errorf("path %s, want %s", got, tt.path)
			}
			if !strings.Contains(d.Summary, tt.summary) {
				t.Errorf("summary %q lacks %q", d.Summary, tt.summary)
			}
			if d.Warning != tt.warnOnly {
				t.Errorf("warning %v, want %v", d.Warning, tt.warnOnly)
			}
		})
	}
	if ds := sdktest.Validate(comp, map[string]any{"match": match("%{COMBINEDAPACHELOG}")}); len(ds) != 0 {
		t.Errorf("a stock pattern: %v", ds)
	}
	ds := sdktest.Validate(comp, map[string]any{"match": match("%{INT:n}"), "timeout_millis": -1})
	if len(ds) != 1 || ds[0].Warning || strings.Join(ds[0].Path, ".") != "timeout_millis" || !strings.Contains(ds[0].Summary, "cannot be negative") {
		t.Errorf("timeout_millis = -1: %v, want one error at timeout_millis", ds)
	}
	if ds := sdktest.Validate(comp, map[string]any{"match": match("%{INT:n}"), "timeout_millis": 0}); len(ds) != 0 {
		t.Errorf("timeout_millis = 0 (no timeout): %v", ds)
	}
}

func TestRubyConversions(t *testing.T) {
	for in, want := range map[string]int64{"42": 42, "-17": -17, "+3": 3, "12.9": 12, "7abc": 7, "abc": 0, "": 0, "1_000": 1000, "0123": 123, "123456789012345678": 123456789012345678, "99999999999999999999": 1<<63 - 1, " 5": 5} {
		if got := rubyToI(in); got != want {
			t.Errorf("to_i(%q) = %d, want %d", in, got, want)
		}
	}
	for in, want := range map[string]float64{"12.5": 12.5, "-0.5": -0.5, ".5": 0.5, "1e3": 1000, "3": 3, "x": 0, "2.": 2} {
		if got := rubyToF(in); got != want {
			t.Errorf("to_f(%q) = %v, want %v", in, got, want)
		}
	}
}

// sortedNames returns the pattern names of a set in order.
func sortedNames(defs map[string]string) []string {
	out := make([]string, 0, len(defs))
	for k := range defs {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// One instance serves several workers at once.
func TestConcurrentUse(t *testing.T) {
	comp := sdktest.Lookup(t, sdk.KindFilter, "grok")
	cfg := sdktest.Config(t, comp, map[string]any{"match": match("%{COMBINEDAPACHELOG}", "%{SYSLOGLINE}")})
	f, err := comp.NewFilter(context.Background(), cfg, sdktest.Env(t, "grok"))
	if err != nil {
		t.Fatal(err)
	}
	lines := append(apacheLines(50), syslogLines(50)...)
	done := make(chan error)
	for w := 0; w < 4; w++ {
		go func() {
			for i := 0; i < 200; i++ {
				e := sdk.NewEvent(lines[(i*7+w)%len(lines)])
				if f.Apply(context.Background(), e, nil) != sdk.Matched {
					done <- fmt.Errorf("no match: %s", e.Message())
					return
				}
			}
			done <- nil
		}()
	}
	for w := 0; w < 4; w++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// What Logstash's grok does with pattern text that Go's regexp syntax
// reads otherwise (issue #13), as a user sees it in the event.
func TestLogstashPatternTextSemantics(t *testing.T) {
	tests := []struct {
		name, pattern, input string
		defs                 map[string]any
		want                 map[string]any
	}{
		// Logstash compiles with Ruby's MULTILINE: . takes \n
		{"dot takes newline", `%{WORD:first} %{GREEDYDATA:rest}`, "Exception in main\n\tat a.B.c(B.java:1)\n\tat d.E.f(E.java:2)",
			nil, map[string]any{"first": "Exception", "rest": "in main\n\tat a.B.c(B.java:1)\n\tat d.E.f(E.java:2)"}},
		// a class nested in a class is merged into it, as Oniguruma does
		{"nested class", `%{ID:id}`, "ab_9-x", map[string]any{"ID": `[[[:alnum:]]_]+`}, map[string]any{"id": "ab_9"}},
		{"nested class, non-ASCII", `%{UNIXPATH:path}`, "at /srv/Čierný/中.txt", nil, map[string]any{"path": "/srv/Čierný/中.txt"}},
		// a repeat of a repeat
		{"nested repetition", `A=%{WORD:a}.?*B=%{WORD:b}`, "A=1 x y B=2", nil, map[string]any{"a": "1", "b": "2"}},
		// anything after the name inside %{...} is ignored
		{"text after the name", `%{POSINT:[a][b]?} %{WORD - anything}`, "12 word", nil, map[string]any{"a": map[string]any{"b": "12"}}},
		{"parts after the type", `%{POSINT:n:int:whatever}`, "x 12", nil, map[string]any{"n": 12}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			settings := map[string]any{"match": match(tt.pattern), "ecs_compatibility": "disabled"}
			if tt.defs != nil {
				settings["pattern_definitions"] = tt.defs
			}
			e := one(t, settings, map[string]any{"message": tt.input})
			if e.HasTag("_grokparsefailure") {
				t.Fatalf("%s on %q did not match", tt.pattern, tt.input)
			}
			checkEvent(t, e, tt.want, nil)
		})
	}
}
