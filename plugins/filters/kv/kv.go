// Package kv is the kv filter: it parses key=value pairs out of text, as
// Logstash's kv does (same settings and defaults, same quoting and
// bracket rules, duplicates made lists), with a hand-written linear scan
// instead of a regular expression, and bounds on what a hostile line can
// make it build.
package kv

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/gostash/gostash/sdk"
)

// Bounds a line cannot push the filter past (also settings).
const (
	defaultMaxKeys        = 1000
	defaultMaxKeyLength   = 1024
	defaultMaxValueLength = 64 * 1024
	// maxDepth bounds recursive = true: a value parsed as pairs whose
	// values are parsed as pairs... stops here (the rest stays text).
	maxDepth = 8
)

func init() {
	spec := sdk.NewSpec("Parses key=value pairs out of text (Logstash's kv).").
		Field(sdk.String("source").Default("message").Doc("The field to parse. A list is parsed element by element into one result.")).
		Field(sdk.String("target").Doc("Put the pairs in a map at this field instead of at the root (the field is replaced).")).
		Field(sdk.String("field_split").Default(" ").Doc("Characters that separate pairs: each one is a separator (`\"&?\"` splits on & and on ?).")).
		Field(sdk.String("value_split").Default("=").Doc("Characters that separate a key from its value; each one is a separator.")).
		Field(sdk.String("field_split_pattern").Doc("A regular expression (RE2) that separates pairs, in place of field_split: for separators of several characters (`\"\\\\+\\\\+\"` splits on ++).")).
		Field(sdk.String("value_split_pattern").Doc("A regular expression (RE2) that separates a key from its value, in place of value_split (`\"::\"`, `\":+\"`).")).
		Field(sdk.String("whitespace").Default("lenient").OneOf("lenient", "strict").Doc("lenient allows spaces around the value separator (`a = 1`); strict does not.")).
		Field(sdk.StringList("include_keys").Doc("Only these keys (compared after trim_key, remove_char_key and transform_key, before prefix); may hold %{field} references.")).
		Field(sdk.StringList("exclude_keys").Doc("Never these keys (compared as include_keys); may hold %{field} references.")).
		Field(sdk.String("trim_key").Doc("Characters stripped from both ends of each key, e.g. `\"<>\\\\[\\\\],\"` (a regular-expression character class's content, as in Logstash: backslash escapes a character).")).
		Field(sdk.String("trim_value").Doc("Characters stripped from both ends of each value, as trim_key.")).
		Field(sdk.String("remove_char_key").Doc("Characters removed from each key wherever they are, read as trim_key.")).
		Field(sdk.String("remove_char_value").Doc("Characters removed from each value wherever they are, read as trim_key.")).
		Field(sdk.String("transform_key").OneOf("lowercase", "uppercase", "capitalize").Doc("Change the case of each key (after trim_key and remove_char_key, before include_keys and exclude_keys).")).
		Field(sdk.String("transform_value").OneOf("lowercase", "uppercase", "capitalize").Doc("Change the case of each value (after trim_value and remove_char_value).")).
		Field(sdk.String("prefix").Doc("Prepended to every key; may hold %{field} references.")).
		Field(sdk.Bool("recursive").Default(false).Doc("Parse each value as pairs too; a value that holds pairs becomes a map (at most 8 levels deep).")).
		Field(sdk.StringMap("default_keys").Doc("Pairs set when the text does not have them.")).
		Field(sdk.Bool("allow_duplicate_values").Default(true).Doc("When false, a key=value pair seen twice is kept once (a key with different values still becomes a list).")).
		Field(sdk.Bool("allow_empty_values").Default(false).Doc("Keep keys whose value is empty (`a=`).")).
		Field(sdk.Bool("include_brackets").Default(true).Doc("Values in (), [] or <> are taken whole, without the brackets, as quoted ones are.")).
		Field(sdk.Int("max_keys").Default(defaultMaxKeys).Doc("Pairs kept per event; the rest are dropped and the event tagged with tag_on_limit.")).
		Field(sdk.Int("max_key_length").Default(defaultMaxKeyLength).Doc("Longer keys are dropped with their value, and the event tagged with tag_on_limit.")).
		Field(sdk.Int("max_value_length").Default(defaultMaxValueLength).Doc("Longer values are cut to this many bytes (on a UTF-8 boundary), and the event tagged with tag_on_limit.")).
		Field(sdk.String("tag_on_limit").Default("_kv_filter_limit").Doc("Tag added when max_keys, max_key_length or max_value_length cut something.")).
		Field(sdk.StringList("tag_on_failure").Default([]string{"_kv_filter_error"}).Doc("Tags added when a pair cannot be set (its key is not a field reference, or a field on the way is not a map).")).
		Field(sdk.String("tag_on_timeout").Default("_kv_filter_timeout").Doc("Accepted for Logstash configurations; never added: the scan is linear in the text, so there is nothing to time out.")).
		Field(sdk.Int("timeout_millis").Default(30000).Doc("Accepted for Logstash configurations and ignored (see tag_on_timeout).")).
		Field(sdk.String("ecs_compatibility").OneOf("disabled", "v1", "v8").Doc("Accepted for Logstash configurations: kv reads the same in every mode (set target to keep pairs out of ECS fields)."))
	sdk.RegisterFilter("kv", spec, newFilter).WithValidate(func(c *sdk.Config) sdk.Diagnostics {
		_, ds := build(c)
		return ds
	})
}

