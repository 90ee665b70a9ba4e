package sdk

import (
	"strings"
	"testing"
	"time"
)

// The expected strings below were printed by Joda-Time 2.12 and by Java
// 17's java.time for the same instants, in UTC: these tables are what a
// Logstash user sees today.

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestJodaFormat(t *testing.T) {
	tests := []struct {
		pattern, at, want string
	}{
		// The trap: in Joda, YYYY is the year of era, not the week year.
		{"YYYY.MM.dd", "2024-12-30T12:00:00Z", "2024.12.30"},
		{"yyyy.MM.dd", "2024-12-30T12:00:00Z", "2024.12.30"},
		{"xxxx", "2024-12-30T12:00:00Z", "2025"},
		{"YYYY xxxx yyyy", "2027-01-01T00:00:00Z", "2027 2026 2027"},
		// ISO weeks: Monday first, week 1 holds the year's first Thursday.
		{"xxxx.ww", "2024-12-29T12:00:00Z", "2024.52"},
		{"xxxx.ww", "2024-12-30T12:00:00Z", "2025.01"},
		{"xxxx.ww", "2024-12-31T23:59:59Z", "2025.01"},
		{"xxxx.ww", "2020-12-31T00:00:00Z", "2020.53"},
		{"xxxx.ww", "2021-01-01T00:00:00Z", "2020.53"},
		{"YYYY.MM.dd", "2021-01-01T00:00:00Z", "2021.01.01"},
		{"xxxx-'W'ww-e", "2026-12-31T00:00:00Z", "2026-W53-4"},
		{"G C YY yy xx e E EEEE D M MMM MMMM d a", "2024-01-02T03:04:05.123Z",
			"AD 20 24 24 24 2 Tue Tuesday 2 1 Jan January 2 AM"},
		// Joda keeps milliseconds: longer fractions end in zeros.
		{"K h H k m s S SSS SSSSSS", "2024-01-02T03:04:05.123456789Z", "3 3 3 3 4 5 1 123 123000"},
		{"z zzzz Z ZZ ZZZ", "2024-01-02T03:04:05Z", "UTC Coordinated Universal Time +0000 +00:00 UTC"},
		{"hh:mm a kk KK", "2024-01-02T00:30:00Z", "12:30 AM 24 00"},
		{"hh:mm a kk KK", "2024-01-02T12:30:00Z", "12:30 PM 12 00"},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSZZ", "2024-01-02T03:04:05.123Z", "2024-01-02T03:04:05.123+00:00"},
		{"'it''s' hh 'o''clock' a", "2024-01-02T15:00:00Z", "it's 03 o'clock PM"},
		{"yyyyyy D DDD d ddd w", "2024-02-03T00:00:00Z", "002024 34 034 3 003 5"},
		{"dd/MMM/yyyy:HH:mm:ss Z", "2024-07-14T08:09:10Z", "14/Jul/2024:08:09:10 +0000"},
		{"yyyy年MM月dd日", "2024-07-14T08:09:10Z", "2024年07月14日"},
		{"'unclosed quote yyyy", "2024-07-14T08:09:10Z", "unclosed quote yyyy"},
		{"", "2024-07-14T08:09:10Z", ""},
	}
	for _, tt := range tests {
		f, err := CompileJoda(tt.pattern)
		if err != nil {
			t.Errorf("CompileJoda(%q): %v", tt.pattern, err)
			continue
		}
		if got := string(f.Append(nil, utc(tt.at))); got != tt.want {
			t.Errorf("Joda %q at %s = %q, want %q", tt.pattern, tt.at, got, tt.want)
		}
	}
}

func TestJodaFormatPrintsUTC(t *testing.T) {
	f := MustCompileJoda("yyyy.MM.dd HH:mm")
	tokyo := time.FixedZone("JST", 9*3600)
	at := time.Date(2024, 1, 2, 3, 4, 0, 0, tokyo) // 2024-01-01 18:04 UTC
	if got := string(f.Append(nil, at)); got != "2024.01.01 18:04" {
		t.Errorf("got %q, want the UTC date 2024.01.01 18:04", got)
	}
}

