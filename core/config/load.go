package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gostash/gostash/sdk"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Load reads the configuration from paths (each a file, a directory whose
// *.hcl files are read, or a glob) and inline HCL (-e), and checks its
// structure. Each path's files are read in lexical order, as Logstash
// does; the pipeline is the union of their blocks. Load reports every
// problem it finds and always returns a Pipeline, so the diagnostics can
// be printed with their source lines.
func Load(paths []string, inline string) (*Pipeline, hcl.Diagnostics) {
	p, parsed, diags := parseAll(paths, inline)
	diags = append(diags, p.decodeTop(parsed, diags.HasErrors())...)
	return p, p.fixDiags(diags)
}

// parseAll reads and parses every source into a new Pipeline.
func parseAll(paths []string, inline string) (*Pipeline, []*hclsyntax.Body, hcl.Diagnostics) {
	p := &Pipeline{sources: map[string]*source{}}
	p.env, p.ctx = envContext(os.Environ())
	var diags hcl.Diagnostics

	files, fdiags := resolve(paths)
	diags = append(diags, fdiags...)
	if len(paths) == 0 && inline == "" {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No configuration given",
			Detail:   "Give a file, a directory or a glob with -f, the configuration itself with -e, or a directory holding pipelines.yml with --path.settings.",
		})
	}

	var parsed []*hclsyntax.Body
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			diags = append(diags, fileError(name, err))
			continue
		}
		body, pdiags := p.parse(name, data)
		diags = append(diags, pdiags...)
		parsed = append(parsed, body)
	}
	if inline != "" {
		body, pdiags := p.parse(InlineName, []byte(inline))
		diags = append(diags, pdiags...)
		parsed = append(parsed, body)
	}
	return p, parsed, diags
}

// decodeTop checks the top level of the parsed sources as one pipeline.
// failed says earlier steps found errors: a missing input or output is
// then likely their echo and not reported.
func (p *Pipeline) decodeTop(parsed []*hclsyntax.Body, failed bool) hcl.Diagnostics {
	d := decoder{p: p, names: map[string]hcl.Range{}}
	for _, body := range parsed {
		d.top(body)
	}
	if len(parsed) > 0 {
		d.needInOut(failed, nil)
	}
	return d.diags
}

// needInOut reports a pipeline without an input or an output, unless
// failed or a structural error (a missing file, a syntax error, a
// misspelt block) makes it likely an echo of those. at is where to point.
func (d *decoder) needInOut(failed bool, at *hcl.Range) {
	if failed || d.structural {
		return
	}
	for _, k := range []struct {
		kind    sdk.Kind
		blocks  []*Block
		example string
	}{{sdk.KindInput, d.p.Inputs, `input "stdin" "in" {}`}, {sdk.KindOutput, d.p.Outputs, `output "stdout" "out" {}`}} {
		if len(k.blocks) == 0 {
			d.diags = append(d.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("No %s block", k.kind),
				Detail:   fmt.Sprintf("A pipeline needs at least one %s, such as %s.", k.kind, k.example),
				Subject:  at,
			})
		}
	}
}

// Files lists the files Load reads for paths, in its order, and what is
// wrong with paths that name none: a reload watches these.
func Files(paths []string) ([]string, hcl.Diagnostics) { return resolve(paths) }

// resolve expands paths into files. Each path's matches are sorted; a
// file named twice is read once.
func resolve(paths []string) ([]string, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	var files []string
	seen := map[string]bool{}
	add := func(names []string) {
		sort.Strings(names)
		for _, n := range names {
			if !seen[n] {
				seen[n] = true
				files = append(files, n)
			}
		}
	}
	for _, path := range paths {
		if strings.ContainsAny(path, "*?[") {
			matches, err := filepath.Glob(path)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid glob " + quote(path),
					Detail:   err.Error() + ". Globs use *, ? and [...], as in conf.d/*.hcl.",
				})
				continue
			}
			var regular []string
			for _, m := range matches {
				if fi, err := os.Stat(m); err == nil && !fi.IsDir() {
					regular = append(regular, m)
				}
			}
			if len(regular) == 0 {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "No configuration files match " + quote(path),
					Detail:   "Check the pattern and the working directory; quote the glob so the shell does not expand it.",
				})
			}
			add(regular)
			continue
		}
		fi, err := os.Stat(path)
		if err != nil {
			diags = append(diags, fileError(path, err))
			continue
		}
		if !fi.IsDir() {
			add([]string{path})
			continue
		}
		entries, err := os.ReadDir(path)
		if err != nil {
			diags = append(diags, fileError(path, err))
			continue
		}
		var names []string
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".hcl") {
				names = append(names, filepath.Join(path, e.Name()))
			}
		}
		if len(names) == 0 {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "No .hcl files in directory " + quote(path),
				Detail:   "gostash reads the *.hcl files of a directory given to -f; other files are ignored.",
			})
		}
		add(names)
	}
	return files, diags
}