type filter struct {
	source      sdk.FieldRef
	target      *sdk.FieldRef
	fieldSplit  charSet
	valueSplit  charSet
	lenient     bool
	brackets    bool
	include     map[string]bool
	exclude     map[string]bool
	trimKey     charSet
	trimValue   charSet
	removeKey   charSet
	removeValue charSet
	// keyRules and valueRules say whether any removal or case rule is
	// set, so the common line pays no per-byte scan for empty ones.
	keyRules, valueRules bool
	keyStop              charSet // field_split, value_split and '\\': where a key's scan stops
	caseKey              string  // transform_key
	caseValue            string  // transform_value
	// includeTmpl and excludeTmpl are set when a listed key holds a
	// %{field} reference: the lists are then rendered per event.
	includeTmpl, excludeTmpl []*sdk.Template
	prefix                   string
	prefixTmpl               *sdk.Template
	recursive                bool
	defaults                 []pair
	allowDupes               bool
	allowEmpty               bool
	maxKeys                  int
	maxKeyLen                int
	maxValueLen              int
	tagOnLimit               string
	tagOnFailure             []string

	// fieldRe and valueRe are set when a split pattern is: then they,
	// not the character sets, split (parsePattern). valueRe has the
	// spaces of lenient whitespace around it.
	fieldRe, valueRe *regexp.Regexp

	// refs caches the field references of keys seen: the same keys come
	// line after line, and parsing one each time was a third of the
	// filter's time. Bounded by maxRefs; keys are copied in (an event's
	// strings belong to its batch).
	mu   sync.RWMutex
	refs map[string]sdk.FieldRef
}

const maxRefs = 4096

// ref is the key's field reference, from the cache when it can be.
func (f *filter) ref(key string) (sdk.FieldRef, error) {
	f.mu.RLock()
	r, ok := f.refs[key]
	f.mu.RUnlock()
	if ok {
		return r, nil
	}
	key = strings.Clone(key)
	r, err := sdk.ParseFieldRef(key)
	if err != nil {
		return r, err
	}
	f.mu.Lock()
	if len(f.refs) < maxRefs {
		f.refs[key] = r
	}
	f.mu.Unlock()
	return r, nil
}

// pair is a key and its value: str, or val when it is not one string (a
// list of duplicates, a recursive map) or once str is boxed for the event.
type pair struct {
	key string
	str string
	val any
}

// any is the pair's value outside an event (in a list or a map).
func (p *pair) any() any {
	if p.val != nil {
		return p.val
	}
	return p.str
}

