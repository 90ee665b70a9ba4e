package sdk

import (
	"fmt"
	"strconv"
)

// The common options, Logstash's: settings every input, filter or output
// has whatever the plugin. They are declared, checked, compiled and
// applied here and nowhere else, so a plugin never sees them and a
// third-party plugin gets them exactly as the built-ins do.
//
//	input:  type, tags, add_field           (Logstash's decorate)
//	filter: when, add_field, remove_field, add_tag, remove_tag (on success)
//	output: when

// CommonFields are the settings every component of a kind has; the SDK
// applies them, so plugins never implement them (Logstash's common
// options).
func CommonFields(k Kind) []Field {
	switch k {
	case KindInput:
		return []Field{
			StringOrListMap("add_field").Doc("Fields added to every event, in the order written (keys and values are sprintf templates; a list value adds each); a field the event has already becomes a list with the value appended.").Build(),
			StringList("tags").Doc("Tags added to every event.").Build(),
			String("type").Doc("Sets the `type` field of every event that has none.").Build(),
		}
	case KindFilter:
		return []Field{
			String("when").Doc("An expression; the filter runs only on events for which it is true.").Build(),
			StringOrListMap("add_field").Doc("Fields added when the filter succeeds, in the order written (keys and values are sprintf templates; a list value adds each); a field the event has already becomes a list with the value appended.").Build(),
			StringList("add_tag").Doc("Tags added when the filter succeeds (sprintf templates).").Build(),
			StringList("remove_field").Doc("Fields removed when the filter succeeds (field references, may hold %{...}).").Build(),
			StringList("remove_tag").Doc("Tags removed when the filter succeeds (sprintf templates).").Build(),
		}
	case KindOutput:
		return []Field{
			String("when").Doc("An expression; only events for which it is true are written here.").Build(),
		}
	}
	return nil
}

// common is one component instance's compiled common options.
type common struct {
	when        *guard
	typ         string
	tags        []string
	addField    []fieldTemplate
	removeField []fieldName
	addTag      []*Template
	removeTag   []*Template
}

// fieldTemplate is one add_field entry: a value for "a" = ["x", "y"]
// adds both, one after the other, as Logstash's Array(value) does.
type fieldTemplate struct {
	name   fieldName
	values []*Template
}

// compileCommon compiles the common options of a component of kind k.
// Every problem is a diagnostic at the setting (and key or entry) that
// holds it; logger (nil in checks) hears about `when` failing on events.
func compileCommon(k Kind, c *Config, logger Logger) (*common, Diagnostics) {
	var (
		co  common
		ds  Diagnostics
		err error
	)
	if k != KindInput {
		if co.when, err = newGuard(c.String("when"), logger); err != nil {
			ds = append(ds, Diagnostic{Summary: "Invalid when expression", Detail: err.Error(), Path: []string{"when"}})
		}
	}
	if k == KindOutput {
		return &co, ds
	}
	if k == KindInput {
		co.typ, co.tags = c.String("type"), c.StringList("tags")
	}
	// In the order written, as Logstash walks its hash: a value may refer
	// to a field an earlier entry added.
	keys, fields := c.StringListMap("add_field")
	for _, key := range keys {
		name, nerr := parseFieldName(key)
		if nerr != nil {
			ds = append(ds, Diagnostic{Summary: "Invalid field reference in add_field", Detail: fmt.Sprintf("%q: %v", key, nerr), Path: []string{"add_field", key}})
		}
		ft := fieldTemplate{name: name}
		for _, v := range fields[key] {
			value, verr := ParseTemplate(v)
			if verr != nil {
				ds = append(ds, Diagnostic{Summary: "Invalid template in add_field", Detail: fmt.Sprintf("%q: %v", v, verr), Path: []string{"add_field", key}})
				continue
			}
			ft.values = append(ft.values, value)
		}
		if nerr == nil && len(ft.values) == len(fields[key]) {
			co.addField = append(co.addField, ft)
		}
	}
	if k != KindFilter {
		return &co, ds
	}
	for i, s := range c.StringList("remove_field") {
		n, err := parseFieldName(s)
		if err != nil {
			ds = append(ds, Diagnostic{Summary: "Invalid field reference in remove_field", Detail: fmt.Sprintf("%q: %v", s, err), Path: []string{"remove_field", strconv.Itoa(i)}})
			continue
		}
		co.removeField = append(co.removeField, n)
	}
	for _, opt := range []struct {
		name string
		dst  *[]*Template
	}{{"add_tag", &co.addTag}, {"remove_tag", &co.removeTag}} {
		for i, s := range c.StringList(opt.name) {
			t, err := ParseTemplate(s)
			if err != nil {
				ds = append(ds, Diagnostic{Summary: "Invalid template in " + opt.name, Detail: fmt.Sprintf("%q: %v", s, err), Path: []string{opt.name, strconv.Itoa(i)}})
				continue
			}
			*opt.dst = append(*opt.dst, t)
		}
	}
	return &co, ds
}

