// Package mutate is Logstash's mutate filter: convert, copy, rename,
// replace, update, gsub, split, join, merge, lowercase, uppercase,
// capitalize, strip and coerce, applied in Logstash's order whatever
// order they are written in.
package mutate

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gostash/gostash/sdk"
)

var spec = sdk.NewSpec("Renames, replaces, converts and reshapes fields (Logstash's mutate).").
	WithVersion("1.0.0").
	Field(sdk.StringMap("coerce").Doc("Fields set to a value (a sprintf template) when they exist and are null: `{ field = \"default\" }`.")).
	Field(sdk.StringMap("rename").Doc("Fields moved to a new name: `{ old = \"new\" }`; both sides may be sprintf templates. A missing field is left alone.")).
	Field(sdk.StringMap("update").Doc("Fields set to a sprintf template, only when they exist.")).
	Field(sdk.StringMap("replace").Doc("Fields set to a sprintf template, created when missing.")).
	Field(sdk.StringMap("convert").Doc("Fields converted to a type: `integer`, `float`, `string`, `boolean`, `integer_eu`, `float_eu` (`.` groups, `,` is the decimal mark). A list is converted element by element; a map is left alone.")).
	Field(sdk.StringList("gsub").Doc("Triples of field, regular expression (RE2; it may hold %{field}) and replacement (a sprintf template; `\\\\1` and `\\\\k<name>` refer to groups): every match in a string, or in each string of a list, is replaced.")).
	Field(sdk.StringList("uppercase").Doc("Fields upper-cased (strings, and the strings of a list).")).
	Field(sdk.StringList("capitalize").Doc("Fields capitalized: the first character upper case, the rest lower case.")).
	Field(sdk.StringList("lowercase").Doc("Fields lower-cased.")).
	Field(sdk.StringList("strip").Doc("Fields whose leading and trailing whitespace is removed.")).
	Field(sdk.StringMap("split").Doc("String fields split into a list at a separator: `{ field = \",\" }`.")).
	Field(sdk.StringMap("join").Doc("List fields joined into a string with a separator: `{ field = \",\" }`.")).
	Field(sdk.StringOrListMap("merge").Doc("Fields merged into a destination: `{ dest = \"added\" }` or `{ dest = [\"a\", \"b\"] }`. Lists are concatenated (a string counts as a one-element list), maps merged; a list and a map are not merged.")).
	Field(sdk.StringMap("copy").Doc("Fields copied (deeply) to another field, which is overwritten: `{ source = \"dest\" }`.")).
	Field(sdk.StringList("tag_on_failure").Default([]string{"_mutate_error"}).Doc("Tags added when an operation fails (a value that does not convert, a field that cannot be set); the operations after it are not applied, nor are add_field and the other common options."))

func init() {
	sdk.RegisterFilter("mutate", spec, New).WithValidate(func(c *sdk.Config) sdk.Diagnostics {
		_, ds := parse(c)
		return ds
	})
}

// opKind is an operation, numbered in the order Logstash applies them
// (its filter method).
type opKind uint8

const (
	opCoerce opKind = iota
	opRename
	opUpdate
	opReplace
	opConvert
	opGsub
	opUppercase
	opCapitalize
	opLowercase
	opStrip
	opSplit
	opJoin
	opMerge
	opCopy
	numOps
)

// op is one entry of one operation: one field.
type op struct {
	kind    opKind
	field   *path
	dynSrc  *sdk.Template // rename with %{} in the source name
	dest    *path
	dynDest *sdk.Template // rename with %{} in the new name
	value   *sdk.Template // coerce, update, replace; gsub's replacement
	static  any           // value rendered once when it has no %{}
	conv    convType
	re      *regexp.Regexp
	dynRe   *sdk.Template // gsub with %{} in the pattern
	repl    replacement   // gsub's replacement when static
	sep     string
	srcs    []*path // merge
}

// Filter is the mutate filter.
type Filter struct {
	ops  []op
	tags []string
	log  sdk.Logger

	mu       sync.Mutex
	lastRe   *regexp.Regexp // the last pattern made from %{} (gsub)
	lastSrc  string
	failures int
	loggedAt time.Time
}

// New builds the filter.
func New(_ context.Context, c *sdk.Config, env sdk.Env) (sdk.Filter, error) {
	f, ds := parse(c)
	if err := ds.Err(); err != nil {
		return nil, err
	}
	f.log = env.Logger
	return f, nil
}

// Transient: nothing read from an event is kept past Filter (the cached
// pattern's text is a clone: see dynamicRe).
func (*Filter) Transient() {}

