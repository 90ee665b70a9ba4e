package date

import (
	"slices"
	"testing"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
)

// Logstash's own cases for its date filter (logstash-filter-date:
// spec/filters/date_spec.rb and the Java tests DateFilterTest and
// JodaParserTest), run through gostash's filter. A case marked diff is a
// difference the README documents ("Where gostash differs"): the row then
// asserts gostash's result and says Logstash's. A case marked skip has no
// gostash equivalent.
func TestLogstashSpec(t *testing.T) {
	m := func(field string, formats ...any) []any { return append([]any{field}, formats...) }
	iso := map[string]any{"match": m("mydate", "ISO8601"), "locale": "en", "timezone": "UTC"}
	unix := map[string]any{"match": m("mydate", "UNIX"), "locale": "en"}
	unixMS := map[string]any{"match": m("mydate", "UNIX_MS"), "locale": "en"}
	both := map[string]any{"match": m("mydate", "UNIX", "UNIX_MS"), "locale": "en"}
	la := map[string]any{"match": m("mydate", "yyyy MMM dd HH:mm:ss"), "locale": "en", "timezone": "America/Los_Angeles"}
	laEvent := map[string]any{"match": m("mydate", "yyyy MMM dd HH:mm:ss"), "locale": "en", "timezone": "%{mytz}"}
	isoEvent := map[string]any{"match": m("mydate", "ISO8601"), "locale": "en", "timezone": "%{mytz}"}
	syslogEvent := map[string]any{"match": m("message", "MMM dd HH:mm:ss"), "locale": "en", "timezone": "%{mytz}"}
	syslogUTC := map[string]any{"match": m("message", "MMM dd HH:mm:ss"), "locale": "en", "timezone": "UTC"}
	syslogNoLocale := map[string]any{"match": m("message", "MMM dd HH:mm:ss"), "timezone": "UTC"}
	syslogCET := map[string]any{"match": m("message", "MMM dd HH:mm:ss"), "locale": "en", "timezone": "CET"}
	slash := func(extra map[string]any) map[string]any {
		s := map[string]any{"match": m("thedate", "yyyy/MM/dd")}
		for k, v := range extra {
			s[k] = v
		}
		return s
	}
	// The Java tests' DateFilter writes to [result_ts], with "%{mytz}" zones.
	javaNoYear := map[string]any{"match": m("[happened_at]", "MMM dd hh:mm:ss.SSS"), "locale": "en", "timezone": "%{mytz}", "target": "[result_ts]"}
	javaISO := map[string]any{"match": m("[happened_at]", "ISO8601"), "locale": "en", "timezone": "%{mytz}", "target": "[result_ts]"}
	javaUnix := map[string]any{"match": m("[happened_at]", "UNIX"), "locale": "en", "timezone": "UTC", "target": "[result_ts]"}
	fail := []string{"_dateparsefailure"}

	tests := []struct {
		name     string
		settings map[string]any
		now      string // the clock (Logstash's setDefaultClock / Time.now); default 2026-12-04T12:00:00Z
		fields   map[string]any
		want     string   // @timestamp after the filter ("" = untouched)
		target   string   // when set, the field that gets the time, as an ISO 8601 string
		tags     []string // tags after the filter
		notTag   string   // a tag that must not be there
		diff     string   // a documented difference: Logstash's result
		skip     string
	}{
		{name: "invalid match config: the field alone", settings: map[string]any{"match": m("mydate")},
			skip: "a configuration error: asserted in TestLogstashSpecConfigErrors"},

		// parsing with ISO8601
		{name: "ISO8601 -0800", settings: iso, fields: map[string]any{"mydate": "2001-01-01T00:00:00-0800"}, want: "2001-01-01T08:00:00.000Z"},
		{name: "ISO8601 1974 -0800", settings: iso, fields: map[string]any{"mydate": "1974-03-02T04:09:09-0800"}, want: "1974-03-02T12:09:09.000Z"},
		{name: "ISO8601 +00:00", settings: iso, fields: map[string]any{"mydate": "2010-05-03T08:18:18+00:00"}, want: "2010-05-03T08:18:18.000Z"},
		{name: "ISO8601 -00:00", settings: iso, fields: map[string]any{"mydate": "2004-07-04T12:27:27-00:00"}, want: "2004-07-04T12:27:27.000Z"},
		{name: "ISO8601 +0000", settings: iso, fields: map[string]any{"mydate": "2001-09-05T16:36:36+0000"}, want: "2001-09-05T16:36:36.000Z"},
		{name: "ISO8601 -0000", settings: iso, fields: map[string]any{"mydate": "2001-11-06T20:45:45-0000"}, want: "2001-11-06T20:45:45.000Z"},
		{name: "ISO8601 Z", settings: iso, fields: map[string]any{"mydate": "2001-12-07T23:54:54Z"}, want: "2001-12-07T23:54:54.000Z"},
		{name: "ISO8601 .123+00:00", settings: iso, fields: map[string]any{"mydate": "2010-05-03T08:18:18.123+00:00"}, want: "2010-05-03T08:18:18.123Z"},
		{name: "ISO8601 .123-04:00", settings: iso, fields: map[string]any{"mydate": "2004-07-04T12:27:27.123-04:00"}, want: "2004-07-04T16:27:27.123Z"},
		{name: "ISO8601 .123+0700", settings: iso, fields: map[string]any{"mydate": "2001-09-05T16:36:36.123+0700"}, want: "2001-09-05T09:36:36.123Z"},
		{name: "ISO8601 .123-0000", settings: iso, fields: map[string]any{"mydate": "2001-11-06T20:45:45.123-0000"}, want: "2001-11-06T20:45:45.123Z"},
		{name: "ISO8601 .123Z", settings: iso, fields: map[string]any{"mydate": "2001-12-07T23:54:54.123Z"}, want: "2001-12-07T23:54:54.123Z"},
		{name: "ISO8601 ,123Z", settings: iso, fields: map[string]any{"mydate": "2001-12-07T23:54:54,123Z"}, want: "2001-12-07T23:54:54.123Z"},
		{name: "almost ISO8601: space, -0000", settings: iso, fields: map[string]any{"mydate": "2001-11-06 20:45:45.123-0000"}, want: "2001-11-06T20:45:45.123Z"},
		{name: "almost ISO8601: space, Z", settings: iso, fields: map[string]any{"mydate": "2001-12-07 23:54:54.123Z"}, want: "2001-12-07T23:54:54.123Z"},
		{name: "almost ISO8601: space, comma, Z", settings: iso, fields: map[string]any{"mydate": "2001-12-07 23:54:54,123Z"}, want: "2001-12-07T23:54:54.123Z"},
		{name: "almost ISO8601: space, no zone", settings: iso, fields: map[string]any{"mydate": "2001-11-06 20:45:45.123"}, want: "2001-11-06T20:45:45.123Z"},
		{name: "almost ISO8601: space, comma, no zone", settings: iso, fields: map[string]any{"mydate": "2001-11-06 20:45:45,123"}, want: "2001-11-06T20:45:45.123Z"},
		{name: "ISO8601 keeps the field", settings: iso, fields: map[string]any{"mydate": "2001-12-07T23:54:54Z"}, want: "2001-12-07T23:54:54.000Z"},

		// parsing with java SimpleDateFormat syntax: this year
		{name: "MMM dd HH:mm:ss Z takes this year", settings: map[string]any{"match": m("mydate", "MMM dd HH:mm:ss Z"), "locale": "en"},
			fields: map[string]any{"mydate": "Nov 24 01:29:01 -0800"}, want: "2026-11-24T09:29:01.000Z"},

		// parsing with UNIX
		{name: "UNIX \"0\"", settings: unix, fields: map[string]any{"mydate": "0"}, want: "1970-01-01T00:00:00.000Z"},
		{name: "UNIX \"1000000000\"", settings: unix, fields: map[string]any{"mydate": "1000000000"}, want: "2001-09-09T01:46:40.000Z"},
		{name: "UNIX \"1478207457\"", settings: unix, fields: map[string]any{"mydate": "1478207457"}, want: "2016-11-03T21:10:57.000Z"},
		{name: "UNIX 0", settings: unix, fields: map[string]any{"mydate": int64(0)}, want: "1970-01-01T00:00:00.000Z"},
		{name: "UNIX 1000000000", settings: unix, fields: map[string]any{"mydate": int64(1000000000)}, want: "2001-09-09T01:46:40.000Z"},
		{name: "UNIX 1478207457", settings: unix, fields: map[string]any{"mydate": int64(1478207457)}, want: "2016-11-03T21:10:57.000Z"},
		{name: "UNIX: %{bad_value} is not zero", settings: unix, fields: map[string]any{"mydate": "%{bad_value}"}, tags: fail},
		{name: "UNIX microseconds as text", settings: unix, fields: map[string]any{"mydate": "1350414944.123456"},
			want: "2012-10-16T19:15:44.123Z"},
		{name: "UNIX microseconds as a float", settings: unix, fields: map[string]any{"mydate": 1350414944.123456},
			want: "2012-10-16T19:15:44.123Z"},
		{name: "UNIX a JSON BigDecimal", skip: "gostash has no BigDecimal: a JSON number is a float64, the row above"},

		// parsing with UNIX_MS
		{name: "UNIX_MS \"0\"", settings: unixMS, fields: map[string]any{"mydate": "0"}, want: "1970-01-01T00:00:00.000Z"},
		{name: "UNIX_MS \"456\"", settings: unixMS, fields: map[string]any{"mydate": "456"}, want: "1970-01-01T00:00:00.456Z"},
		{name: "UNIX_MS \"1000000000123\"", settings: unixMS, fields: map[string]any{"mydate": "1000000000123"}, want: "2001-09-09T01:46:40.123Z"},
		{name: "UNIX_MS 0", settings: unixMS, fields: map[string]any{"mydate": int64(0)}, want: "1970-01-01T00:00:00.000Z"},
		{name: "UNIX_MS 456", settings: unixMS, fields: map[string]any{"mydate": int64(456)}, want: "1970-01-01T00:00:00.456Z"},
		{name: "UNIX_MS 1000000000123", settings: unixMS, fields: map[string]any{"mydate": int64(1000000000123)}, want: "2001-09-09T01:46:40.123Z"},

		// parsing with UNIX and UNIX_MS
		{name: "UNIX, UNIX_MS \"0\"", settings: both, fields: map[string]any{"mydate": "0"}, want: "1970-01-01T00:00:00.000Z"},
		{name: "UNIX, UNIX_MS \"1000000000\"", settings: both, fields: map[string]any{"mydate": "1000000000"}, want: "2001-09-09T01:46:40.000Z"},
		{name: "UNIX, UNIX_MS \"1000000000123\"", settings: both, fields: map[string]any{"mydate": "1000000000123"}, want: "2001-09-09T01:46:40.123Z"},
		{name: "UNIX, UNIX_MS \"1478207457\"", settings: both, fields: map[string]any{"mydate": "1478207457"}, want: "2016-11-03T21:10:57.000Z"},
		{name: "UNIX, UNIX_MS \"1478207457.456\"", settings: both, fields: map[string]any{"mydate": "1478207457.456"}, want: "2016-11-03T21:10:57.456Z"},
		{name: "UNIX, UNIX_MS 0", settings: both, fields: map[string]any{"mydate": int64(0)}, want: "1970-01-01T00:00:00.000Z"},
		{name: "UNIX, UNIX_MS 1000000000", settings: both, fields: map[string]any{"mydate": int64(1000000000)}, want: "2001-09-09T01:46:40.000Z"},
		{name: "UNIX, UNIX_MS 1000000000123", settings: both, fields: map[string]any{"mydate": int64(1000000000123)}, want: "2001-09-09T01:46:40.123Z"},
		{name: "UNIX, UNIX_MS 1478207457", settings: both, fields: map[string]any{"mydate": int64(1478207457)}, want: "2016-11-03T21:10:57.000Z"},
		{name: "UNIX, UNIX_MS 1478207457.456", settings: both, fields: map[string]any{"mydate": 1478207457.456}, want: "2016-11-03T21:10:57.456Z"},

		// failed parses should not cause a failure (LOGSTASH-641)
		{name: "LOGSTASH-641: a text that does not parse", settings: map[string]any{"match": m("mydate", "MMM  d HH:mm:ss", "MMM dd HH:mm:ss"), "locale": "en"},
			fields: map[string]any{"mydate": "this will not parse"}, tags: fail},
		{name: "LOGSTASH-641: an empty event", settings: map[string]any{"match": m("mydate", "MMM  d HH:mm:ss", "MMM dd HH:mm:ss"), "locale": "en"},
			fields: map[string]any{}},

		// TAI64N support
		{name: "TAI64N without @", settings: map[string]any{"match": m("t", "TAI64N"), "locale": "en"}, fields: map[string]any{"t": "4000000050d506482dbdf024"},
			want: "2012-12-22T01:00:46.767Z"},
		{name: "TAI64N with @", settings: map[string]any{"match": m("t", "TAI64N"), "locale": "en"}, fields: map[string]any{"t": "@4000000050d506482dbdf024"},
			want: "2012-12-22T01:00:46.767Z"},

		// LOGSTASH-735, deep nested field access
		{name: "LOGSTASH-735", settings: map[string]any{"match": m("mydate", "ISO8601"), "locale": "en"},
			fields: map[string]any{"mydate": "2001-09-09T01:46:40.000Z"}, want: "2001-09-09T01:46:40.000Z"},
		{name: "deep nested field", settings: map[string]any{"match": m("[data][deep]", "ISO8601"), "locale": "en"},
			fields: map[string]any{"data": map[string]any{"deep": "2013-01-01T00:00:00.000Z"}}, want: "2013-01-01T00:00:00.000Z"},

		// failures, on_success and tag_on_failure
		{name: "failing to parse does not throw", settings: slash(map[string]any{"locale": "en"}),
			fields: map[string]any{"thedate": "2013/Apr/21"}, tags: fail},
		{name: "success applies add_tag", settings: slash(map[string]any{"add_tag": []any{"tagged"}, "timezone": "UTC"}),
			fields: map[string]any{"thedate": "2013/04/21"}, want: "2013-04-21T00:00:00.000Z", tags: []string{"tagged"}},
		{name: "failure does not apply add_tag", settings: slash(map[string]any{"add_tag": []any{"tagged"}, "timezone": "UTC"}),
			fields: map[string]any{"thedate": "2013/Apr/21"}, tags: fail, notTag: "tagged"},
		{name: "failure applies tag_on_failure", settings: slash(map[string]any{"tag_on_failure": []any{"date_failed"}, "timezone": "UTC"}),
			fields: map[string]any{"thedate": "2013/Apr/21"}, tags: []string{"date_failed"}},

		// timezone, fixed and from the event
		{name: "timezone: winter", settings: la, fields: map[string]any{"mydate": "2013 Nov 24 01:29:01"}, want: "2013-11-24T09:29:01.000Z"},
		{name: "timezone: summer", settings: la, fields: map[string]any{"mydate": "2013 Jun 24 01:29:01"}, want: "2013-06-24T08:29:01.000Z"},
		{name: "timezone from the event: winter", settings: laEvent, fields: map[string]any{"mydate": "2013 Nov 24 01:29:01", "mytz": "America/Los_Angeles"}, want: "2013-11-24T09:29:01.000Z"},
		{name: "timezone from the event: summer", settings: laEvent, fields: map[string]any{"mydate": "2013 Jun 24 01:29:01", "mytz": "America/Los_Angeles"}, want: "2013-06-24T08:29:01.000Z"},
		{name: "ISO8601, zone from the event: Caracas before -04:30", settings: isoEvent, fields: map[string]any{"mydate": "2007-12-09T01:00:00", "mytz": "America/Caracas"}, want: "2007-12-09T05:00:00.000Z"},
		{name: "ISO8601, zone from the event: Caracas at -04:30", settings: isoEvent, fields: map[string]any{"mydate": "2007-12-09T10:00:00", "mytz": "America/Caracas"}, want: "2007-12-09T14:30:00.000Z"},
		{name: "ISO8601, zone from the event: Caracas back to -04:00", settings: isoEvent, fields: map[string]any{"mydate": "2016-05-01T08:18:18.123", "mytz": "America/Caracas"}, want: "2016-05-01T12:18:18.123Z"},
		{name: "next year's DST switch in CET does not fail", settings: map[string]any{"match": m("message", "yyyy MMM dd HH:mm:ss"), "locale": "en", "timezone": "CET"},
			now: "2016-03-29T23:59:50Z", fields: map[string]any{"message": "2016 Mar 26 02:00:37"}, want: "2016-03-26T01:00:37.000Z"},

		// default year, zone from the event
		{name: "LOGSTASH-34: this year (zone from the event)", settings: map[string]any{"match": m("message", "EEE MMM dd HH:mm:ss"), "locale": "en", "timezone": "%{mytz}"},
			now: "2026-06-10T12:00:00Z", fields: map[string]any{"message": "Sun Jun 02 20:38:03", "mytz": "UTC"},
			// Joda sets the weekday after the day: Tuesday 2 June moves to the Sunday of its week.
			want: "2026-06-07T20:38:03.000Z"},
		{name: "LOGSTASH-34 read in December (zone from the event)", settings: map[string]any{"match": m("message", "EEE MMM dd HH:mm:ss"), "locale": "en", "timezone": "%{mytz}"},
			fields: map[string]any{"message": "Sun Jun 02 20:38:03", "mytz": "UTC"}, want: "2026-06-07T20:38:03.000Z"},
		{name: "LOGSTASH-34 read more than half a year later (zone from the event)", settings: map[string]any{"match": m("message", "EEE MMM dd HH:mm:ss"), "locale": "en", "timezone": "%{mytz}"},
			now: "2026-12-20T12:00:00Z", fields: map[string]any{"message": "Sun Jun 02 20:38:03", "mytz": "UTC"},
			want: "2026-06-07T20:38:03.000Z"},
		{name: "December in January is last year's (zone from the event)", settings: syslogEvent, now: "2014-01-01T00:30:50Z",
			fields: map[string]any{"message": "Dec 31 23:59:00", "mytz": "UTC"}, want: "2013-12-31T23:59:00.000Z"},
		{name: "January in December is next year's (zone from the event)", settings: syslogEvent, now: "2013-12-31T23:59:50Z",
			fields: map[string]any{"message": "Jan 01 01:00:00", "mytz": "UTC"}, want: "2014-01-01T01:00:00.000Z"},
		{name: "2016 DST switch in CET: before the gap", settings: syslogCET, now: "2016-03-29T23:59:50Z",
			fields: map[string]any{"message": "Mar 27 01:59:59"}, want: "2016-03-27T00:59:59.000Z"},
		{name: "2016 DST switch in CET: in the gap fails", settings: syslogCET, now: "2016-03-29T23:59:50Z",
			fields: map[string]any{"message": "Mar 27 02:00:01"}, tags: fail},
		{name: "2016 DST switch in CET: after the gap", settings: syslogCET, now: "2016-03-29T23:59:50Z",
			fields: map[string]any{"message": "Mar 27 03:00:01"}, want: "2016-03-27T01:00:01.000Z"},

		// default year, fixed zone
		{name: "LOGSTASH-34: this year", settings: map[string]any{"match": m("message", "EEE MMM dd HH:mm:ss"), "locale": "en"},
			now: "2026-06-10T12:00:00Z", fields: map[string]any{"message": "Sun Jun 02 20:38:03"}, want: "year 2026"},
		{name: "December in January is last year's", settings: syslogUTC, now: "2014-01-01T00:30:50Z",
			fields: map[string]any{"message": "Dec 31 23:59:00"}, want: "2013-12-31T23:59:00.000Z"},
		{name: "January in December is next year's", settings: syslogUTC, now: "2013-12-31T15:59:50Z",
			fields: map[string]any{"message": "Jan 01 01:00:00"}, want: "2014-01-01T01:00:00.000Z"},

		// locales
		{name: "locale fr", settings: map[string]any{"match": m("message", "dd MMMM yyyy"), "locale": "fr", "timezone": "UTC"},
			fields: map[string]any{"message": "14 juillet 1789"}, want: "1789-07-14T00:00:00.000Z"},
		{name: "locale fr-FR (BCP 47)", settings: map[string]any{"match": m("message", "dd MMMM yyyy"), "locale": "fr-FR", "timezone": "UTC"},
			fields: map[string]any{"message": "14 juillet 1789"}, want: "1789-07-14T00:00:00.000Z"},
		{name: "locale fr_FR (POSIX)", settings: map[string]any{"match": m("message", "dd MMMM yyyy"), "locale": "fr_FR", "timezone": "UTC"},
			fields: map[string]any{"message": "14 juillet 1789"}, want: "1789-07-14T00:00:00.000Z"},
		{name: "http dates", settings: map[string]any{"match": m("timestamp", "dd/MMM/yyyy:HH:mm:ss Z"), "locale": "en"},
			fields: map[string]any{"timestamp": "25/Mar/2013:20:33:56 +0000"}, want: "2013-03-25T20:33:56.000Z"},
		// gostash's default locale is English on every machine, so the
		// "fallback to English" rows read as with locale en.
		{name: "English without a locale", settings: map[string]any{"match": m("message", "dd MMMM yyyy"), "timezone": "UTC"},
			fields: map[string]any{"message": "01 September 2014"}, want: "2014-09-01T00:00:00.000Z"},
		{name: "English without a locale: this year", settings: map[string]any{"match": m("message", "EEE MMM dd HH:mm:ss"), "timezone": "UTC"},
			now: "2026-06-10T12:00:00Z", fields: map[string]any{"message": "Sun Jun 02 20:38:03"}, want: "2026-06-07T20:38:03.000Z"},
		{name: "English without a locale: December in January", settings: syslogNoLocale, now: "2014-01-01T00:30:50Z",
			fields: map[string]any{"message": "Dec 31 23:59:00"}, want: "2013-12-31T23:59:00.000Z"},
		{name: "English without a locale: January in December", settings: syslogNoLocale, now: "2013-12-31T23:59:50Z",
			fields: map[string]any{"message": "Jan 01 01:00:00"}, want: "2014-01-01T01:00:00.000Z"},

		{name: "metric counters", skip: "Logstash's Ruby metric API (matches/failures counters): gostash counts per filter in its own metrics"},
		{name: "cancelled events", skip: "gostash has no cancelled events: a dropped event never reaches the next filter"},

		// DateFilterTest (Java)
		{name: "Java: no year, zone from the event, hh", settings: javaNoYear, now: "2016-03-29T23:59:50Z",
			fields: map[string]any{"[happened_at]": "Mar 27 01:59:59.999", "mytz": "CET"}, target: "[result_ts]", want: "2016-03-27T00:59:59.999Z"},
		{name: "Java: no year, zone from the event, after the switch", settings: javaNoYear, now: "2016-03-29T23:59:50Z",
			fields: map[string]any{"[happened_at]": "Mar 27 03:00:01.000", "mytz": "CET"}, target: "[result_ts]", want: "2016-03-27T01:00:01.000Z"},
		{name: "Java: no year, zone from the event, in the gap fails", settings: javaNoYear, now: "2016-03-29T23:59:50Z",
			fields: map[string]any{"[happened_at]": "Mar 27 02:00:01.000", "mytz": "CET"}, tags: fail},
		{name: "Java: ISO8601 Caracas 2001", settings: javaISO, fields: map[string]any{"[happened_at]": "2001-01-01T00:00:00", "mytz": "America/Caracas"}, target: "[result_ts]", want: "2001-01-01T04:00:00.000Z"},
		{name: "Java: ISO8601 Caracas 1974", settings: javaISO, fields: map[string]any{"[happened_at]": "1974-03-02T04:09:09", "mytz": "America/Caracas"}, target: "[result_ts]", want: "1974-03-02T08:09:09.000Z"},
		{name: "Java: ISO8601 Caracas 2006", settings: javaISO, fields: map[string]any{"[happened_at]": "2006-01-01T00:00:00", "mytz": "America/Caracas"}, target: "[result_ts]", want: "2006-01-01T04:00:00.000Z"},
		{name: "Java: ISO8601 Caracas 2008", settings: javaISO, fields: map[string]any{"[happened_at]": "2008-01-01T00:00:00", "mytz": "America/Caracas"}, target: "[result_ts]", want: "2008-01-01T04:30:00.000Z"},
		{name: "Java: ISO8601 Caracas 2016", settings: javaISO, fields: map[string]any{"[happened_at]": "2016-05-01T08:18:18.123", "mytz": "America/Caracas"}, target: "[result_ts]", want: "2016-05-01T12:18:18.123Z"},
		{name: "Java: UNIX int 456", settings: javaUnix, fields: map[string]any{"[happened_at]": int64(456)}, target: "[result_ts]", want: "1970-01-01T00:07:36.000Z"},
		{name: "Java: UNIX double", settings: javaUnix, fields: map[string]any{"[happened_at]": 1478207457.456}, target: "[result_ts]", want: "2016-11-03T21:10:57.456Z"},
		{name: "Java: UNIX then UNIX_MS, a long", settings: map[string]any{"match": m("[happened_at]", "UNIX", "UNIX_MS"), "timezone": "UTC", "target": "[result_ts]"},
			fields: map[string]any{"[happened_at]": int64(1000000000123)}, target: "[result_ts]", want: "2001-09-09T01:46:40.123Z"},
		// JodaParserTest (Java)
		{name: "Java: YYYY", settings: map[string]any{"match": m("t", "YYYY"), "timezone": "UTC"},
			fields: map[string]any{"t": "2016"}, want: "2016-01-01T00:00:00.000Z"},
		{name: "Java: an empty pattern", skip: "a configuration error: asserted in TestLogstashSpecConfigErrors"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skip != "" {
				t.Skip(tt.skip)
			}
			now := tt.now
			if now == "" {
				now = "2026-12-04T12:00:00Z"
			}
			setClock(t, now)
			input := map[string]any{}
			for k, v := range tt.fields {
				input[k] = v
			}
			e := run(t, tt.settings, input)
			if tt.diff != "" {
				t.Logf("documented difference: Logstash gives %s", tt.diff)
			}
			got := stamp(e)
			switch {
			case tt.target != "":
				if v, _ := e.Get(tt.target); v != tt.want {
					t.Errorf("%s = %v, want %s", tt.target, v, tt.want)
				}
				if got != untouched {
					t.Errorf("@timestamp = %s, want it untouched with a target", got)
				}
			case tt.want == "":
				if got != untouched {
					t.Errorf("@timestamp = %s, want it untouched", got)
				}
			case len(tt.want) == 9 && tt.want[:5] == "year ":
				if got[:4] != tt.want[5:] {
					t.Errorf("@timestamp = %s, want the %s", got, tt.want)
				}
			default:
				if got != tt.want {
					t.Errorf("@timestamp = %s, want %s", got, tt.want)
				}
			}
			// The source field stays as it was.
			for k, v := range tt.fields {
				if g, _ := e.Get(k); k != "data" && g != v {
					t.Errorf("%s = %v, want it kept as %v", k, g, v)
				}
			}
			if tags := e.Tags(); !slices.Equal(tags, tt.tags) && !(len(tags) == 0 && len(tt.tags) == 0) {
				t.Errorf("tags = %v, want %v", tags, tt.tags)
			}
			if tt.notTag != "" && e.HasTag(tt.notTag) {
				t.Errorf("tags = %v, want no %q", e.Tags(), tt.notTag)
			}
		})
	}
}