// openCommon compiles the common options of an instance being opened: a
// problem --configtest would have shown is an error here.
func openCommon(k Kind, c *Config, logger Logger) (*common, error) {
	co, ds := compileCommon(k, c, logger)
	if ds.HasErrors() {
		return nil, ds.Err()
	}
	return co, nil
}

// parseFieldName parses a field reference that may hold %{...}: each of
// those stands for a part of the name, so the text around them must be a
// reference whatever they render to.
func parseFieldName(s string) (fieldName, error) {
	t, err := ParseTemplate(s)
	if err != nil {
		return fieldName{}, err
	}
	if t.IsStatic() {
		ref, err := ParseFieldRef(s)
		if err != nil {
			return fieldName{}, err
		}
		return fieldName{t: t, ref: ref, static: true}, nil
	}
	if _, err := ParseFieldRef(t.skeleton()); err != nil {
		return fieldName{}, err
	}
	return fieldName{t: t}, nil
}

// passes reports whether e passes `when`; a filterInstance built without
// options (nil) passes everything.
func (co *common) passes(e *Event) bool { return co == nil || co.when.match(e) }

// decorate applies an input's options to an event it read, in Logstash's
// order: type (when the event has none), add_field, tags.
func (co *common) decorate(e *Event) {
	if co.typ != "" {
		e.touch("type")
		if _, ok := e.fields["type"]; !ok {
			e.raw.foreign = true
			e.fields["type"] = co.typ
		}
	}
	co.addFields(e)
	if len(co.tags) > 0 {
		tagList(e)
	}
	for _, t := range co.tags {
		e.AddTag(t)
	}
}

// matched applies a filter's options after it succeeded on e, in
// Logstash's order: add_field, remove_field, add_tag, remove_tag.
func (co *common) matched(e *Event) {
	if co == nil {
		return
	}
	co.addFields(e)
	for _, n := range co.removeField {
		if ref, ok := n.resolve(e); ok {
			ref.Delete(e)
		}
	}
	if len(co.addTag) > 0 {
		tagList(e)
	}
	for _, t := range co.addTag {
		e.AddTag(t.Render(e))
	}
	if len(co.removeTag) == 0 {
		return
	}
	tagList(e)
	for _, t := range co.removeTag {
		e.RemoveTag(t.Render(e))
	}
}

// tagList makes a single tag written as a string a one-tag list, as
// Logstash's add_tag and remove_tag work on Array(tags) and set it back:
// the tags come out a list whether a tag was added, removed or not.
func tagList(e *Event) {
	e.touch(FieldTags)
	if s, ok := e.fields[FieldTags].(string); ok {
		e.raw.foreign = true
		e.fields[FieldTags] = []any{s}
	}
}

// addFields sets add_field; a field the event has already gets the value
// appended (it becomes a list), as Logstash's decorators do. A null
// field counts as an empty list there (Array(nil) is []), so it becomes
// a one-value list.
func (co *common) addFields(e *Event) {
	for _, ft := range co.addField {
		ref, ok := ft.name.resolve(e)
		if !ok {
			continue
		}
		for _, tmpl := range ft.values {
			value := tmpl.Render(e)
			old, ok := ref.Get(e)
			if !ok {
				_ = ref.Set(e, value)
				continue
			}
			switch t := old.(type) {
			case []any:
				_ = ref.Set(e, append(t, value))
			case nil:
				_ = ref.Set(e, []any{value})
			default:
				_ = ref.Set(e, []any{t, value})
			}
		}
	}
}
