// Package dissect is the dissect filter: it splits text into fields by
// delimiters, as Logstash's dissect does (same mapping syntax and
// modifiers, same saving order, same conversions and failure tags).
//
// Each mapping is compiled once, when the filter is built; an event costs
// one left-to-right scan of its text with strings.Index per delimiter. No
// regular expression is involved.
package dissect

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/gostash/gostash/sdk"
)

func init() {
	spec := sdk.NewSpec("Splits text into fields by delimiters (Logstash's dissect): grok's fast cousin for lines whose layout does not vary.").
		Field(sdk.StringMap("mapping").
			Doc(`Field → dissect pattern, e.g. mapping = { message = "%{ts} %{+ts} %{level} %{msg}" }. Mappings run in the order written; a later one may dissect a field an earlier one set. Modifiers: %{} and %{?key} skip (%{*key} too), %{+key} and %{+key/2} append, %{&key} takes its name from key's value, %{key->} skips repeated delimiters after the field.`)).
		Field(sdk.StringMap("convert_datatype").
			Doc(`Field → "int" or "float", converted after every mapping ran (also on fields the mappings did not set). A field that is missing is tagged _dataconversionnullvalue_<field>_<type>, one that is not a number _dataconversionuncoercible_<field>_<type>.`)).
		Field(sdk.StringList("tag_on_failure").Default([]string{"_dissectfailure"}).
			Doc("Tags added when a mapping's field is empty or null, or its delimiters are not all found (the event is then left as it was by that mapping)."))
	sdk.RegisterFilter("dissect", spec, newFilter).WithValidate(func(c *sdk.Config) sdk.Diagnostics {
		_, ds := build(c)
		return ds
	})
}

type conversion struct {
	name     string
	ref      sdk.FieldRef
	float    bool
	tagNull  string // _dataconversionnullvalue_<field>_<type>
	tagUncoe string // _dataconversionuncoercible_<field>_<type>
	bit      uint64 // its bit in Filter's done, when fused (else 0)
}

type filter struct {
	dissectors   []*dissector
	conversions  []conversion
	tagOnFailure []string
	maxFields    int
	logger       sdk.Logger
}

func newFilter(_ context.Context, c *sdk.Config, env sdk.Env) (sdk.Filter, error) {
	f, ds := build(c)
	if err := ds.Err(); err != nil {
		return nil, err
	}
	f.logger = env.Logger
	return f, nil
}

// build compiles the settings; a diagnostic names the mapping or
// conversion it is about, so --configtest points at it.
func build(c *sdk.Config) (*filter, sdk.Diagnostics) {
	var ds sdk.Diagnostics
	f := &filter{tagOnFailure: c.StringList("tag_on_failure")}
	keys, patterns := c.StringListMap("mapping")
	for _, src := range keys {
		path := []string{"mapping", src}
		ref, err := sdk.ParseFieldRef(src)
		if err != nil {
			ds.Errorf(path, "%v", err)
			continue
		}
		if len(patterns[src]) != 1 {
			ds.Errorf(path, "the mapping of %s must be one string", src)
			continue
		}
		d, err := compile(src, patterns[src][0])
		if err != nil {
			ds = append(ds, sdk.Diagnostic{Summary: "dissect mapping: " + err.Error(), Path: path,
				Detail: "A mapping is delimiters and %{key} fields: %{key}, %{?key} or %{} (skip), %{+key} or %{+key/2} (append), %{&key} (name from key's value), with -> after a key to skip repeated delimiters."})
			continue
		}
		d.ref = ref
		f.dissectors = append(f.dissectors, d)
		f.maxFields = max(f.maxFields, len(d.fields))
	}
	keys, types := c.StringListMap("convert_datatype")
	for _, name := range keys {
		path := []string{"convert_datatype", name}
		ref, err := sdk.ParseFieldRef(name)
		if err != nil {
			ds.Errorf(path, "%v", err)
			continue
		}
		typ := ""
		if len(types[name]) == 1 {
			typ = types[name][0]
		}
		var isFloat bool
		switch strings.ToLower(typ) {
		case "int":
		case "float":
			isFloat = true
		default:
			ds = append(ds, sdk.Diagnostic{Summary: fmt.Sprintf("dissect cannot convert to %q", typ), Path: path,
				Detail: `convert_datatype takes "int" or "float" (the mutate filter's convert has more types).`})
			continue
		}
		f.conversions = append(f.conversions, conversion{name: name, ref: ref, float: isFloat,
			tagNull:  "_dataconversionnullvalue_" + name + "_" + typ,
			tagUncoe: "_dataconversionuncoercible_" + name + "_" + typ})
	}
	f.fuse()
	return f, ds
}

