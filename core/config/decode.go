package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/gostash/gostash/sdk"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Decode checks every input, filter and output block against its
// plugin's settings and fills the blocks' Config and ConfigJSON. It
// reports every problem of every block.
func (p *Pipeline) Decode(s Schemas) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, b := range p.Blocks() {
		b.Config, b.ConfigJSON, b.coerced = nil, nil, nil
		fields, ok := s.Lookup(b.Kind, b.Type)
		if !ok {
			diags = append(diags, unknownType(b, s.Types(b.Kind)))
			continue
		}
		what := b.Kind.String() + " " + quote(b.Type)
		help := fmt.Sprintf(" `gostash plugin describe %s` lists its settings.", b.Type)
		res, bdiags := decodeBody(p, b.syn.Body, fields, what, help, b.defRange().Ptr())
		diags = append(diags, bdiags...)
		if bdiags.HasErrors() {
			continue
		}
		if cdiags := checkCommon(p, b, res.values); len(cdiags) > 0 {
			diags = append(diags, cdiags...)
			continue
		}
		for _, f := range fields {
			if _, set := res.values[f.Name]; !set && f.Default != nil {
				res.values[f.Name] = normalizeDefault(f.Default)
			}
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // keep "<" and "&" readable in logs and tests
		if err := enc.Encode(withOrder(res.values, res.order)); err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cannot encode the settings of " + b.Label(),
				Detail:   err.Error() + ". A plugin default is probably not JSON-encodable; report it to the plugin's author.",
				Subject:  b.defRange().Ptr(),
			})
			continue
		}
		b.Config, b.coerced = res.values, res.coerced
		b.ConfigJSON = bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
	}
	if ss, ok := s.(StdinSchemas); ok {
		diags = append(diags, p.oneStdin(ss)...)
	}
	return p.fixDiags(diags)
}

// oneStdin rejects a second input reading standard input: there is one,
// and two readers would split its lines between them at random.
func (p *Pipeline) oneStdin(s StdinSchemas) hcl.Diagnostics {
	var diags hcl.Diagnostics
	var first *Block
	for _, b := range p.Inputs {
		if !s.WantsStdin(b.Kind, b.Type) {
			continue
		}
		if first == nil {
			first = b
			continue
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Second input reading standard input",
			Detail: fmt.Sprintf("%s reads standard input, which %s at %s already reads; it can be read only once. Keep one of them.",
				b.Label(), first.Label(), posString(first.TypeRange)),
			Subject: b.syn.LabelRanges[0].Ptr(),
			Extra:   related{Label: "first read by", Range: first.syn.LabelRanges[0]},
		})
	}
	return diags
}

func (b *Block) defRange() hcl.Range {
	return hcl.RangeBetween(b.syn.TypeRange, b.syn.OpenBraceRange)
}

// EnvPluginPath names the colon-separated directories where gostash looks
// for third-party plugin binaries, besides --path.plugins and ./plugins.
const EnvPluginPath = "GOSTASH_PLUGIN_PATH"

func unknownType(b *Block, known []string) *hcl.Diagnostic {
	detail := "No " + b.Kind.String() + " plugin of that name is installed."
	if s := suggest(b.Type, known); s != "" {
		detail += " Did you mean " + quote(s) + "?"
	}
	if len(known) > 0 && len(known) <= 20 {
		detail += fmt.Sprintf(" Known %ss: %s.", b.Kind, strings.Join(known, ", "))
	}
	detail += " A third-party plugin needs a plugin block or its binary in " + EnvPluginPath + " or ./plugins; `gostash plugin list` shows what is found."
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Unknown " + b.Kind.String() + " type " + quote(b.Type),
		Detail:   detail,
		Subject:  b.syn.LabelRanges[0].Ptr(),
	}
}

type decoded struct {
	values  map[string]any
	coerced map[string]bool // list(string) settings given as one value
	// order is the order an object setting's keys were written in: Go
	// maps forget it, and some settings try their entries in order, as
	// Logstash does (grok's match with several fields).
	order map[string][]string
}

