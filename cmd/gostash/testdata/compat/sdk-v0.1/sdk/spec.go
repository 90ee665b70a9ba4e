package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// Type is a setting's type, named as in the pipeline language.
type Type string

const (
	TypeString     Type = "string"
	TypeInt        Type = "int"
	TypeFloat      Type = "float"
	TypeBool       Type = "bool"
	TypeDuration   Type = "duration" // a string such as "50ms" or "5s"
	TypeStringList Type = "list(string)"
	TypeStringMap  Type = "map(string)"
	// TypeStringOrListMap is a map whose values are a string or a list of
	// strings, e.g. grok's match = { message = ["A", "B"] }.
	TypeStringOrListMap Type = "map(string|list(string))"
	TypeAny             Type = "any"
)

// Field describes one setting of a component.
type Field struct {
	Name     string
	Type     Type
	Required bool
	Default  any // nil: no default
	Doc      string
	OneOf    []string
	Examples []any // values shown in generated docs
}

// FieldBuilder builds a Field fluently.
type FieldBuilder struct{ f Field }

func newField(name string, t Type) *FieldBuilder { return &FieldBuilder{Field{Name: name, Type: t}} }

// String, Int, ... start a field of that type.
func String(name string) *FieldBuilder          { return newField(name, TypeString) }
func Int(name string) *FieldBuilder             { return newField(name, TypeInt) }
func Float(name string) *FieldBuilder           { return newField(name, TypeFloat) }
func Bool(name string) *FieldBuilder            { return newField(name, TypeBool) }
func Duration(name string) *FieldBuilder        { return newField(name, TypeDuration) }
func StringList(name string) *FieldBuilder      { return newField(name, TypeStringList) }
func StringMap(name string) *FieldBuilder       { return newField(name, TypeStringMap) }
func StringOrListMap(name string) *FieldBuilder { return newField(name, TypeStringOrListMap) }
func Any(name string) *FieldBuilder             { return newField(name, TypeAny) }

// Required marks the field as one that must be set.
func (b *FieldBuilder) Required() *FieldBuilder { b.f.Required = true; return b }

// Default sets the value used when the field is not set.
func (b *FieldBuilder) Default(v any) *FieldBuilder { b.f.Default = v; return b }

// Doc sets the field's documentation.
func (b *FieldBuilder) Doc(s string) *FieldBuilder { b.f.Doc = s; return b }

// OneOf limits a string field to these values.
func (b *FieldBuilder) OneOf(v ...string) *FieldBuilder { b.f.OneOf = v; return b }

// Example adds a value shown in the generated docs (`gostash plugin
// describe --format markdown`, the README's settings table).
func (b *FieldBuilder) Example(v any) *FieldBuilder {
	b.f.Examples = append(b.f.Examples, v)
	return b
}

// Build returns the field.
func (b *FieldBuilder) Build() Field { return b.f }

// Spec describes a component: what it does and its settings.
type Spec struct {
	Summary string
	Version string
	Fields  []Field
	// Stdin is set by the one input that reads the core's standard input.
	Stdin bool
}

// NewSpec starts a spec with a one-line summary.
func NewSpec(summary string) *Spec { return &Spec{Summary: summary, Version: "0.1.0"} }

// Field adds a setting.
func (s *Spec) Field(b *FieldBuilder) *Spec { s.Fields = append(s.Fields, b.f); return s }

// WithVersion sets the component's version.
func (s *Spec) WithVersion(v string) *Spec { s.Version = v; return s }

// ReadsStdin marks the component as the one that reads standard input.
func (s *Spec) ReadsStdin() *Spec { s.Stdin = true; return s }

