package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"go.yaml.in/yaml/v3"
)

// PipelinesFile is the file in --path.settings that declares the
// pipelines, as Logstash's pipelines.yml does.
const PipelinesFile = "pipelines.yml"

// pipelinesKeys are the pipelines.yml settings gostash takes, spelled as
// Logstash spells them.
var pipelinesKeys = []string{
	"pipeline.id", "path.config", "config.string", "pipeline.workers", "pipeline.batch.size", "pipeline.batch.delay",
	"queue.type", "dead_letter_queue.enable",
}

// entry is one pipeline of pipelines.yml.
type entry struct {
	id       string
	paths    []string
	inline   string
	settings Settings
	at       hcl.Range // the entry's first key
	diags    hcl.Diagnostics
}

// LoadPipelinesFile reads dir/pipelines.yml and loads each entry's
// configuration (path.config or config.string) as one pipeline with the
// entry's id and settings, which win over the files' pipeline block.
// Relative path.config globs are relative to dir, so the file means the
// same whatever the working directory.
func LoadPipelinesFile(dir string) *Set {
	root := &Pipeline{sources: map[string]*source{}}
	s := &Set{Named: true, root: root}
	entries, diags := readEntries(root, filepath.Join(dir, PipelinesFile))
	s.Global = diags
	for _, e := range entries {
		p, pdiags := &Pipeline{sources: map[string]*source{}}, hcl.Diagnostics(nil)
		if len(e.paths) > 0 || e.inline != "" {
			p, pdiags = Load(e.paths, e.inline)
		}
		p.Settings = e.settings.Or(p.Settings)
		// The entry's own problems point into pipelines.yml.
		p.sources[e.at.Filename] = root.sources[e.at.Filename]
		s.Pipelines = append(s.Pipelines, p)
		s.Diags = append(s.Diags, append(e.diags, pdiags...))
	}
	return s
}

// PipelinesFileSources lists pipelines.yml and the files its entries
// name, in order, for a reload to watch; what cannot be read is left out
// (a reload reports it).
func PipelinesFileSources(dir string) []string {
	path := filepath.Join(dir, PipelinesFile)
	files := []string{path}
	entries, _ := readEntries(&Pipeline{sources: map[string]*source{}}, path)
	for _, e := range entries {
		f, _ := resolve(e.paths)
		files = append(files, f...)
	}
	return files
}

// readEntries parses path; every problem is a diagnostic pointing into it.
func readEntries(root *Pipeline, path string) ([]entry, hcl.Diagnostics) {
	data, err := os.ReadFile(path)
	if err != nil {
		d := fileError(path, err)
		d.Detail = "Without -f or -e gostash runs the pipelines of " + PipelinesFile + " in --path.settings (here " + filepath.Dir(path) + "). " + d.Detail
		return nil, hcl.Diagnostics{d}
	}
	root.sources[path] = newSource(path, data, nil)
	root.Files = append(root.Files, path)
	r := ymlReader{path: path, data: data, dir: filepath.Dir(path)}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		r.errorf(nil, "Cannot parse "+PipelinesFile, "%v. The file is a YAML list with one entry per pipeline: - pipeline.id: web", err)
		return nil, r.diags
	}
	if len(doc.Content) == 0 {
		r.errorf(nil, PipelinesFile+" declares no pipeline", "Add one entry per pipeline:\n- pipeline.id: web\n  path.config: web.hcl")
		return nil, r.diags
	}
	list := doc.Content[0]
	if list.Kind != yaml.SequenceNode {
		r.errorf(list, PipelinesFile+" is not a list", "Write one entry per pipeline, each starting with a dash: - pipeline.id: web")
		return nil, r.diags
	}
	var entries []entry
	ids := map[string]hcl.Range{}
	for _, item := range list.Content {
		e, ok := r.entry(item)
		if !ok {
			continue // without a usable id, its other problems were reported with the file's
		}
		if first, dup := ids[e.id]; dup {
			r.diags = append(r.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Subject: e.at.Ptr(),
				Summary: "Duplicate pipeline id " + quote(e.id),
				Detail:  fmt.Sprintf("A pipeline %q is already declared at %s. Pipeline ids name the pipelines in logs, metrics and --path.data: give each its own.", e.id, posString(first)),
				Extra:   related{Label: "first declared at", Range: first}})
			continue
		}
		ids[e.id] = e.at
		entries = append(entries, e)
	}
	if len(list.Content) == 0 {
		r.errorf(list, PipelinesFile+" declares no pipeline", "Add one entry per pipeline:\n- pipeline.id: web\n  path.config: web.hcl")
	}
	return entries, r.diags
}

type ymlReader struct {
	path, dir string
	data      []byte
	diags     hcl.Diagnostics
}

// rangeOf is n's place in the file; nil is the file's start.
func (r *ymlReader) rangeOf(n *yaml.Node) hcl.Range {
	line, col := 1, 1
	if n != nil {
		line, col = n.Line, n.Column
	}
	off := 0
	for i := 1; i < line; i++ {
		nl := bytes.IndexByte(r.data[off:], '\n')
		if nl < 0 {
			break
		}
		off += nl + 1
	}
	off += col - 1
	width := 1
	if n != nil && n.Kind == yaml.ScalarNode && n.Style == 0 {
		width = max(1, len(n.Value))
	}
	return hcl.Range{Filename: r.path, Start: hcl.Pos{Line: line, Column: col, Byte: off}, End: hcl.Pos{Line: line, Column: col + width, Byte: off + width}}
}

