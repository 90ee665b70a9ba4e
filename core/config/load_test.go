package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk"
	"github.com/hashicorp/hcl/v2"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func names(blocks []*Block) []string {
	var out []string
	for _, b := range blocks {
		out = append(out, b.Name)
	}
	return out
}

func TestLoadOrder(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"b.hcl":     `filter "expr" "b" {}`,
		"a.hcl":     "input \"generator\" \"in\" {}\nfilter \"expr\" \"a\" {}\n",
		"c.hcl":     "filter \"expr\" \"c\" {}\noutput \"stdout\" \"out\" {}\n",
		"10.hcl":    `filter "expr" "ten" {}`,
		"notes.txt": "not configuration {",
		"sub/d.hcl": `filter "expr" "d" {}`,
	})
	j := func(n ...string) []string {
		var out []string
		for _, x := range n {
			out = append(out, filepath.Join(dir, x))
		}
		return out
	}
	tests := []struct {
		name        string
		paths       []string
		wantFiles   []string
		wantFilters []string
	}{
		{"directory", []string{dir}, j("10.hcl", "a.hcl", "b.hcl", "c.hcl"), []string{"ten", "a", "b", "c"}},
		{"glob", []string{filepath.Join(dir, "*.hcl")}, j("10.hcl", "a.hcl", "b.hcl", "c.hcl"), []string{"ten", "a", "b", "c"}},
		// Several paths keep their order; each one's files are sorted.
		{"paths in order", []string{filepath.Join(dir, "[cb].hcl"), filepath.Join(dir, "a.hcl")}, j("b.hcl", "c.hcl", "a.hcl"), []string{"b", "c", "a"}},
		{"file named twice", []string{filepath.Join(dir, "a.hcl"), filepath.Join(dir, "*.hcl")}, j("a.hcl", "10.hcl", "b.hcl", "c.hcl"), []string{"a", "ten", "b", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, diags := Load(tt.paths, "")
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if !reflect.DeepEqual(p.Files, tt.wantFiles) {
				t.Errorf("files %q, want %q", p.Files, tt.wantFiles)
			}
			if got := names(p.Filters); !reflect.DeepEqual(got, tt.wantFilters) {
				t.Errorf("filters %q, want %q", got, tt.wantFilters)
			}
		})
	}
}

func TestLoadInlineAndFiles(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"in.hcl": `input "generator" "in" {}`})
	p, diags := Load([]string{filepath.Join(dir, "in.hcl")}, `output "stdout" "out" {}`)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if len(p.Inputs) != 1 || len(p.Outputs) != 1 || p.Outputs[0].DefRange.Filename != InlineName {
		t.Fatalf("want the union of the file and -e, got files %q", p.Files)
	}
}

