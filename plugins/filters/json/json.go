// Package json is the json filter: it parses a field holding JSON text
// into the event, as Logstash's json filter does (same settings, the
// same handling of @timestamp, @metadata and of a top-level array), with
// the JSON codec's parser (sdk/codecs.ParseJSON): event values made
// directly, strings aliasing the source text.
package json

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/codecs"
)

// timestampFailureField keeps an @timestamp that is not a time, as
// Logstash's Event::TIMESTAMP_FAILURE_FIELD.
const timestampFailureField = "_@timestamp"

// warnEvery bounds the warnings about events: one per interval, with the
// count of those not logged.
const warnEvery = 10 * time.Second

func init() {
	spec := sdk.NewSpec("Parses a field holding JSON text into the event (Logstash's json filter).").
		Field(sdk.String("source").Required().Doc("The field holding the JSON text.")).
		Field(sdk.String("target").Doc("Put the parsed value at this field (replaced) instead of at the root. Needed when the JSON is not an object (an array, a string, a number).")).
		Field(sdk.Bool("skip_on_invalid_json").Default(false).Doc("Leave events whose source is not JSON as they are: no tag, no warning.")).
		Field(sdk.StringList("tag_on_failure").Default([]string{codecs.TagJSONParseFailure}).Doc("Tags added when the source is not JSON, when it is not an object and there is no target, or when a parsed field cannot be set.")).
		Field(sdk.String("ecs_compatibility").Default("v8").OneOf("disabled", "v1", "v8").Doc("As Logstash's: parsing is the same in every mode; with v1 or v8 and no target, a notice at startup (info level) that keys set at the root may clash with ECS fields."))
	sdk.RegisterFilter("json", spec, newFilter).WithValidate(func(c *sdk.Config) sdk.Diagnostics {
		_, ds := build(c)
		return ds
	})
}

type filter struct {
	source       sdk.FieldRef
	target       *sdk.FieldRef
	skipInvalid  bool
	tagOnFailure []string

	logger sdk.Logger
	warn   limiter

	// refs caches the field references of top-level keys that are
	// references ("[a][b]"): the same keys come event after event.
	mu   sync.RWMutex
	refs map[string]sdk.FieldRef
}

const maxRefs = 1024

func newFilter(_ context.Context, c *sdk.Config, env sdk.Env) (sdk.Filter, error) {
	f, ds := build(c)
	if err := ds.Err(); err != nil {
		return nil, err
	}
	f.logger = env.Logger
	if f.logger != nil && f.target == nil && c.String("ecs_compatibility") != "disabled" {
		f.logger.Info(ecsTargetNotice, "source", f.source.String())
	}
	return f, nil
}

// ecsTargetNotice is Logstash's (its ECS target check), logged once at
// info level when the filter starts.
const ecsTargetNotice = "ECS compatibility is enabled but `target` option was not specified. " +
	"This may cause fields to be set at the top-level of the event where they are likely to clash with the Elastic Common Schema. " +
	"It is recommended to set the `target` option to avoid potential schema conflicts " +
	"(if your data is ECS compliant or non-conflicting, feel free to ignore this message)"

