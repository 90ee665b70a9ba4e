// Package date is the date filter: it reads a time from a field with
// Logstash's formats (Joda-Time patterns, ISO8601, UNIX, UNIX_MS, TAI64N)
// and makes it the event's @timestamp, so that a date-based index uses the
// time the log line names, not the time gostash read it.
//
// Every pattern is compiled once, at config time, into a list of parse
// steps (sdk.CompileJodaParser); an event costs a walk over its text, no
// allocation when the target is @timestamp.
package date

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // zones by name even where the system has no zoneinfo

	"github.com/gostash/gostash/sdk"
)

var spec = sdk.NewSpec("Parses a date from a field into @timestamp (Logstash's date filter).").
	Field(sdk.StringList("match").Required().
		Doc(`The field first, then the formats to try in order: Joda-Time patterns such as "dd/MMM/yyyy:HH:mm:ss Z", or ISO8601, UNIX (seconds), UNIX_MS or TAI64N. E.g. match = ["timestamp", "dd/MMM/yyyy:HH:mm:ss Z", "ISO8601"].`)).
	Field(sdk.String("target").Default("@timestamp").
		Doc("Where the parsed time goes: @timestamp, or a field, which gets it as an ISO 8601 string in UTC.")).
	Field(sdk.String("timezone").
		Doc(`The IANA zone (such as "Europe/Berlin") or fixed offset ("+08:00") of times whose text names none; may be a %{field} template. Default: the machine's zone, as Logstash.`)).
	Field(sdk.String("locale").
		Doc(`The language of month and day names (MMM, EEEE): en, de, fr or es, as a BCP 47 ("de-DE") or POSIX ("de_DE") tag. Default: en.`)).
	Field(sdk.StringList("tag_on_failure").Default([]string{"_dateparsefailure"}).
		Doc("Tags added when no format matches."))

func init() {
	sdk.RegisterFilter("date", spec, New).WithValidate(func(c *sdk.Config) sdk.Diagnostics {
		_, ds := build(c)
		return ds
	})
}

// clock is the now that gives a year-less date its year; tests set it.
var clock = time.Now

// Filter is one date filter.
type Filter struct {
	source   sdk.FieldRef
	formats  []format
	toStamp  bool // target is @timestamp
	target   sdk.FieldRef
	loc      *time.Location // static zone
	zoneTmpl *sdk.Template  // zone per event
	zones    zoneCache
	tags     []string
}

type formatKind uint8

const (
	kindJoda formatKind = iota
	kindISO8601
	kindUnix
	kindUnixMS
	kindTAI64N
)

type format struct {
	kind formatKind
	joda *sdk.JodaParser
}

func build(c *sdk.Config) (*Filter, sdk.Diagnostics) {
	var ds sdk.Diagnostics
	f := &Filter{tags: c.StringList("tag_on_failure"), loc: time.Local}
	match := c.StringList("match")
	if len(match) < 2 {
		ds.Errorf([]string{"match"}, "match needs the field first and at least one format after it, such as [\"timestamp\", \"ISO8601\"]; got %d element(s)", len(match))
	}
	if len(match) > 0 {
		ref, err := sdk.ParseFieldRef(match[0])
		if err != nil {
			ds.Errorf([]string{"match", "0"}, "the first element of match is the field to read, and %q is not a field reference: %v", match[0], err)
		}
		f.source = ref
	}
	var locale *sdk.DateLocale
	if tag := c.String("locale"); tag != "" {
		l, err := sdk.LookupDateLocale(tag)
		if err != nil {
			ds.Errorf([]string{"locale"}, "%v", err)
		}
		locale = l
	}
	for i := 1; i < len(match); i++ {
		switch match[i] {
		case "ISO8601":
			f.formats = append(f.formats, format{kind: kindISO8601})
		case "UNIX":
			f.formats = append(f.formats, format{kind: kindUnix})
		case "UNIX_MS":
			f.formats = append(f.formats, format{kind: kindUnixMS})
		case "TAI64N":
			f.formats = append(f.formats, format{kind: kindTAI64N})
		default:
			p, err := sdk.CompileJodaParser(match[i], locale)
			if err != nil {
				ds = append(ds, sdk.Diagnostic{Summary: "date format: " + err.Error(),
					Detail: "Formats are Joda-Time patterns (https://www.joda.org/joda-time/key_format.html) or one of ISO8601, UNIX, UNIX_MS, TAI64N.",
					Path:   []string{"match", strconv.Itoa(i)}})
				continue
			}
			f.formats = append(f.formats, format{kind: kindJoda, joda: p})
		}
	}
	if tz := c.String("timezone"); tz != "" {
		if strings.Contains(tz, "%{") {
			t, err := sdk.ParseTemplate(tz)
			if err != nil {
				ds.Errorf([]string{"timezone"}, "%v", err)
			}
			f.zoneTmpl = t
		} else if loc, ok := lookupZone(tz); ok {
			f.loc = loc
		} else {
			ds.Errorf([]string{"timezone"}, "%q is not a time zone: give an IANA name such as \"Europe/Berlin\", \"America/New_York\" or \"UTC\", or an offset such as \"+08:00\"", tz)
		}
	}
	target := c.String("target")
	if target == "" || target == sdk.FieldTimestamp {
		f.toStamp = true
	} else if ref, err := sdk.ParseFieldRef(target); err != nil {
		ds.Errorf([]string{"target"}, "target is not a field reference: %v", err)
	} else {
		f.target = ref
	}
	return f, ds
}

