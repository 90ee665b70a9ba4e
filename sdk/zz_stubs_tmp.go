package sdk

// TEMPORARY: placeholders so the package builds while template.go and
// expr.go are written. Each owner deletes its half when its real file lands.

// ---- owned by the templates work (template.go, joda.go) ----

type Template struct{ raw string }

func ParseTemplate(s string) (*Template, error)              { return &Template{raw: s}, nil }
func (t *Template) Render(e *Event) string                   { return t.raw }
func (t *Template) AppendRender(dst []byte, e *Event) []byte { return append(dst, t.raw...) }

// ---- owned by the expr work (expr.go) ----

type Condition struct{}

func CompileCondition(src string) (*Condition, error) { return &Condition{}, nil }
func (c *Condition) Match(e *Event) (bool, error)     { return true, nil }