// decodeBody checks a block's attributes against fields and converts
// their values. what names the block in messages (`output "kafka"`); help
// ends the message for an unknown setting; header is where a missing
// required setting is reported.
func decodeBody(p *Pipeline, body *hclsyntax.Body, fields []sdk.Field, what, help string, header *hcl.Range) (decoded, hcl.Diagnostics) {
	res := decoded{values: map[string]any{}}
	var diags hcl.Diagnostics
	byName := make(map[string]sdk.Field, len(fields))
	for _, f := range fields {
		byName[f.Name] = f
	}
	names := fieldNames(fields)

	for _, blk := range body.Blocks {
		detail := upperFirst(what) + " takes settings only, not nested blocks."
		if f, ok := byName[blk.Type]; ok {
			switch {
			case strings.HasPrefix(string(f.Type), "map"):
				detail = fmt.Sprintf("%s is a setting of type %s: write %s = { ... }, with an equals sign.", blk.Type, f.Type, blk.Type)
			case len(blk.Labels) == 1:
				// Logstash's codec => json { target => "x" }: the name is
				// the value; its options are not this setting's.
				detail = fmt.Sprintf("%s is a setting of type %s: write %s = %q. Options in a block (Logstash's %s => %s { ... }) are not taken; `gostash plugin describe` lists the plugin's settings that do their job.", blk.Type, f.Type, blk.Type, blk.Labels[0], blk.Type, blk.Labels[0])
			default:
				detail = fmt.Sprintf("%s is a setting of type %s: write %s = VALUE, with an equals sign.", blk.Type, f.Type, blk.Type)
			}
		} else if s := suggest(blk.Type, names); s != "" {
			detail += fmt.Sprintf(" Did you mean the setting %q? Write %s = { ... }.", s, s)
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unexpected block " + quote(blk.Type) + " in " + what,
			Detail:   detail,
			Subject:  blk.TypeRange.Ptr(),
		})
	}

	for _, attr := range sortedAttrs(body.Attributes) {
		f, ok := byName[attr.Name]
		if !ok {
			if d := logstashCommon(what, attr); d != nil {
				diags = append(diags, d)
				continue
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unknown setting " + quote(attr.Name),
				Detail:   upperFirst(what) + " has no setting " + quote(attr.Name) + "." + suggestSentence(attr.Name, names, "") + help,
				Subject:  attr.NameRange.Ptr(),
			})
			continue
		}
		if vdiags := checkVars(attr.Expr, p.env); len(vdiags) > 0 {
			diags = append(diags, vdiags...)
			continue
		}
		val, vdiags := attr.Expr.Value(p.ctx)
		diags = append(diags, vdiags...)
		if vdiags.HasErrors() || val.IsNull() || !val.IsWhollyKnown() {
			continue // null means unset, as in HCL
		}
		val, _ = val.UnmarkDeep()
		c := converter{p: p}
		v := c.value(f.Type, f.Name, attr.Expr, val, 0)
		diags = append(diags, c.diags...)
		if c.coerced {
			if res.coerced == nil {
				res.coerced = map[string]bool{}
			}
			res.coerced[f.Name] = true
		}
		if len(c.diags) > 0 {
			continue
		}
		if len(f.OneOf) > 0 {
			if d := checkOneOf(f, attr.Expr, v); d != nil {
				diags = append(diags, d)
				continue
			}
		}
		res.values[f.Name] = v
		if keys := objectKeyOrder(p, attr.Expr); len(keys) > 1 {
			if res.order == nil {
				res.order = map[string][]string{}
			}
			res.order[f.Name] = keys
		}
	}

	for _, f := range fields {
		if !f.Required {
			continue
		}
		if _, set := body.Attributes[f.Name]; set {
			continue // set, possibly with an error reported above
		}
		detail := fmt.Sprintf("%s needs %s (%s).", upperFirst(what), f.Name, f.Type)
		if f.Doc != "" {
			detail += " " + f.Doc
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing required setting " + quote(f.Name),
			Detail:   detail,
			Subject:  header,
		})
	}
	return res, diags
}

