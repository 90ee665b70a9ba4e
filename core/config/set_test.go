package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

func summaries(diags hcl.Diagnostics) string {
	var out []string
	for _, d := range diags {
		out = append(out, d.Summary)
	}
	return strings.Join(out, "; ")
}

// A configuration without pipeline "ID" blocks is one pipeline, "main",
// read exactly as Load reads it.
func TestLoadSetWithoutPipelineBlocksIsMain(t *testing.T) {
	s := LoadSet(nil, "pipeline { workers = 3 }\ninput \"generator\" \"in\" {}\noutput \"stdout\" \"out\" {}\n")
	if len(s.Pipelines) != 1 || s.Named || len(s.Global) > 0 || len(s.Diags[0]) > 0 {
		t.Fatalf("got %d pipelines, named %t, global %q, diags %q", len(s.Pipelines), s.Named, summaries(s.Global), summaries(s.Diags[0]))
	}
	p := s.Pipelines[0]
	if p.ID() != "main" || p.Settings.Workers != 3 || len(p.Inputs) != 1 || len(p.Outputs) != 1 {
		t.Fatalf("got id %q, settings %+v, %d inputs, %d outputs", p.ID(), p.Settings, len(p.Inputs), len(p.Outputs))
	}
}

func TestLoadSetPipelineBlocks(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.hcl": `
pipeline "web" {
  workers     = 2
  batch_delay = "10ms"
  input "generator" "in" {}
  filter "expr" "f" {}
  output "stdout" "out" {}
}`,
		"b.hcl": `
pipeline "db" {
  input "generator" "in" {}
  output "stdout" "out" {}
}`,
	})
	s := LoadSet([]string{dir}, "")
	if len(s.Global) > 0 || len(s.Pipelines) != 2 || !s.Named {
		t.Fatalf("global %q, %d pipelines, named %t", summaries(s.Global), len(s.Pipelines), s.Named)
	}
	web, db := s.Pipelines[0], s.Pipelines[1]
	if len(s.Diags[0])+len(s.Diags[1]) > 0 {
		t.Fatalf("diags %q %q", summaries(s.Diags[0]), summaries(s.Diags[1]))
	}
	if web.ID() != "web" || web.Settings.Workers != 2 || web.Settings.BatchDelay != 10*time.Millisecond || len(web.Filters) != 1 {
		t.Fatalf("web: %q %+v, %d filters", web.ID(), web.Settings, len(web.Filters))
	}
	if db.ID() != "db" || db.Settings.HasWorkers || len(db.Filters) != 0 || len(db.Inputs) != 1 {
		t.Fatalf("db: %q %+v", db.ID(), db.Settings)
	}
}

// Each problem goes with its pipeline; a problem of none is global.
func TestLoadSetAttributesProblems(t *testing.T) {
	s := LoadSet(nil, `
pipeline "a" {
  id = "x"
  input "generator" "in" {}
}
pipeline "b" {
  input "generator" "in" {}
  output "stdout" "out" {}
  output "stdout" "out" {}
}
pipeline "a" {
  input "generator" "in" {}
  output "stdout" "out" {}
}
pipeline "c/d" {
  input "generator" "in" {}
  output "stdout" "out" {}
}
output "stdout" "stray" {}
`)
	if got := summaries(s.Global); got != `Duplicate pipeline id "a"; Block "output" outside the pipeline blocks` {
		t.Fatalf("global: %s", got)
	}
	if len(s.Pipelines) != 3 {
		t.Fatalf("%d pipelines, want a, b and c/d", len(s.Pipelines))
	}
	for i, want := range []string{
		`No output block; Unexpected setting "id" in pipeline "a"`,
		`Duplicate output name "out"`,
		`Invalid pipeline id "c/d"`,
	} {
		if got := summaries(s.Diags[i]); got != want {
			t.Errorf("pipeline %s: %s, want %s", s.Pipelines[i].ID(), got, want)
		}
	}
	if got := Named("b", s.Diags[1])[0].Summary; got != `pipeline "b": Duplicate output name "out"` {
		t.Fatalf("named: %s", got)
	}
}

func TestLoadPipelinesFile(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"conf.d/one.hcl": "pipeline { workers = 7 }\ninput \"generator\" \"in\" {}\noutput \"stdout\" \"out\" {}\n",
		"pipelines.yml": `
- pipeline.id: one
  path.config: conf.d/*.hcl
  pipeline.workers: 2
  pipeline.batch.delay: 5
- pipeline.id: two
  pipeline.batch.size: 9
  dead_letter_queue.enable: true
  queue.type: memory
  config.string: |
    input "generator" "in" {}
    output "stdout" "out" {}
`,
	})
	s := LoadPipelinesFile(dir)
	if len(s.Global) > 0 || len(s.Pipelines) != 2 {
		t.Fatalf("global %q, %d pipelines", summaries(s.Global), len(s.Pipelines))
	}
	one, two := s.Pipelines[0], s.Pipelines[1]
	if len(s.Diags[0])+len(s.Diags[1]) > 0 {
		t.Fatalf("diags %q %q", summaries(s.Diags[0]), summaries(s.Diags[1]))
	}
	// pipelines.yml wins over the file's pipeline block.
	if one.ID() != "one" || one.Settings.Workers != 2 || one.Settings.BatchDelay != 5*time.Millisecond {
		t.Fatalf("one: %q %+v", one.ID(), one.Settings)
	}
	if one.Files[0] != filepath.Join(dir, "conf.d", "one.hcl") {
		t.Fatalf("one read %v: path.config is relative to pipelines.yml's directory", one.Files)
	}
	if two.ID() != "two" || two.Settings.BatchSize != 9 || len(two.Inputs) != 1 {
		t.Fatalf("two: %q %+v", two.ID(), two.Settings)
	}
	want := []string{filepath.Join(dir, "pipelines.yml"), filepath.Join(dir, "conf.d", "one.hcl")}
	if got := PipelinesFileSources(dir); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("sources %v, want %v", got, want)
	}
}

func TestLoadPipelinesFileProblems(t *testing.T) {
	for _, tc := range []struct{ name, yml, global, entry string }{
		{"missing", "", `Configuration file not found: ` + "%s/pipelines.yml", ""},
		{"not yaml", "- [", "Cannot parse pipelines.yml", ""},
		{"not a list", "pipeline.id: x\n", "pipelines.yml is not a list", ""},
		{"empty list", "[]\n", "pipelines.yml declares no pipeline", ""},
		{"no id", "- path.config: x.hcl\n", "Entry without pipeline.id", ""},
		{"duplicate", "- pipeline.id: a\n  config.string: x\n- pipeline.id: a\n  config.string: x\n", `Duplicate pipeline id "a"`, ""},
		{"no config", "- pipeline.id: a\n", "", `No configuration for pipeline "a"`},
		{"both", "- pipeline.id: a\n  path.config: x.hcl\n  config.string: y\n", "", `Both path.config and config.string`},
		{"typo", "- pipeline.id: a\n  pipeline.worker: 2\n  config.string: y\n", "", `Unknown setting "pipeline.worker" in pipelines.yml`},
		{"workers", "- pipeline.id: a\n  pipeline.workers: many\n  config.string: y\n", "", `Invalid value for "pipeline.workers"`},
		{"persisted", "- pipeline.id: a\n  queue.type: persisted\n  config.string: y\n", "", `Unsupported queue.type "persisted"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.name != "missing" {
				writeFiles(t, dir, map[string]string{"pipelines.yml": tc.yml})
			}
			s := LoadPipelinesFile(dir)
			global := strings.ReplaceAll(tc.global, "%s", dir)
			if got := summaries(s.Global); !strings.HasPrefix(got, global) || (global == "") != (got == "") {
				t.Fatalf("global %q, want %q", got, global)
			}
			if tc.entry == "" {
				return
			}
			if len(s.Diags) != 1 || !strings.HasPrefix(summaries(s.Diags[0]), tc.entry) {
				t.Fatalf("entry diags %v, want %q", s.Diags, tc.entry)
			}
		})
	}
}

// A digest changes with what the pipeline runs, not with how its file is
// laid out.
func TestDigest(t *testing.T) {
	digest := func(src string) string {
		t.Helper()
		p, diags := Load(nil, src)
		diags = append(diags, p.Decode(testSchemas)...)
		if diags.HasErrors() {
			t.Fatal(summaries(diags))
		}
		return p.Digest()
	}
	base := digest("input \"generator\" \"in\" { count = 1 }\noutput \"stdout\" \"out\" {}\n")
	if same := digest("# a comment\ninput \"generator\" \"in\" {\n  count = 1\n}\n\noutput \"stdout\" \"out\" {}\n"); same != base {
		t.Fatalf("layout changed the digest")
	}
	for _, changed := range []string{
		"input \"generator\" \"in\" { count = 2 }\noutput \"stdout\" \"out\" {}\n",
		"input \"generator\" \"in2\" { count = 1 }\noutput \"stdout\" \"out\" {}\n",
		"pipeline { workers = 2 }\ninput \"generator\" \"in\" { count = 1 }\noutput \"stdout\" \"out\" {}\n",
	} {
		if digest(changed) == base {
			t.Errorf("%q has the same digest", changed)
		}
	}
}