func TestJodaFormatRejectsUnknownLetters(t *testing.T) {
	for _, p := range []string{"q", "W", "yyyy-MM-dd XYZ", "J"} {
		_, err := CompileJoda(p)
		if err == nil {
			t.Errorf("CompileJoda(%q) succeeded; Joda rejects it", p)
			continue
		}
		if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "quote") {
			t.Errorf("CompileJoda(%q) error %q should name the pattern and say how to quote text", p, err)
		}
	}
}

func TestJavaTimeFormat(t *testing.T) {
	tests := []struct {
		pattern, at, want string
	}{
		// In java.time YYYY is the week-based year: one ahead here.
		{"YYYY", "2024-12-30T12:00:00Z", "2025"},
		{"yyyy", "2024-12-30T12:00:00Z", "2024"},
		{"uuuu.MM.dd", "2024-12-30T12:00:00Z", "2024.12.30"},
		{"YYYY-'W'ww", "2024-12-30T12:00:00Z", "2025-W01"},
		{"YYYY-'W'ww", "2021-08-11T00:00:00Z", "2021-W32"}, // Logstash's documented example
		{"YYYY-'W'ww e", "2021-01-01T00:00:00Z", "2020-W53 5"},
		{"G GGGG GGGGG E EEEE EEEEE MMM MMMM MMMMM LLLL", "2024-01-02T03:04:05Z",
			"AD Anno Domini A Tue Tuesday T Jan January J January"},
		{"Q QQ QQQ QQQQ a h K k", "2024-11-02T13:04:05Z", "4 04 Q4 4th quarter PM 1 1 13"},
		// java.time keeps nanoseconds.
		{"S SSS SSSSSS SSSSSSSSS n A N", "2024-01-02T03:04:05.123456789Z",
			"1 123 123456 123456789 123456789 11045123 11045123456789"},
		{"z zzzz VV O OOOO X x xx xxx Z ZZZZ ZZZZZ", "2024-01-02T03:04:05Z",
			"Z Z Z GMT GMT Z +00 +0000 +00:00 +0000 GMT Z"},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "2024-01-02T03:04:05.123456789Z", "2024-01-02T03:04:05.123Z"},
		{"'it''s' '' [yyyy]", "2024-01-02T03:04:05Z", "it's ' 2024"},
		{"y yy yyy yyyyy D DD DDD d", "2024-02-03T00:00:00Z", "2024 24 2024 02024 34 34 034 3"},
	}
	for _, tt := range tests {
		f, err := compileJavaTime(tt.pattern)
		if err != nil {
			t.Errorf("compileJavaTime(%q): %v", tt.pattern, err)
			continue
		}
		if got := string(f.Append(nil, utc(tt.at))); got != tt.want {
			t.Errorf("java.time %q at %s = %q, want %q", tt.pattern, tt.at, got, tt.want)
		}
	}
}

func TestJavaTimeFormatRejectsWhatJavaRejects(t *testing.T) {
	for _, p := range []string{"ddd", "HHH", "aa", "cc", "WW", "www", "#", "'open", "]",
		"SSSSSSSSSS", "EEEEEE", "zzzzz", "V", "VVV", "OO", "XXXXXX", "b"} {
		if _, err := compileJavaTime(p); err == nil {
			t.Errorf("compileJavaTime(%q) succeeded; java.time rejects it", p)
		}
	}
}

func TestDateFormatsDoNotAllocate(t *testing.T) {
	at := utc("2024-12-30T12:34:56.789Z")
	joda := MustCompileJoda("xxxx.ww YYYY.MM.dd HH:mm:ss.SSS EEEE MMMM")
	java, _ := compileJavaTime("YYYY-'W'ww yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX")
	buf := make([]byte, 0, 128)
	if n := testing.AllocsPerRun(100, func() { buf = joda.Append(buf[:0], at) }); n != 0 {
		t.Errorf("JodaFormat.Append allocates %.0f times per call", n)
	}
	if n := testing.AllocsPerRun(100, func() { buf = java.Append(buf[:0], at) }); n != 0 {
		t.Errorf("java.time Append allocates %.0f times per call", n)
	}
}

func BenchmarkJodaAppend(b *testing.B) {
	f := MustCompileJoda("YYYY.MM.dd")
	at := utc("2024-12-30T12:34:56.789Z")
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = f.Append(buf[:0], at)
	}
}
