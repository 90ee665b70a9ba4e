// Package grok is the grok filter: it parses unstructured text into
// fields with named patterns, as Logstash's grok does (same settings,
// same standard patterns in the legacy and ECS naming schemes, same rules
// for existing fields), on an engine built for Go.
//
// Patterns are expanded and compiled once per instance. Each runs on the
// linear-time engine in internal/rx when it can be expressed there, and
// on github.com/dlclark/regexp2 (backtracking, with the timeout enforced)
// only when it needs what rx lacks; --configtest names those patterns.
package grok

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/gostash/gostash/plugins/filters/grok/internal/rx"
	"github.com/gostash/gostash/sdk"
)

func init() {
	spec := sdk.NewSpec("Parses text into fields with named regular-expression patterns (Logstash's grok).").
		Field(sdk.StringOrListMap("match").Required().
			Doc(`Field → pattern or list of patterns, e.g. match = { message = "%{COMBINEDAPACHELOG}" }. Patterns are tried in order and match anywhere in the value.`)).
		Field(sdk.Bool("break_on_match").Default(true).Doc("Stop at the first pattern that matches.")).
		Field(sdk.Bool("named_captures_only").Default(true).Doc("Keep only captures with a field name (%{SYNTAX:SEMANTIC}); when false, %{SYNTAX} captures go to a field named SYNTAX.")).
		Field(sdk.Bool("keep_empty_captures").Default(false).Doc("Set fields for captures that matched the empty string, and to null for groups that took no part.")).
		Field(sdk.StringList("overwrite").Doc("Fields to replace instead of adding to (an existing string becomes [old, new], a list gets the value appended).")).
		Field(sdk.String("target").Doc("Put captures under this field instead of at the root, e.g. \"[apache]\".")).
		Field(sdk.StringMap("pattern_definitions").Doc("Extra patterns, NAME = regex; they win over files and built-ins.")).
		Field(sdk.StringList("patterns_dir").Doc("Directories (or files) of pattern files, one NAME REGEX a line.")).
		Field(sdk.String("patterns_files_glob").Default("*").Doc("Which files of patterns_dir to read.")).
		Field(sdk.StringList("tag_on_failure").Default([]string{"_grokparsefailure"}).Doc("Tags added when no pattern matches.")).
		Field(sdk.Int("timeout_millis").Default(30000).Doc("Stop a match after this many milliseconds and tag the event with tag_on_timeout; 0 disables, a negative value is an error.")).
		Field(sdk.String("timeout_scope").Default("pattern").OneOf("pattern", "event").Doc("Whether timeout_millis applies to each pattern or to all patterns of an event.")).
		Field(sdk.String("tag_on_timeout").Default("_groktimeout").Doc("Tag added when a match times out.")).
		Field(sdk.String("ecs_compatibility").Default("v8").OneOf("disabled", "v1", "v8").
			Doc("Which standard patterns: disabled gives the legacy field names (clientip, verb...), v1 and v8 the ECS ones ([source][address]...)."))
	sdk.RegisterFilter("grok", spec, newFilter).WithValidate(validate)
}

// filter is one grok instance.
type filter struct {
	fields       []matchField
	breakOnMatch bool
	keepEmpty    bool
	overwrite    map[string]bool // joined field paths
	tagOnFailure []string
	tagOnTimeout string
	timeout      time.Duration
	eventScope   bool
	logger       sdk.Logger
}

type matchField struct {
	name     string
	ref      sdk.FieldRef
	patterns []*Pattern
}

func newFilter(_ context.Context, c *sdk.Config, env sdk.Env) (sdk.Filter, error) {
	f, ds := build(c)
	if err := ds.Err(); err != nil {
		return nil, err
	}
	f.logger = env.Logger
	return f, nil
}

// validate compiles every pattern as the filter would, so --configtest
// reports what the constructor would fail on, with the match entry's path.
func validate(c *sdk.Config) sdk.Diagnostics {
	_, ds := build(c)
	return ds
}