// converter turns an HCL value into the JSON shape of a setting's type,
// reporting each bad element at its own range.
type converter struct {
	p       *Pipeline
	diags   hcl.Diagnostics
	coerced bool
}

func (c *converter) wrong(path string, want sdk.Type, expr hcl.Expression, v cty.Value) {
	c.diags = append(c.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Wrong type for " + settingName(path),
		Detail:   fmt.Sprintf("%s expects %s, got %s.", path, want, describeFrom(expr, v)),
		Subject:  expr.Range().Ptr(),
	})
}

// pairsAsMap returns a list of strings of even length, as Logstash reads
// a hash written as a list (["k1", "v1", "k2", "v2"]), as an HCL map
// ({ "k1" = "v1", "k2" = "v2" }); "" for any other value.
func pairsAsMap(v cty.Value) string {
	ty := v.Type()
	if !v.IsWhollyKnown() || v.IsNull() || !(ty.IsListType() || ty.IsTupleType()) {
		return ""
	}
	n := v.LengthInt()
	if n == 0 || n%2 != 0 || n > 16 {
		return ""
	}
	var b strings.Builder
	b.WriteString("{ ")
	for i, ev := range v.AsValueSlice() {
		if ev.IsNull() || ev.Type() != cty.String {
			return ""
		}
		switch {
		case i%2 == 1:
			b.WriteString(" = ")
		case i > 0:
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(ev.AsString()))
	}
	b.WriteString(" }")
	return b.String()
}