// charSet is a set of bytes (ASCII); non-ASCII separators are rejected.
type charSet [256]bool

func (s *charSet) has(c byte) bool { return s[c] }

// parseClass reads a regular-expression character class's content as
// Logstash puts it between [ and ]: a backslash escapes the next
// character; \s \t \n \r are what they are in a regexp.
func parseClass(s string) (charSet, error) {
	var cs charSet
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return cs, fmt.Errorf("only ASCII characters are supported, got %q", s)
		}
		if c == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 's':
				for _, w := range []byte(" \t\n\r\f\v") {
					cs[w] = true
				}
				continue
			case 't':
				c = '\t'
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			default:
				c = s[i]
			}
		}
		cs[c] = true
	}
	return cs, nil
}

func newFilter(_ context.Context, c *sdk.Config, _ sdk.Env) (sdk.Filter, error) {
	f, ds := build(c)
	return f, ds.Err()
}

func build(c *sdk.Config) (*filter, sdk.Diagnostics) {
	var ds sdk.Diagnostics
	f := &filter{
		lenient:      c.String("whitespace") != "strict",
		brackets:     c.Bool("include_brackets"),
		recursive:    c.Bool("recursive"),
		allowDupes:   c.Bool("allow_duplicate_values"),
		allowEmpty:   c.Bool("allow_empty_values"),
		maxKeys:      c.Int("max_keys"),
		maxKeyLen:    c.Int("max_key_length"),
		maxValueLen:  c.Int("max_value_length"),
		tagOnLimit:   c.String("tag_on_limit"),
		tagOnFailure: c.StringList("tag_on_failure"),
		prefix:       c.String("prefix"),
		caseKey:      c.String("transform_key"),
		caseValue:    c.String("transform_value"),
		refs:         map[string]sdk.FieldRef{},
	}
	ref, err := sdk.ParseFieldRef(c.String("source"))
	if err != nil {
		ds.Errorf([]string{"source"}, "%v", err)
	}
	f.source = ref
	if t := c.String("target"); t != "" {
		ref, err := sdk.ParseFieldRef(t)
		if err != nil {
			ds.Errorf([]string{"target"}, "%v", err)
		}
		f.target = &ref
	}
	for _, s := range []struct {
		name string
		set  *charSet
	}{{"field_split", &f.fieldSplit}, {"value_split", &f.valueSplit}, {"trim_key", &f.trimKey}, {"trim_value", &f.trimValue},
		{"remove_char_key", &f.removeKey}, {"remove_char_value", &f.removeValue}} {
		cs, err := parseClass(c.String(s.name))
		if err != nil {
			ds.Errorf([]string{s.name}, "%v", err)
		}
		*s.set = cs
	}
	for b := range 256 {
		f.keyStop[b] = f.fieldSplit[b] || f.valueSplit[b] || b == '\\'
	}
	f.keyRules = c.String("remove_char_key") != "" || f.caseKey != ""
	f.valueRules = c.String("remove_char_value") != "" || f.caseValue != ""
	if c.String("value_split") == "" {
		ds.Errorf([]string{"value_split"}, "value_split cannot be empty")
	}
	if c.Has("field_split_pattern") || c.Has("value_split_pattern") {
		f.fieldRe = splitPattern(c, "field_split", false, &ds)
		f.valueRe = splitPattern(c, "value_split", f.lenient, &ds)
	}
	for _, name := range []string{"max_keys", "max_key_length", "max_value_length"} {
		if c.Int(name) < 1 {
			ds.Errorf([]string{name}, "%s must be at least 1, got %d", name, c.Int(name))
		}
	}
	f.include, f.includeTmpl = keySet(c, "include_keys", &ds)
	f.exclude, f.excludeTmpl = keySet(c, "exclude_keys", &ds)
	if strings.Contains(f.prefix, "%{") {
		t, err := sdk.ParseTemplate(f.prefix)
		if err != nil {
			ds.Errorf([]string{"prefix"}, "%v", err)
		}
		f.prefixTmpl = t
	}
	keys, vals := c.StringListMap("default_keys")
	for _, k := range keys {
		if len(vals[k]) == 1 {
			f.defaults = append(f.defaults, pair{key: k, str: vals[k][0]})
		}
	}
	return f, ds
}