func (r *ymlReader) errorf(n *yaml.Node, summary, detail string, args ...any) {
	rng := r.rangeOf(n)
	r.diags = append(r.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(detail, args...), Subject: &rng})
}

// entry reads one list item. Problems go to the entry's diagnostics, or
// to the file's when the entry has no usable id (ok false).
func (r *ymlReader) entry(item *yaml.Node) (e entry, ok bool) {
	global := r.diags
	r.diags = nil
	defer func() {
		if ok {
			e.diags, r.diags = r.diags, global
		} else {
			r.diags = append(global, r.diags...)
		}
	}()
	return r.readEntry(item)
}

func (r *ymlReader) readEntry(item *yaml.Node) (entry, bool) {
	var e entry
	e.at = r.rangeOf(item)
	if item.Kind != yaml.MappingNode {
		r.errorf(item, "Entry is not a mapping", "Each entry sets a pipeline's settings: - pipeline.id: web, then path.config: web.hcl indented below it.")
		return e, false
	}
	values := map[string]*yaml.Node{}
	for i := 0; i+1 < len(item.Content); i += 2 {
		k, v := item.Content[i], item.Content[i+1]
		if _, dup := values[k.Value]; dup {
			r.errorf(k, "Duplicate setting "+quote(k.Value), "Set it once per entry.")
			continue
		}
		values[k.Value] = v
		if !slices.Contains(pipelinesKeys, k.Value) {
			r.errorf(k, "Unknown setting "+quote(k.Value)+" in "+PipelinesFile, "gostash takes %s.%s",
				strings.Join(pipelinesKeys, ", "), suggestSentence(k.Value, pipelinesKeys, ""))
		}
	}
	str := func(key string) (string, *yaml.Node) {
		v := values[key]
		if v == nil {
			return "", nil
		}
		if v.Kind != yaml.ScalarNode {
			r.errorf(v, "Invalid value for "+quote(key), "%s takes a string.", key)
			return "", nil
		}
		return v.Value, v
	}
	num := func(key string, min, max int, dst *int, has *bool) {
		s, v := str(key)
		if v == nil {
			return
		}
		n, err := strconv.Atoi(s)
		switch {
		case err != nil:
			r.errorf(v, "Invalid value for "+quote(key), "%s takes a whole number, got %q.", key, s)
		case n < min:
			r.errorf(v, "Invalid value for "+quote(key), "%s must be at least %d, got %d.", key, min, n)
		case max > 0 && n > max:
			r.errorf(v, "Invalid value for "+quote(key), "%s can be at most %d, got %d: %s.", key, max, n, MaxWorkersWhy)
		default:
			*dst, *has = n, true
		}
	}
	id, idNode := str("pipeline.id")
	e.id = id
	idOK := false
	if idNode == nil {
		r.errorf(item, "Entry without pipeline.id", "Each entry needs a pipeline.id: it names the pipeline in logs, metrics and --path.data.")
	} else if msg := CheckID(id); msg != "" {
		r.errorf(idNode, "Invalid pipeline.id "+quote(id), "%s", msg)
	} else {
		idOK = true
	}
	e.settings.ID, e.settings.HasID = id, true
	if pc := values["path.config"]; pc != nil {
		var globs []string
		switch pc.Kind {
		case yaml.ScalarNode:
			globs = []string{pc.Value}
		case yaml.SequenceNode:
			for _, g := range pc.Content {
				globs = append(globs, g.Value)
			}
		}
		for _, g := range globs {
			if g == "" {
				r.errorf(pc, "Empty path.config", "Give a file, a directory or a glob, such as conf.d/*.hcl.")
				continue
			}
			if !filepath.IsAbs(g) {
				g = filepath.Join(r.dir, g)
			}
			e.paths = append(e.paths, g)
		}
	}
	e.inline, _ = str("config.string")
	if values["path.config"] == nil && values["config.string"] == nil {
		r.errorf(item, "No configuration for pipeline "+quote(id), "Give each entry its configuration with path.config (a file, a directory or a glob) or config.string.")
	}
	if values["path.config"] != nil && values["config.string"] != nil {
		r.errorf(values["config.string"], "Both path.config and config.string", "Give pipeline %q its configuration one way: a file with path.config, or the text itself with config.string.", id)
	}
	num("pipeline.workers", 1, MaxWorkers, &e.settings.Workers, &e.settings.HasWorkers)
	num("pipeline.batch.size", 1, 0, &e.settings.BatchSize, &e.settings.HasBatchSize)
	var delayMS int
	num("pipeline.batch.delay", 0, 0, &delayMS, &e.settings.HasBatchDelay)
	e.settings.BatchDelay = time.Duration(delayMS) * time.Millisecond
	if q, v := str("queue.type"); v != nil && q != "memory" {
		r.errorf(v, "Unsupported queue.type "+quote(q), "gostash's queue is in memory (queue.type: memory): an event is acked only once every output took it, so what was not acked is read again from its input after a restart.")
	}
	if en, v := str("dead_letter_queue.enable"); v != nil && en != "true" {
		r.errorf(v, "Unsupported dead_letter_queue.enable "+quote(en), "gostash's dead letter queue is always on: an event an output rejects for good is written to <path.data>/dead_letter_queue/%s. Remove the setting.", id)
	}
	return e, idOK
}
