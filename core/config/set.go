package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/gostash/gostash/sdk"
)

// Set is the pipelines one gostash process runs: one, named "main", for
// a configuration without pipeline "ID" blocks (as before), or one per
// pipeline "ID" block or pipelines.yml entry. Each pipeline is checked on
// its own, so a mistake in one names it and does not hide the others.
type Set struct {
	Pipelines []*Pipeline
	// Diags[i] are the problems of Pipelines[i]; Global those of no one
	// pipeline (a file that does not parse, a duplicate id): with a global
	// error nothing runs.
	Diags  []hcl.Diagnostics
	Global hcl.Diagnostics
	// Named is set when the pipelines were declared by id: diagnostics then
	// say which pipeline they are about.
	Named bool

	root *Pipeline // renders global diagnostics
}

// ID is the pipeline's id: its settings', else sdk.DefaultPipelineID.
func (p *Pipeline) ID() string {
	if p.Settings.HasID && p.Settings.ID != "" {
		return p.Settings.ID
	}
	return sdk.DefaultPipelineID
}

// LoadSet reads paths and inline HCL as Load does. When the sources hold
// pipeline "ID" { ... } blocks, each is a pipeline of its own, and every
// input, filter, output and plugin block must be inside one of them;
// otherwise the sources are one pipeline, as Load reads them.
func LoadSet(paths []string, inline string) *Set {
	root, parsed, diags := parseAll(paths, inline)
	if !declaresPipelines(parsed) {
		diags = append(diags, root.decodeTop(parsed, diags.HasErrors())...)
		return &Set{Pipelines: []*Pipeline{root}, Diags: []hcl.Diagnostics{root.fixDiags(diags)}, root: root}
	}
	s := &Set{Named: true, Global: diags, root: root}
	ids := map[string]hcl.Range{}
	for _, body := range parsed {
		for _, attr := range sortedAttrs(body.Attributes) {
			s.Global = append(s.Global, &hcl.Diagnostic{
				Severity: hcl.DiagError, Subject: attr.NameRange.Ptr(),
				Summary: "Unexpected setting " + quote(attr.Name) + " at the top level",
				Detail:  "This configuration declares pipelines with pipeline \"ID\" { ... } blocks: settings go inside the pipeline they belong to.",
			})
		}
		for _, blk := range body.Blocks {
			if blk.Type != "pipeline" || len(blk.Labels) != 1 {
				s.Global = append(s.Global, &hcl.Diagnostic{
					Severity: hcl.DiagError, Subject: blk.TypeRange.Ptr(),
					Summary: "Block " + quote(blk.Type) + " outside the pipeline blocks",
					Detail: "This configuration declares pipelines with pipeline \"ID\" { ... } blocks: put each input, filter, output and plugin block " +
						"inside the pipeline it belongs to, and each pipeline's settings (workers, batch_size, batch_delay) directly in its block.",
				})
				continue
			}
			id := blk.Labels[0]
			if first, dup := ids[id]; dup {
				s.Global = append(s.Global, &hcl.Diagnostic{
					Severity: hcl.DiagError, Subject: blk.LabelRanges[0].Ptr(),
					Summary: "Duplicate pipeline id " + quote(id),
					Detail:  fmt.Sprintf("A pipeline %q is already declared at %s. Pipeline ids name the pipelines in logs, metrics and --path.data: give each its own.", id, posString(root.fix(first))),
					Extra:   related{Label: "first declared at", Range: first},
				})
				continue
			}
			ids[id] = blk.LabelRanges[0]
			p, pdiags := root.declared(blk)
			s.Pipelines = append(s.Pipelines, p)
			s.Diags = append(s.Diags, p.fixDiags(pdiags))
		}
	}
	s.Global = root.fixDiags(s.Global)
	return s
}

// declaresPipelines reports whether a source has a pipeline "ID" block.
func declaresPipelines(parsed []*hclsyntax.Body) bool {
	for _, body := range parsed {
		for _, blk := range body.Blocks {
			if blk.Type == "pipeline" && len(blk.Labels) == 1 {
				return true
			}
		}
	}
	return false
}

// child is a new pipeline read from root's sources.
func (root *Pipeline) child() *Pipeline {
	return &Pipeline{sources: root.sources, ctx: root.ctx, env: root.env, Files: root.Files}
}

// declaredFields are a pipeline "ID" block's settings: its label is its id.
var declaredFields = pipelineFields[1:]