func parse(c *sdk.Config) (*Filter, sdk.Diagnostics) {
	var ds sdk.Diagnostics
	f := &Filter{tags: c.StringList("tag_on_failure")}
	var byKind [numOps][]op

	fieldAt := func(setting string, at []string, s string) *path {
		p, err := parsePath(s)
		if err != nil {
			ds.Errorf(append([]string{setting}, at...), "%s: %q is not a field reference: %v", setting, s, err)
			return nil
		}
		return p
	}
	tmplAt := func(setting string, at []string, s string) (*sdk.Template, any) {
		t, err := sdk.ParseTemplate(s)
		if err != nil {
			ds.Errorf(append([]string{setting}, at...), "%s: %q is not a valid sprintf template: %v", setting, s, err)
			return nil, nil
		}
		if t.IsStatic() {
			return t, s
		}
		return t, nil
	}
	// mapOp reads a map setting: its keys, in the order written, and
	// their values.
	mapOp := func(setting string, kind opKind, fn func(o *op, key, val string)) {
		keys, vals := c.StringListMap(setting)
		for _, k := range keys {
			for _, v := range vals[k] {
				o := op{kind: kind}
				fn(&o, k, v)
				byKind[kind] = append(byKind[kind], o)
			}
		}
	}
	valueOp := func(setting string, kind opKind) {
		mapOp(setting, kind, func(o *op, k, v string) {
			o.field = fieldAt(setting, []string{k}, k)
			o.value, o.static = tmplAt(setting, []string{k}, v)
		})
	}
	listOp := func(setting string, kind opKind) {
		for i, s := range c.StringList(setting) {
			byKind[kind] = append(byKind[kind], op{kind: kind, field: fieldAt(setting, []string{strconv.Itoa(i)}, s)})
		}
	}

	valueOp("coerce", opCoerce)
	mapOp("rename", opRename, func(o *op, k, v string) {
		if strings.Contains(k, "%{") {
			o.dynSrc, _ = tmplAt("rename", []string{k}, k)
		} else {
			o.field = fieldAt("rename", []string{k}, k)
		}
		if strings.Contains(v, "%{") {
			o.dynDest, _ = tmplAt("rename", []string{k}, v)
		} else {
			o.dest = fieldAt("rename", []string{k}, v)
		}
	})
	valueOp("update", opUpdate)
	valueOp("replace", opReplace)
	mapOp("convert", opConvert, func(o *op, k, v string) {
		o.field = fieldAt("convert", []string{k}, k)
		t, ok := convTypes[v]
		if !ok {
			ds.Errorf([]string{"convert", k}, "Invalid conversion type %q for %s, expected one of %s", v, k, convTypeNames)
		}
		o.conv = t
	})

	gsub := c.StringList("gsub")
	if len(gsub)%3 != 0 {
		ds.Errorf([]string{"gsub"}, "Invalid gsub configuration: gsub takes triples of field, pattern and replacement, and has %d strings (%d left over)", len(gsub), len(gsub)%3)
	}
	for i := 0; i+2 < len(gsub); i += 3 {
		o := op{kind: opGsub, field: fieldAt("gsub", []string{strconv.Itoa(i)}, gsub[i])}
		at := []string{strconv.Itoa(i + 1)}
		if strings.Contains(gsub[i+1], "%{") {
			o.dynRe, _ = tmplAt("gsub", at, gsub[i+1])
		} else if re, err := compileRuby(gsub[i+1]); err != nil {
			ds.Errorf(append([]string{"gsub"}, at...), "gsub: the pattern %q does not compile (Go's RE2 syntax): %v", gsub[i+1], err)
		} else {
			o.re = re
		}
		o.value, o.static = tmplAt("gsub", []string{strconv.Itoa(i + 2)}, gsub[i+2])
		if o.static != nil {
			o.repl = parseReplacement(gsub[i+2], o.re)
			if o.repl.literal && o.re != nil {
				o.repl.lit = literalPatternOf(gsub[i+1])
			}
		}
		byKind[opGsub] = append(byKind[opGsub], o)
	}

	listOp("uppercase", opUppercase)
	listOp("capitalize", opCapitalize)
	listOp("lowercase", opLowercase)
	listOp("strip", opStrip)
	mapOp("split", opSplit, func(o *op, k, v string) {
		o.field, o.sep = fieldAt("split", []string{k}, k), v
	})
	mapOp("join", opJoin, func(o *op, k, v string) {
		o.field, o.sep = fieldAt("join", []string{k}, k), v
	})
	keys, vals := c.StringListMap("merge")
	for _, k := range keys {
		o := op{kind: opMerge, field: fieldAt("merge", []string{k}, k)}
		for _, v := range vals[k] {
			o.srcs = append(o.srcs, fieldAt("merge", []string{k}, v))
		}
		byKind[opMerge] = append(byKind[opMerge], o)
	}
	mapOp("copy", opCopy, func(o *op, k, v string) {
		o.field, o.dest = fieldAt("copy", []string{k}, k), fieldAt("copy", []string{k}, v)
	})

	for _, ops := range byKind {
		f.ops = append(f.ops, ops...)
	}
	return f, ds
}

