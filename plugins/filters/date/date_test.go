package date

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
)

// untouched is the @timestamp sdktest.Event gives: a failed parse keeps it.
const untouched = "2024-01-02T03:04:05.000Z"

func setClock(t *testing.T, at string) {
	t.Helper()
	now, err := time.Parse(time.RFC3339, at)
	if err != nil {
		t.Fatal(err)
	}
	clock = func() time.Time { return now }
	t.Cleanup(func() { clock = time.Now })
}

func run(t *testing.T, settings map[string]any, fields map[string]any) *sdk.Event {
	t.Helper()
	out := sdktest.RunFilters(t, context.Background(),
		[]sdktest.FilterSpec{{Name: "date", Settings: settings}}, []*sdk.Event{sdktest.Event(fields)})
	if len(out) != 1 {
		t.Fatalf("%d events out, want 1", len(out))
	}
	return out[0]
}

func stamp(e *sdk.Event) string { return sdk.FormatTimestamp(e.TimestampNano()) }

func TestSettings(t *testing.T) {
	setClock(t, "2026-12-04T12:00:00Z")
	tests := []struct {
		name     string
		settings map[string]any
		fields   map[string]any
		want     string   // @timestamp after the filter
		field    string   // when set: the target field, and its value in wantField
		wantF    any      // the target field's value
		tags     []string // tags after the filter
	}{
		{name: "apache", settings: map[string]any{"match": []any{"t", "dd/MMM/yyyy:HH:mm:ss Z"}},
			fields: map[string]any{"t": "10/Oct/2000:13:55:36 -0700"}, want: "2000-10-10T20:55:36.000Z"},
		{name: "formats tried in order", settings: map[string]any{"match": []any{"t", "dd/MMM/yyyy:HH:mm:ss Z", "ISO8601", "UNIX"}},
			fields: map[string]any{"t": "1326149001.132"}, want: "2012-01-09T22:43:21.132Z"},
		{name: "first format that matches wins", settings: map[string]any{"match": []any{"t", "yyyy-MM-dd", "ISO8601"}},
			fields: map[string]any{"t": "2024-05-06"}, want: "2024-05-06T00:00:00.000Z"},
		{name: "nested field", settings: map[string]any{"match": []any{"[log][time]", "ISO8601"}},
			fields: map[string]any{"[log][time]": "2024-05-06T07:08:09.123Z"}, want: "2024-05-06T07:08:09.123Z"},
		{name: "failure tag", settings: map[string]any{"match": []any{"t", "ISO8601"}},
			fields: map[string]any{"t": "yesterday"}, want: untouched, tags: []string{"_dateparsefailure"}},
		{name: "own failure tags", settings: map[string]any{"match": []any{"t", "ISO8601"}, "tag_on_failure": []any{"bad_date", "x"}},
			fields: map[string]any{"t": "yesterday"}, want: untouched, tags: []string{"bad_date", "x"}},
		{name: "no failure tags", settings: map[string]any{"match": []any{"t", "ISO8601"}, "tag_on_failure": []any{}},
			fields: map[string]any{"t": "yesterday"}, want: untouched},
		{name: "missing field: nothing, not even a tag", settings: map[string]any{"match": []any{"t", "ISO8601"}, "add_tag": []any{"dated"}},
			fields: map[string]any{"other": "2024-05-06"}, want: untouched},
		{name: "null field: nothing", settings: map[string]any{"match": []any{"t", "ISO8601"}},
			fields: map[string]any{"t": nil}, want: untouched},
		{name: "add_tag on success", settings: map[string]any{"match": []any{"t", "ISO8601"}, "add_tag": []any{"dated"}},
			fields: map[string]any{"t": "2024-05-06"}, want: "2024-05-06T00:00:00.000Z", tags: []string{"dated"}},
		{name: "a list is not a date", settings: map[string]any{"match": []any{"t", "ISO8601"}},
			fields: map[string]any{"t": []any{"2024-05-06"}}, want: untouched, tags: []string{"_dateparsefailure"}},
		{name: "target field", settings: map[string]any{"match": []any{"t", "dd/MMM/yyyy:HH:mm:ss Z"}, "target": "[event][created]"},
			fields: map[string]any{"t": "10/Oct/2000:13:55:36 -0700"}, want: untouched,
			field: "[event][created]", wantF: "2000-10-10T20:55:36.000Z"},
		{name: "target @timestamp spelled out", settings: map[string]any{"match": []any{"t", "ISO8601"}, "target": "@timestamp"},
			fields: map[string]any{"t": "2024-05-06T01:02:03Z"}, want: "2024-05-06T01:02:03.000Z"},
		{name: "timezone", settings: map[string]any{"match": []any{"t", "yyyy-MM-dd HH:mm:ss"}, "timezone": "America/New_York"},
			fields: map[string]any{"t": "2024-07-01 12:00:00"}, want: "2024-07-01T16:00:00.000Z"},
		{name: "timezone does not override an offset", settings: map[string]any{"match": []any{"t", "ISO8601"}, "timezone": "America/New_York"},
			fields: map[string]any{"t": "2024-07-01T12:00:00+02:00"}, want: "2024-07-01T10:00:00.000Z"},
		{name: "timezone from the event", settings: map[string]any{"match": []any{"t", "yyyy-MM-dd HH:mm:ss"}, "timezone": "%{tz}"},
			fields: map[string]any{"t": "2024-07-01 12:00:00", "tz": "Asia/Tokyo"}, want: "2024-07-01T03:00:00.000Z"},
		{name: "timezone from the event, not a zone", settings: map[string]any{"match": []any{"t", "yyyy-MM-dd HH:mm:ss", "ISO8601"}, "timezone": "%{tz}"},
			fields: map[string]any{"t": "2024-07-01 12:00:00", "tz": "Mars/Olympus"}, want: untouched, tags: []string{"_dateparsefailure"}},
		{name: "timezone from the event, missing: numbers still parse", settings: map[string]any{"match": []any{"t", "ISO8601", "UNIX"}, "timezone": "%{tz}"},
			fields: map[string]any{"t": "1700000000"}, want: "2023-11-14T22:13:20.000Z"},
		{name: "locale", settings: map[string]any{"match": []any{"t", "dd. MMMM yyyy HH:mm"}, "locale": "de-DE", "timezone": "Europe/Berlin"},
			fields: map[string]any{"t": "24. Dezember 2024 18:00"}, want: "2024-12-24T17:00:00.000Z"},
		{name: "locale is not English", settings: map[string]any{"match": []any{"t", "dd. MMMM yyyy"}, "locale": "de"},
			fields: map[string]any{"t": "24. December 2024"}, want: untouched, tags: []string{"_dateparsefailure"}},
		{name: "locale fr", settings: map[string]any{"match": []any{"t", "EEEE d MMMM yyyy"}, "locale": "fr"},
			fields: map[string]any{"t": "mardi 24 décembre 2024"}, want: "2024-12-24T00:00:00.000Z"},
		{name: "locale es", settings: map[string]any{"match": []any{"t", "d 'de' MMMM 'de' yyyy"}, "locale": "es"},
			fields: map[string]any{"t": "24 de diciembre de 2024"}, want: "2024-12-24T00:00:00.000Z"},
		{name: "UNIX integer", settings: map[string]any{"match": []any{"t", "UNIX"}},
			fields: map[string]any{"t": int64(1700000000)}, want: "2023-11-14T22:13:20.000Z"},
		{name: "UNIX float", settings: map[string]any{"match": []any{"t", "UNIX"}},
			fields: map[string]any{"t": 1700000000.25}, want: "2023-11-14T22:13:20.250Z"},
		{name: "UNIX refuses milliseconds, so UNIX_MS gets them", settings: map[string]any{"match": []any{"t", "UNIX", "UNIX_MS"}},
			fields: map[string]any{"t": int64(1700000000123)}, want: "2023-11-14T22:13:20.123Z"},
		{name: "UNIX_MS string", settings: map[string]any{"match": []any{"t", "UNIX_MS"}},
			fields: map[string]any{"t": "1366125117000"}, want: "2013-04-16T15:11:57.000Z"},
		{name: "UNIX_MS not a number", settings: map[string]any{"match": []any{"t", "UNIX_MS"}},
			fields: map[string]any{"t": "13661251170.5"}, want: untouched, tags: []string{"_dateparsefailure"}},
		{name: "UNIX garbage", settings: map[string]any{"match": []any{"t", "UNIX"}},
			fields: map[string]any{"t": "17e8"}, want: untouched, tags: []string{"_dateparsefailure"}},
		// The label's nanoseconds are cut to milliseconds, as in Logstash.
		{name: "TAI64N", settings: map[string]any{"match": []any{"t", "TAI64N"}},
			fields: map[string]any{"t": "@4000000050d506482dbdf024"}, want: "2012-12-22T01:00:46.767Z"},
		{name: "TAI64N without @", settings: map[string]any{"match": []any{"t", "TAI64N"}},
			fields: map[string]any{"t": "4000000050d506482dbdf024"}, want: "2012-12-22T01:00:46.767Z"},
		{name: "a number is not text", settings: map[string]any{"match": []any{"t", "ISO8601", "yyyy"}},
			fields: map[string]any{"t": int64(2024)}, want: untouched, tags: []string{"_dateparsefailure"}},
		// A syslog date without a year: this year's, next year's for January
		// read in December.
		{name: "syslog date, single-digit day", settings: map[string]any{"match": []any{"t", "MMM  d HH:mm:ss", "MMM dd HH:mm:ss"}, "timezone": "UTC"},
			fields: map[string]any{"t": "Dec  4 11:59:00"}, want: "2026-12-04T11:59:00.000Z"},
		{name: "syslog date, two-digit day", settings: map[string]any{"match": []any{"t", "MMM  d HH:mm:ss", "MMM dd HH:mm:ss"}, "timezone": "UTC"},
			fields: map[string]any{"t": "Nov 30 11:59:00"}, want: "2026-11-30T11:59:00.000Z"},
		{name: "syslog date in January is next year's in December", settings: map[string]any{"match": []any{"t", "MMM dd HH:mm:ss"}, "timezone": "UTC"},
			fields: map[string]any{"t": "Jan 02 00:00:00"}, want: "2027-01-02T00:00:00.000Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := run(t, tt.settings, tt.fields)
			if got := stamp(e); got != tt.want {
				t.Errorf("@timestamp = %s, want %s", got, tt.want)
			}
			if tt.field != "" {
				if got, _ := e.Get(tt.field); got != tt.wantF {
					t.Errorf("%s = %v, want %v", tt.field, got, tt.wantF)
				}
			}
			if got := e.Tags(); !slices.Equal(got, tt.tags) && !(len(got) == 0 && len(tt.tags) == 0) {
				t.Errorf("tags = %v, want %v", got, tt.tags)
			}
		})
	}
}

