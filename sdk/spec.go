package sdk

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
