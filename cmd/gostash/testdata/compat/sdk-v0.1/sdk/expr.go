package sdk

import (
	"fmt"
	"reflect"
	"sort"
	"sync"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// Names an expression sees besides the event's top-level fields.
const (
	exprMetadata  = "metadata"  // @metadata
	exprTimestamp = "timestamp" // @timestamp, as a time.Time
	// exprEventVar is the event itself, for the helpers that take a field
	// reference (has, get, sprintf): only the helper patcher writes it.
	exprEventVar = "$event"
)

// Condition is a compiled boolean expression: the `when` guard of a filter
// or an output. Compile it once with CompileCondition; Match is safe for
// concurrent use.
type Condition struct{ p program }

// CompileCondition compiles and type-checks a boolean expression. Syntax
// errors, type errors visible without an event ("a" + 1), unknown
// functions and non-boolean results (1 + 2) fail here, not per event.
func CompileCondition(src string) (*Condition, error) {
	p, err := compileProgram(src, expr.AsBool())
	if err != nil {
		return nil, err
	}
	return &Condition{p}, nil
}

// Match evaluates the condition against e. An evaluation error (comparing
// a string with a number, a result that is not a boolean) returns false
// and the error; callers treat it as "does not match".
func (c *Condition) Match(e *Event) (bool, error) {
	out, err := c.p.run(e)
	if err != nil {
		return false, err
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("%q gave %s, not true or false", c.p.src, TypeName(Normalize(out)))
	}
	return b, nil
}

// String returns the condition's source.
func (c *Condition) String() string { return c.p.src }

// Expression is a compiled expression whose value is stored in an event,
// as the expr filter's `set` does. Eval is safe for concurrent use.
type Expression struct{ p program }

// CompileExpression compiles and type-checks an expression.
func CompileExpression(src string) (*Expression, error) {
	p, err := compileProgram(src)
	if err != nil {
		return nil, err
	}
	return &Expression{p}, nil
}

// Eval evaluates the expression against e. The result is an event value
// (string, int64, float64, bool, nil, []any, map[string]any): ints
// become int64, a time becomes its @timestamp string, a duration its
// string form ("1.5s"). Lists and maps are fresh copies, so storing the
// result never aliases a field of e.
func (x *Expression) Eval(e *Event) (any, error) {
	if x.p.constant {
		return x.p.value, nil
	}
	out, err := x.p.run(e)
	if err != nil {
		return nil, err
	}
	v, err := toEventValue(out)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", x.p.src, err)
	}
	return v, nil
}

// String returns the expression's source.
func (x *Expression) String() string { return x.p.src }

// program is a compiled expression plus what its environment needs.
//
// The environment is the event's own fields map whenever possible: expr
// reads a map[string]any environment with one map lookup per name and no
// copy. Only an expression that names `metadata` or `timestamp` needs
// those two added, and the event keeps them outside its fields, so such
// an expression gets a pooled map holding the fields it names.
type program struct {
	src      string
	prog     *vm.Program
	useMeta  bool
	useTS    bool
	useEvent bool // a helper reads the event: the env holds $event
	// names are the fields the expression can read: decoded before it
	// runs (an event's fields stay raw until asked for) and copied when
	// the environment is a pooled map; with copyAll ($env can read any)
	// every field is.
	names   []string
	copyAll bool
	// constant: an expression of literals and operators only (`"prod"`,
	// `2 * 1024`) has one scalar value, computed at compile time.
	constant bool
	value    any
}

// envTypes declares the names whose type is known at compile time, so
// `timestamp.Year()` or `metadata.kafka` type-check. Every other name is
// an event field of unknown type; a missing one is nil.
var envTypes = map[string]any{
	exprMetadata:  map[string]any{},
	exprTimestamp: time.Time{},
	exprEventVar:  (*Event)(nil),
	// type is an event field, as in Logstash ([type]), not expr-lang's
	// type() builtin (which is still called as type(x)).
	"type": nil,
}