// New builds the filter.
func New(_ context.Context, c *sdk.Config, _ sdk.Env) (sdk.Filter, error) {
	f, ds := build(c)
	return f, ds.Err()
}

// Transient: nothing read from an event is kept (zone names from a
// template are copied before they are cached).
func (*Filter) Transient() {}

// Filter tries the formats in order on the source field. A missing or
// null field leaves the event as it is, without the failure tags and
// without add_field and add_tag, as in Logstash.
func (f *Filter) Apply(_ context.Context, e *sdk.Event, _ func(*sdk.Event)) sdk.Result {
	v, ok := f.source.Get(e)
	if !ok || v == nil {
		return sdk.Failed
	}
	// A zone template that names no zone fails the text formats, as
	// Joda's DateTimeZone.forID does in Logstash.
	loc := f.loc
	zoneOK := true
	if f.zoneTmpl != nil {
		loc, zoneOK = f.zones.lookup(f.zoneTmpl, e)
	}
	for i := range f.formats {
		t, ok := f.formats[i].parse(v, loc, zoneOK)
		// @timestamp holds nanoseconds in an int64: 1677 to 2262.
		if sec := t.Unix(); !ok || sec < -9223372035 || sec > 9223372035 {
			continue
		}
		// Logstash keeps milliseconds (Joda's precision), whatever the
		// format read: so does the filter, down to the earlier millisecond
		// (integer steps: time.Truncate costs the fastest formats half again).
		ns := t.UnixNano()
		if r := ns % 1e6; r < 0 {
			ns -= r + 1e6
		} else {
			ns -= r
		}
		if f.toStamp {
			e.SetTimestampNano(ns)
		} else if err := f.target.Set(e, sdk.FormatTimestamp(ns)); err != nil {
			break
		}
		return sdk.Matched
	}
	for _, tag := range f.tags {
		e.AddTag(tag)
	}
	return sdk.Failed
}

// maxUnixSeconds keeps UNIX from reading milliseconds as seconds, so that
// match = ["t", "UNIX", "UNIX_MS"] works, as Logstash's limit of 2^31-1
// does; 10^11 seconds is the year 5138, not 2038.
const maxUnixSeconds = 1e11

func (ft *format) parse(v any, loc *time.Location, zoneOK bool) (time.Time, bool) {
	switch ft.kind {
	case kindJoda:
		s, ok := v.(string)
		if !ok || !zoneOK {
			return time.Time{}, false
		}
		return ft.joda.Parse(s, loc, clock)
	case kindISO8601:
		s, ok := v.(string)
		if !ok || !zoneOK {
			return time.Time{}, false
		}
		return sdk.ParseISO8601(s, loc)
	case kindUnix:
		switch n := v.(type) {
		case string:
			return parseUnix(n)
		case int64:
			if n > maxUnixSeconds || n < -maxUnixSeconds {
				return time.Time{}, false
			}
			return time.Unix(n, 0), true
		case float64:
			if !(math.Abs(n) <= maxUnixSeconds) {
				return time.Time{}, false
			}
			a := math.Abs(n)
			sec := math.Floor(a)
			nsec := int64(math.Round((a-sec)*1e6)) * 1e3
			if n < 0 {
				// Before 1970 the digits past the millisecond drop toward
				// 0, as Logstash's (long) cast: -1.5555 is -1.555.
				return time.Unix(-int64(sec), -(nsec - nsec%1e6)), true
			}
			return time.Unix(int64(sec), nsec), true
		}
	case kindUnixMS:
		switch n := v.(type) {
		case string:
			ms, err := strconv.ParseInt(n, 10, 64)
			if err != nil {
				return time.Time{}, false
			}
			return time.UnixMilli(ms), true
		case int64:
			return time.UnixMilli(n), true
		case float64:
			if !(math.Abs(n) < 1<<62) {
				return time.Time{}, false
			}
			return time.UnixMilli(int64(n)), true
		}
	case kindTAI64N:
		if s, ok := v.(string); ok {
			return parseTAI64N(s)
		}
	}
	return time.Time{}, false
}