func build(c *sdk.Config) (*filter, sdk.Diagnostics) {
	var ds sdk.Diagnostics
	f := &filter{
		skipInvalid:  c.Bool("skip_on_invalid_json"),
		tagOnFailure: c.StringList("tag_on_failure"),
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
	return f, ds
}

// Transient: parsed values go into the event; nothing is kept past Filter.
func (*filter) Transient() {}

// Filter parses the source. It returns Matched (so add_field, add_tag...
// apply) when the parsed value was stored, as Logstash's filter_matched;
// an event without the source (or with a null or false one) is left
// alone, as Logstash's `return unless source`.
func (f *filter) Apply(_ context.Context, e *sdk.Event, _ func(*sdk.Event)) sdk.Result {
	v, ok := f.source.Get(e)
	if !ok || v == nil || v == false {
		return sdk.Failed
	}
	s, isString := v.(string)
	if isString && f.target == nil {
		if r, done := f.mergeObject(e, s); done {
			return r
		}
	}
	var parsed any
	var err error
	if isString {
		// Parsed values and objects are made in the event's batch's
		// memory, reused batch after batch, rather than allocated.
		e.WithValues(func(v *sdk.Values) { parsed, err = codecs.ParseJSON(s, v) })
	} else {
		err = fmt.Errorf("%s holds a %s, not JSON text", f.source, sdk.TypeName(v))
	}
	if err != nil {
		if f.skipInvalid {
			return sdk.Failed
		}
		f.warnf(e, "Error parsing json", s, err)
		return f.fail(e)
	}
	if f.target != nil {
		if err := f.target.Set(e, parsed); err != nil {
			f.warnf(e, "Cannot set the parsed JSON", s, err)
			return f.fail(e)
		}
		return sdk.Matched
	}
	// An object is merged by mergeObject; this is anything else.
	f.warnf(e, "Parsed JSON object/hash requires a target configuration option", s, nil)
	return f.fail(e)
}

// scratch is one event's members, and the references of the last
// event's keys by position: lines of one source write their keys in the
// same order, so comparing a key with the one before it at its place
// finds most references without hashing the key. Pooled; the members'
// strings belong to the event's batch and are cleared with it.
type scratch struct {
	members []codecs.Member
	refs    []sdk.FieldRef
}

var scratches = sync.Pool{New: func() any { return new(scratch) }}

// mergeObject parses s when it holds an object and merges it at the
// root; done is false when s is not an object or not JSON, for Filter
// to say which.
func (f *filter) mergeObject(e *sdk.Event, s string) (r sdk.Result, done bool) {
	sc := scratches.Get().(*scratch)
	defer func() {
		if cap(sc.members) <= 1024 {
			clear(sc.members)
			sc.members = sc.members[:0]
			scratches.Put(sc)
		}
	}()
	var obj bool
	var err error
	// Parsed values and objects are made in the event's batch's memory,
	// reused batch after batch, rather than allocated.
	e.WithValues(func(v *sdk.Values) { sc.members, obj, err = codecs.ParseJSONObject(s, v, sc.members[:0]) })
	if !obj || err != nil {
		return 0, false
	}
	return f.merge(e, sc, s), true
}

// merge sets an object's keys at the root as Logstash does: @timestamp
// is taken out first and becomes the event's time (or, when it is not
// one, now, with the value kept in _@timestamp and the event tagged
// _timestampparsefailure); @metadata replaces the event's metadata; a
// key written as a field reference ("[a][b]") is set where it refers.
// Keys are set in the order written; of a key written twice, the last.
func (f *filter) merge(e *sdk.Event, sc *scratch, raw string) sdk.Result {
	var ts any
	hasTS := false
	var failure error
	for i, m := range sc.members {
		if m.Key == sdk.FieldTimestamp {
			ts, hasTS = m.Value, true
			continue
		}
		if err := f.set(e, sc, i, m.Key, m.Value); err != nil && failure == nil {
			failure = err
		}
	}
	if hasTS && ts != nil && ts != false {
		if t, ok := coerceTimestamp(ts); ok {
			e.SetTimestamp(t)
		} else {
			e.SetTimestamp(time.Now())
			e.AddTag(codecs.TagTimestampParseFailure)
			_ = sdk.MustParseFieldRef(timestampFailureField).Set(e, timestampText(ts))
			f.warnf(e, "Unrecognized @timestamp value, setting current time to @timestamp, original in _@timestamp field", raw, nil)
		}
	}
	if failure != nil {
		f.warnf(e, "Exception caught in json filter", raw, failure)
		return f.fail(e)
	}
	return sdk.Matched
}

func (f *filter) set(e *sdk.Event, sc *scratch, i int, k string, v any) error {
	if k == "" {
		return fmt.Errorf("an empty key cannot be a field")
	}
	if i < len(sc.refs) && sc.refs[i].String() == k {
		return sc.refs[i].Set(e, v)
	}
	ref, err := f.ref(k)
	if err == nil && i < 64 {
		for len(sc.refs) <= i { // places of @timestamp stay empty
			sc.refs = append(sc.refs, sdk.FieldRef{})
		}
		sc.refs[i] = ref
	}
	if err != nil {
		// Not a field reference ("un[sup]]ported"): a plain name, as
		// Logstash 8.3+ keeps it. Rare, so the slower way in.
		e.Fields()[strings.Clone(k)] = v
		return nil
	}
	return ref.Set(e, v)
}

// ref is the key's field reference: a plain name or "[a][b]".
func (f *filter) ref(k string) (sdk.FieldRef, error) {
	f.mu.RLock()
	r, ok := f.refs[k]
	f.mu.RUnlock()
	if ok {
		return r, nil
	}
	k = strings.Clone(k) // keys alias the source text, which belongs to the event's batch
	r, err := sdk.ParseFieldRef(k)
	if err != nil {
		return r, err
	}
	f.mu.Lock()
	if len(f.refs) < maxRefs {
		f.refs[k] = r
	}
	f.mu.Unlock()
	return r, nil
}

// coerceTimestamp reads @timestamp as Logstash's Timestamp.coerce: an
// ISO 8601 string (UTC when it has no offset); anything else is not a time.
func coerceTimestamp(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	return sdk.ParseISO8601(s, time.UTC)
}

// timestampText is the value's text, as Ruby's to_s gives it.
func timestampText(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case int64:
		return strconv.FormatInt(t, 10)
	case float64:
		return strconv.FormatFloat(t, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

func (f *filter) fail(e *sdk.Event) sdk.Result {
	for _, t := range f.tagOnFailure {
		e.AddTag(t)
	}
	return sdk.Failed
}

// warnf logs a warning about an event, at most once per warnEvery.
func (f *filter) warnf(_ *sdk.Event, msg, raw string, err error) {
	if f.logger == nil {
		return
	}
	suppressed, ok := f.warn.allow(time.Now())
	if !ok {
		return
	}
	const maxRaw = 256
	if len(raw) > maxRaw {
		raw = raw[:maxRaw] + "..."
	}
	args := []any{"source", f.source.String(), "raw", raw, "not_logged", suppressed, "log_every", warnEvery}
	if err != nil {
		args = append(args, "error", err)
	}
	f.logger.Warn(msg, args...)
}

// limiter lets one call through per warnEvery and counts the others.
type limiter struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int64
}

func (l *limiter) allow(now time.Time) (suppressed int64, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < warnEvery {
		l.suppressed++
		return 0, false
	}
	suppressed, l.suppressed, l.last = l.suppressed, 0, now
	return suppressed, true
}
