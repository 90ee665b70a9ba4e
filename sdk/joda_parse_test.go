package sdk

import (
	"strings"
	"testing"
	"time"
)

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, ok := LookupZone(name)
	if !ok {
		t.Fatalf("no zone %s", name)
	}
	return loc
}

func fixedNow(s string) func() time.Time {
	at := utc(s)
	return func() time.Time { return at }
}

// The expected instants are what Joda-Time 2.x's parseMillis gives for the
// same pattern, text and zone (Logstash's date filter), except where a
// comment says gostash differs.
func TestJodaParse(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	tests := []struct {
		pattern, text string
		loc           *time.Location
		now           string // for patterns without a year and for yy
		locale        string
		want          string // RFC 3339 in UTC; "" means the parse fails
	}{
		// Apache's timestamp.
		{"dd/MMM/yyyy:HH:mm:ss Z", "10/Oct/2000:13:55:36 -0700", nil, "", "", "2000-10-10T20:55:36Z"},
		{"dd/MMM/yyyy:HH:mm:ss Z", "10/oct/2000:13:55:36 -0700", nil, "", "", "2000-10-10T20:55:36Z"},
		{"dd/MMM/yyyy:HH:mm:ss Z", "10/OCTOBER/2000:13:55:36 -0700", nil, "", "", "2000-10-10T20:55:36Z"},
		{"dd/MMM/yyyy:HH:mm:ss Z", "10/Oct/2000:13:55:36", nil, "", "", ""},
		{"dd/MMM/yyyy:HH:mm:ss Z", "10/Oct/2000:13:55:36 -0700 ", nil, "", "", ""},
		{"dd/MMM/yyyy:HH:mm:ss Z", "10/Okt/2000:13:55:36 -0700", nil, "", "", ""},
		// The offset wins over the zone given; without one the zone is used.
		{"yyyy-MM-dd HH:mm:ss Z", "2024-07-01 12:00:00 +0200", berlin, "", "", "2024-07-01T10:00:00Z"},
		{"yyyy-MM-dd HH:mm:ss", "2024-07-01 12:00:00", berlin, "", "", "2024-07-01T10:00:00Z"},
		{"yyyy-MM-dd HH:mm:ss", "2024-01-01 12:00:00", berlin, "", "", "2024-01-01T11:00:00Z"},
		{"yyyy-MM-dd HH:mm:ss", "2024-01-01 12:00:00", nil, "", "", "2024-01-01T12:00:00Z"},
		// Z and ZZ read the same offsets; ZZZ reads a zone id.
		{"yyyy HH:mm Z", "2024 12:00 +05:30", nil, "", "", "2024-01-01T06:30:00Z"},
		{"yyyy HH:mm ZZ", "2024 12:00 +0530", nil, "", "", "2024-01-01T06:30:00Z"},
		// No date at all: 1 January of now's year, or of the next year when
		// read in December, as Logstash.
		{"HH:mm Z", "12:00 +05:30", nil, "2026-03-01T00:00:00Z", "", "2026-01-01T06:30:00Z"},
		{"HH:mm Z", "12:00 +05:30", nil, "2026-12-01T00:00:00Z", "", "2027-01-01T06:30:00Z"},
		{"yyyy HH:mm ZZ", "2024 12:00 -08", nil, "", "", "2024-01-01T20:00:00Z"},
		{"yyyy HH:mm Z", "2024 12:00 Z", nil, "", "", "2024-01-01T12:00:00Z"},
		{"yyyy HH:mm Z", "2024 12:00 +24:00", nil, "", "", ""},
		{"yyyy HH:mm Z", "2024 12:00 +05:", nil, "", "", ""},
		{"yyyy-MM-dd HH:mm ZZZ", "2024-07-01 12:00 America/New_York", nil, "", "", "2024-07-01T16:00:00Z"},
		{"yyyy-MM-dd HH:mm ZZZ", "2024-07-01 12:00 Europe/Nowhere", nil, "", "", ""},
		{"yyyy-MM-dd HH:mm z", "2024-07-01 12:00 PDT", nil, "", "", "2024-07-01T19:00:00Z"},
		{"yyyy-MM-dd HH:mm z", "2024-07-01 12:00 GMT", berlin, "", "", "2024-07-01T12:00:00Z"},
		// DST in Berlin: 2026-03-29 02:30 does not exist (clocks go from
		// 02:00 to 03:00), Joda rejects it; 2026-10-25 02:30 happens twice,
		// Joda takes the first (summer time, +02:00).
		{"yyyy-MM-dd HH:mm", "2026-03-29 02:30", berlin, "", "", ""},
		{"yyyy-MM-dd HH:mm", "2026-03-29 01:59", berlin, "", "", "2026-03-29T00:59:00Z"},
		{"yyyy-MM-dd HH:mm", "2026-03-29 03:00", berlin, "", "", "2026-03-29T01:00:00Z"},
		{"yyyy-MM-dd HH:mm", "2026-10-25 02:30", berlin, "", "", "2026-10-25T00:30:00Z"},
		{"yyyy-MM-dd HH:mm", "2026-10-25 01:59", berlin, "", "", "2026-10-24T23:59:00Z"},
		{"yyyy-MM-dd HH:mm", "2026-10-25 03:00", berlin, "", "", "2026-10-25T02:00:00Z"},
		{"yyyy-MM-dd HH:mm", "2026-03-08 02:30", mustZone(t, "America/New_York"), "", "", ""},
		{"yyyy-MM-dd HH:mm", "2026-11-01 01:30", mustZone(t, "America/New_York"), "", "", "2026-11-01T05:30:00Z"},
		// Joda's Y is the year of era, the same as y: at the end of
		// December it is not the week year (x is).
		{"YYYY-MM-dd", "2024-12-30", nil, "", "", "2024-12-30T00:00:00Z"},
		{"yyyy-MM-dd", "2024-12-30", nil, "", "", "2024-12-30T00:00:00Z"},
		{"YYYY-MM-dd", "2025-12-31", nil, "", "", "2025-12-31T00:00:00Z"},
		{"xxxx-'W'ww-e", "2025-W01-1", nil, "", "", "2024-12-30T00:00:00Z"},
		{"xxxx-'W'ww-e", "2020-W53-5", nil, "", "", "2021-01-01T00:00:00Z"},
		{"xxxx-'W'ww-e", "2021-W53-5", nil, "", "", ""},
		// A date without a year: now's year, but last year's for December
		// read in January and next year's for January read in December, as
		// Logstash's JodaParser.
		{"MMM dd HH:mm:ss", "Dec 31 23:59:59", nil, "2027-01-02T10:00:00Z", "", "2026-12-31T23:59:59Z"},
		{"MMM dd HH:mm:ss", "Jan 01 00:00:01", nil, "2026-12-31T22:00:00Z", "", "2027-01-01T00:00:01Z"},
		{"MMM dd HH:mm:ss", "Jul 04 12:00:00", nil, "2026-07-05T00:00:00Z", "", "2026-07-04T12:00:00Z"},
		{"MMM  d HH:mm:ss", "Feb  3 04:05:06", nil, "2026-01-15T00:00:00Z", "", "2026-02-03T04:05:06Z"},
		{"MMM  d HH:mm:ss", "Feb 13 04:05:06", nil, "2026-01-15T00:00:00Z", "", ""}, // two spaces: "MMM dd" is for this one
		{"MMM dd HH:mm:ss", "Feb  3 04:05:06", nil, "2026-01-15T00:00:00Z", "", ""},
		// Not the nearest year: March read in December is this March, and
		// December read in June this December, in the future.
		{"MMM dd HH:mm:ss", "Mar 15 10:00:00", nil, "2026-12-04T12:00:00Z", "", "2026-03-15T10:00:00Z"},
		{"MMM dd HH:mm:ss", "Dec 20 10:00:00", nil, "2026-06-10T12:00:00Z", "", "2026-12-20T10:00:00Z"},
		{"MMM dd HH:mm:ss", "Nov 30 10:00:00", nil, "2027-01-02T12:00:00Z", "", "2027-11-30T10:00:00Z"},
		{"MMM dd HH:mm:ss", "Feb 01 10:00:00", nil, "2026-12-31T12:00:00Z", "", "2026-02-01T10:00:00Z"},
		// A day of year names its month too: day 360 read in January is
		// last December's.
		{"DDD HH:mm", "360 10:00", nil, "2027-01-02T12:00:00Z", "", "2026-12-26T10:00:00Z"},
		// 29 February exists only in a leap year, as Joda fails it in
		// another.
		{"MMM dd", "Feb 29", nil, "2025-01-10T00:00:00Z", "", ""},
		{"MMM dd", "Feb 29", nil, "2028-06-10T00:00:00Z", "", "2028-02-29T00:00:00Z"},
		// A time in that year's DST gap fails, as in Joda: it does not move
		// to another year where it would exist.
		{"MMM dd HH:mm:ss", "Mar 29 02:30:00", berlin, "2026-04-01T00:00:00Z", "", ""},
		{"MMM dd HH:mm:ss", "Mar 29 03:30:00", berlin, "2026-04-01T00:00:00Z", "", "2026-03-29T01:30:00Z"},
		// now's year and month are read in its own zone (time.Now's is the
		// machine's, as Logstash's clock is the JVM's default zone), not in
		// the zone the text is read in: at 23:00 UTC on 31 December 2026 it
		// is already 2027 in Berlin, but now is in 2026.
		{"MMM dd HH:mm:ss", "Jun 01 12:00:00", berlin, "2026-12-31T23:00:00Z", "", "2026-06-01T10:00:00Z"},
		{"MMM dd HH:mm:ss", "Dec 31 23:30:00", berlin, "2026-12-31T23:00:00Z", "", "2026-12-31T22:30:00Z"},
		{"MMM dd HH:mm:ss", "Jun 01 00:00:00", nil, "2026-12-31T23:30:00-05:00", "", "2026-06-01T00:00:00Z"},
		{"MMM dd HH:mm:ss", "Jan 01 04:00:00", nil, "2026-12-31T23:30:00-05:00", "", "2027-01-01T04:00:00Z"},
		{"MMM dd HH:mm:ss", "Jun 01 00:00:00", nil, "2027-01-01T04:30:00Z", "", "2027-06-01T00:00:00Z"},
		// Two-digit years: the 100 years from 80 years ago.
		{"dd.MM.yy", "03.02.15", nil, "2026-06-01T00:00:00Z", "", "2015-02-03T00:00:00Z"},
		{"dd.MM.yy", "03.02.46", nil, "2026-06-01T00:00:00Z", "", "1946-02-03T00:00:00Z"},
		{"dd.MM.yy", "03.02.45", nil, "2026-06-01T00:00:00Z", "", "2045-02-03T00:00:00Z"},
		{"dd.MM.yy", "03.02.2015", nil, "2026-06-01T00:00:00Z", "", "2015-02-03T00:00:00Z"},
		{"yyMMdd", "150203", nil, "2026-06-01T00:00:00Z", "", "2015-02-03T00:00:00Z"},
		{"yyyyMMddHHmmss", "20240102030405", nil, "", "", "2024-01-02T03:04:05Z"},
		// Numbers read up to their width whatever the letter count.
		{"d/M/yyyy H:m:s", "5/7/2024 3:4:5", nil, "", "", "2024-07-05T03:04:05Z"},
		{"dd/MM/yyyy HH:mm:ss", "5/7/2024 3:4:5", nil, "", "", "2024-07-05T03:04:05Z"},
		{"dd/MM/yyyy", "32/01/2024", nil, "", "", ""},
		{"dd/MM/yyyy", "30/02/2024", nil, "", "", ""},
		{"dd/MM/yyyy", "29/02/2023", nil, "", "", ""},
		{"HH:mm:ss", "24:00:00", nil, "2026-06-01T00:00:00Z", "", ""},
		// Fractions: S reads as many digits as it has letters; gostash
		// keeps nanoseconds (Joda stops at milliseconds).
		{"yyyy-MM-dd HH:mm:ss.SSS", "2024-01-02 03:04:05.123", nil, "", "", "2024-01-02T03:04:05.123Z"},
		{"yyyy-MM-dd HH:mm:ss.SSS", "2024-01-02 03:04:05.1", nil, "", "", "2024-01-02T03:04:05.1Z"},
		{"yyyy-MM-dd HH:mm:ss.SSS", "2024-01-02 03:04:05.1234", nil, "", "", ""},
		{"yyyy-MM-dd HH:mm:ss.SSSSSS", "2024-01-02 03:04:05.123456", nil, "", "", "2024-01-02T03:04:05.123456Z"},
		{"yyyy-MM-dd HH:mm:ss,SSSSSSSSS", "2024-01-02 03:04:05,123456789", nil, "", "", "2024-01-02T03:04:05.123456789Z"},
		// Clock hours, half days, weekdays, day of year, era, literals.
		{"yyyy-MM-dd hh:mm a", "2024-01-02 12:30 AM", nil, "", "", "2024-01-02T00:30:00Z"},
		{"yyyy-MM-dd hh:mm a", "2024-01-02 12:30 pm", nil, "", "", "2024-01-02T12:30:00Z"},
		{"yyyy-MM-dd K:mm a", "2024-01-02 3:30 PM", nil, "", "", "2024-01-02T15:30:00Z"},
		{"yyyy-MM-dd kk:mm", "2024-01-02 24:30", nil, "", "", "2024-01-02T00:30:00Z"},
		{"EEE, dd MMM yyyy HH:mm:ss Z", "Tue, 02 Jan 2024 03:04:05 +0000", nil, "", "", "2024-01-02T03:04:05Z"},
		{"EEEE, dd MMMM yyyy", "Tuesday, 02 January 2024", nil, "", "", "2024-01-02T00:00:00Z"},
		{"EEE, dd MMM yyyy", "Fri, 02 Jan 2024", nil, "", "", "2024-01-05T00:00:00Z"}, // Joda moves to the weekday
		{"yyyy.DDD", "2024.366", nil, "", "", "2024-12-31T00:00:00Z"},
		{"yyyy.DDD", "2023.366", nil, "", "", ""},
		{"yyyy G", "2024 AD", nil, "", "", "2024-01-01T00:00:00Z"},
		{"yyyy-MM-dd'T'HH:mm:ss'Z'", "2024-01-02t03:04:05z", nil, "", "", "2024-01-02T03:04:05Z"},
		{"'at' HH 'o''clock' yyyy", "at 13 o'clock 2024", nil, "", "", "2024-01-01T13:00:00Z"},
		{"yyyy-MM-dd", "-2024-01-02", nil, "", "", "-2024-01-02T00:00:00Z"},
		{"yyyy-MM-dd", "", nil, "", "", ""},
		// Locales.
		{"dd MMMM yyyy", "03 März 2024", nil, "", "de", "2024-03-03T00:00:00Z"},
		{"dd MMM yyyy", "03 Okt. 2024", nil, "", "de-DE", "2024-10-03T00:00:00Z"},
		{"dd MMM yyyy", "03 Okt 2024", nil, "", "de", "2024-10-03T00:00:00Z"},
		{"EEEE dd MMMM yyyy", "Donnerstag 03 Oktober 2024", nil, "", "de", "2024-10-03T00:00:00Z"},
		{"dd MMM yyyy", "03 Oct 2024", nil, "", "de", ""},
		{"EEE dd MMM yyyy", "jeu. 03 oct. 2024", nil, "", "fr_FR", "2024-10-03T00:00:00Z"},
		{"dd MMMM yyyy", "14 février 2024", nil, "", "fr", "2024-02-14T00:00:00Z"},
		{"dd MMMM yyyy", "14 FÉVRIER 2024", nil, "", "fr", "2024-02-14T00:00:00Z"},
		{"dd MMM yyyy", "14 déc. 2024", nil, "", "fr", "2024-12-14T00:00:00Z"},
		{"EEEE, dd 'de' MMMM 'de' yyyy", "miércoles, 14 de febrero de 2024", nil, "", "es", "2024-02-14T00:00:00Z"},
		{"dd MMM yyyy hh:mm a", "14 sept. 2024 03:00 p. m.", nil, "", "es-ES", "2024-09-14T15:00:00Z"},
		{"dd MMM yyyy", "14 ene 2024", nil, "", "es", "2024-01-14T00:00:00Z"},
	}
	for _, tt := range tests {
		var locale *DateLocale
		if tt.locale != "" {
			var err error
			if locale, err = LookupDateLocale(tt.locale); err != nil {
				t.Fatal(err)
			}
		}
		p, err := CompileJodaParser(tt.pattern, locale)
		if err != nil {
			t.Errorf("CompileJodaParser(%q): %v", tt.pattern, err)
			continue
		}
		now := func() time.Time {
			t.Errorf("%q %q: now() called for a pattern with a year", tt.pattern, tt.text)
			return time.Time{}
		}
		if tt.now != "" {
			now = fixedNow(tt.now)
		}
		got, ok := p.Parse(tt.text, tt.loc, now)
		switch {
		case tt.want == "" && ok:
			t.Errorf("%q %q: parsed as %s, want a failure", tt.pattern, tt.text, got.UTC().Format(time.RFC3339Nano))
		case tt.want != "" && !ok:
			t.Errorf("%q %q: failed, want %s", tt.pattern, tt.text, tt.want)
		case tt.want != "" && got.UTC().Format(time.RFC3339Nano) != tt.want:
			t.Errorf("%q %q = %s, want %s", tt.pattern, tt.text, got.UTC().Format(time.RFC3339Nano), tt.want)
		}
	}
}