func TestLoadSourceErrors(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"empty/readme.txt": "x", "ok.hcl": "input \"generator\" \"in\" {}\noutput \"stdout\" \"out\" {}\n"})
	tests := []struct {
		name  string
		paths []string
		want  []string // summaries
	}{
		{"missing file", []string{filepath.Join(dir, "nope.hcl")}, []string{"Configuration file not found: " + filepath.Join(dir, "nope.hcl")}},
		{"glob matching nothing", []string{filepath.Join(dir, "*.conf")}, []string{`No configuration files match "` + filepath.Join(dir, "*.conf") + `"`}},
		{"directory without .hcl", []string{filepath.Join(dir, "empty")}, []string{`No .hcl files in directory "` + filepath.Join(dir, "empty") + `"`}},
		// The good file is still read and checked: every problem at once.
		{"one bad path among good ones", []string{filepath.Join(dir, "ok.hcl"), filepath.Join(dir, "nope.hcl")}, []string{"Configuration file not found: " + filepath.Join(dir, "nope.hcl")}},
		{"nothing given", nil, []string{"No configuration given"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := Load(tt.paths, "")
			var got []string
			for _, d := range diags {
				got = append(got, d.Summary)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSettings(t *testing.T) {
	p, diags := Load(nil, `
pipeline {
  id          = "main"
  workers     = 3
  batch_delay = "5ms"
}
input "generator" "in" {}
output "stdout" "out" {}
`)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	s := p.Settings
	if s.ID != "main" || s.Workers != 3 || s.BatchDelay != 5*time.Millisecond || !s.HasID || !s.HasWorkers || !s.HasBatchDelay || s.HasBatchSize {
		t.Fatalf("settings %+v", s)
	}
	if s.Range.Start.Line != 2 {
		t.Errorf("range %v, want line 2", s.Range)
	}
	// Flags fill in only what the file leaves unset.
	flags := Settings{Workers: 8, HasWorkers: true, BatchSize: 500, HasBatchSize: true, BatchDelay: time.Second, HasBatchDelay: true}
	got := s.Or(flags)
	if got.Workers != 3 || got.BatchSize != 500 || !got.HasBatchSize || got.BatchDelay != 5*time.Millisecond || got.ID != "main" {
		t.Errorf("Or: %+v", got)
	}
}

func TestPluginDecl(t *testing.T) {
	dir := t.TempDir()
	sum := strings.Repeat("AB", 32)
	writeFiles(t, dir, map[string]string{"p.hcl": `
plugin "geoip" {
  path   = "bin/gostash-geoip"
  sha256 = "` + sum + `"
}
plugin "abs" { path = "/opt/x" }
input "generator" "in" {}
output "stdout" "out" {}
`})
	p, diags := Load([]string{filepath.Join(dir, "p.hcl")}, "")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	want := []PluginDecl{
		{Name: "geoip", Path: filepath.Join(dir, "bin/gostash-geoip"), SHA256: strings.ToLower(sum)},
		{Name: "abs", Path: "/opt/x"},
	}
	for i := range p.Plugins {
		p.Plugins[i].Range = hcl.Range{}
	}
	if !reflect.DeepEqual(p.Plugins, want) {
		t.Errorf("got %+v\nwant %+v", p.Plugins, want)
	}
}

func TestBlocks(t *testing.T) {
	p, diags := Load(nil, "input \"generator\" \"in\" {}\nfilter \"expr\" \"f\" {}\noutput \"stdout\" \"out\" {}\n")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	b := p.Filters[0]
	if b.Kind != sdk.KindFilter || b.Type != "expr" || b.Label() != `filter "expr" "f"` {
		t.Errorf("block %+v", b)
	}
	if r := b.TypeRange; r.Start.Line != 2 || r.Start.Column != 8 || r.End.Column != 14 {
		t.Errorf("type range %v", r)
	}
	if got := names(p.Blocks()); !reflect.DeepEqual(got, []string{"in", "f", "out"}) {
		t.Errorf("Blocks() = %q", got)
	}
}

// Files names exactly what Load reads, so a reload that watches them sees
// a file added to a directory or a glob.
func TestFilesAreWhatLoadReads(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"conf.d/b.hcl":   "output \"stdout\" \"o\" {}\n",
		"conf.d/a.hcl":   "input \"generator\" \"in\" {}\n",
		"conf.d/notes":   "not read",
		"extra/x.hcl":    "filter \"expr\" \"x\" {}\n",
		"extra/y.hcl.bk": "not read",
	})
	paths := []string{filepath.Join(dir, "conf.d"), filepath.Join(dir, "extra", "*.hcl")}
	files, diags := Files(paths)
	p, ldiags := Load(paths, "")
	if diags.HasErrors() || ldiags.HasErrors() {
		t.Fatalf("diagnostics: %v %v", diags, ldiags)
	}
	if !reflect.DeepEqual(files, p.Files) || len(files) != 3 {
		t.Fatalf("Files %v, Load read %v", files, p.Files)
	}
	writeFiles(t, dir, map[string]string{"conf.d/c.hcl": ""})
	if files, _ := Files(paths); len(files) != 4 {
		t.Fatalf("a file added to the directory is not listed: %v", files)
	}
	if _, diags := Files([]string{filepath.Join(dir, "none", "*.hcl")}); !diags.HasErrors() {
		t.Fatal("a glob that matches nothing is not reported")
	}
}