// parseUnix reads seconds since the epoch with an optional sign and an
// optional fraction of up to 9 digits.
func parseUnix(s string) (time.Time, bool) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var sec int64
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		sec = sec*10 + int64(s[i]-'0')
		if sec > maxUnixSeconds {
			return time.Time{}, false
		}
	}
	if i == start {
		return time.Time{}, false
	}
	var nsec int64
	if i < len(s) && s[i] == '.' {
		i++
		scale := int64(1e8)
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			nsec += int64(s[i]-'0') * scale
			scale /= 10
		}
	}
	if i != len(s) {
		return time.Time{}, false
	}
	if neg {
		// The digits past the millisecond drop toward 0, as for a number.
		return time.Unix(-sec, -(nsec - nsec%1e6)), true
	}
	return time.Unix(sec, nsec), true
}

// parseTAI64N reads a TAI64N label ("@" and 24 hex digits: seconds from
// 1970 plus 2^62, then nanoseconds), and takes 10 seconds off for TAI's
// lead on UTC as Logstash does (daemontools' labels are written so).
func parseTAI64N(s string) (time.Time, bool) {
	s = strings.TrimPrefix(s, "@")
	if len(s) != 24 {
		return time.Time{}, false
	}
	sec, err1 := strconv.ParseUint(s[:16], 16, 64)
	nsec, err2 := strconv.ParseUint(s[16:], 16, 32)
	if err1 != nil || err2 != nil || nsec >= 1e9 {
		return time.Time{}, false
	}
	return time.Unix(int64(sec&(1<<62-1))-10, int64(nsec)), true
}

// lookupZone reads a timezone setting as Joda's DateTimeZone.forID: a
// zone id, or a fixed offset ("+08:00", "-0530", "+05"), which Logstash
// configs often give.
func lookupZone(name string) (*time.Location, bool) {
	if name == "" || name[0] != '+' && name[0] != '-' {
		return sdk.LookupZone(name)
	}
	digits := func(s string) (int, bool) {
		if len(s) != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
			return 0, false
		}
		return int(s[0]-'0')*10 + int(s[1]-'0'), true
	}
	rest := name[1:]
	h, ok := digits(rest[:min(2, len(rest))])
	if !ok || h > 23 {
		return nil, false
	}
	m := 0
	switch rest = rest[2:]; {
	case rest == "":
	case len(rest) == 3 && rest[0] == ':':
		m, ok = digits(rest[1:])
	default:
		m, ok = digits(rest)
	}
	if !ok || m > 59 {
		return nil, false
	}
	off := h*3600 + m*60
	if off == 0 {
		return time.UTC, true
	}
	if name[0] == '-' {
		off = -off
	}
	return time.FixedZone(fmt.Sprintf("%c%02d:%02d", name[0], h, m), off), true
}

// zoneCache holds the zones a timezone template named, by name.
type zoneCache struct {
	mu  sync.Mutex
	m   map[string]*time.Location // nil: not a zone
	buf []byte
}

const maxZones = 256

func (z *zoneCache) lookup(t *sdk.Template, e *sdk.Event) (*time.Location, bool) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.buf = t.AppendRender(z.buf[:0], e)
	if loc, ok := z.m[string(z.buf)]; ok {
		return loc, loc != nil
	}
	name := string(z.buf)
	loc, ok := lookupZone(name)
	if z.m == nil {
		z.m = map[string]*time.Location{}
	}
	if len(z.m) < maxZones {
		z.m[name] = loc
	}
	return loc, ok
}