// Logstash's year for a date without one: this year's, except at New Year.
func TestYearOfASyslogDate(t *testing.T) {
	settings := map[string]any{"match": []any{"t", "MMM dd HH:mm:ss"}, "timezone": "UTC"}
	for _, tt := range []struct{ now, line, want string }{
		// New Year: read on 2 January, "Dec 31" is last year's; read on 31
		// December, "Jan 1" is next year's.
		{"2027-01-02T08:00:00Z", "Dec 31 23:59:59", "2026-12-31T23:59:59.000Z"},
		{"2027-01-02T08:00:00Z", "Jan 02 07:59:00", "2027-01-02T07:59:00.000Z"},
		{"2026-12-31T23:00:00Z", "Jan 01 00:00:05", "2027-01-01T00:00:05.000Z"},
		{"2026-12-31T23:00:00Z", "Dec 31 22:59:00", "2026-12-31T22:59:00.000Z"},
		// Mid-year dates read in December are this year's, even where next
		// year's would be nearer: March lines are not put in next March.
		{"2026-12-04T12:00:00Z", "Mar 15 10:00:00", "2026-03-15T10:00:00.000Z"},
		{"2026-12-04T12:00:00Z", "Jun 30 10:00:00", "2026-06-30T10:00:00.000Z"},
		{"2026-12-04T12:00:00Z", "Feb 01 10:00:00", "2026-02-01T10:00:00.000Z"},
		// Read in June: this year's, December's (in the future) included.
		{"2026-06-10T12:00:00Z", "Dec 20 08:00:00", "2026-12-20T08:00:00.000Z"},
		{"2026-06-10T12:00:00Z", "Jan 05 08:00:00", "2026-01-05T08:00:00.000Z"},
		{"2026-06-10T12:00:00Z", "Jun 10 11:59:00", "2026-06-10T11:59:00.000Z"},
		{"2026-06-10T12:00:00Z", "Sep 01 00:00:00", "2026-09-01T00:00:00.000Z"},
		// now's year is the one of its own zone (the machine's, for
		// time.Now): still 2026 in New York when it is 2027 in UTC.
		{"2026-12-31T23:30:00-05:00", "Jun 01 00:00:00", "2026-06-01T00:00:00.000Z"},
		{"2026-12-31T23:30:00-05:00", "Jan 01 04:00:00", "2027-01-01T04:00:00.000Z"},
	} {
		setClock(t, tt.now)
		if got := stamp(run(t, settings, map[string]any{"t": tt.line})); got != tt.want {
			t.Errorf("%q read at %s = %s, want %s", tt.line, tt.now, got, tt.want)
		}
	}
	// 29 February exists only in a leap year: Logstash fails it in another.
	setClock(t, "2026-06-10T12:00:00Z")
	if e := run(t, settings, map[string]any{"t": "Feb 29 12:00:00"}); stamp(e) != untouched || !e.HasTag("_dateparsefailure") {
		t.Errorf("Feb 29 read in 2026: @timestamp %s, tags %v; want it untouched and _dateparsefailure", stamp(e), e.Tags())
	}
	setClock(t, "2028-06-10T12:00:00Z")
	if got := stamp(run(t, settings, map[string]any{"t": "Feb 29 12:00:00"})); got != "2028-02-29T12:00:00.000Z" {
		t.Errorf("Feb 29 read in 2028 = %s, want 2028-02-29T12:00:00.000Z", got)
	}
}