func fileError(name string, err error) *hcl.Diagnostic {
	d := &hcl.Diagnostic{Severity: hcl.DiagError}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		d.Summary = "Configuration file not found: " + name
		d.Detail = "Check the path given to -f; it is relative to the working directory."
	case errors.Is(err, fs.ErrPermission):
		d.Summary = "Cannot read configuration file " + name
		d.Detail = "Permission denied: gostash needs read access to it."
	default:
		d.Summary = "Cannot read configuration file " + name
		d.Detail = err.Error()
	}
	return d
}

// parse escapes Logstash's %{...} and parses one source. The body is never
// nil: HCL recovers from syntax errors, so later checks still run on what
// it could read.
func (p *Pipeline) parse(name string, data []byte) (*hclsyntax.Body, hcl.Diagnostics) {
	escaped, at := escapeTemplates(data)
	p.sources[name] = newSource(name, data, at)
	p.Files = append(p.Files, name)
	f, diags := hclsyntax.ParseConfig(escaped, name, hcl.InitialPos)
	body, _ := f.Body.(*hclsyntax.Body)
	if body == nil {
		body = &hclsyntax.Body{}
	}
	for i, d := range diags {
		switch {
		case d.Summary == "Attribute redefined" && d.Subject != nil:
			diags[i] = p.redefined(body, d)
		case d.Summary == "Invalid escape sequence":
			// Grok and regex users meet this first: Logstash keeps
			// backslashes in strings as they are.
			d.Detail += ` Quoted strings treat \ as an escape; write \\ for a backslash, or put the pattern in a heredoc (<<EOT ... EOT), where backslashes are literal.`
		}
	}
	return body, diags
}

// redefined rewrites HCL's "Attribute redefined" in the words of the
// other diagnostics, pointing at both settings. HCL keeps the first
// definition in the body, so the diagnostic's subject finds it.
func (p *Pipeline) redefined(body *hclsyntax.Body, d *hcl.Diagnostic) *hcl.Diagnostic {
	at := d.Subject.Start.Byte
	for _, blk := range body.Blocks {
		if !blk.Body.SrcRange.ContainsOffset(at) {
			continue
		}
		for name, attr := range blk.Body.Attributes {
			if attr.NameRange.Start.Byte >= at || attr.NameRange.End.Byte-attr.NameRange.Start.Byte != d.Subject.End.Byte-d.Subject.Start.Byte {
				continue
			}
			src := p.sources[d.Subject.Filename]
			if src == nil || !strings.HasPrefix(string(src.orig[src.fixPos(d.Subject.Start).Byte:]), name) {
				continue
			}
			return &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate setting " + quote(name),
				Detail:   fmt.Sprintf("%s is already set at %s. Set it once.", name, posString(p.fix(attr.NameRange))),
				Subject:  d.Subject,
				Extra:    related{Label: "first set at", Range: attr.NameRange},
			}
		}
	}
	return d
}

// fixDiags moves every range from the escaped text back to the user's,
// and orders the diagnostics by file and position: HCL reports some in map
// order.
func (p *Pipeline) fixDiags(diags hcl.Diagnostics) hcl.Diagnostics {
	for _, d := range diags {
		if d.Subject != nil {
			r := p.fix(*d.Subject)
			d.Subject = &r
		}
		if d.Context != nil {
			r := p.fix(*d.Context)
			d.Context = &r
		}
		if rel, ok := d.Extra.(related); ok {
			rel.Range = p.fix(rel.Range)
			d.Extra = rel
		}
	}
	return p.sorted(diags)
}