// Logstash refuses a match without a format (date_spec.rb) and an empty
// pattern (JodaParserTest) when the pipeline is built; gostash says so at
// --configtest.
func TestLogstashSpecConfigErrors(t *testing.T) {
	comp := sdktest.Lookup(t, sdk.KindFilter, "date")
	for _, settings := range []map[string]any{
		{"match": []any{"mydate"}},
		{"match": []any{"mydate", ""}},
	} {
		if ds := sdktest.Validate(comp, settings); len(ds) == 0 {
			t.Errorf("%v: no error, want one", settings)
		}
	}
}

// The examples of Logstash's docs page for the date filter
// (docs/index.asciidoc): the match examples and each pattern letter's.
func TestLogstashDocsExamples(t *testing.T) {
	// A few days after the syslog example's date, which takes now's year.
	setClock(t, "2026-04-20T12:00:00Z")
	for _, tt := range []struct {
		formats []any
		text    any
		want    string
	}{
		{[]any{"MMM dd HH:mm:ss"}, "Apr 17 09:32:01", "2026-04-17T09:32:01.000Z"},
		{[]any{"MMM dd yyyy HH:mm:ss", "MMM  d yyyy HH:mm:ss", "ISO8601"}, "Aug 13 2010 00:03:44", "2010-08-13T00:03:44.000Z"},
		{[]any{"MMM dd yyyy HH:mm:ss", "MMM  d yyyy HH:mm:ss", "ISO8601"}, "Aug  3 2010 00:03:44", "2010-08-03T00:03:44.000Z"},
		{[]any{"MMM dd yyyy HH:mm:ss", "MMM  d yyyy HH:mm:ss", "ISO8601"}, "2011-04-19T03:44:01.103Z", "2011-04-19T03:44:01.103Z"},
		{[]any{"UNIX"}, "1326149001.132", "2012-01-09T22:43:21.132Z"},
		{[]any{"UNIX"}, 1326149001.132, "2012-01-09T22:43:21.132Z"},
		{[]any{"UNIX"}, int64(1326149001), "2012-01-09T22:43:21.000Z"},
		{[]any{"UNIX_MS"}, int64(1366125117000), "2013-04-16T15:11:57.000Z"},
		{[]any{"yyyy-MM-dd'T'HH:mm:ss"}, "2015-01-01T01:12:23", "2015-01-01T01:12:23.000Z"},
		// The pattern letters, with the docs' example values.
		{[]any{"yyyy"}, "2015", "2015-01-01T00:00:00.000Z"},
		{[]any{"yy"}, "15", "2015-01-01T00:00:00.000Z"},
		{[]any{"yyyy M"}, "2015 1", "2015-01-01T00:00:00.000Z"},
		{[]any{"yyyy MM"}, "2015 12", "2015-12-01T00:00:00.000Z"},
		{[]any{"yyyy MMM"}, "2015 Jan", "2015-01-01T00:00:00.000Z"},
		{[]any{"yyyy MMMM"}, "2015 January", "2015-01-01T00:00:00.000Z"},
		{[]any{"yyyy-MM-d"}, "2015-02-1", "2015-02-01T00:00:00.000Z"},
		{[]any{"yyyy-MM-dd"}, "2015-02-01", "2015-02-01T00:00:00.000Z"},
		{[]any{"yyyy-MM-dd H:m:s"}, "2015-02-01 0:0:0", "2015-02-01T00:00:00.000Z"},
		{[]any{"yyyy-MM-dd HH:mm:ss"}, "2015-02-01 00:00:00", "2015-02-01T00:00:00.000Z"},
		{[]any{"yyyy-MM-dd HH:mm:ss.S"}, "2015-02-01 00:00:00.0", "2015-02-01T00:00:00.000Z"},
		{[]any{"yyyy-MM-dd HH:mm:ss.SS"}, "2015-02-01 00:00:00.01", "2015-02-01T00:00:00.010Z"},
		{[]any{"yyyy-MM-dd HH:mm:ss.SSS"}, "2015-02-01 00:00:00.012", "2015-02-01T00:00:00.012Z"},
		{[]any{"yyyy-MM-dd HH:mm:ss Z"}, "2015-02-01 00:00:00 -0700", "2015-02-01T07:00:00.000Z"},
		{[]any{"yyyy-MM-dd HH:mm:ss ZZ"}, "2015-02-01 00:00:00 -07:00", "2015-02-01T07:00:00.000Z"},
		{[]any{"yyyy-MM-dd HH:mm:ss ZZZ"}, "2015-02-01 00:00:00 America/Los_Angeles", "2015-02-01T08:00:00.000Z"},
		{[]any{"yyyy w"}, "2015 2", "2015-01-05T00:00:00.000Z"},
		{[]any{"yyyy ww"}, "2015 02", "2015-01-05T00:00:00.000Z"},
		{[]any{"yyyy D"}, "2015 32", "2015-02-01T00:00:00.000Z"},
		// e and E move the date to that weekday of its week, as in Joda.
		{[]any{"yyyy-MM-dd e"}, "2015-02-02 7", "2015-02-08T00:00:00.000Z"},
		{[]any{"EEE yyyy-MM-dd"}, "Mon 2015-02-02", "2015-02-02T00:00:00.000Z"},
		{[]any{"EEEE yyyy-MM-dd"}, "Monday 2015-02-02", "2015-02-02T00:00:00.000Z"},
		{[]any{"yyyy-MM-dd hh:mm a"}, "2015-02-02 01:30 PM", "2015-02-02T13:30:00.000Z"},
	} {
		e := run(t, map[string]any{"match": append([]any{"logdate"}, tt.formats...), "timezone": "UTC"}, map[string]any{"logdate": tt.text})
		if got := stamp(e); got != tt.want || len(e.Tags()) != 0 {
			t.Errorf("%v on %q = %s, tags %v; want %s", tt.formats, tt.text, got, e.Tags(), tt.want)
		}
	}
}