// Europe/Berlin in 2026: 29 March 02:30 does not exist (the clocks jump
// from 02:00 to 03:00), so the parse fails as in Joda; 25 October 02:30
// happens twice and Joda (so Logstash) takes the first, in summer time.
func TestDST(t *testing.T) {
	settings := map[string]any{"match": []any{"t", "yyyy-MM-dd HH:mm:ss"}, "timezone": "Europe/Berlin"}
	e := run(t, settings, map[string]any{"t": "2026-03-29 02:30:00"})
	if stamp(e) != untouched || !e.HasTag("_dateparsefailure") {
		t.Errorf("in the spring gap: @timestamp %s, tags %v; want it untouched and _dateparsefailure", stamp(e), e.Tags())
	}
	if got := stamp(run(t, settings, map[string]any{"t": "2026-10-25 02:30:00"})); got != "2026-10-25T00:30:00.000Z" {
		t.Errorf("in the autumn overlap: %s, want the first 02:30 (+02:00), 2026-10-25T00:30:00.000Z", got)
	}
	if got := stamp(run(t, settings, map[string]any{"t": "2026-10-25 03:30:00"})); got != "2026-10-25T02:30:00.000Z" {
		t.Errorf("after the overlap: %s, want 2026-10-25T02:30:00.000Z", got)
	}
}