// build compiles the settings. Diagnostics name the setting (and the
// match entry) they are about; warnings name the patterns that need the
// backtracking engine.
func build(c *sdk.Config) (*filter, sdk.Diagnostics) {
	var ds sdk.Diagnostics
	f := &filter{
		breakOnMatch: c.Bool("break_on_match"),
		keepEmpty:    c.Bool("keep_empty_captures"),
		tagOnFailure: c.StringList("tag_on_failure"),
		tagOnTimeout: c.String("tag_on_timeout"),
		timeout:      time.Duration(c.Int("timeout_millis")) * time.Millisecond,
		eventScope:   c.String("timeout_scope") == "event",
		overwrite:    map[string]bool{},
	}
	// A negative timeout used to mean "none", and then a catastrophic
	// pattern held the filter (and a stop) for ever; 0 says it on purpose.
	if ms := c.Int("timeout_millis"); ms < 0 {
		ds = append(ds, sdk.Diagnostic{
			Summary: fmt.Sprintf("timeout_millis cannot be negative, got %d", ms),
			Detail:  "Give the milliseconds a match may take (default 30000), or 0 for no timeout.",
			Path:    []string{"timeout_millis"},
		})
	}
	ecsMode := c.String("ecs_compatibility")
	if ecsMode == "" {
		ecsMode = "v8"
	}
	// Logstash's order: built-ins, then patterns_dir, then
	// pattern_definitions; the last definition of a name wins.
	defs := maps.Clone(standardPatterns(ecsMode))
	if dirs := c.StringList("patterns_dir"); len(dirs) > 0 {
		if err := loadPatternsDirs(dirs, c.String("patterns_files_glob"), defs); err != nil {
			ds.Errorf([]string{"patterns_dir"}, "%v", err)
		}
	}
	maps.Copy(defs, c.StringMap("pattern_definitions"))

	o := compileOptions{defs: defs, timeout: f.timeout}
	o.namedCapturesOnly = !c.Has("named_captures_only") || c.Bool("named_captures_only")
	if t := c.String("target"); t != "" {
		ref, err := sdk.ParseFieldRef(t)
		if err != nil {
			ds.Errorf([]string{"target"}, "%v", err)
		} else {
			o.target = ref.Path()
		}
	}
	for _, name := range c.StringList("overwrite") {
		ref, err := sdk.ParseFieldRef(name)
		if err != nil {
			ds.Errorf([]string{"overwrite"}, "%v", err)
			continue
		}
		f.overwrite[pathKey(ref.Path())] = true
	}

	keys, patterns := c.StringListMap("match")
	raw, _ := c.Raw("match").(map[string]any)
	for _, field := range keys {
		ref, err := sdk.ParseFieldRef(field)
		if err != nil {
			ds.Errorf([]string{"match", field}, "%v", err)
			continue
		}
		mf := matchField{name: field, ref: ref}
		_, isList := raw[field].([]any)
		for i, src := range patterns[field] {
			path := []string{"match", field}
			if isList {
				path = append(path, strconv.Itoa(i))
			}
			p, err := compile(src, o)
			if err != nil {
				ds = append(ds, sdk.Diagnostic{Summary: "grok pattern: " + err.Error(), Path: path})
				continue
			}
			if p.Fallback != "" {
				ds = append(ds, sdk.Diagnostic{Warning: true, Path: path,
					Summary: "grok pattern runs on the backtracking engine (slower; bounded by timeout_millis)",
					Detail:  p.Fallback})
			}
			mf.patterns = append(mf.patterns, p)
		}
		f.fields = append(f.fields, mf)
	}
	return f, ds
}

func pathKey(path []string) string { return strings.Join(path, "\x00") }

// Filter tries the patterns on each match field, as Logstash's grok does.
// Transient: captures go into the event; nothing is kept after Apply
// returns.
func (*filter) Transient() {}

func (f *filter) Apply(_ context.Context, e *sdk.Event, _ func(*sdk.Event)) sdk.Result {
	var deadline time.Time
	if f.eventScope && f.timeout > 0 {
		deadline = time.Now().Add(f.timeout)
	}
	matched := false
	for i := range f.fields {
		mf := &f.fields[i]
		v, _ := mf.ref.Get(e)
		var ok bool
		var err error
		if list, isList := v.([]any); isList {
			// Each element is tried; the list is read as it was, even when
			// a capture appends to it.
			for _, el := range list[:len(list):len(list)] {
				m, err2 := f.matchValue(e, mf, sdk.RubyString(el), deadline)
				ok = ok || m
				if err = err2; err != nil {
					break
				}
			}
		} else {
			ok, err = f.matchValue(e, mf, sdk.RubyString(v), deadline)
		}
		if err != nil {
			if f.logger != nil {
				f.logger.Warn("grok match timed out", "field", mf.name, "timeout", f.timeout)
			}
			e.AddTag(f.tagOnTimeout)
			return sdk.Failed
		}
		if ok {
			matched = true
			if f.breakOnMatch {
				break
			}
		}
	}
	if matched {
		return sdk.Matched
	}
	for _, t := range f.tagOnFailure {
		e.AddTag(t)
	}
	return sdk.Failed
}