func compileProgram(src string, opts ...expr.Option) (program, error) {
	callees := &calleeMarker{members: map[*ast.MemberNode]bool{}}
	nv := &nilSafe{callees: callees.members, names: map[string]bool{}}
	hp := &helperPatcher{}
	opts = append([]expr.Option{
		expr.Env(envTypes),
		expr.AllowUndefinedVariables(),
		expr.Function(getFunc, getPath),
		expr.Function(hasFunc, helperHas, new(func(*Event, any) bool)),
		expr.Function(getRefFunc, helperGet),
		expr.Function(sprintfFunc, helperSprintf, new(func(*Event, any) string)),
		expr.Patch(hp),
		expr.Patch(callees),
		expr.Patch(nv),
	}, opts...)
	prog, err := expr.Compile(src, opts...)
	if hp.err != nil {
		// Before expr's own error: a bad constant reference is the cause.
		return program{}, hp.err.Bind(file.NewSource(src))
	}
	if err != nil {
		return program{}, err
	}
	if nv.err != nil {
		return program{}, nv.err.Bind(file.NewSource(src))
	}
	p := program{src: src, prog: prog, useMeta: nv.names[exprMetadata], useTS: nv.names[exprTimestamp], useEvent: nv.names[exprEventVar]}
	p.copyAll = nv.names["$env"]
	if !p.copyAll {
		// The names an expression can read are in its source: only
		// those are decoded, and copied when the environment is not
		// the event's map (function and variable names included,
		// harmlessly).
		for name := range nv.names {
			if name != exprMetadata && name != exprTimestamp && name != exprEventVar {
				p.names = append(p.names, name)
			}
		}
		sort.Strings(p.names)
	}
	if isConstant(prog.Node()) {
		if out, err := expr.Run(prog, map[string]any{}); err == nil {
			switch v, _ := toEventValue(out); v.(type) {
			case string, int64, float64, bool:
				p.constant, p.value = true, v
			}
		}
	}
	return p, nil
}

// isConstant reports whether an expression is literals and operators
// only: no name, no call (now() is a call), so one value for every event.
func isConstant(n ast.Node) bool {
	constant := true
	ast.Find(n, func(n ast.Node) bool {
		switch n.(type) {
		case *ast.NilNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode,
			*ast.StringNode, *ast.ConstantNode, *ast.UnaryNode, *ast.BinaryNode:
			return false
		}
		constant = false
		return true
	})
	return constant
}

// getFunc reads a path below a value: the patcher turns `http.status` and
// `http["status"]` into getFunc(http, "status").
const getFunc = "$get"

// getPath walks maps along string keys. A missing key or a nil on the
// way gives nil, as `[http][status]` does in Logstash when there is no
// [http]. It replaces expr's own member access, which goes through
// reflection and allocates a copy of every value it reads from a map.
func getPath(params ...any) (any, error) {
	cur := params[0]
	for _, p := range params[1:] {
		switch m := cur.(type) {
		case map[string]any:
			cur = m[p.(string)]
		case nil:
			return nil, nil
		default:
			return nil, fmt.Errorf("cannot read %q of a %s", p, TypeName(cur))
		}
	}
	return cur, nil
}

// calleeMarker records member accesses that are called (`x.Method()`):
// those must stay member accesses.
type calleeMarker struct{ members map[*ast.MemberNode]bool }

func (v *calleeMarker) Visit(node *ast.Node) {
	if c, ok := (*node).(*ast.CallNode); ok {
		if m, ok := c.Callee.(*ast.MemberNode); ok {
			v.members[m] = true
		}
	}
}

// nilSafe makes member access nil-safe and cheap: `a.b.c` and
// `a["b"]["c"]` on event values become getPath(a, "b", "c"); other member
// accesses (`tags[0]`) become optional (`a?.[0]`), so a missing parent
// gives nil instead of an error. It records which environment names the
// expression uses and rejects calls to functions that do not exist (with
// undefined variables allowed, expr would only notice per event).
type nilSafe struct {
	callees map[*ast.MemberNode]bool
	names   map[string]bool
	err     *file.Error
}