// splitPattern compiles name's pattern setting, or else its character
// set as the class Logstash makes of it.
func splitPattern(c *sdk.Config, name string, lenient bool, ds *sdk.Diagnostics) *regexp.Regexp {
	setting, src := name+"_pattern", c.String(name+"_pattern")
	if !c.Has(setting) {
		setting, src = name, "["+c.String(name)+"]"
	} else if src == "" {
		ds.Errorf([]string{setting}, "%s cannot be empty", setting)
		return nil
	}
	if lenient {
		src = " *(?:" + src + ") *"
	}
	re, err := regexp.Compile(src)
	if err != nil {
		ds.Errorf([]string{setting}, "%s: %v (RE2 syntax: no lookaround or backreferences)", setting, err)
		return nil
	}
	if re.MatchString("") {
		// It would split everywhere; a scan would make no headway.
		ds.Errorf([]string{setting}, "%s %q matches empty text", setting, c.String(setting))
		return nil
	}
	return re
}

// keySet reads include_keys or exclude_keys: a set of names, or
// templates when one holds a %{field} reference (Logstash sprintfs them).
func keySet(c *sdk.Config, name string, ds *sdk.Diagnostics) (map[string]bool, []*sdk.Template) {
	keys := c.StringList(name)
	if len(keys) == 0 {
		return nil, nil
	}
	m := make(map[string]bool, len(keys))
	dynamic := false
	for _, k := range keys {
		m[k] = true
		dynamic = dynamic || strings.Contains(k, "%{")
	}
	if !dynamic {
		return m, nil
	}
	ts := make([]*sdk.Template, len(keys))
	for i, k := range keys {
		t, err := sdk.ParseTemplate(k)
		if err != nil {
			ds.Errorf([]string{name}, "%v", err)
		}
		ts[i] = t
	}
	return m, ts
}

// renderKeys is the event's include_keys or exclude_keys when they hold
// references.
func renderKeys(dst []string, ts []*sdk.Template, e *sdk.Event) []string {
	for _, t := range ts {
		if t != nil {
			dst = append(dst, t.Render(e))
		}
	}
	return dst
}

// Transient: pairs go into the event; nothing is kept past Filter.
func (*filter) Transient() {}

// result collects an event's pairs in order; duplicates become lists.
type result struct {
	pairs   []pair
	values  int // values kept, duplicates' included: bounded by max_keys
	limited bool
	// include and exclude are the event's include_keys and exclude_keys
	// when they hold references (f.includeTmpl, f.excludeTmpl).
	include, exclude []string
	// refs are the field references of the last event's pairs, by
	// position: lines of one source repeat their keys in the same order,
	// so comparing a key with the one before it at its place finds most
	// references without hashing the key (f.ref's cache was a quarter of
	// the filter's time). Kept across events; the keys are the refs' own.
	refs []sdk.FieldRef
}

// results are reused from event to event: the pairs of one event are
// scratch space until they are set.
var results = sync.Pool{New: func() any { return &result{pairs: make([]pair, 0, 16)} }}

// release clears the strings (they belong to the event's batch) and
// returns r to the pool; a result grown past 256 pairs is left to the GC.
func (r *result) release() {
	if cap(r.pairs) > 256 {
		return
	}
	clear(r.pairs)
	clear(r.include)
	clear(r.exclude)
	r.pairs, r.values, r.limited = r.pairs[:0], 0, false
	r.include, r.exclude = r.include[:0], r.exclude[:0]
	results.Put(r)
}

// ref is the field reference of pair i's key.
func (r *result) ref(f *filter, i int) (sdk.FieldRef, error) {
	key := r.pairs[i].key
	if i < len(r.refs) && r.refs[i].String() == key {
		return r.refs[i], nil
	}
	ref, err := f.ref(key)
	if err == nil && i <= len(r.refs) && i < 64 {
		if i == len(r.refs) {
			r.refs = append(r.refs, ref)
		} else {
			r.refs[i] = ref
		}
	}
	return ref, err
}