func (f *filter) matchValue(e *sdk.Event, mf *matchField, s string, deadline time.Time) (bool, error) {
	matched := false
	for _, p := range mf.patterns {
		timeout := f.timeout
		if !deadline.IsZero() {
			if timeout = time.Until(deadline); timeout <= 0 {
				return matched, rx.ErrTimeout
			}
		}
		caps, m, ok, err := p.exec(s, timeout)
		if err != nil { // a timeout
			if m != nil {
				m.Release()
			}
			return matched, err
		}
		if ok && p.objects != nil && !f.keepEmpty && len(f.overwrite) == 0 {
			matched = true
			f.storeObjects(e, p, s, caps)
		} else if ok {
			matched = true
			for i := range p.caps {
				if a := caps[2*i]; a >= 0 {
					f.handle(e, &p.caps[i], s[a:caps[2*i+1]])
				} else if f.keepEmpty {
					// Logstash hands on a group that took no part as nil
					f.store(e, &p.caps[i], nil)
				}
			}
		}
		if m != nil {
			m.Release()
		}
		if ok && f.breakOnMatch {
			break
		}
	}
	return matched, nil
}

// handle stores one capture with Logstash's rules: an empty capture is
// dropped unless keep_empty_captures; a field in overwrite is replaced;
// otherwise a new field is set, an existing string becomes [old, new], a
// list gets the value appended and any other value is left alone.
func (f *filter) handle(e *sdk.Event, c *capture, value string) {
	if value == "" && !f.keepEmpty {
		return
	}
	var v any
	switch c.conv {
	case convInt:
		v = rubyToI(value)
	case convFloat:
		v = rubyToF(value)
	default:
		v = e.StringValue(value)
	}
	f.store(e, c, v)
}

// store puts v at the capture's field with the rules above.
func (f *filter) store(e *sdk.Event, c *capture, v any) {
	overwrite := len(f.overwrite) > 0 && f.overwrite[c.key]
	if c.special {
		// @timestamp and @metadata: through the SDK's rules
		if old, ok := c.ref.Get(e); ok && old != nil && !overwrite {
			if v = merged(old, v); v == nil {
				return
			}
		}
		_ = c.ref.Set(e, v)
		return
	}
	m, leaf, err := c.ref.Container(e)
	if err != nil {
		return // [a] holds a value, so [a][b] cannot be set
	}
	if old, ok := m[leaf]; ok && old != nil && !overwrite {
		if v = merged(old, v); v == nil {
			return
		}
	}
	m[leaf] = v
}

// merged is what a capture v makes of an existing, non-null value old,
// as Logstash has it: a string becomes [old, v], a list gets v appended;
// anything else stays (merged returns nil: leave the field alone).
func merged(old, v any) any {
	switch t := old.(type) {
	case []any:
		return append(t, v)
	case string:
		return []any{t, v}
	}
	return nil
}

// rubyToI is Ruby's String#to_i: the leading integer, 0 when there is
// none.
func rubyToI(s string) int64 {
	if len(s) > 0 && len(s) < 19 {
		// The common case, a capture of %{INT} or %{NUMBER}: plain
		// digits, which cannot overflow in 18.
		var n int64
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				goto general
			}
			n = n*10 + int64(c-'0')
		}
		return n
	}
general:
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	end := 0
	if end < len(s) && (s[end] == '+' || s[end] == '-') {
		end++
	}
	digits := end
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == '_' && end > digits) {
		end++
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(s[:end], "_", ""), 10, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			if s[0] == '-' {
				return -1 << 63
			}
			return 1<<63 - 1
		}
		return 0
	}
	return n
}

// rubyToF is Ruby's String#to_f: the leading decimal number, 0.0 when
// there is none.
func rubyToF(s string) float64 {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	end := 0
	if end < len(s) && (s[end] == '+' || s[end] == '-') {
		end++
	}
	digitsAt := end
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if end < len(s) && s[end] == '.' && end+1 < len(s) && s[end+1] >= '0' && s[end+1] <= '9' {
		end++
		for end < len(s) && s[end] >= '0' && s[end] <= '9' {
			end++
		}
	}
	if end == digitsAt {
		return 0
	}
	if end < len(s) && (s[end] == 'e' || s[end] == 'E') {
		exp := end + 1
		if exp < len(s) && (s[exp] == '+' || s[exp] == '-') {
			exp++
		}
		if exp < len(s) && s[exp] >= '0' && s[exp] <= '9' {
			for exp < len(s) && s[exp] >= '0' && s[exp] <= '9' {
				exp++
			}
			end = exp
		}
	}
	x, _ := strconv.ParseFloat(s[:end], 64)
	return x
}
