package sdk

import (
	"sort"
	"time"
)

// Well-known field names, as in Logstash.
const (
	FieldTimestamp = "@timestamp"
	FieldVersion   = "@version"
	FieldMetadata  = "@metadata"
	FieldTags      = "tags"
	FieldMessage   = "message"
)

// Event is one record. Field values are always one of: string, int64,
// float64, bool, nil, []any, map[string]any (nested). @timestamp and
// @metadata are kept apart from the other fields because every stage
// reads the first and no output may write the second.
//
// An event decoded from a batch keeps its top-level fields in the bytes
// they arrived in until something asks for them (see raw): a filter that
// sets one field does not pay to decode and re-encode the others.
type Event struct {
	ts     int64 // @timestamp, ns since the epoch, UTC; 0 means unset
	fields map[string]any
	meta   map[string]any
	raw    rawFields
}

// NewEvent returns an event stamped now, with @version "1" and, when
// message is not empty, a message field: what an input makes of a line.
func NewEvent(message string) *Event {
	e := &Event{ts: time.Now().UnixNano(), fields: make(map[string]any, 4)}
	e.fields[FieldVersion] = "1"
	if message != "" {
		e.fields[FieldMessage] = message
	}
	return e
}

// NewEmptyEvent returns an event with no fields and no timestamp.
func NewEmptyEvent() *Event { return &Event{fields: make(map[string]any, 4)} }

// Reset empties e (no fields, no metadata, no timestamp) and keeps its
// maps' room: an input that fills the same events again once Publish,
// which encodes a batch before it returns, is done with them makes no
// event and no map per record.
func (e *Event) Reset() {
	e.ts = 0
	if e.fields == nil {
		e.fields = make(map[string]any, 4)
	}
	clear(e.fields)
	clear(e.meta)
	e.raw = rawFields{}
}

// Timestamp returns @timestamp; ok is false when the event has none.
func (e *Event) Timestamp() (t time.Time, ok bool) {
	if e.ts == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, e.ts).UTC(), true
}

// TimestampNano returns @timestamp as ns since the epoch, 0 when unset.
func (e *Event) TimestampNano() int64 { return e.ts }

// SetTimestamp sets @timestamp.
func (e *Event) SetTimestamp(t time.Time) { e.ts = t.UnixNano() }

// SetTimestampNano sets @timestamp from ns since the epoch.
func (e *Event) SetTimestampNano(ns int64) { e.ts = ns }

// Fields returns the top-level fields (without @timestamp and @metadata).
// The map is the event's own: changes to it change the event.
func (e *Event) Fields() map[string]any {
	e.materialize()
	e.raw.foreign = true
	return e.fields
}

// Metadata returns @metadata, creating it when asked to write.
func (e *Event) Metadata() map[string]any {
	if e.meta == nil {
		e.meta = make(map[string]any, 2)
	}
	return e.meta
}

// Message returns the message field as a string ("" when absent or not a
// string).
func (e *Event) Message() string {
	e.touch(FieldMessage)
	s, _ := e.fields[FieldMessage].(string)
	return s
}

// Tags returns the tags, in order.
func (e *Event) Tags() []string {
	e.touch(FieldTags)
	switch t := e.fields[FieldTags].(type) {
	case []any:
		out := make([]string, 0, len(t))
		for _, v := range t {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case string:
		return []string{t}
	}
	return nil
}

// HasTag reports whether the event carries tag.
func (e *Event) HasTag(tag string) bool {
	e.touch(FieldTags)
	switch t := e.fields[FieldTags].(type) {
	case []any:
		for _, v := range t {
			if v == tag {
				return true
			}
		}
	case string:
		return t == tag
	}
	return false
}

// AddTag appends tag unless the event already has it (Logstash keeps tags
// unique).
func (e *Event) AddTag(tag string) {
	if e.HasTag(tag) {
		return
	}
	e.raw.foreign = true
	switch t := e.fields[FieldTags].(type) {
	case []any:
		e.fields[FieldTags] = append(t, tag)
	case nil:
		e.fields[FieldTags] = []any{tag}
	default:
		// A single value (a string, or anything else a codec put there)
		// becomes the first tag, as in Logstash, rather than being lost.
		e.fields[FieldTags] = []any{t, tag}
	}
}

// RemoveTag removes tag; removing the last tag leaves an empty list.
func (e *Event) RemoveTag(tag string) {
	e.touch(FieldTags)
	e.raw.foreign = true
	switch t := e.fields[FieldTags].(type) {
	case []any:
		out := t[:0]
		for _, v := range t {
			if v != tag {
				out = append(out, v)
			}
		}
		// Storing a slice in the map boxes it: only when it got shorter.
		if len(out) != len(t) {
			e.fields[FieldTags] = out
		}
	case string:
		if t == tag {
			e.fields[FieldTags] = []any{}
		}
	}
}

// Clone returns a deep copy: a clone can be changed without touching the
// original.
func (e *Event) Clone() *Event {
	e.materialize()
	c := &Event{ts: e.ts, fields: cloneMap(e.fields)}
	if e.meta != nil {
		c.meta = cloneMap(e.meta)
	}
	return c
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return cloneMap(t)
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = cloneValue(x)
		}
		return out
	}
	return v
}