func TestJodaParseRejectsUnknownLetters(t *testing.T) {
	for _, p := range []string{"yyyy-MM-dd XYZ", "q", "J", "yyyy-MM-ddTHH:mm"} {
		_, err := CompileJodaParser(p, nil)
		if err == nil {
			t.Errorf("CompileJodaParser(%q) succeeded; Joda rejects it", p)
			continue
		}
		if !strings.Contains(err.Error(), "quote") {
			t.Errorf("CompileJodaParser(%q) error %q should say how to quote text", p, err)
		}
	}
	// Joda's forPattern("") throws; an empty format is a typo.
	if _, err := CompileJodaParser("", nil); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf(`CompileJodaParser("") = %v, want an error saying it is empty`, err)
	}
	if _, err := LookupDateLocale("tlh"); err == nil || !strings.Contains(err.Error(), "en, de, fr, es") {
		t.Errorf("LookupDateLocale(tlh) = %v, want an error that lists the locales", err)
	}
}

func TestJodaParseDoesNotAllocate(t *testing.T) {
	p := MustCompileJodaParser("dd/MMM/yyyy:HH:mm:ss Z", nil)
	berlin := mustZone(t, "Europe/Berlin")
	q := MustCompileJodaParser("yyyy-MM-dd HH:mm:ss.SSS ZZZ", nil)
	allocs := testing.AllocsPerRun(100, func() {
		p.Parse("10/Oct/2000:13:55:36 -0700", nil, nil)
		q.Parse("2024-07-01 12:00:00.123 Europe/Berlin", berlin, nil)
	})
	if allocs != 0 {
		t.Errorf("Parse allocates %.1f times per call", allocs)
	}
}