// value converts v, the value of expr, to type t; depth > 0 inside a list
// or map.
func (c *converter) value(t sdk.Type, path string, expr hcl.Expression, v cty.Value, depth int) any {
	ty := v.Type()
	switch t {
	case sdk.TypeString, sdk.TypeDuration:
		s, err := convert.Convert(v, cty.String)
		if err != nil || s.IsNull() {
			c.wrong(path, t, expr, v)
			return nil
		}
		str := s.AsString()
		if t == sdk.TypeDuration {
			if _, err := parseDuration(str); err != nil {
				c.diags = append(c.diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid duration for " + settingName(path),
					Detail:   fmt.Sprintf("%s is not a duration. Write a number and a unit, such as \"50ms\", \"5s\" or \"1m30s\" (units: ns, us, ms, s, m, h).", upperFirst(quoteFrom(expr, str))),
					Subject:  expr.Range().Ptr(),
				})
				return nil
			}
		}
		return str
	case sdk.TypeInt:
		n, err := convert.Convert(v, cty.Number)
		if err != nil || n.IsNull() {
			c.wrong(path, t, expr, v)
			return nil
		}
		i, acc := n.AsBigFloat().Int64()
		if acc != big.Exact || i != int64(int(i)) {
			c.wrong(path, t, expr, v)
			return nil
		}
		return int(i)
	case sdk.TypeFloat:
		n, err := convert.Convert(v, cty.Number)
		if err != nil || n.IsNull() {
			c.wrong(path, t, expr, v)
			return nil
		}
		f, _ := n.AsBigFloat().Float64()
		return f
	case sdk.TypeBool:
		b, err := convert.Convert(v, cty.Bool)
		if err != nil || b.IsNull() {
			c.wrong(path, t, expr, v)
			return nil
		}
		return b.True()
	case sdk.TypeStringList:
		if !(ty.IsListType() || ty.IsTupleType() || ty.IsSetType()) {
			if !ty.IsPrimitiveType() {
				c.wrong(path, t, expr, v)
				return nil
			}
			// Logstash accepts a single value for a list setting.
			if depth == 0 {
				c.coerced = true
			}
			s := c.value(sdk.TypeString, path, expr, v, depth+1)
			if s == nil {
				return nil
			}
			return []any{s}
		}
		elems, _ := hcl.ExprList(expr)
		out := make([]any, 0, v.LengthInt())
		for i, ev := range v.AsValueSlice() {
			eexpr := expr
			if len(elems) == v.LengthInt() {
				eexpr = elems[i]
			}
			if ev.IsNull() || !ev.Type().IsPrimitiveType() {
				c.wrong(fmt.Sprintf("%s[%d]", path, i), sdk.TypeString, eexpr, ev)
				continue
			}
			out = append(out, c.value(sdk.TypeString, fmt.Sprintf("%s[%d]", path, i), eexpr, ev, depth+1))
		}
		return out
	case sdk.TypeStringMap, sdk.TypeStringOrListMap:
		if !(ty.IsObjectType() || ty.IsMapType()) {
			c.wrong(path, t, expr, v)
			if m := pairsAsMap(v); m != "" {
				// Logstash takes a hash as a list of pairs too
				// (add_field => ["k", "v"]); HCL has one form.
				d := c.diags[len(c.diags)-1]
				d.Detail += " Logstash's list of name, value pairs is written as a map in HCL: " +
					path + " = " + m + "."
			}
			return nil
		}
		items := c.mapItems(path, expr)
		out := make(map[string]any, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			k, ev := it.Element()
			key := k.AsString()
			eexpr := expr
			if e, ok := items[key]; ok {
				eexpr = e
			}
			epath := fmt.Sprintf("%s[%q]", path, key)
			switch {
			case t == sdk.TypeStringMap || ev.Type().IsPrimitiveType() || ev.IsNull():
				if ev.IsNull() || !ev.Type().IsPrimitiveType() {
					want := sdk.TypeString
					if t == sdk.TypeStringOrListMap {
						want = "string or list(string)"
					}
					c.wrong(epath, want, eexpr, ev)
					continue
				}
				out[key] = c.value(sdk.TypeString, epath, eexpr, ev, depth+1)
			case ev.Type().IsObjectType() || ev.Type().IsMapType():
				c.wrong(epath, "string or list(string)", eexpr, ev)
			default:
				out[key] = c.value(sdk.TypeStringList, epath, eexpr, ev, depth+1)
			}
		}
		return out
	default: // sdk.TypeAny and types this loader does not know
		return toGo(v)
	}
}

// mapItems returns the value expressions of a map written as { k = v },
// by key, and reports keys written twice (HCL keeps the last silently).
func (c *converter) mapItems(path string, expr hcl.Expression) map[string]hcl.Expression {
	pairs, diags := hcl.ExprMap(expr)
	if diags.HasErrors() {
		return nil
	}
	out := make(map[string]hcl.Expression, len(pairs))
	first := make(map[string]hcl.Range, len(pairs))
	for _, kv := range pairs {
		kval, diags := kv.Key.Value(c.p.ctx)
		if diags.HasErrors() || kval.IsNull() || !kval.IsKnown() {
			continue
		}
		kstr, err := convert.Convert(kval, cty.String)
		if err != nil {
			continue
		}
		key := kstr.AsString()
		if r, dup := first[key]; dup {
			c.diags = append(c.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Duplicate key %q in %s", key, settingName(path)),
				Detail:   fmt.Sprintf("%s sets %q twice; the first is at %s. Keep one.", path, key, posString(c.p.fix(r))),
				Subject:  kv.Key.Range().Ptr(),
				Extra:    related{Label: "first set at", Range: r},
			})
			continue
		}
		first[key] = kv.Key.Range()
		out[key] = kv.Value
	}
	return out
}