// ToMap returns the event as Logstash shows it: the fields plus
// @timestamp formatted as Logstash prints it. @metadata is left out unless
// withMetadata is set.
func (e *Event) ToMap(withMetadata bool) map[string]any {
	e.materialize()
	out := make(map[string]any, len(e.fields)+2)
	for k, v := range e.fields {
		out[k] = v
	}
	if e.ts != 0 {
		out[FieldTimestamp] = FormatTimestamp(e.ts)
	}
	if withMetadata && len(e.meta) > 0 {
		out[FieldMetadata] = e.meta
	}
	return out
}

// SortedKeys returns the top-level field names in lexical order, for
// outputs that must print deterministically.
func SortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// FormatTimestamp prints ns since the epoch as Logstash prints
// @timestamp: UTC, ISO 8601, with 3, 6 or 9 fractional digits.
func FormatTimestamp(ns int64) string {
	return string(AppendTimestamp(make([]byte, 0, 30), ns))
}

// AppendTimestamp appends FormatTimestamp(ns) to dst without allocating.
// It works the civil date out by arithmetic: time.Time's formatting was a
// tenth of writing an Elasticsearch document. Instants before 1970 go
// through package time.
func AppendTimestamp(dst []byte, ns int64) []byte {
	if ns < 0 {
		return appendTimestampTime(dst, ns)
	}
	sec, frac := ns/1e9, ns%1e9
	days, sod := sec/86400, sec%86400
	// The civil date of a day number (H. Hinnant's days_from_civil, reversed).
	z := days + 719468
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	dst = append(dst, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10), 'T')
	h, mi, s := sod/3600, sod/60%60, sod%60
	dst = append(dst, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+s/10), byte('0'+s%10))
	return appendFraction(dst, frac)
}

// appendTimestampTime is AppendTimestamp through package time, for any
// instant.
func appendTimestampTime(dst []byte, ns int64) []byte {
	t := time.Unix(0, ns).UTC()
	dst = t.AppendFormat(dst, "2006-01-02T15:04:05")
	return appendFraction(dst, int64(t.Nanosecond()))
}

// appendFraction writes ".fffZ": Logstash prints the fraction as
// java.time's ISO_INSTANT does, in groups of three digits (.120,
// .123400, .123456700), at least one.
func appendFraction(dst []byte, frac int64) []byte {
	if frac%1e6 == 0 {
		ms := frac / 1e6
		return append(dst, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
	}
	var digits [9]byte
	for i := 8; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	n := 9
	for n > 3 && digits[n-1] == '0' && digits[n-2] == '0' && digits[n-3] == '0' {
		n -= 3
	}
	dst = append(dst, '.')
	dst = append(dst, digits[:n]...)
	return append(dst, 'Z')
}

// Normalize converts common Go values to the event's value types: ints to
// int64, float32 to float64, []string to []any, map[string]string to
// map[string]any, time.Time to its Logstash string. Other values are
// returned as they are.
func Normalize(v any) any {
	switch t := v.(type) {
	case string, int64, float64, bool, nil:
		return v
	case int:
		return int64(t)
	case int8:
		return int64(t)
	case int16:
		return int64(t)
	case int32:
		return int64(t)
	case uint:
		return int64(t)
	case uint8:
		return int64(t)
	case uint16:
		return int64(t)
	case uint32:
		return int64(t)
	case uint64:
		return int64(t)
	case float32:
		return float64(t)
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
	case time.Time:
		return FormatTimestamp(t.UnixNano())
	case []any:
		for i, x := range t {
			if !isNormal(x) {
				t[i] = Normalize(x)
			}
		}
		return t
	case map[string]any:
		// Values are stored back only when they change: storing each
		// (a map assignment, a hash) was most of setting a map of ten
		// strings (kv's target).
		for k, x := range t {
			if !isNormal(x) {
				t[k] = Normalize(x)
			}
		}
		return t
	}
	return v
}

// isNormal reports whether Normalize leaves x as it is, having normalized
// what it holds in place (lists and maps).
func isNormal(x any) bool {
	switch t := x.(type) {
	case string, int64, float64, bool, nil:
		return true
	case []any, map[string]any:
		Normalize(t)
		return true
	}
	return false
}