func BenchmarkJodaParseApache(b *testing.B) {
	p := MustCompileJodaParser("dd/MMM/yyyy:HH:mm:ss Z", nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := p.Parse("10/Oct/2000:13:55:36 -0700", nil, nil); !ok {
			b.Fatal("no match")
		}
	}
}

func TestParseISO8601(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	tests := []struct {
		text string
		loc  *time.Location
		want string
	}{
		{"2011-04-19T03:44:01.103Z", nil, "2011-04-19T03:44:01.103Z"},
		{"2011-04-19T03:44:01.123456789Z", nil, "2011-04-19T03:44:01.123456789Z"},
		{"2011-04-19T03:44:01.1234567891Z", nil, ""},
		{"2011-04-19T03:44:01,5+02:00", nil, "2011-04-19T01:44:01.5Z"},
		{"2011-04-19T03:44:01-0700", nil, "2011-04-19T10:44:01Z"},
		{"2011-04-19 03:44:01.103", berlin, "2011-04-19T01:44:01.103Z"},
		{"2011-04-19 03:44:01", berlin, "2011-04-19T01:44:01Z"},
		{"2011-04-19T03:44", nil, "2011-04-19T03:44:00Z"},
		{"2011-04-19T03", nil, "2011-04-19T03:00:00Z"},
		{"2011-04-19", berlin, "2011-04-18T22:00:00Z"},
		{"2011-04", nil, "2011-04-01T00:00:00Z"},
		{"2011", nil, "2011-01-01T00:00:00Z"},
		{"2011-109", nil, "2011-04-19T00:00:00Z"},
		{"2011-W16-2", nil, "2011-04-19T00:00:00Z"},
		{"2026-03-29T02:30:00", berlin, ""},
		{"2026-10-25T02:30:00", berlin, "2026-10-25T00:30:00Z"},
		{"2011-02-29T00:00:00Z", nil, ""},
		{"2011-04-19T24:00:00Z", nil, ""},
		{"2011-04-19T03:44:01Zjunk", nil, ""},
		{"201", nil, ""},
		{"Apr 19 2011", nil, ""},
		{"", nil, ""},
	}
	for _, tt := range tests {
		got, ok := ParseISO8601(tt.text, tt.loc)
		switch {
		case tt.want == "" && ok:
			t.Errorf("ParseISO8601(%q) = %s, want a failure", tt.text, got.UTC().Format(time.RFC3339Nano))
		case tt.want != "" && !ok:
			t.Errorf("ParseISO8601(%q) failed, want %s", tt.text, tt.want)
		case tt.want != "" && got.UTC().Format(time.RFC3339Nano) != tt.want:
			t.Errorf("ParseISO8601(%q) = %s, want %s", tt.text, got.UTC().Format(time.RFC3339Nano), tt.want)
		}
	}
}