func (r *result) find(k string) int {
	for i := range r.pairs {
		if r.pairs[i].key == k {
			return i
		}
	}
	return -1
}

// Filter parses the source and sets the pairs. It returns Matched (so
// add_field, add_tag... apply) when it set something, as Logstash does.
func (f *filter) Apply(_ context.Context, e *sdk.Event, _ func(*sdk.Event)) sdk.Result {
	v, _ := f.source.Get(e)
	r := results.Get().(*result)
	defer r.release()
	prefix := f.prefix
	if f.prefixTmpl != nil {
		prefix = f.prefixTmpl.Render(e)
	}
	if f.includeTmpl != nil {
		r.include = renderKeys(r.include, f.includeTmpl, e)
	}
	if f.excludeTmpl != nil {
		r.exclude = renderKeys(r.exclude, f.excludeTmpl, e)
	}
	switch t := v.(type) {
	case string:
		f.parse(t, prefix, r, 0)
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok {
				f.parse(s, prefix, r, 0)
			}
		}
	}
	for _, d := range f.defaults {
		if r.find(d.key) < 0 {
			r.pairs = append(r.pairs, d)
		}
	}
	if r.limited && f.tagOnLimit != "" {
		e.AddTag(f.tagOnLimit)
	}
	if len(r.pairs) == 0 {
		return sdk.Failed
	}
	// The values, and the target's map, are made in the event's batch's
	// memory, under one lock for them all.
	var m map[string]any
	e.WithValues(func(v *sdk.Values) {
		for i := range r.pairs {
			if r.pairs[i].val == nil {
				r.pairs[i].val = v.String(r.pairs[i].str)
			}
		}
		if f.target != nil {
			m = v.Map()
			for i := range r.pairs {
				m[r.pairs[i].key] = r.pairs[i].val
			}
		}
	})
	failed := false
	if f.target != nil {
		failed = f.target.Set(e, m) != nil
	} else {
		for i := range r.pairs {
			ref, err := r.ref(f, i)
			if err != nil || ref.Set(e, r.pairs[i].val) != nil {
				failed = true
			}
		}
	}
	if failed {
		for _, t := range f.tagOnFailure {
			e.AddTag(t)
		}
		return sdk.Failed
	}
	return sdk.Matched
}

// parse scans s for pairs: a key (no separator characters; a backslash
// escapes one), a value separator (spaces around it when lenient), a
// value (in double or single quotes, bracketed in (), [] or <> when
// include_brackets, or up to the next field separator), then a field
// separator or the end. Where no pair starts, the scan moves on past the
// text that was not a key. Each byte is looked at a bounded number of
// times.
func (f *filter) parse(s, prefix string, r *result, depth int) {
	if f.fieldRe != nil {
		f.parsePattern(s, prefix, r, depth)
		return
	}
	var m closers
	i := 0
	for i < len(s) {
		// the key
		ks := i
		for i < len(s) {
			// One look-up a byte: keyStop holds both separators and '\\'.
			if !f.keyStop.has(s[i]) {
				i++
				continue
			}
			if s[i] != '\\' || f.fieldSplit.has('\\') || f.valueSplit.has('\\') {
				break // a separator (a backslash may be one)
			}
			if i+1 < len(s) {
				i++
			}
			i++
		}
		ke := i
		if ke == ks {
			i++ // a separator where a key should start
			continue
		}
		// the value separator
		j, ok := f.valueStart(s, ke)
		if !ok {
			if end, v, found := f.escapedKeyEnd(s, ks, ke, &m); found {
				ke, j, ok = end, v, true
			}
		}
		if !ok {
			// a key without a value separator is no pair
			i = max(j, ke)
			if i < len(s) && f.fieldSplit.has(s[i]) {
				i++
			}
			continue
		}
		// A key keeps spaces before the separator when they are not
		// field separators, as Logstash's greedy key does (trim_key
		// strips them).
		key := s[ks:ke]
		val, next, ok := f.value(s, j, &m)
		if !ok {
			// no value alternative ends at a field separator: no pair here
			i = ke + 1
			continue
		}
		i = next
		f.add(key, val, prefix, r, depth)
	}
}