// sorted orders diagnostics by file, in load order, and position; those
// without a place go last. It sorts a copy: callers may hold the slice.
func (p *Pipeline) sorted(diags hcl.Diagnostics) hcl.Diagnostics {
	diags = append(hcl.Diagnostics(nil), diags...)
	order := map[string]int{}
	for i, f := range p.Files {
		order[f] = i
	}
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		switch {
		case a == nil || b == nil:
			return a != nil && b == nil // located ones first
		case a.Filename != b.Filename:
			return order[a.Filename] < order[b.Filename]
		}
		return a.Start.Byte < b.Start.Byte
	})
	return diags
}

func (p *Pipeline) fix(r hcl.Range) hcl.Range {
	if s := p.sources[r.Filename]; s != nil {
		return s.fixRange(r)
	}
	return r
}

// related is a diagnostic's second location, such as the first definition
// of a duplicate; WriteDiagnostics shows its source line too.
type related struct {
	Label string
	Range hcl.Range
}

// decoder checks the top level of each source.
type decoder struct {
	p        *Pipeline
	diags    hcl.Diagnostics
	names    map[string]hcl.Range // "filter/tag" -> its name label
	pipeline *hcl.Range
	plugins  map[string]hcl.Range
	// structural is set by a block the decoder could not place.
	structural bool
}

var topLevel = []string{"input", "filter", "output", "pipeline", "plugin"}

func (d *decoder) errorf(subject hcl.Range, summary, detail string, args ...any) *hcl.Diagnostic {
	diag := &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(detail, args...),
		Subject:  subject.Ptr(),
	}
	d.diags = append(d.diags, diag)
	return diag
}

func (d *decoder) top(body *hclsyntax.Body) {
	for _, attr := range sortedAttrs(body.Attributes) {
		hint := ""
		if s := suggest(attr.Name, pipelineSettingNames); s != "" {
			hint = fmt.Sprintf(" %s is a pipeline setting: write pipeline { %s = ... }.", s, s)
		}
		d.errorf(attr.NameRange, "Unexpected setting "+quote(attr.Name)+" at the top level",
			"The top level holds blocks only: input, filter, output, pipeline and plugin.%s", hint)
	}
	for _, blk := range body.Blocks {
		switch blk.Type {
		case "input", "filter", "output":
			d.pluginBlock(blk)
		case "pipeline":
			d.pipelineBlock(blk)
		case "plugin":
			d.pluginDecl(blk)
		default:
			hint := ""
			if s := suggest(blk.Type, topLevel); s != "" {
				hint = " Did you mean " + quote(s) + "?"
			}
			d.structural = true
			d.errorf(blk.TypeRange, "Unknown block type "+quote(blk.Type),
				"The top level takes input, filter, output, pipeline and plugin blocks.%s", hint)
		}
	}
}

func kindOf(name string) sdk.Kind {
	switch name {
	case "input":
		return sdk.KindInput
	case "filter":
		return sdk.KindFilter
	}
	return sdk.KindOutput
}

func (d *decoder) pluginBlock(blk *hclsyntax.Block) {
	kind := kindOf(blk.Type)
	header := hcl.RangeBetween(blk.TypeRange, blk.OpenBraceRange)
	if len(blk.Labels) != 2 {
		d.labelError(blk, header, "TYPE", "NAME")
		return
	}
	b := &Block{
		Kind:      kind,
		Type:      blk.Labels[0],
		Name:      blk.Labels[1],
		DefRange:  d.p.fix(header),
		TypeRange: d.p.fix(blk.LabelRanges[0]),
		NameRange: d.p.fix(blk.LabelRanges[1]),
		p:         d.p,
		syn:       blk,
	}
	if b.Type == "" {
		d.errorf(blk.LabelRanges[0], "Empty "+kind.String()+" type", "The first label names the plugin, such as %q.", "stdin")
		return
	}
	if b.Name == "" {
		d.errorf(blk.LabelRanges[1], "Empty "+kind.String()+" name", "The second label is a name unique among %ss; logs and metrics use it.", kind)
		return
	}
	key := kind.String() + "/" + b.Name
	if first, dup := d.names[key]; dup {
		diag := d.errorf(blk.LabelRanges[1], "Duplicate "+kind.String()+" name "+quote(b.Name),
			"%s %s named %q is already defined at %s. Names must be unique among %ss: logs and metrics use them.",
			article(kind), kind, b.Name, posString(d.p.fix(first)), kind)
		diag.Extra = related{Label: "first defined at", Range: first}
		return
	}
	d.names[key] = blk.LabelRanges[1]
	switch kind {
	case sdk.KindInput:
		d.p.Inputs = append(d.p.Inputs, b)
	case sdk.KindFilter:
		d.p.Filters = append(d.p.Filters, b)
	default:
		d.p.Outputs = append(d.p.Outputs, b)
	}
}

