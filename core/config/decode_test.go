package config

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gostash/gostash/sdk"
)

// decodeOne loads src (one block of interest plus whatever it needs) and
// decodes it, failing on any diagnostic.
func decodeOne(t *testing.T, src string) *Pipeline {
	t.Helper()
	p, diags := Load(nil, src)
	diags = append(diags, p.Decode(testSchemas)...)
	if diags.HasErrors() {
		t.Fatalf("%s\n%s", src, diags.Error())
	}
	return p
}

func TestConfigJSON(t *testing.T) {
	tests := []struct {
		name, block, want string
	}{
		{"defaults applied", `input "generator" "g" {}`,
			`{"count":0,"message":"Hello world!"}`},
		// Logstash accepts one value where a list is expected.
		{"scalar to list", `input "generator" "g" { lines = "one" }`,
			`{"count":0,"lines":["one"],"message":"Hello world!"}`},
		{"ints are numbers, numbers become strings", `input "generator" "g" { lines = ["a", 2, true] }`,
			`{"count":0,"lines":["a","2","true"],"message":"Hello world!"}`},
		{"int from a string", `input "generator" "g" { count = "5" }`,
			`{"count":5,"message":"Hello world!"}`},
		{"common options", "input \"generator\" \"g\" {\n tags = \"t\"\n add_field = { \"[a][b]\" = \"%{x}\" }\n}",
			`{"add_field":{"[a][b]":"%{x}"},"count":0,"message":"Hello world!","tags":["t"]}`},
		{"durations stay strings, list defaults", `output "kafka" "k" { topic_id = "logs" }`,
			`{"bootstrap_servers":["localhost:9092"],"compression_type":"none","retry_backoff":"100ms","topic_id":"logs"}`},
		{"map of strings or lists", `filter "grok" "g" { match = { message = "%{A}", host = ["%{B}", "%{C}"] } }`,
			`{"break_on_match":true,"match":{"message":"%{A}","host":["%{B}","%{C}"]},"timeout":"30s"}`},
		{"any", "filter \"grok\" \"g\" {\n match = {}\n options = { a = 1, b = [true, \"<x>\"], c = 1.5 }\n}",
			`{"break_on_match":true,"match":{},"options":{"a":1,"b":[true,"<x>"],"c":1.5},"timeout":"30s"}`},
		{"null is unset", `output "stdout" "o" { codec = null }`,
			`{"codec":"rubydebug"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.block + "\ninput \"stdin\" \"zz_in\" {}\noutput \"stdout\" \"zz_out\" {}\n"
			p := decodeOne(t, src)
			var b *Block
			for _, x := range p.Blocks() {
				if !strings.HasPrefix(x.Name, "zz_") {
					b = x
				}
			}
			if got := string(b.ConfigJSON); got != tt.want {
				t.Errorf("ConfigJSON\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// What the core decodes is what a plugin reads through sdk.Config.
func TestConfigReachesPlugin(t *testing.T) {
	p := decodeOne(t, `
input "generator" "g" {
  lines = "only"
  count = 3
}
filter "grok" "parse" {
  match   = { message = "%{SYSLOGLINE}", host = ["%{IP}", "%{HOSTNAME}"] }
  timeout = "1m30s"
}
output "stdout" "o" {}
`)
	for _, b := range p.Blocks() {
		c, err := sdk.ParseConfig(b.ConfigJSON)
		if err != nil {
			t.Fatal(err)
		}
		direct := sdk.NewConfig(b.Config)
		switch b.Name {
		case "g":
			for _, c := range []*sdk.Config{c, direct} {
				if got := c.StringList("lines"); !reflect.DeepEqual(got, []string{"only"}) {
					t.Errorf("lines = %q", got)
				}
				if c.Int("count") != 3 {
					t.Errorf("count = %d", c.Int("count"))
				}
			}
			if _, ok := b.Config["count"].(int); !ok {
				t.Errorf("Config[count] is %T, want int", b.Config["count"])
			}
		case "parse":
			// Through the JSON the plugin gets, match's fields keep the
			// order written (Logstash tries them in that order); a Config
			// made from Go maps can only sort them.
			for c, order := range map[*sdk.Config][]string{c: {"message", "host"}, direct: {"host", "message"}} {
				keys, m := c.StringListMap("match")
				if !reflect.DeepEqual(keys, order) || !reflect.DeepEqual(m["host"], []string{"%{IP}", "%{HOSTNAME}"}) || !reflect.DeepEqual(m["message"], []string{"%{SYSLOGLINE}"}) {
					t.Errorf("match = %q %q", keys, m)
				}
				if c.Duration("timeout").Seconds() != 90 {
					t.Errorf("timeout = %v", c.Duration("timeout"))
				}
				if !c.Bool("break_on_match") {
					t.Error("break_on_match default lost")
				}
			}
		case "o":
			if c.String("codec") != "rubydebug" {
				t.Errorf("codec = %q", c.String("codec"))
			}
		}
	}
}

// A block that fails keeps no half-decoded Config, and blocks around it
// are still checked.
func TestDecodeFailureLeavesNoConfig(t *testing.T) {
	p, diags := Load(nil, `
input "generator" "g" { count = "x" }
output "stdout" "o" { codec = "nope" }
output "stdout" "fine" {}
`)
	diags = append(diags, p.Decode(testSchemas)...)
	if len(diags) != 2 {
		t.Fatalf("want 2 errors, got %s", diags.Error())
	}
	if p.Inputs[0].Config != nil || p.Inputs[0].ConfigJSON != nil || p.Outputs[0].Config != nil {
		t.Error("failed blocks have a Config")
	}
	if string(p.Outputs[1].ConfigJSON) != `{"codec":"rubydebug"}` {
		t.Errorf("good block: %s", p.Outputs[1].ConfigJSON)
	}
}

func TestBlockDiagnostics(t *testing.T) {
	src := `input "generator" "g" {
  lines = ["a", "b", "c"]
  tags  = "solo"
}
filter "grok" "parse" {
  match = {
    message = ["%{A}", "%{B}"]
    "[host][name]" = "%{C}"
  }
}
output "stdout" "o" {}
`
	p := decodeOne(t, src)
	gen, grok := p.Inputs[0], p.Filters[0]
	tests := []struct {
		name  string
		block *Block
		path  []string
		want  string // the source text the diagnostic covers
	}{
		{"setting", gen, []string{"lines"}, `["a", "b", "c"]`},
		{"list element", gen, []string{"lines", "1"}, `"b"`},
		{"index out of range falls back to the setting", gen, []string{"lines", "7"}, `["a", "b", "c"]`},
		{"single value stands for element 0", gen, []string{"tags", "0"}, `"solo"`},
		{"map value", grok, []string{"match", "[host][name]"}, `"%{C}"`},
		{"map value then list element", grok, []string{"match", "message", "1"}, `"%{B}"`},
		{"unknown key falls back to the setting", grok, []string{"match", "nope"}, "{\n    message = [\"%{A}\", \"%{B}\"]\n    \"[host][name]\" = \"%{C}\"\n  }"},
		{"default value falls back to the block", gen, []string{"count"}, `input "generator" "g" {`},
		{"no path", grok, nil, `filter "grok" "parse" {`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diags := tt.block.Diagnostics(sdk.Diagnostics{{Summary: "bad", Path: tt.path}, {Warning: true, Summary: "meh", Path: tt.path}})
			if len(diags) != 2 || diags[0].Summary != "bad" || diags[1].Severity != 2 {
				t.Fatalf("diags %v", diags)
			}
			r := diags[0].Subject
			if got := src[r.Start.Byte:r.End.Byte]; got != tt.want {
				t.Errorf("covers %q, want %q", got, tt.want)
			}
		})
	}
}

// Settings every Logstash plugin takes (id, enable_metric; a filter's
// periodic_flush) and Logstash's
// old per-output workers say what to write instead, not just "unknown".
func TestLogstashCommonSettings(t *testing.T) {
	tests := []struct {
		src, summary, detail string
		warning              bool
	}{
		{`input "generator" "g" { id = "my_gen" }`, "Logstash's id is the block's second label", `write input "generator" "my_gen" { ... }`, false},
		{`filter "grok" "g" {
  match = { message = "%{A}" }
  id = "parse"
}`, "Logstash's id is the block's second label", `write filter "grok" "parse"`, false},
		{`output "stdout" "o" { enable_metric = false }`, "enable_metric is ignored", "remove the setting", true},
		{`filter "date" "d" {
  match = ["t", "ISO8601"]
  periodic_flush = true
}`, "periodic_flush is ignored", "remove the setting", true},
		{`output "stdout" "o" { workers = 4 }`, "Outputs run on the pipeline's workers", "pipeline { workers = N }", false},
		// An input's workers is just unknown: Logstash never had it there.
		{`input "generator" "g" { workers = 4 }`, `Unknown setting "workers"`, "has no setting", false},
	}
	for _, tt := range tests {
		p, _ := Load(nil, tt.src) // the lone block's pipeline lacks an input or output
		diags := p.Decode(testSchemas)
		if len(diags) != 1 {
			t.Errorf("%s: want one diagnostic, got %v", tt.src, diags)
			continue
		}
		d := diags[0]
		if d.Summary != tt.summary || !strings.Contains(d.Detail, tt.detail) || (d.Severity == 2) != tt.warning {
			t.Errorf("%s:\n got %q (%s) severity %d\nwant %q containing %q, warning %v", tt.src, d.Summary, d.Detail, d.Severity, tt.summary, tt.detail, tt.warning)
		}
	}
}
