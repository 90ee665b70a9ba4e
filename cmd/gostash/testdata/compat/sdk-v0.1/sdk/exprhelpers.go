package sdk

import (
	"fmt"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
)

// The helpers every expression has besides expr-lang's builtins (now()
// among them), for what Logstash writes with field references:
//
//	has("[a][b]")        the field exists (even when it holds null)
//	get("[a][b]")        its value, nil when missing; get("[@metadata][k]"), get("@timestamp")
//	sprintf("%{a} %{+yyyy.MM.dd}")   the event's sprintf, as in Logstash
//
// The patcher rewrites has(x) into $has($event, x): the helpers read the
// event itself. A constant argument is parsed once, at compile time (a
// bad reference or template is a compile error); any other is parsed
// per event. get with two arguments stays expr-lang's get(list, index).
const (
	hasFunc     = "$has"
	getRefFunc  = "$getref"
	sprintfFunc = "$sprintf"
)

type helperPatcher struct{ err *file.Error }

func (v *helperPatcher) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		if n.Value == exprEventVar && v.err == nil {
			// Only the helpers may read the event: an expression cannot
			// call its methods.
			v.err = &file.Error{Location: n.Location(), Message: "unknown name " + exprEventVar}
		}
	case *ast.BuiltinNode:
		// expr-lang's get(list, index) is a builtin: get(ref) is ours.
		if n.Name == "get" && len(n.Arguments) == 1 {
			v.patch(node, "get", getRefFunc, n.Arguments[0])
		}
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if ok && id.Value == "type" {
			// type is declared as the [type] field; type(x) is still
			// expr-lang's builtin.
			ast.Patch(node, &ast.BuiltinNode{Name: "type", Arguments: n.Arguments})
			return
		}
		if !ok || (id.Value != "has" && id.Value != "sprintf") {
			return
		}
		if len(n.Arguments) != 1 {
			v.fail(id, fmt.Sprintf("%s() takes one argument, got %d", id.Value, len(n.Arguments)))
			return
		}
		fn := hasFunc
		if id.Value == "sprintf" {
			fn = sprintfFunc
		}
		v.patch(node, id.Value, fn, n.Arguments[0])
	}
}

// patch replaces the call at node with fn($event, arg), arg parsed now
// when it is a constant string.
func (v *helperPatcher) patch(node *ast.Node, name, fn string, arg ast.Node) {
	if str, ok := arg.(*ast.StringNode); ok {
		var val any
		var err error
		if fn == sprintfFunc {
			val, err = ParseTemplate(str.Value)
		} else {
			val, err = ParseFieldRef(str.Value)
		}
		if err != nil {
			v.fail(str, fmt.Sprintf("%s(): %v", name, err))
			return
		}
		arg = &ast.ConstantNode{Value: val}
	}
	ast.Patch(node, &ast.CallNode{
		Callee:    &ast.IdentifierNode{Value: fn},
		Arguments: []ast.Node{&ast.IdentifierNode{Value: exprEventVar}, arg},
	})
}

func (v *helperPatcher) fail(n ast.Node, msg string) {
	if v.err == nil {
		v.err = &file.Error{Location: n.Location(), Message: msg}
	}
}

// helperRef is the field reference a helper was given: parsed at compile
// time, or now from a string.
func helperRef(name string, arg any) (FieldRef, error) {
	switch a := arg.(type) {
	case FieldRef:
		return a, nil
	case string:
		return parseFieldRef(a) // for this evaluation only
	}
	return FieldRef{}, fmt.Errorf("%s() takes a field reference string, not %s", name, TypeName(arg))
}

func helperEvent(params []any) *Event {
	e, _ := params[0].(*Event)
	return e
}

func helperHas(params ...any) (any, error) {
	ref, err := helperRef("has", params[1])
	if err != nil {
		return nil, err
	}
	e := helperEvent(params)
	if e == nil {
		return false, nil
	}
	_, ok := ref.Get(e)
	return ok, nil
}

func helperGet(params ...any) (any, error) {
	ref, err := helperRef("get", params[1])
	if err != nil {
		return nil, err
	}
	e := helperEvent(params)
	if e == nil {
		return nil, nil
	}
	v, _ := ref.Get(e)
	return v, nil
}

func helperSprintf(params ...any) (any, error) {
	var t *Template
	switch a := params[1].(type) {
	case *Template:
		t = a
	case string:
		var err error
		if t, err = ParseTemplate(a); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("sprintf() takes a string, not %s", TypeName(params[1]))
	}
	e := helperEvent(params)
	if e == nil {
		return t.String(), nil
	}
	return t.Render(e), nil
}