func checkOneOf(f sdk.Field, expr hcl.Expression, v any) *hcl.Diagnostic {
	check := func(s string, e hcl.Expression) *hcl.Diagnostic {
		for _, ok := range f.OneOf {
			if s == ok {
				return nil
			}
		}
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid value for " + quote(f.Name),
			Detail:   fmt.Sprintf("%s is not one of %s.%s", upperFirst(quoteFrom(e, s)), strings.Join(f.OneOf, ", "), suggestSentence(s, f.OneOf, "")),
			Subject:  e.Range().Ptr(),
		}
	}
	switch t := v.(type) {
	case string:
		return check(t, expr)
	case []any:
		elems, _ := hcl.ExprList(expr)
		for i, x := range t {
			s, _ := x.(string)
			e := expr
			if len(elems) == len(t) {
				e = elems[i]
			}
			if d := check(s, e); d != nil {
				return d
			}
		}
	}
	return nil
}

// settingName quotes a setting's name, but not a path into it such as
// match["message"][1], which reads better bare.
func settingName(path string) string {
	if strings.ContainsRune(path, '[') {
		return path
	}
	return quote(path)
}

func parseDuration(s string) (time.Duration, error) { return time.ParseDuration(s) }

// describeFrom is describe without the value when it came from the
// environment: "a string (from ${env.X}, value hidden)".
func describeFrom(expr hcl.Expression, v cty.Value) string {
	from := fromEnv(expr)
	if from == "" || v.IsNull() {
		return describe(v)
	}
	ty := v.Type()
	name := ty.FriendlyName()
	switch {
	case ty == cty.String, ty == cty.Number, ty == cty.Bool:
		name = "a " + ty.FriendlyName()
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		name = "a list"
	case ty.IsMapType() || ty.IsObjectType():
		name = "a map"
	}
	return name + " (" + from + ")"
}

// quoteFrom quotes a string value for a diagnostic, or says where it came
// from when that is the environment.
func quoteFrom(expr hcl.Expression, s string) string {
	if from := fromEnv(expr); from != "" {
		return "the value (" + from + ")"
	}
	return strconv.Quote(s)
}

// describe names a value's type for "expects X, got Y", in the pipeline
// language's type names, with the value when it is short.
func describe(v cty.Value) string {
	ty := v.Type()
	switch {
	case v.IsNull():
		return "null"
	case ty == cty.String:
		s := v.AsString()
		if len(s) > 40 {
			s = s[:37] + "..."
		}
		return "string " + strconv.Quote(s)
	case ty == cty.Number:
		return "number " + v.AsBigFloat().Text('g', -1)
	case ty == cty.Bool:
		return "bool " + strconv.FormatBool(v.True())
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		return "list"
	case ty.IsMapType() || ty.IsObjectType():
		return "map"
	}
	return ty.FriendlyName()
}

// toGo converts a value of an `any` setting to JSON's shapes; whole
// numbers become ints.
func toGo(v cty.Value) any {
	if v.IsNull() || !v.IsKnown() {
		return nil
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return v.AsString()
	case ty == cty.Bool:
		return v.True()
	case ty == cty.Number:
		bf := v.AsBigFloat()
		if i, acc := bf.Int64(); acc == big.Exact && i == int64(int(i)) {
			return int(i)
		}
		f, _ := bf.Float64()
		return f
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		out := make([]any, 0, v.LengthInt())
		for _, e := range v.AsValueSlice() {
			out = append(out, toGo(e))
		}
		return out
	case ty.IsMapType() || ty.IsObjectType():
		out := make(map[string]any, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			out[k.AsString()] = toGo(e)
		}
		return out
	}
	return nil
}

// normalizeDefault gives a plugin's default the shape a set value has.
func normalizeDefault(v any) any {
	switch t := v.(type) {
	case []string:
		out := make([]any, len(t))
		for i, s := range t {
			out[i] = s
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(t))
		for k, s := range t {
			out[k] = s
		}
		return out
	case map[string][]string:
		out := make(map[string]any, len(t))
		for k, s := range t {
			out[k] = normalizeDefault(s)
		}
		return out
	case time.Duration:
		return t.String()
	case int64:
		return int(t)
	case int32:
		return int(t)
	case float32:
		return float64(t)
	}
	return v
}

