package sdk

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// conditionalCases evaluates each `when` of docs/pipeline-language.md's
// Logstash → gostash table on events: the fields, and whether the
// condition holds (as the Logstash conditional in the same row does).
var conditionalCases = map[string][]struct {
	fields map[string]any
	want   bool
}{
	`type == 'nginx'`:                    {{m("type", "nginx"), true}, {m("type", "apache"), false}, {m(), false}},
	`type != 'nginx'`:                    {{m("type", "nginx"), false}, {m("type", "apache"), true}, {m(), true}},
	`http.status >= 500`:                 {{m("[http][status]", 503), true}, {m("[http][status]", 200), false}, {m(), false}},
	`loglevel in ['ERROR', 'FATAL']`:     {{m("loglevel", "FATAL"), true}, {m("loglevel", "INFO"), false}, {m(), false}},
	`loglevel not in ['DEBUG', 'TRACE']`: {{m("loglevel", "DEBUG"), false}, {m("loglevel", "INFO"), true}, {m(), true}},
	`'_grokparsefailure' in tags`:        {{m("tags", []any{"a", "_grokparsefailure"}), true}, {m("tags", []any{"a"}), false}, {m(), false}},
	`'_grokparsefailure' not in tags`:    {{m("tags", []any{"_grokparsefailure"}), false}, {m("tags", []any{"a"}), true}, {m(), true}},
	`message contains 'timeout'`:         {{m("message", "read timeout after 5s"), true}, {m("message", "ok"), false}, {m(), false}},
	`message matches '^ERROR'`:           {{m("message", "ERROR disk full"), true}, {m("message", "an ERROR"), false}, {m(), false}},
	`not (message matches '^DEBUG')`:     {{m("message", "DEBUG x"), false}, {m("message", "INFO x"), true}, {m(), true}},
	`path matches '[.]log$'`:             {{m("path", "/var/log/syslog.log"), true}, {m("path", "/var/log/syslog"), false}, {m("path", "/a/xlog"), false}},
	`type == 'nginx' and http.status >= 500`: {
		{m("type", "nginx", "[http][status]", 502), true}, {m("type", "nginx", "[http][status]", 200), false}, {m("type", "x", "[http][status]", 502), false}},
	`type == 'nginx' or type == 'apache'`: {{m("type", "nginx"), true}, {m("type", "apache"), true}, {m("type", "iis"), false}},
	`!('_grokparsefailure' in tags)`:      {{m("tags", []any{"_grokparsefailure"}), false}, {m("tags", []any{"b"}), true}, {m(), true}},
	`(a == 'x') != (b == 'y')`: {
		{m("a", "x", "b", "y"), false}, {m("a", "x", "b", "n"), true}, {m("a", "n", "b", "y"), true}, {m("a", "n", "b", "n"), false}},
	`not (a == 'x' and b == 'y')`: {
		{m("a", "x", "b", "y"), false}, {m("a", "x", "b", "n"), true}, {m(), true}},
	`user != nil && user != false`:           {{m("user", "ada"), true}, {m("user", false), false}, {m("user", nil), false}, {m(), false}, {m("user", ""), true}},
	`user == nil || user == false`:           {{m("user", "ada"), false}, {m("user", false), true}, {m(), true}},
	`metadata.kafka.topic == 'logs'`:         {{m("[@metadata][kafka][topic]", "logs"), true}, {m("[@metadata][kafka][topic]", "x"), false}, {m(), false}},
	`get('[user-agent]') matches 'curl'`:     {{m("user-agent", "curl/8.0"), true}, {m("user-agent", "Mozilla"), false}, {m(), false}},
	`has('[a][b]')`:                          {{m("[a][b]", nil), true}, {m("[a][b]", false), true}, {m("[a][c]", 1), false}, {m(), false}},
	`level == 'ERROR'`:                       {{m("level", "ERROR"), true}, {m("level", "WARN"), false}, {m(), false}},
	`!(level == 'ERROR') && level == 'WARN'`: {{m("level", "ERROR"), false}, {m("level", "WARN"), true}, {m("level", "INFO"), false}},
	`!(level == 'ERROR') && !(level == 'WARN')`: {
		{m("level", "ERROR"), false}, {m("level", "WARN"), false}, {m("level", "INFO"), true}, {m(), true}},
}

// failsOnEmpty: conditions whose evaluation fails on an event without
// the field (an ordering on nil) and so count as false, with the guard's
// rate-limited warning, as docs/pipeline-language.md says.
var failsOnEmpty = map[string]bool{`http.status >= 500`: true}

// m builds fields from reference, value pairs.
func m(kv ...any) map[string]any {
	out := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// TestLogstashConditionals: every row of the documented table is
// evaluated, on events where it holds and where it does not.
func TestLogstashConditionals(t *testing.T) {
	doc, err := os.ReadFile("../docs/pipeline-language.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	start, end := strings.Index(text, "<!-- conditionals -->"), strings.Index(text, "<!-- /conditionals -->")
	if start < 0 || end < start {
		t.Fatal("docs/pipeline-language.md has no <!-- conditionals --> table")
	}
	row := regexp.MustCompile("^\\| .* \\| `(.*)` \\|$")
	seen := 0
	for _, line := range strings.Split(text[start:end], "\n") {
		sub := row.FindStringSubmatch(line)
		if sub == nil {
			continue
		}
		src := strings.ReplaceAll(sub[1], `\|`, "|")
		seen++
		cases, ok := conditionalCases[src]
		if !ok {
			t.Errorf("documented `%s` is not tested: add it to conditionalCases", src)
			continue
		}
		cond, err := CompileCondition(src)
		if err != nil {
			t.Errorf("`%s`: %v", src, err)
			continue
		}
		for _, c := range cases {
			e := NewEvent("")
			delete(e.Fields(), FieldMessage)
			for ref, v := range c.fields {
				if err := e.Set(ref, v); err != nil {
					t.Fatal(err)
				}
			}
			// As a filter plugin gets it: decoded from a batch.
			evs, err := new(batchDecoder).Decode(encodeBatch([]*Event{e}))
			if err != nil {
				t.Fatal(err)
			}
			got, err := cond.Match(evs[0])
			fails := failsOnEmpty[src] && len(c.fields) == 0
			if (err != nil) != fails || got != c.want {
				t.Errorf("`%s` on %v = %v (%v), want %v", src, c.fields, got, err, c.want)
			}
		}
	}
	if seen != len(conditionalCases) {
		t.Errorf("the table has %d rows, conditionalCases %d: keep them one for one", seen, len(conditionalCases))
	}
}