// In Joda YYYY is the year of era, as yyyy: no week-year surprise on 29-31
// December, unlike java.time.
func TestYYYYAtTheEndOfDecember(t *testing.T) {
	for _, pattern := range []string{"YYYY-MM-dd", "yyyy-MM-dd"} {
		for _, day := range []string{"2024-12-29", "2024-12-30", "2024-12-31", "2025-12-29"} {
			got := stamp(run(t, map[string]any{"match": []any{"t", pattern}, "timezone": "UTC"}, map[string]any{"t": day}))
			if want := day + "T00:00:00.000Z"; got != want {
				t.Errorf("%s on %s = %s, want %s", pattern, day, got, want)
			}
		}
	}
}

// Logstash's maximum precision is milliseconds: digits past the third are
// dropped (not rounded) whatever the format, before 1970 too.
func TestMillisecondPrecision(t *testing.T) {
	setClock(t, "2026-12-04T12:00:00Z")
	for _, tt := range []struct {
		format string
		value  any
		want   string
	}{
		{"UNIX", "1350414944.123456", "2012-10-16T19:15:44.123Z"},
		{"UNIX", "1350414944.999999999", "2012-10-16T19:15:44.999Z"},
		{"UNIX", 1350414944.123456, "2012-10-16T19:15:44.123Z"},
		// Before 1970 the digits dropped are those of the number: -1.5555
		// is -1.555, as Logstash's (long) cast and BigDecimal.longValue
		// (and UNIX_MS's). As text too: there Logstash adds .555 to -1 s.
		{"UNIX", -1.5555, "1969-12-31T23:59:58.445Z"},
		{"UNIX", "-1.5555", "1969-12-31T23:59:58.445Z"},
		{"UNIX", -0.0005, "1970-01-01T00:00:00.000Z"},
		{"UNIX_MS", -1555.9, "1969-12-31T23:59:58.445Z"},
		{"UNIX_MS", 1350414944123.9, "2012-10-16T19:15:44.123Z"},
		{"TAI64N", "@4000000050d506482dbdf024", "2012-12-22T01:00:46.767Z"},
		{"ISO8601", "2024-05-06T07:08:09.123456789Z", "2024-05-06T07:08:09.123Z"},
		{"ISO8601", "2024-05-06T07:08:09,9999+02:00", "2024-05-06T05:08:09.999Z"},
		{"ISO8601", "1969-12-31T23:59:59.9999Z", "1969-12-31T23:59:59.999Z"},
		{"yyyy-MM-dd HH:mm:ss.SSSSSS", "2024-05-06 07:08:09.123456", "2024-05-06T07:08:09.123Z"},
		{"yyyy-MM-dd HH:mm:ss,SSSSSSSSS", "2024-05-06 07:08:09,000999999", "2024-05-06T07:08:09.000Z"},
		{"MMM dd HH:mm:ss.SSSSSS", "Dec 01 07:08:09.987654", "2026-12-01T07:08:09.987Z"},
	} {
		settings := map[string]any{"match": []any{"t", tt.format}, "timezone": "UTC"}
		if got := stamp(run(t, settings, map[string]any{"t": tt.value})); got != tt.want {
			t.Errorf("%s on %v = %s, want %s", tt.format, tt.value, got, tt.want)
		}
		// A target field gets the same time, as text.
		settings["target"] = "[event][created]"
		if got, _ := run(t, settings, map[string]any{"t": tt.value}).Get("[event][created]"); got != tt.want {
			t.Errorf("%s on %v into a target = %v, want %s", tt.format, tt.value, got, tt.want)
		}
	}
}