// objectKeyOrder returns the keys of an object written literally
// (`{ b = 1, a = 2 }`), in the order written; nil for anything else.
func objectKeyOrder(p *Pipeline, expr hcl.Expression) []string {
	obj, ok := expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return nil
	}
	keys := make([]string, 0, len(obj.Items))
	for _, item := range obj.Items {
		k, diags := item.KeyExpr.Value(p.ctx)
		if diags.HasErrors() || !k.IsKnown() || k.IsNull() || k.Type() != cty.String {
			return nil
		}
		keys = append(keys, k.AsString())
	}
	return keys
}

// orderedObject writes a map as a JSON object with its keys in a given
// order (the rest, if any, after them in sorted order).
type orderedObject struct {
	keys []string
	m    map[string]any
}

func (o orderedObject) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	buf.WriteByte('{')
	done := make(map[string]bool, len(o.m))
	write := func(k string) error {
		if done[k] {
			return nil
		}
		v, ok := o.m[k]
		if !ok {
			return nil
		}
		if len(done) > 0 {
			buf.WriteByte(',')
		}
		done[k] = true
		if err := enc.Encode(k); err != nil {
			return err
		}
		buf.Truncate(buf.Len() - 1) // Encode ends with a newline
		buf.WriteByte(':')
		if err := enc.Encode(v); err != nil {
			return err
		}
		buf.Truncate(buf.Len() - 1)
		return nil
	}
	for _, k := range o.keys {
		if err := write(k); err != nil {
			return nil, err
		}
	}
	for _, k := range sdk.SortedKeys(o.m) {
		if err := write(k); err != nil {
			return nil, err
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// withOrder returns values for encoding, the settings in order written
// with their keys in that order.
func withOrder(values map[string]any, order map[string][]string) map[string]any {
	if len(order) == 0 {
		return values
	}
	out := make(map[string]any, len(values))
	for k, v := range values {
		if m, ok := v.(map[string]any); ok && order[k] != nil {
			out[k] = orderedObject{keys: order[k], m: m}
			continue
		}
		out[k] = v
	}
	return out
}

// logstashCommon answers settings every Logstash plugin (or every Logstash
// output) takes that gostash does another way, for a plugin that does not
// declare them itself: a configuration moved over says what to write
// instead of only "unknown setting". what is `input "stdin"` and the like.
func logstashCommon(what string, attr *hclsyntax.Attribute) *hcl.Diagnostic {
	kind, typ, _ := strings.Cut(what, " ")
	if kind != "input" && kind != "filter" && kind != "output" {
		return nil
	}
	d := &hcl.Diagnostic{Severity: hcl.DiagError, Subject: attr.NameRange.Ptr()}
	switch {
	case attr.Name == "id":
		d.Summary = "Logstash's id is the block's second label"
		name := "NAME"
		if v, diags := attr.Expr.Value(nil); !diags.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
			name = v.AsString()
		}
		d.Detail = fmt.Sprintf("A block is named by its labels: write %s %s %q { ... } and remove id. The name is what logs, the monitoring API and the dead letter queue show.", kind, typ, name)
	case attr.Name == "enable_metric":
		d.Severity = hcl.DiagWarning
		d.Summary = "enable_metric is ignored"
		d.Detail = "gostash counts every plugin's events for the monitoring API, at no cost worth turning off; remove the setting."
	case attr.Name == "periodic_flush" && kind == "filter":
		d.Severity = hcl.DiagWarning
		d.Summary = "periodic_flush is ignored"
		d.Detail = "Logstash's periodic_flush calls a filter's flush on a timer; gostash's filters hold no events between batches, so there is nothing to flush: remove the setting."
	case attr.Name == "workers" && kind == "output":
		d.Summary = "Outputs run on the pipeline's workers"
		d.Detail = "Logstash's per-output workers setting is gone (as in Logstash 6 and later): set the pipeline's workers (pipeline { workers = N } or -w N) and remove it."
	default:
		return nil
	}
	return d
}