// Filter applies the operations in order. The first that fails tags the
// event, and the rest are not applied (Logstash's rescue around them).
func (f *Filter) Apply(_ context.Context, e *sdk.Event, _ func(*sdk.Event)) sdk.Result {
	for i := range f.ops {
		if err := f.apply(&f.ops[i], e); err != nil {
			for _, t := range f.tags {
				e.AddTag(t)
			}
			f.logFailure(err)
			return sdk.Failed
		}
	}
	return sdk.Matched
}

// logFailure logs a failure at most once a second, with how many there
// were since the last line.
func (f *Filter) logFailure(err error) {
	if f.log == nil {
		return
	}
	f.mu.Lock()
	f.failures++
	now := time.Now()
	if now.Sub(f.loggedAt) < time.Second {
		f.mu.Unlock()
		return
	}
	n := f.failures
	f.failures, f.loggedAt = 0, now
	f.mu.Unlock()
	f.log.Warn("mutate failed on an event; it is tagged and passed on", "error", err.Error(), "failures", n)
}

func (o *op) render(e *sdk.Event) any {
	if o.static != nil {
		return o.static
	}
	return e.StringValue(o.value.Render(e))
}

func dynPath(t *sdk.Template, e *sdk.Event) (*path, error) {
	return parsePath(t.Render(e))
}

func (f *Filter) apply(o *op, e *sdk.Event) error {
	switch o.kind {
	case opCoerce:
		if v, ok := o.field.get(e); ok && v == nil {
			return o.field.set(e, o.render(e))
		}
	case opRename:
		src, dst := o.field, o.dest
		var err error
		if o.dynSrc != nil {
			if src, err = dynPath(o.dynSrc, e); err != nil {
				return fmt.Errorf("rename: %w", err)
			}
		}
		if o.dynDest != nil {
			if dst, err = dynPath(o.dynDest, e); err != nil {
				return fmt.Errorf("rename: %w", err)
			}
		}
		if _, ok := src.get(e); !ok {
			return nil
		}
		v, _ := src.del(e)
		return dst.set(e, v)
	case opUpdate:
		if _, ok := o.field.get(e); ok {
			return o.field.set(e, o.render(e))
		}
	case opReplace:
		return o.field.set(e, o.render(e))
	case opConvert:
		return convertField(o, e)
	case opGsub:
		return f.gsub(o, e)
	case opUppercase, opCapitalize, opLowercase:
		return changeCase(o, e)
	case opStrip:
		v, _ := o.field.get(e)
		switch t := v.(type) {
		case string:
			if s := rubyStrip(t); len(s) != len(t) {
				return o.field.set(e, e.StringValue(s))
			}
		case []any:
			for _, x := range t {
				if _, ok := x.(string); !ok {
					return fmt.Errorf("strip %s: undefined method `strip' for a %s", o.field, sdk.TypeName(x))
				}
			}
			for i, x := range t {
				t[i] = rubyStrip(x.(string))
			}
		}
	case opSplit:
		if s, ok := o.field.get(e); ok {
			if s, ok := s.(string); ok {
				return o.field.set(e, rubySplit(e, s, o.sep))
			}
		}
	case opJoin:
		if v, ok := o.field.get(e); ok {
			if l, ok := v.([]any); ok {
				return o.field.set(e, e.StringValue(string(rubyJoin(nil, l, o.sep))))
			}
		}
	case opMerge:
		return merge(o, e)
	case opCopy:
		v, ok := o.field.get(e)
		if !ok || v == nil {
			return nil
		}
		return o.dest.set(e, deepCopy(v))
	}
	return nil
}

