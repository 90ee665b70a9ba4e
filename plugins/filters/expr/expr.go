// Package expr is the expr filter: it sets fields to the values of
// expressions (github.com/expr-lang/expr), removes fields and drops
// events, with expressions compiled once at config time.
package expr

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync/atomic"

	"github.com/gostash/gostash/sdk"
)

var spec = sdk.NewSpec("Sets fields to computed values, removes fields and drops events, with expressions.").
	Field(sdk.StringMap("set").
		Doc("Fields to set. Keys are field references (`\"[a][b]\"`, `\"name\"`, `\"[@metadata][x]\"`, `\"[@timestamp]\"`) and values are expressions. Every expression sees the event as it came in; then all are stored.").
		Example(map[string]string{"[http][slow]": "duration_ms > 500"})).
	Field(sdk.StringList("remove").
		Doc("Field references to remove, after `set`. A missing field is not an error.")).
	Field(sdk.String("drop").
		Doc("A boolean expression: the event is dropped when it is true. Checked first.").
		Example(`level == "debug"`)).
	Field(sdk.StringList("tag_on_failure").Default([]string{"_exprfailure"}).
		Doc("Tags added when an expression fails on an event; the event goes on unchanged otherwise."))

func init() {
	sdk.RegisterFilter("expr", spec, New).WithValidate(func(c *sdk.Config) sdk.Diagnostics {
		_, ds := compile(c)
		return ds
	})
}

// Filter is the expr filter.
type Filter struct {
	drop         *sdk.Condition
	set          []assignment // in key order
	remove       []sdk.FieldRef
	tagOnFailure []string

	logger sdk.Logger
	warned atomic.Bool
}

type assignment struct {
	key string
	ref sdk.FieldRef
	x   *sdk.Expression
}

// New builds an expr filter; its expressions are compiled here, once.
func New(_ context.Context, c *sdk.Config, env sdk.Env) (sdk.Filter, error) {
	f, ds := compile(c)
	if err := ds.Err(); err != nil {
		return nil, err
	}
	f.logger = env.Logger
	return f, nil
}

// compile parses every field reference and compiles every expression,
// reporting each problem at its setting (and map key or list index).
func compile(c *sdk.Config) (*Filter, sdk.Diagnostics) {
	var ds sdk.Diagnostics
	f := &Filter{tagOnFailure: c.StringList("tag_on_failure")}
	if src := c.String("drop"); src != "" {
		cond, err := sdk.CompileCondition(src)
		if err != nil {
			ds = append(ds, sdk.Diagnostic{Path: []string{"drop"}, Summary: "Invalid drop expression", Detail: err.Error()})
		}
		f.drop = cond
	}
	set := c.StringMap("set")
	for _, key := range slices.Sorted(maps.Keys(set)) {
		path := []string{"set", key}
		ref, err := sdk.ParseFieldRef(key)
		if err != nil {
			ds = append(ds, sdk.Diagnostic{Path: path, Summary: "Invalid field reference in set", Detail: err.Error()})
			continue
		}
		x, err := sdk.CompileExpression(set[key])
		if err != nil {
			ds = append(ds, sdk.Diagnostic{Path: path, Summary: "Invalid expression for " + key, Detail: err.Error()})
			continue
		}
		f.set = append(f.set, assignment{key: key, ref: ref, x: x})
	}
	for i, s := range c.StringList("remove") {
		ref, err := sdk.ParseFieldRef(s)
		if err != nil {
			ds = append(ds, sdk.Diagnostic{Path: []string{"remove", strconv.Itoa(i)}, Summary: "Invalid field reference in remove", Detail: err.Error()})
			continue
		}
		f.remove = append(f.remove, ref)
	}
	return f, ds
}

// Filter applies drop, then set, then remove. Every set expression is
// evaluated against the incoming event before any field is stored, so
// the order of the keys does not matter, and an expression that fails
// leaves the event as it was but for the failure tags. (A value that
// cannot be stored, because a parent of its field holds a string, fails
// too, after the fields before it in key order were stored.)
// Transient: the filter keeps nothing of an event after Apply returns.
func (*Filter) Transient() {}

func (f *Filter) Apply(_ context.Context, e *sdk.Event, _ func(*sdk.Event)) sdk.Result {
	if f.drop != nil {
		drop, err := f.drop.Match(e)
		if err != nil {
			return f.fail(e, "drop", err)
		}
		if drop {
			return sdk.Dropped
		}
	}
	if len(f.set) > 0 {
		var buf [8]any
		values := buf[:0]
		for _, a := range f.set {
			v, err := a.x.Eval(e)
			if err != nil {
				return f.fail(e, "set "+a.key, err)
			}
			values = append(values, v)
		}
		for i, a := range f.set {
			if err := a.ref.Set(e, values[i]); err != nil {
				return f.fail(e, "set "+a.key, err)
			}
		}
	}
	for _, r := range f.remove {
		r.Delete(e)
	}
	return sdk.Matched
}

// fail tags the event and logs why: the first failure as a warning, the
// rest at debug level, since one bad expression fails on every event.
func (f *Filter) fail(e *sdk.Event, what string, err error) sdk.Result {
	for _, t := range f.tagOnFailure {
		e.AddTag(t)
	}
	if f.logger != nil {
		msg := fmt.Sprintf("expression failed (%s); event tagged %v", what, f.tagOnFailure)
		if f.warned.CompareAndSwap(false, true) {
			f.logger.Warn(msg+"; further failures are logged at debug level", "error", err)
		} else {
			f.logger.Debug(msg, "error", err)
		}
	}
	return sdk.Failed
}