// fuse lets a conversion be made as its field is stored, when nothing
// between the store and the conversion pass could change the field: one
// mapping, no indirect field (it may name any field), the field set by
// one normal field and no append, no other conversion of it. Converting
// as storing skips a look-up, a store and a boxed string per event; a
// value that does not convert is stored as text and left to the pass,
// which tags it as before.
func (f *filter) fuse() {
	if len(f.dissectors) != 1 || len(f.conversions) > 64 {
		return
	}
	d := f.dissectors[0]
	for _, fl := range d.fields {
		if fl.kind == indirect {
			return
		}
	}
	for ci := range f.conversions {
		c := &f.conversions[ci]
		k, writers := -1, 0
		for _, i := range d.save {
			if slices.Equal(d.fields[i].ref.Path(), c.ref.Path()) {
				writers++
				if d.fields[i].kind == normal {
					k = slices.Index(d.normals, i)
				}
			}
		}
		others := 0
		for cj := range f.conversions {
			if slices.Equal(f.conversions[cj].ref.Path(), c.ref.Path()) {
				others++
			}
		}
		if writers == 1 && k >= 0 && k < 64 && others == 1 {
			c.bit = 1 << ci
			d.conv[k] = c
			d.other |= 1 << k
		}
	}
}

// Transient: values go into the event; nothing is kept past Filter.
func (*filter) Transient() {}

// Filter runs every mapping in order, then the conversions. It returns
// Matched (so add_field, add_tag... apply) when at least one mapping
// matched, as Logstash decorates the event on any successful dissection.
func (f *filter) Apply(_ context.Context, e *sdk.Event, _ func(*sdk.Event)) sdk.Result {
	matched := false
	var done uint64 // conversions made as their field was stored (fuse)
	var buf [32]sdk.Span
	spans := buf[:]
	if f.maxFields > len(buf) {
		spans = make([]sdk.Span, f.maxFields)
	}
	for _, d := range f.dissectors {
		// A string is read in place (the commonest case: message, raw).
		s, ok := d.ref.GetString(e)
		if !ok {
			v, found := d.ref.Get(e)
			if !found {
				// Logstash logs this and counts a failure, without a tag.
				if f.logger != nil {
					f.logger.Debug("dissect: the field to dissect is missing", "field", d.source)
				}
				continue
			}
			if v != nil {
				s = sdk.RubyString(v)
			}
		}
		if s == "" || !d.match(s, spans) {
			f.fail(e)
			continue
		}
		if !d.store(e, s, spans, &done) {
			f.fail(e)
			continue
		}
		matched = true
	}
	for i := range f.conversions {
		if c := &f.conversions[i]; done&c.bit == 0 {
			c.apply(e)
		}
	}
	if matched {
		return sdk.Matched
	}
	return sdk.Failed
}

func (f *filter) fail(e *sdk.Event) {
	for _, t := range f.tagOnFailure {
		e.AddTag(t)
	}
}

// store sets the matched values: normal fields, then appends in their
// order, then indirect fields. It reports false when a value could not be
// set (a field on the way holds a value that is not a map, an indirect
// name that is not a field reference), which Logstash tags as a failure.
// The bits of done are set for the conversions made as their field was
// stored.
func (d *dissector) store(e *sdk.Event, s string, spans []sdk.Span, done *uint64) bool {
	converted := *done
	// The normal fields' values are their spans of s, but for those
	// converted as stored (d.other).
	err := d.set.SetSpans(e, s, spans[:len(d.normals)], d.other, func(k int) sdk.Scalar {
		val := s[spans[k].Start:spans[k].End]
		if c := d.conv[k]; c != nil {
			if n, ok := c.fromText(val); ok {
				converted |= c.bit
				return n
			}
		}
		return sdk.StringScalar(val)
	})
	ok := err == nil
	if ok {
		*done = converted
	} else {
		// Which field was not set is not known: convert them all after,
		// which leaves those converted here as they are.
		*done = 0
	}
	for _, i := range d.save[len(d.normals):] {
		fl := &d.fields[i]
		val := s[spans[fl.slot].Start:spans[fl.slot].End]
		switch fl.kind {
		case appended:
			if old, found := fl.ref.Get(e); found {
				val = sdk.RubyString(old) + fl.join + val
			}
			ok = fl.ref.Set(e, e.StringValue(val)) == nil && ok
		case indirect:
			var key string
			if old, found := fl.ref.Get(e); found {
				key = sdk.RubyString(old)
			} else if j := d.named(fl.name, i); j >= 0 {
				key = s[spans[d.fields[j].slot].Start:spans[d.fields[j].slot].End]
			}
			if key == "" {
				continue // Logstash sets nothing
			}
			ref, err := sdk.ParseFieldRef(key)
			if err != nil {
				ok = false
				continue
			}
			ok = ref.Set(e, e.StringValue(val)) == nil && ok
		}
	}
	return ok
}