// declared reads a pipeline "ID" { ... } block: its settings, then its
// input, filter, output and plugin blocks.
func (root *Pipeline) declared(blk *hclsyntax.Block) (*Pipeline, hcl.Diagnostics) {
	p := root.child()
	header := hcl.RangeBetween(blk.TypeRange, blk.OpenBraceRange)
	d := decoder{p: p, names: map[string]hcl.Range{}}
	id := blk.Labels[0]
	if msg := CheckID(id); msg != "" {
		d.errorf(blk.LabelRanges[0], "Invalid pipeline id "+quote(id), "%s", msg)
	}
	settings := &hclsyntax.Body{Attributes: blk.Body.Attributes, SrcRange: blk.Body.SrcRange, EndRange: blk.Body.EndRange}
	if a, ok := settings.Attributes["id"]; ok {
		d.errorf(a.NameRange, "Unexpected setting \"id\" in pipeline "+quote(id), "The block's label is the pipeline's id: remove the setting, or rename the block.")
		settings.Attributes = hclsyntax.Attributes{}
		for k, v := range blk.Body.Attributes {
			if k != "id" {
				settings.Attributes[k] = v
			}
		}
	}
	d.settings(settings, header, declaredFields, "pipeline "+quote(id), " Its settings are workers, batch_size and batch_delay.")
	p.Settings.ID, p.Settings.HasID = id, true
	for _, b := range blk.Body.Blocks {
		switch b.Type {
		case "input", "filter", "output":
			d.pluginBlock(b)
		case "plugin":
			d.pluginDecl(b)
		case "pipeline":
			d.structural = true
			d.errorf(b.TypeRange, "Nested pipeline block", "Pipelines do not nest; set this pipeline's settings directly in its block: pipeline %q { workers = 2 ... }.", id)
		default:
			hint := ""
			if s := suggest(b.Type, []string{"input", "filter", "output", "plugin"}); s != "" {
				hint = " Did you mean " + quote(s) + "?"
			}
			d.structural = true
			d.errorf(b.TypeRange, "Unknown block type "+quote(b.Type), "A pipeline block takes input, filter, output and plugin blocks.%s", hint)
		}
	}
	d.needInOut(false, header.Ptr())
	return p, d.diags
}

// CheckID says what is wrong with a pipeline id, or "". An id names
// directories under --path.data, so it is kept to characters every file
// system takes.
func CheckID(id string) string {
	if id == "" {
		return "An id names the pipeline in logs, metrics and --path.data: give one, such as \"web\"."
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Sprintf("An id names directories under --path.data: use letters, digits, '-', '_' and '.', got %q.", c)
		}
	}
	if id[0] == '.' {
		return "An id names directories under --path.data: it cannot start with '.'."
	}
	return ""
}

// HasErrors reports whether the set cannot run at all, or pipeline i
// (i >= 0) cannot.
func (s *Set) HasErrors(i int) bool {
	return s.Global.HasErrors() || i >= 0 && s.Diags[i].HasErrors()
}

// Write prints diags of pipeline i (-1: global ones) as WriteDiagnostics
// does; when the pipelines were declared by id, each summary starts with
// the pipeline's id.
func (s *Set) Write(w io.Writer, i int, diags hcl.Diagnostics) {
	p := s.root
	if i >= 0 {
		p = s.Pipelines[i]
		if s.Named {
			diags = Named(p.ID(), diags)
		}
	}
	WriteDiagnostics(w, p, diags)
}

// Named returns copies of diags whose summaries name pipeline id.
func Named(id string, diags hcl.Diagnostics) hcl.Diagnostics {
	out := make(hcl.Diagnostics, len(diags))
	for i, d := range diags {
		c := *d
		c.Summary = "pipeline " + quote(id) + ": " + d.Summary
		out[i] = &c
	}
	return out
}

// Digest identifies what a decoded pipeline runs: its settings, its
// blocks' settings and its plugin binaries. A reload restarts a pipeline
// only when its digest changed, whatever else changed in its files.
func (p *Pipeline) Digest() string {
	h := sha256.New()
	s := p.Settings
	fmt.Fprintf(h, "%s\x00%t%d\x00%t%d\x00%t%d\x00", p.ID(), s.HasWorkers, s.Workers, s.HasBatchSize, s.BatchSize, s.HasBatchDelay, int64(s.BatchDelay))
	for _, b := range p.Blocks() {
		fmt.Fprintf(h, "%d\x00%s\x00%s\x00%d\x00", b.Kind, b.Type, b.Name, len(b.ConfigJSON))
		h.Write(b.ConfigJSON)
	}
	for _, d := range p.Plugins {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00", d.Name, d.Path, d.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))
}
