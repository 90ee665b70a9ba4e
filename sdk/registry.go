package sdk

import (
	"context"
	"fmt"
	"sort"
)

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