// apply converts the field, tagging what cannot be converted.
func (c *conversion) apply(e *sdk.Event) {
	v, ok := c.ref.Get(e)
	if !ok || v == nil {
		e.AddTag(c.tagNull)
		return
	}
	n, ok := toNumber(v, c.float)
	if !ok {
		e.AddTag(c.tagUncoe)
		return
	}
	if n != nil {
		_ = c.ref.Set(e, n)
	}
}

// toNumber is Logstash's BigDecimal conversion: the value's text must be
// a decimal number (sign, digits, fraction, exponent; no spaces); int
// truncates toward zero. A number beyond int64 or float64 stays as it is
// (n is nil), where Logstash would make a big number.
func toNumber(v any, float bool) (n any, ok bool) {
	switch t := v.(type) {
	case int64:
		if float {
			return float64(t), true
		}
		return nil, true
	case float64:
		if float {
			return nil, true
		}
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return nil, false
		}
		return truncInt(t)
	case string:
		switch i, x, kind := parseText(t, float); kind {
		case invalid:
			return nil, false
		case asInt:
			return i, true
		case asFloat:
			return x, true
		}
		return nil, true
	}
	return nil, false
}

// fromText is the conversion of the text s: ok is false when s is not a
// number (the conversion pass then tags it).
func (c *conversion) fromText(s string) (n sdk.Scalar, ok bool) {
	switch i, x, kind := parseText(s, c.float); kind {
	case invalid:
		return n, false
	case asInt:
		return sdk.IntScalar(i), true
	case asFloat:
		return sdk.FloatScalar(x), true
	}
	return sdk.StringScalar(s), true
}

type numKind uint8

const (
	invalid numKind = iota // not a decimal number
	asText                 // beyond int64 or float64: kept as text
	asInt
	asFloat
)

// parseText converts decimal text to an int (truncated toward zero) or,
// with float, a float.
func parseText(t string, float bool) (int64, float64, numKind) {
	if !float && len(t) > 0 && len(t) <= 18 {
		// Digits alone (a status, a byte count): no syntax to check, no
		// overflow possible.
		n, i := int64(0), 0
		for ; i < len(t) && t[i]-'0' <= 9; i++ {
			n = n*10 + int64(t[i]-'0')
		}
		if i == len(t) {
			return n, 0, asInt
		}
	}
	intOnly, valid := decimalSyntax(t)
	if !valid {
		return 0, 0, invalid
	}
	if !float && intOnly {
		i, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			return 0, 0, asText
		}
		return i, 0, asInt
	}
	x, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsInf(x, 0) {
		return 0, 0, asText
	}
	if float {
		return 0, x, asFloat
	}
	x = math.Trunc(x)
	if x >= -(1<<63) && x < 1<<63 {
		return int64(x), 0, asInt
	}
	return 0, 0, asText
}

func truncInt(x float64) (any, bool) {
	x = math.Trunc(x)
	if x >= -(1<<63) && x < 1<<63 {
		return int64(x), true
	}
	return nil, true
}

// decimalSyntax checks Java's BigDecimal(String) syntax:
// [+-] (digits [. digits?] | . digits) ([eE] [+-] digits)?
func decimalSyntax(s string) (intOnly, ok bool) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i, digits = i+1, digits+1
	}
	intOnly = true
	if i < len(s) && s[i] == '.' {
		intOnly = false
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return false, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		intOnly = false
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i, exp = i+1, exp+1
		}
		if exp == 0 {
			return false, false
		}
	}
	return intOnly, i == len(s)
}