// labelError explains the labels a block needs, with Logstash's unlabelled
// `input { stdin {} }` form in mind.
func (d *decoder) labelError(blk *hclsyntax.Block, header hcl.Range, names ...string) {
	d.structural = true
	want := blk.Type
	for _, n := range names {
		want += " " + quote(n)
	}
	detail := "Write " + want + " { ... }."
	if blk.Type != "plugin" && len(blk.Labels) == 0 && len(blk.Body.Blocks) > 0 {
		inner := blk.Body.Blocks[0].Type
		detail = fmt.Sprintf("gostash names the plugin and the block in labels rather than nesting it as Logstash does: write %s %q %q { ... } instead of %s { %s { ... } }.",
			blk.Type, inner, "NAME", blk.Type, inner)
	}
	summary := "Missing labels on " + blk.Type + " block"
	if len(blk.Labels) > len(names) {
		summary = "Too many labels on " + blk.Type + " block"
	}
	d.errorf(header, summary, "%s", detail)
}

var pipelineFields = []sdk.Field{
	sdk.String("id").Doc("Names the pipeline in logs and metrics.").Build(),
	sdk.Int("workers").Doc("Filter and output workers; default: the number of CPUs.").Build(),
	sdk.Int("batch_size").Doc(fmt.Sprintf("Events per batch; default: %d.", sdk.DefaultBatchSize)).Build(),
	sdk.Duration("batch_delay").Doc("How long to wait for a batch to fill; default: " + sdk.DefaultBatchDelay.String() + ".").Build(),
}

// MaxWorkers bounds workers (-w and the pipeline block). Each worker
// holds a batch in memory and a stream to every filter and output
// process; far past the number of CPUs more workers add only memory and
// contention, so a larger number is a typo (an extra zero), not a tuning.
const MaxWorkers = 1024

// MaxWorkersWhy says why, in error messages.
const MaxWorkersWhy = "each worker holds a batch in memory and streams to every plugin process, and far more workers than CPUs only add memory"

var pipelineSettingNames = fieldNames(pipelineFields)

func (d *decoder) pipelineBlock(blk *hclsyntax.Block) {
	header := hcl.RangeBetween(blk.TypeRange, blk.OpenBraceRange)
	if len(blk.Labels) != 0 {
		d.errorf(blk.LabelRanges[0], "pipeline block takes no labels here",
			"Write pipeline { ... } and set its name with id = \"...\". A pipeline \"ID\" { input ... output ... } block declares one of several pipelines: put every input, filter and output of the file inside such blocks, and give the file with -f (not through pipelines.yml, whose entries are one pipeline each).")
	}
	if d.pipeline != nil {
		diag := d.errorf(header, "Duplicate pipeline block",
			"A pipeline block is already defined at %s. A pipeline has one pipeline block, in any of its files.", posString(d.p.fix(*d.pipeline)))
		diag.Extra = related{Label: "first defined at", Range: *d.pipeline}
		return
	}
	d.pipeline = &header
	d.settings(blk.Body, header, pipelineFields, "the pipeline block", " Its settings are id, workers, batch_size and batch_delay.")
}

