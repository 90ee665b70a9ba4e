// Package config reads gostash's pipeline language: HCL files with a
// pipeline block for settings, input/filter/output blocks for plugins and
// plugin blocks for third-party binaries.
//
// Loading runs in two steps so --configtest can report every problem at
// once: Load parses the sources and checks the structure, then Decode
// checks each plugin block against the plugin's declared settings. Both
// return hcl.Diagnostics with ranges in the user's files, which
// WriteDiagnostics prints with the source line marked.
package config

import (
	"time"

	"github.com/gostash/gostash/sdk"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// InlineName is the file name diagnostics use for -e configuration.
const InlineName = "<inline>"

// Pipeline is a loaded configuration: the union of the blocks of every
// source, filters in file order.
type Pipeline struct {
	Settings Settings
	Inputs   []*Block
	Filters  []*Block
	Outputs  []*Block
	Plugins  []PluginDecl
	// Files are the sources read, in load order (InlineName for -e).
	Files []string

	sources map[string]*source
	ctx     *hcl.EvalContext
	env     map[string]string
}

// Settings are the pipeline block's settings. A Has flag is set when the
// configuration sets the value, so command-line flags fill in only the
// others (see Or).
type Settings struct {
	ID         string
	Workers    int
	BatchSize  int
	BatchDelay time.Duration

	HasID, HasWorkers, HasBatchSize, HasBatchDelay bool

	// Range is the pipeline block's header; zero without a pipeline block.
	Range hcl.Range
}

// Or returns s with every setting it does not set taken from fallback
// (command-line flags, then built-in defaults).
func (s Settings) Or(fallback Settings) Settings {
	if !s.HasID {
		s.ID, s.HasID = fallback.ID, fallback.HasID
	}
	if !s.HasWorkers {
		s.Workers, s.HasWorkers = fallback.Workers, fallback.HasWorkers
	}
	if !s.HasBatchSize {
		s.BatchSize, s.HasBatchSize = fallback.BatchSize, fallback.HasBatchSize
	}
	if !s.HasBatchDelay {
		s.BatchDelay, s.HasBatchDelay = fallback.BatchDelay, fallback.HasBatchDelay
	}
	return s
}

// PluginDecl is a plugin block: where a third-party plugin binary is.
type PluginDecl struct {
	Name string
	// Path is as written, made relative to the declaring file's directory
	// when it is relative (for -e, to the working directory).
	Path   string
	SHA256 string // lower-case hex; empty when not given
	Range  hcl.Range
	// Invalid is set when the block has an error (reported by Load): the
	// binary must not be started, not even to describe it.
	Invalid bool
}

// Block is one input, filter or output block.
type Block struct {
	Kind sdk.Kind
	Type string
	Name string
	// DefRange covers the header (`filter "expr" "tag" {`), TypeRange and
	// NameRange the two labels.
	DefRange, TypeRange, NameRange hcl.Range

	// Config and ConfigJSON hold the settings, defaults applied, once
	// Decode has accepted the block; nil before or when it failed. Values
	// have JSON's shapes (string, bool, float64, []any, map[string]any)
	// except that int settings are Go ints.
	Config     map[string]any
	ConfigJSON []byte

	p   *Pipeline
	syn *hclsyntax.Block // its ranges are in the escaped text
	// coerced names list(string) settings given as a single value.
	coerced map[string]bool
}

// Label is how diagnostics and logs name the block: filter "expr" "tag".
func (b *Block) Label() string {
	return b.Kind.String() + " " + quote(b.Type) + " " + quote(b.Name)
}

// Blocks returns inputs, filters and outputs, in that order.
func (p *Pipeline) Blocks() []*Block {
	out := make([]*Block, 0, len(p.Inputs)+len(p.Filters)+len(p.Outputs))
	out = append(out, p.Inputs...)
	out = append(out, p.Filters...)
	return append(out, p.Outputs...)
}

// Schemas is what the loader needs to know about plugins; the caller
// adapts the plugin catalogs to it.
type Schemas interface {
	// Lookup returns the settings of the plugin of that kind and type,
	// the common ones (sdk.CommonFields) included.
	Lookup(kind sdk.Kind, typ string) (fields []sdk.Field, ok bool)
	// Types lists the known plugins of a kind, for suggestions.
	Types(kind sdk.Kind) []string
}

// StdinSchemas is implemented by Schemas that know which plugins read
// gostash's standard input; Decode then rejects a second such input.
type StdinSchemas interface {
	WantsStdin(kind sdk.Kind, typ string) bool
}