func TestFractionsAndOffsets(t *testing.T) {
	for _, tt := range []struct{ pattern, text, want string }{
		{"yyyy-MM-dd HH:mm:ss.SSS", "2024-05-06 07:08:09.123", "2024-05-06T07:08:09.123Z"},
		{"ISO8601", "2024-05-06T07:08:09,5Z", "2024-05-06T07:08:09.500Z"},
		{"ISO8601", "2024-05-06 07:08:09.123", "2024-05-06T07:08:09.123Z"},
		{"yyyy-MM-dd HH:mm:ss Z", "2024-05-06 07:08:09 -0230", "2024-05-06T09:38:09.000Z"},
		{"yyyy-MM-dd HH:mm:ss ZZ", "2024-05-06 07:08:09 +05:30", "2024-05-06T01:38:09.000Z"},
		{"yyyy-MM-dd HH:mm:ss ZZZ", "2024-05-06 07:08:09 Australia/Adelaide", "2024-05-05T21:38:09.000Z"},
		{"yyyy-MM-dd HH:mm:ss ZZZ", "2024-05-06 07:08:09 UTC", "2024-05-06T07:08:09.000Z"},
	} {
		got := stamp(run(t, map[string]any{"match": []any{"t", tt.pattern}, "timezone": "UTC"}, map[string]any{"t": tt.text}))
		if got != tt.want {
			t.Errorf("%s on %q = %s, want %s", tt.pattern, tt.text, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	comp := sdktest.Lookup(t, sdk.KindFilter, "date")
	for _, tt := range []struct {
		settings map[string]any
		path     string
		says     string
	}{
		{map[string]any{"match": []any{"t", "yyyy-MM-dd XYZ"}}, "match.1", `"X" is not a Joda pattern letter`},
		{map[string]any{"match": []any{"t", "ISO8601", "yyyy-MM-ddTHH:mm"}}, "match.2", `"T" is not a Joda pattern letter`},
		{map[string]any{"match": []any{"t"}}, "match", "at least one format"},
		{map[string]any{"match": []any{"[t", "ISO8601"}}, "match.0", "not a field reference"},
		{map[string]any{"match": []any{"t", "ISO8601"}, "timezone": "Europe/Bonn"}, "timezone", "not a time zone"},
		{map[string]any{"match": []any{"t", "ISO8601"}, "locale": "it"}, "locale", "en, de, fr, es"},
		{map[string]any{"match": []any{"t", "ISO8601"}, "target": "[a]["}, "target", "field reference"},
	} {
		ds := sdktest.Validate(comp, tt.settings)
		found := false
		for _, d := range ds {
			found = found || strings.Join(d.Path, ".") == tt.path && strings.Contains(d.Summary, tt.says)
		}
		if !found {
			t.Errorf("%v: diagnostics %v, want one at %s saying %q", tt.settings, ds, tt.path, tt.says)
		}
	}
	if ds := sdktest.Validate(comp, map[string]any{"match": []any{"t", "ISO8601", "UNIX", "UNIX_MS", "TAI64N", "MMM  d HH:mm:ss"},
		"timezone": "%{tz}", "locale": "en_US"}); len(ds) != 0 {
		t.Errorf("a good config: %v", ds)
	}
}

// Joda's DateTimeZone.forID takes a fixed offset as well as a zone id, and
// Logstash configs often say timezone => "+08:00".
func TestTimezoneOffsets(t *testing.T) {
	for _, tt := range []struct{ zone, want string }{
		{"+08:00", "2024-07-01T04:00:00.000Z"},
		{"-0530", "2024-07-01T17:30:00.000Z"},
		{"+05", "2024-07-01T07:00:00.000Z"},
		{"-00:00", "2024-07-01T12:00:00.000Z"},
	} {
		got := stamp(run(t, map[string]any{"match": []any{"t", "yyyy-MM-dd HH:mm:ss"}, "timezone": tt.zone}, map[string]any{"t": "2024-07-01 12:00:00"}))
		if got != tt.want {
			t.Errorf("timezone %q: %s, want %s", tt.zone, got, tt.want)
		}
		got = stamp(run(t, map[string]any{"match": []any{"t", "yyyy-MM-dd HH:mm:ss"}, "timezone": "%{tz}"}, map[string]any{"t": "2024-07-01 12:00:00", "tz": tt.zone}))
		if got != tt.want {
			t.Errorf("timezone %%{tz} = %q: %s, want %s", tt.zone, got, tt.want)
		}
	}
	comp := sdktest.Lookup(t, sdk.KindFilter, "date")
	for _, bad := range []string{"+5", "+24:00", "+05:60", "+05:0", "+0500x", "-"} {
		if ds := sdktest.Validate(comp, map[string]any{"match": []any{"t", "ISO8601"}, "timezone": bad}); len(ds) == 0 {
			t.Errorf("timezone %q: no error; Joda refuses it", bad)
		}
		e := run(t, map[string]any{"match": []any{"t", "yyyy-MM-dd HH:mm:ss"}, "timezone": "%{tz}"}, map[string]any{"t": "2024-07-01 12:00:00", "tz": bad})
		if !e.HasTag("_dateparsefailure") {
			t.Errorf("timezone %%{tz} = %q: parsed as %s; want _dateparsefailure", bad, stamp(e))
		}
	}
}