// valueStart is where the value starts when a value separator (with
// spaces around it when lenient) is at s[k:]; else, not ok, where the
// spaces after k end.
func (f *filter) valueStart(s string, k int) (j int, ok bool) {
	j = k
	if f.lenient {
		for j < len(s) && s[j] == ' ' {
			j++
		}
	}
	switch {
	case j < len(s) && f.valueSplit.has(s[j]):
		j++
	case j > k && f.valueSplit.has(' '):
		// A space splits values: Logstash's ` *[ ] *` gives one space
		// back to be the separator.
		return j, true
	default:
		return j, false
	}
	if f.lenient {
		for j < len(s) && s[j] == ' ' {
			j++
		}
	}
	return j, true
}

// escapedKeyEnd is Logstash's regexp backtracking when no value
// separator follows the key s[ks:ke]: its key can read a backslash as a
// character of its own, so a separator after a backslash can end the key
// instead (`k\=v` is `k\` = `v`, and `k\\ x=1` is `k\\ x` = `1`). Such
// keys run at most to the first separator no backslash precedes; the
// longest one a value separator follows wins (not ok when there is none).
// The scan may run past ke (`\\ ` escapes nothing for the key scan but
// ends on a backslash here), so m remembers it: a later key that starts
// before where it stopped finds the same end, and a line of `\\ \\ `
// stays linear.
func (f *filter) escapedKeyEnd(s string, ks, ke int, m *closers) (end, j int, ok bool) {
	if strings.IndexByte(s[ks:ke], '\\') < 0 {
		return 0, 0, false
	}
	if m.kset && m.kfrom <= ks+1 && ks+1 <= m.kstop {
		// The same stop; the last key end found at or after ks+1 wins.
		// (It is never ke: no value separator follows ke.)
		if m.kend > ks {
			return m.kend, m.kj, true
		}
		return 0, 0, false
	}
	q := ks + 1
	for ; q < len(s); q++ {
		c := s[q]
		if !f.valueSplit.has(c) && !f.fieldSplit.has(c) {
			continue
		}
		if q != ke {
			if v, found := f.valueStart(s, q); found {
				end, j, ok = q, v, true
			}
		}
		if s[q-1] != '\\' {
			break
		}
	}
	m.kfrom, m.kstop, m.kset = ks+1, q, true
	m.kend, m.kj = -1, 0
	if ok {
		m.kend, m.kj = end, j
	}
	return end, j, ok
}

// value reads a value at s[i:] and the field separator after it; next is
// where the scan goes on. Alternatives are tried in Logstash's order:
// "...", '...', (...), [...], <...>, then up to the next field separator.
func (f *filter) value(s string, i int, m *closers) (val string, next int, ok bool) {
	after := func(k int) int {
		if k < len(s) {
			return k + 1
		}
		return k
	}
	// Logstash's `$` is the end of a line too: a quote before a newline
	// ends the pair, and the next key starts at the newline.
	ends := func(k int) bool { return k == len(s) || f.fieldSplit.has(s[k]) || s[k] == '\n' }
	if q, k, ok := quoted(s, i, f.brackets, m); ok && ends(k) {
		if k < len(s) && s[k] == '\n' {
			return q, k, true
		}
		return q, after(k), true
	}
	if c := closeOf(s, i, f.brackets); c != 0 {
		if q := m.backtrack(s, i+1, c, ends); q >= 0 {
			if q+1 < len(s) && s[q+1] == '\n' {
				return s[i+1 : q], q + 1, true
			}
			return s[i+1 : q], after(q + 1), true
		}
	}
	k := i
	for k < len(s) && !f.fieldSplit.has(s[k]) {
		if s[k] == '\\' && k+1 < len(s) {
			k++
		}
		k++
	}
	if k > len(s) {
		k = len(s)
	}
	return s[i:k], after(k), true
}