// Lookup returns the field called name.
func (s *Spec) Lookup(name string) (Field, bool) {
	for _, f := range s.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// Kind is a component's role.
type Kind int

const (
	KindInput Kind = iota + 1
	KindFilter
	KindOutput
)

func (k Kind) String() string {
	switch k {
	case KindInput:
		return "input"
	case KindFilter:
		return "filter"
	case KindOutput:
		return "output"
	}
	return "unknown"
}

// Config holds a block's decoded settings, defaults applied.
type Config struct {
	values map[string]any
	// order holds the key order of object settings as written, when the
	// JSON carried one (ParseConfig).
	order map[string][]string
}

// NewConfig makes a Config from decoded JSON values, for tests and the
// runtime.
func NewConfig(values map[string]any) *Config {
	if values == nil {
		values = map[string]any{}
	}
	return &Config{values: values}
}

// ParseConfig decodes the JSON the core sends. The core writes object
// settings with their keys in the order the user wrote them, which
// StringListMap keeps.
func ParseConfig(data []byte) (*Config, error) {
	m := map[string]any{}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("decode config: %w", err)
		}
	}
	c := NewConfig(m)
	c.order = objectKeyOrders(data)
	return c, nil
}

// objectKeyOrders reads the key order of each top-level object value of
// a JSON object; JSON that is not one gives nil.
func objectKeyOrders(data []byte) map[string][]string {
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil {
		return nil
	}
	var out map[string][]string
	for name, raw := range top {
		dec := json.NewDecoder(bytes.NewReader(raw))
		if t, err := dec.Token(); err != nil || t != json.Delim('{') {
			continue
		}
		var keys []string
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				break
			}
			keys = append(keys, k.(string))
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				break
			}
		}
		if out == nil {
			out = map[string][]string{}
		}
		out[name] = keys
	}
	return out
}

// Has reports whether the setting is set (or has a default).
func (c *Config) Has(name string) bool { v, ok := c.values[name]; return ok && v != nil }

// Raw returns a setting as decoded from JSON.
func (c *Config) Raw(name string) any { return c.values[name] }

// String returns a string setting.
func (c *Config) String(name string) string { s, _ := c.values[name].(string); return s }

// Int returns a number setting as an int.
func (c *Config) Int(name string) int {
	switch v := c.values[name].(type) {
	case float64:
		return int(v)
	case int:
		return v
	case int64:
		return int(v)
	}
	return 0
}

// Float returns a number setting.
func (c *Config) Float(name string) float64 {
	switch v := c.values[name].(type) {
	case float64:
		return v
	case int:
		return float64(v)
	case int64:
		return float64(v)
	}
	return 0
}

// Bool returns a bool setting.
func (c *Config) Bool(name string) bool { b, _ := c.values[name].(bool); return b }

// Duration returns a duration setting; the core has checked its syntax.
func (c *Config) Duration(name string) time.Duration {
	d, _ := time.ParseDuration(c.String(name))
	return d
}

// StringList returns a list-of-strings setting.
func (c *Config) StringList(name string) []string {
	switch v := c.values[name].(type) {
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return v
	case string:
		return []string{v}
	}
	return nil
}

// StringMap returns a map-of-strings setting.
func (c *Config) StringMap(name string) map[string]string {
	m, _ := c.values[name].(map[string]any)
	out := make(map[string]string, len(m))
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		} else {
			out[k] = fmt.Sprint(v)
		}
	}
	return out
}

// StringListMap returns a map whose values are lists of strings (a single
// string becomes a one-element list), and its keys in the order the user
// wrote them (in sorted order when that is not known).
func (c *Config) StringListMap(name string) ([]string, map[string][]string) {
	m, _ := c.values[name].(map[string]any)
	out := make(map[string][]string, len(m))
	keys := make([]string, 0, len(m))
	for k, v := range m {
		keys = append(keys, k)
		switch t := v.(type) {
		case string:
			out[k] = []string{t}
		case []any:
			for _, x := range t {
				if s, ok := x.(string); ok {
					out[k] = append(out[k], s)
				}
			}
		}
	}
	sort.Strings(keys)
	if order := c.order[name]; len(order) == len(keys) {
		// As written, when the core passed the order on.
		keys = append(keys[:0], order...)
	}
	return keys, out
}