func convertField(o *op, e *sdk.Event) error {
	v, ok := o.field.get(e)
	if !ok {
		return nil
	}
	switch t := v.(type) {
	case nil, map[string]any:
		return nil // Logstash leaves both alone
	case []any:
		for i, x := range t {
			if x == nil {
				continue
			}
			c, err := convert(e, o.conv, x)
			if err != nil {
				return fmt.Errorf("convert %s to %s: %w", o.field, convName(o.conv), err)
			}
			t[i] = c
		}
		return nil
	case string:
		if o.conv == convString {
			return nil
		}
	}
	c, err := convert(e, o.conv, v)
	if err != nil {
		return fmt.Errorf("convert %s to %s: %w", o.field, convName(o.conv), err)
	}
	return o.field.set(e, c)
}

func convName(t convType) string {
	for n, c := range convTypes {
		if c == t {
			return n
		}
	}
	return "?"
}

func (f *Filter) gsub(o *op, e *sdk.Event) error {
	v, ok := o.field.get(e)
	if !ok {
		return nil
	}
	var list []any
	switch t := v.(type) {
	case string:
	case []any:
		list = t
	default:
		return nil // only strings and lists of strings
	}
	re := o.re
	if o.dynRe != nil {
		var err error
		if re, err = f.dynamicRe(o.dynRe.Render(e)); err != nil {
			return fmt.Errorf("gsub %s: %w", o.field, err)
		}
	}
	repl := &o.repl
	if o.static == nil {
		r := parseReplacement(o.value.Render(e), re)
		repl = &r
	} else if o.dynRe != nil && !repl.literal {
		r := parseReplacement(o.static.(string), re) // \k<name> needs the pattern
		repl = &r
	}
	if list == nil {
		s := v.(string)
		if out := repl.gsub(re, s); out != s {
			return o.field.set(e, e.StringValue(out))
		}
		return nil
	}
	for i, x := range list {
		if s, ok := x.(string); ok {
			list[i] = repl.gsub(re, s)
		}
	}
	return nil
}

// dynamicRe compiles a pattern made from the event, keeping the last one
// (events of a batch often make the same).
func (f *Filter) dynamicRe(src string) (*regexp.Regexp, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lastRe != nil && f.lastSrc == src {
		return f.lastRe, nil
	}
	re, err := compileRuby(src)
	if err != nil {
		return nil, err
	}
	// Cloned: a pattern rendered from one field is that field's string,
	// and this filter is Transient, so the memory behind an event's
	// strings may be reused for the next batch.
	f.lastRe, f.lastSrc = re, strings.Clone(src)
	return re, nil
}

func caseOf(kind opKind, s string) string {
	switch kind {
	case opUppercase:
		return strings.ToUpper(s)
	case opLowercase:
		return strings.ToLower(s)
	}
	return rubyCapitalize(s)
}

func changeCase(o *op, e *sdk.Event) error {
	v, ok := o.field.get(e)
	if !ok {
		return nil
	}
	switch t := v.(type) {
	case string:
		if s := caseOf(o.kind, t); s != t {
			return o.field.set(e, e.StringValue(s))
		}
	case []any:
		for i, x := range t {
			if s, ok := x.(string); ok {
				t[i] = caseOf(o.kind, s)
			}
		}
	}
	return nil
}

// merge is Logstash's: maps are merged (the added field's keys win),
// anything else is concatenated as lists (a missing field is an empty
// list, any other value a one-element list); a map and a non-map are not
// merged.
func merge(o *op, e *sdk.Event) error {
	dest, _ := o.field.get(e)
	// Logstash keeps working on the list or map it read: several added
	// fields accumulate into it. A value that is neither starts afresh
	// for each (Array("s") is a new list each time).
	var accList []any
	var accMap map[string]any
	for _, src := range o.srcs {
		added, _ := src.get(e)
		dm, destIsMap := dest.(map[string]any)
		am, addedIsMap := added.(map[string]any)
		if destIsMap != addedIsMap {
			continue // Logstash logs it and goes on
		}
		if destIsMap {
			if accMap == nil {
				accMap = dm
			}
			for k, x := range am {
				accMap[k] = deepCopy(x)
			}
			if err := o.field.set(e, accMap); err != nil {
				return err
			}
			continue
		}
		var out []any
		if l, ok := dest.([]any); ok {
			if accList == nil {
				accList = append(make([]any, 0, len(l)+1), l...)
			}
			out = accList
		} else if dest != nil {
			out = []any{dest}
		} else {
			out = []any{}
		}
		switch a := added.(type) {
		case []any:
			for _, x := range a {
				out = append(out, deepCopy(x))
			}
		case nil:
		default:
			out = append(out, a)
		}
		if _, ok := dest.([]any); ok {
			accList = out
		}
		if err := o.field.set(e, out); err != nil {
			return err
		}
	}
	return nil
}