// closers remembers, per closing character (" ' ) ] >), where the last
// search for one found it: a value that opens a quote or bracket looks
// for its closing character, and without this memo a line of `a=(x `
// with no ) took time quadratic in its length (a 200 KB line, seconds).
// A search from any place up to the one found finds the same one (the
// backslashes before a closing character are counted from where the
// search starts, and a search starts after an opening character, never
// inside a run of backslashes).
type closers struct {
	from, at [5]int // at is -1 when there is none from from on
	set      [5]bool
	// backtrack's memo: the best closing character in [bfrom, bto].
	bfrom, bto, best [5]int
	bset             [5]bool
	// escapedKeyEnd's memo: its scan from kfrom stopped at kstop, and
	// the last key end it found was kend (-1: none), its value at kj.
	kfrom, kstop, kend, kj int
	kset                   bool
}

// backtrack is Logstash's regexp backtracking for a quote whose first
// closing character no field separator follows (or that has none): it
// can read a backslash as a character of its own, so a closing character
// after a backslash can close the quote (`"C:\temp\" b=1` is `C:\temp\`).
// Such closings run at most to the first one no backslash precedes; the
// last one that ends(q+1) is true of wins (-1: none). A search from any
// place up to that first one finds the same (a search starts after an
// opening character).
func (m *closers) backtrack(s string, p int, c byte, ends func(int) bool) int {
	x := strings.IndexByte(`"')]>`, c)
	if m.bset[x] && m.bfrom[x] <= p && p <= m.bto[x] {
		if m.best[x] >= p {
			return m.best[x]
		}
		return -1
	}
	best, q := -1, p
	for {
		r := strings.IndexByte(s[q:], c)
		if r < 0 {
			q = len(s)
			break
		}
		q += r
		if ends(q + 1) {
			best = q
		}
		if q == p || s[q-1] != '\\' {
			break
		}
		q++
	}
	m.bfrom[x], m.bto[x], m.best[x], m.bset[x] = p, q, best, true
	return best
}

// next is the first closing character c at or after p that no backslash
// escapes, or -1.
func (m *closers) next(s string, p int, c byte) int {
	x := strings.IndexByte(`"')]>`, c)
	if m.set[x] && m.from[x] <= p && (m.at[x] < 0 || p <= m.at[x]) {
		return m.at[x]
	}
	k := p
	for {
		q := strings.IndexByte(s[k:], c)
		if q < 0 {
			k = -1
			break
		}
		k += q
		n := 0 // backslashes just before k, from p on
		for b := k - 1; b >= p && s[b] == '\\'; b-- {
			n++
		}
		if n%2 == 0 {
			break
		}
		k++
	}
	m.from[x], m.at[x], m.set[x] = p, k, true
	return k
}

// closeOf is the character that closes a quote or bracket opening at
// s[i] (0 when none opens there).
func closeOf(s string, i int, brackets bool) byte {
	if i >= len(s) {
		return 0
	}
	switch s[i] {
	case '"', '\'':
		return s[i]
	case '(':
		if brackets {
			return ')'
		}
	case '[':
		if brackets {
			return ']'
		}
	case '<':
		if brackets {
			return '>'
		}
	}
	return 0
}

// quoted reads a quoted value at s[i:] ("...", '...', and with brackets
// (...), [...], <...>): its content and where its closing character ends.
// A backslash escapes the next character, a quote too.
func quoted(s string, i int, brackets bool, m *closers) (content string, end int, ok bool) {
	closeCh := closeOf(s, i, brackets)
	if closeCh == 0 {
		return "", 0, false
	}
	k := m.next(s, i+1, closeCh)
	if k < 0 {
		return "", 0, false
	}
	return s[i+1 : k], k + 1, true
}