func (v *nilSafe) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		v.names[n.Value] = true
	case *ast.MemberNode:
		if n.Method || v.callees[n] || !isEventValue(n.Node) {
			return
		}
		if key, ok := n.Property.(*ast.StringNode); ok {
			if inner, ok := n.Node.(*ast.CallNode); ok && isGet(inner) {
				inner.Arguments = append(inner.Arguments, key)
				ast.Patch(node, inner)
				return
			}
			ast.Patch(node, &ast.CallNode{
				Callee:    &ast.IdentifierNode{Value: getFunc},
				Arguments: []ast.Node{n.Node, key},
			})
			return
		}
		if !n.Optional {
			n.Optional = true
			ast.Patch(node, &ast.ChainNode{Node: n})
		}
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok && v.err == nil {
			// A known function has a func type by now: the checker ran
			// before this visitor. An unknown name has none.
			if t := id.Type(); t == nil || t.Kind() != reflect.Func {
				v.err = &file.Error{Location: id.Location(), Message: fmt.Sprintf("unknown function %s()", id.Value)}
			}
		}
	}
}

// isEventValue reports whether a node's value is read like event data: a
// map or a value whose type is only known per event. Typed Go values
// (timestamp, a time from now()) keep expr's own member access.
func isEventValue(n ast.Node) bool {
	if c, ok := n.(*ast.CallNode); ok && isGet(c) {
		return true
	}
	t := n.Type()
	return t == nil || t.Kind() == reflect.Interface || t == reflect.TypeOf(map[string]any(nil))
}

func isGet(c *ast.CallNode) bool {
	id, ok := c.Callee.(*ast.IdentifierNode)
	return ok && id.Value == getFunc
}

// runner is what one evaluation needs, pooled so that Match and Eval do
// not allocate: expr's VM keeps its stack between runs.
type runner struct {
	vm  vm.VM
	env map[string]any
}

var runners = sync.Pool{New: func() any { return &runner{} }}

// emptyMeta stands for an event without @metadata; expressions only read it.
var emptyMeta = map[string]any{}

func (p *program) run(e *Event) (any, error) {
	if p.copyAll {
		e.materialize()
	} else {
		for _, k := range p.names {
			e.touch(k)
		}
	}
	r := runners.Get().(*runner)
	var env map[string]any
	if p.useMeta || p.useTS || p.useEvent {
		if r.env == nil {
			r.env = make(map[string]any, len(e.fields)+2)
		}
		env = r.env
		if p.copyAll {
			for k, v := range e.fields {
				env[k] = v
			}
		} else {
			for _, k := range p.names {
				if v, ok := e.fields[k]; ok {
					env[k] = v
				}
			}
		}
		if p.useMeta {
			if e.meta != nil {
				env[exprMetadata] = e.meta
			} else {
				env[exprMetadata] = emptyMeta
			}
		}
		if p.useEvent {
			env[exprEventVar] = e
		}
		if p.useTS {
			if t, ok := e.Timestamp(); ok {
				env[exprTimestamp] = t
			} else {
				env[exprTimestamp] = nil
			}
		}
	} else {
		env = e.fields
	}
	out, err := r.vm.Run(p.prog, env)
	if r.env != nil {
		clear(r.env)
	}
	runners.Put(r)
	return out, err
}

// toEventValue converts an expression result to an event value, copying
// lists and maps.
func toEventValue(v any) (any, error) {
	switch t := v.(type) {
	case nil, string, int64, float64, bool:
		return v, nil
	case int:
		return int64(t), nil
	case time.Time:
		return FormatTimestamp(t.UnixNano()), nil
	case time.Duration:
		return t.String(), nil
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			c, err := toEventValue(x)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			c, err := toEventValue(x)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	}
	n := Normalize(v)
	switch n.(type) {
	case int64, float64, string:
		return n, nil
	case []any, map[string]any:
		return toEventValue(n)
	}
	return nil, fmt.Errorf("result of type %T cannot be stored in an event", v)
}