// settings decodes a pipeline's settings from body's attributes.
func (d *decoder) settings(body *hclsyntax.Body, header hcl.Range, fields []sdk.Field, what, help string) {
	res, diags := decodeBody(d.p, body, fields, what, help, nil)
	values := res.values
	d.diags = append(d.diags, diags...)
	s := &d.p.Settings
	s.Range = d.p.fix(header)
	if v, ok := values["id"].(string); ok {
		s.ID, s.HasID = v, true
	}
	between := func(name string, max int, why string, dst *int, has *bool) {
		v, ok := values[name].(int)
		if !ok {
			return
		}
		if v < 1 {
			d.errorf(body.Attributes[name].Expr.Range(), "Invalid value for "+quote(name),
				"%s must be at least 1, got %d.", name, v)
			return
		}
		if max > 0 && v > max {
			d.errorf(body.Attributes[name].Expr.Range(), "Invalid value for "+quote(name),
				"%s can be at most %d, got %d: %s.", name, max, v, why)
			return
		}
		*dst, *has = v, true
	}
	between("workers", MaxWorkers, MaxWorkersWhy, &s.Workers, &s.HasWorkers)
	between("batch_size", 0, "", &s.BatchSize, &s.HasBatchSize)
	if v, ok := values["batch_delay"].(string); ok {
		dur, _ := parseDuration(v) // decodeBody checked it
		if dur < 0 {
			d.errorf(body.Attributes["batch_delay"].Expr.Range(), "Invalid value for \"batch_delay\"",
				"batch_delay cannot be negative, got %s.", v)
		} else {
			s.BatchDelay, s.HasBatchDelay = dur, true
		}
	}
}

var pluginDeclFields = []sdk.Field{
	sdk.String("path").Required().Doc("The plugin binary, relative to this file's directory.").Build(),
	sdk.String("sha256").Doc("The binary's SHA-256 in hex; gostash refuses a binary that differs.").Build(),
}

func (d *decoder) pluginDecl(blk *hclsyntax.Block) {
	header := hcl.RangeBetween(blk.TypeRange, blk.OpenBraceRange)
	if len(blk.Labels) != 1 {
		d.labelError(blk, header, "NAME")
		return
	}
	name := blk.Labels[0]
	if d.plugins == nil {
		d.plugins = map[string]hcl.Range{}
	}
	if first, dup := d.plugins[name]; dup {
		diag := d.errorf(blk.LabelRanges[0], "Duplicate plugin "+quote(name),
			"A plugin named %q is already declared at %s.", name, posString(d.p.fix(first)))
		diag.Extra = related{Label: "first declared at", Range: first}
		return
	}
	d.plugins[name] = blk.LabelRanges[0]
	what := "plugin " + quote(name)
	res, diags := decodeBody(d.p, blk.Body, pluginDeclFields, what, " Its settings are path and sha256.", &header)
	values := res.values
	d.diags = append(d.diags, diags...)
	decl := PluginDecl{Name: name, Range: d.p.fix(header)}
	decl.Path, _ = values["path"].(string)
	decl.SHA256, _ = values["sha256"].(string)
	if decl.Path != "" && !filepath.IsAbs(decl.Path) && header.Filename != InlineName {
		decl.Path = filepath.Join(filepath.Dir(header.Filename), decl.Path)
	}
	// A sha256 that is set must be a checksum: an empty one (often an
	// empty ${env.X}) would otherwise turn verification off unnoticed.
	if sha, set := values["sha256"].(string); set {
		decl.SHA256 = strings.ToLower(sha)
		if !isHex(decl.SHA256, 64) {
			decl.Invalid = true
			got := fmt.Sprintf("got %d characters", len(sha))
			switch {
			case sha == "":
				got = "got an empty string"
			case len(sha) == 64:
				got = "got characters other than 0-9 and a-f"
			}
			if envNames(blk.Body.Attributes["sha256"].Expr) != nil {
				got += " from an environment variable"
			}
			d.errorf(blk.Body.Attributes["sha256"].Expr.Range(), "Invalid sha256 for "+what,
				"sha256 takes the 64 hex digits that `sha256sum %s` prints, %s. Remove the setting to start the binary unchecked.", decl.Path, got)
		}
	}
	if diags.HasErrors() {
		decl.Invalid = true
	}
	d.p.Plugins = append(d.p.Plugins, decl)
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func sortedAttrs(attrs hclsyntax.Attributes) []*hclsyntax.Attribute {
	out := make([]*hclsyntax.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SrcRange.Start.Byte < out[j].SrcRange.Start.Byte })
	return out
}

// posString names a position as compilers print it: file:line:col.
func posString(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func article(k sdk.Kind) string {
	if k == sdk.KindFilter {
		return "A"
	}
	return "An"
}