// add applies the key and value rules to one pair and the bounds.
func (f *filter) add(key, val, prefix string, r *result, depth int) {
	if val == "" && !f.allowEmpty {
		return
	}
	key = trim(key, &f.trimKey)
	if f.keyRules {
		key = transform(remove(key, &f.removeKey), f.caseKey)
	}
	if key == "" {
		return
	}
	if !f.wanted(key, r) {
		return
	}
	if len(key) > f.maxKeyLen {
		r.limited = true
		return
	}
	if prefix != "" {
		key = prefix + key
	}
	val = trim(val, &f.trimValue)
	if f.valueRules {
		val = transform(remove(val, &f.removeValue), f.caseValue)
	}
	if len(val) > f.maxValueLen {
		cut := f.maxValueLen
		for cut > 0 && !utf8.RuneStart(val[cut]) {
			cut--
		}
		val, r.limited = val[:cut], true
	}
	idx := r.find(key)
	if !f.allowDupes && idx >= 0 && contains(r.pairs[idx].any(), val) {
		return
	}
	if r.values >= f.maxKeys {
		r.limited = true
		return
	}
	r.values++
	p := pair{key: key, str: val}
	if f.recursive && depth+1 < maxDepth && f.splitsValue(val) {
		// Inner keys get the prefix and the key rules too, as in Logstash.
		inner := result{include: r.include, exclude: r.exclude}
		f.parse(val, prefix, &inner, depth+1)
		if inner.limited {
			r.limited = true
		}
		if len(inner.pairs) > 0 {
			m := make(map[string]any, len(inner.pairs))
			for i := range inner.pairs {
				m[inner.pairs[i].key] = inner.pairs[i].any()
			}
			p.val = m
		}
	}
	if idx >= 0 {
		switch old := r.pairs[idx].any().(type) {
		case []any:
			r.pairs[idx].val = append(old, p.any())
		default:
			r.pairs[idx].val = []any{old, p.any()}
		}
		return
	}
	r.pairs = append(r.pairs, p)
}

// splitsValue reports whether s holds a value separator.
func (f *filter) splitsValue(s string) bool {
	if f.valueRe != nil {
		return f.valueRe.MatchString(s)
	}
	return strings.ContainsFunc(s, func(c rune) bool { return c < 256 && f.valueSplit.has(byte(c)) })
}

// wanted applies include_keys and exclude_keys to a key.
func (f *filter) wanted(key string, r *result) bool {
	if f.includeTmpl != nil {
		if !slices.Contains(r.include, key) {
			return false
		}
	} else if f.include != nil && !f.include[key] {
		return false
	}
	if f.excludeTmpl != nil {
		return !slices.Contains(r.exclude, key)
	}
	return !f.exclude[key]
}

// remove drops every character of cs from s (remove_char_key,
// remove_char_value); s itself when there is none.
func remove(s string, cs *charSet) string {
	i := 0
	for i < len(s) && !cs.has(s[i]) {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s[:i])
	for ; i < len(s); i++ {
		if !cs.has(s[i]) {
			b = append(b, s[i])
		}
	}
	return string(b)
}

// transform is transform_key and transform_value: Ruby's downcase,
// upcase and capitalize (the first character upper case, the rest
// lower).
func transform(s, how string) string {
	switch how {
	case "lowercase":
		return strings.ToLower(s)
	case "uppercase":
		return strings.ToUpper(s)
	case "capitalize":
		if s == "" {
			return s
		}
		r, n := utf8.DecodeRuneInString(s)
		t, rest := unicode.ToTitle(r), strings.ToLower(s[n:])
		if t == r && rest == s[n:] {
			return s
		}
		return string(t) + rest
	}
	return s
}

func trim(s string, cs *charSet) string {
	i, j := 0, len(s)
	for i < j && cs.has(s[i]) {
		i++
	}
	for j > i && cs.has(s[j-1]) {
		j--
	}
	return s[i:j]
}

func contains(v any, s string) bool {
	switch t := v.(type) {
	case string:
		return t == s
	case []any:
		for _, x := range t {
			if x == s {
				return true
			}
		}
	}
	return false
}