// Decode decodes the settings into a struct with json tags.
func (c *Config) Decode(v any) error {
	data, err := json.Marshal(c.values)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// Diagnostic is a problem with a block's settings. Path names the setting
// (then map keys or list indexes) so the core can point at its source.
type Diagnostic struct {
	Warning bool
	Summary string
	Detail  string
	Path    []string
}

func (d Diagnostic) Error() string {
	if d.Detail != "" {
		return d.Summary + ": " + d.Detail
	}
	return d.Summary
}

// Diagnostics is a list of problems.
type Diagnostics []Diagnostic

// Errorf adds an error at path.
func (ds *Diagnostics) Errorf(path []string, format string, args ...any) {
	*ds = append(*ds, Diagnostic{Summary: fmt.Sprintf(format, args...), Path: path})
}

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if !d.Warning {
			return true
		}
	}
	return false
}

// Err returns the first error as an error, or nil.
func (ds Diagnostics) Err() error {
	for _, d := range ds {
		if !d.Warning {
			return d
		}
	}
	return nil
}

// Constructors a component registers. Constructors must not connect to
// anything: they also run for --configtest through Validate. Connect in
// Run/Write or an Opener.
type (
	NewInputFunc  func(ctx context.Context, c *Config, env Env) (Input, error)
	NewFilterFunc func(ctx context.Context, c *Config, env Env) (Filter, error)
	NewOutputFunc func(ctx context.Context, c *Config, env Env) (Output, error)
	// ValidateFunc checks what only the plugin can check (compile a
	// pattern, type-check an expression), without connecting anywhere.
	ValidateFunc func(c *Config) Diagnostics
)

// Component is a registered input, filter or output.
type Component struct {
	Name      string
	Kind      Kind
	Spec      *Spec
	NewInput  NewInputFunc
	NewFilter NewFilterFunc
	NewOutput NewOutputFunc
	Validate  ValidateFunc
}

// Fields returns the component's settings, the common ones included.
func (c *Component) Fields() []Field {
	return append(append([]Field(nil), c.Spec.Fields...), CommonFields(c.Kind)...)
}

var registry = map[string]*Component{}

func key(k Kind, name string) string { return k.String() + "/" + name }

func register(c *Component) *Component {
	if _, dup := registry[key(c.Kind, c.Name)]; dup {
		panic(fmt.Sprintf("gostash: %s %q registered twice", c.Kind, c.Name))
	}
	registry[key(c.Kind, c.Name)] = c
	return c
}

// RegisterInput registers an input; call it from init. The returned
// Component can take a Validate func.
func RegisterInput(name string, spec *Spec, fn NewInputFunc) *Component {
	return register(&Component{Name: name, Kind: KindInput, Spec: spec, NewInput: fn})
}

// RegisterFilter registers a filter; call it from init.
func RegisterFilter(name string, spec *Spec, fn NewFilterFunc) *Component {
	return register(&Component{Name: name, Kind: KindFilter, Spec: spec, NewFilter: fn})
}

// RegisterOutput registers an output; call it from init.
func RegisterOutput(name string, spec *Spec, fn NewOutputFunc) *Component {
	return register(&Component{Name: name, Kind: KindOutput, Spec: spec, NewOutput: fn})
}

// WithValidate sets the component's plugin-side checks.
func (c *Component) WithValidate(fn ValidateFunc) *Component { c.Validate = fn; return c }

// Lookup returns a registered component.
func Lookup(k Kind, name string) (*Component, bool) {
	c, ok := registry[key(k, name)]
	return c, ok
}

// Components returns every registered component, sorted by kind and name.
func Components() []*Component {
	out := make([]*Component, 0, len(registry))
	for _, c := range registry {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Name < out[j].Name
	})
	return out
}
