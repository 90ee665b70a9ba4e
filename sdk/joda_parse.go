package sdk

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Parsing Joda-Time patterns, as Logstash's date filter does with
// DateTimeFormat.forPattern(p).parseMillis(text). The pattern is split by
// the same scanner as for formatting (scanJoda) and compiled once into a
// list of steps; Parse walks them over the text without allocating.
//
// Joda's parsing rules kept here:
//   - a number reads up to its maximum digits whatever the pattern's
//     count (d and dd both read "5" and "05"); years read up to 9 digits,
//     or exactly their count when the next pattern item is a number too
//     ("yyyyMMdd"); S reads at most as many digits as it has letters;
//   - yy is a two-digit year in the 100 years that start 80 years ago;
//     when the next item is not a number, more digits are a full year;
//   - Y is the year of era, the same as y after 1 BC (not the week year);
//   - text (MMM, MMMM, EEE, a, G) matches the locale's short or full
//     names whatever its case; the longest name wins;
//   - literals match whatever their case; the whole text must be used;
//   - Z and ZZ read Z, +HH, +HHmm or +HH:mm; ZZZ reads a zone id
//     (Europe/Berlin); z reads UTC, GMT and the US zone abbreviations,
//     as Joda's default table;
//   - a weekday that disagrees with the date moves the date to that
//     weekday of the same (Monday first) week, as Joda sets its fields;
//   - a local time in a zone's DST gap does not exist: the parse fails;
//     a local time in an overlap takes the earlier instant (the summer
//     offset), as Joda's DateTimeZone.getOffsetFromLocal;
//   - a pattern without a year takes now's year, but a December date read
//     in January last year's and a January date read in December next
//     year's, as Logstash's JodaParser (see Parse).
//
// Where gostash goes further: fractions keep nanoseconds (Joda keeps
// milliseconds; Logstash's date filter truncates to them).

// JodaParser is a compiled Joda-Time pattern for parsing. Compile it once
// (at config time) and Parse per event; it is safe for concurrent use.
type JodaParser struct {
	pattern string
	steps   []parseStep
	hasYear bool // y, Y or x: otherwise the year is guessed
	hasZone bool // Z, ZZ, ZZZ or z: the text names its zone
}

type stepKind uint8

const (
	stepLiteral stepKind = iota
	stepNumber
	stepTwoDigitYear
	stepFraction
	stepText
	stepOffset   // Z, ZZ
	stepZoneID   // ZZZ
	stepZoneName // z
)

type parseStep struct {
	kind    stepKind
	tok     dateTok
	max     int  // digits
	signed  bool // a leading + or -
	lenient bool // yy: more than two digits is a full year
	lit     string
	names   *nameTable // stepText
}

// CompileJodaParser compiles a Joda-Time pattern for parsing with the
// month and day names of locale (nil is English). Letters outside Joda's
// table are an error, as in Joda.
func CompileJodaParser(pattern string, locale *DateLocale) (*JodaParser, error) {
	if pattern == "" {
		// Joda refuses it too ("Invalid pattern specification").
		return nil, fmt.Errorf("Joda pattern %q is empty: give one such as %q", pattern, "yyyy-MM-dd HH:mm:ss")
	}
	if locale == nil {
		locale = englishLocale
	}
	type token struct {
		c   byte
		n   int
		lit string
	}
	var toks []token
	err := scanJoda(pattern, func(c byte, n int) error {
		toks = append(toks, token{c: c, n: n})
		return nil
	}, func(lit []byte) {
		if len(lit) > 0 {
			toks = append(toks, token{lit: string(lit)})
		}
	})
	if err != nil {
		return nil, err
	}
	p := &JodaParser{pattern: pattern}
	for i, t := range toks {
		if t.c == 0 {
			p.steps = append(p.steps, parseStep{kind: stepLiteral, lit: t.lit})
			continue
		}
		nextNumeric := i+1 < len(toks) && isNumericJodaToken(toks[i+1].c, toks[i+1].n)
		s, err := parseStepFor(t.c, t.n, nextNumeric, locale)
		if err != nil {
			return nil, fmt.Errorf("Joda pattern %q: %w", pattern, err)
		}
		switch t.c {
		case 'y', 'Y', 'x':
			p.hasYear = true
		case 'Z', 'z':
			p.hasZone = true
		}
		p.steps = append(p.steps, s)
	}
	return p, nil
}

// isNumericJodaToken is Joda's DateTimeFormat.isNumericToken.
func isNumericJodaToken(c byte, n int) bool {
	switch c {
	case 'c', 'C', 'x', 'y', 'Y', 'd', 'h', 'H', 'm', 's', 'S', 'e', 'D', 'F', 'W', 'w', 'k', 'K':
		return true
	case 'M':
		return n <= 2
	}
	return false
}

func parseStepFor(c byte, n int, nextNumeric bool, loc *DateLocale) (parseStep, error) {
	num := func(tok dateTok, max int) parseStep { return parseStep{kind: stepNumber, tok: tok, max: max} }
	switch c {
	case 'G':
		return parseStep{kind: stepText, tok: dtEra, names: &loc.eras}, nil
	case 'C':
		return num(dtCentury, n), nil
	case 'y', 'Y', 'x':
		tok := dtYear
		switch c {
		case 'Y':
			tok = dtYearOfEra
		case 'x':
			tok = dtWeekYear
		}
		if n == 2 {
			return parseStep{kind: stepTwoDigitYear, tok: tok, max: 2, lenient: !nextNumeric}, nil
		}
		max := 9
		if nextNumeric {
			max = n
		}
		return parseStep{kind: stepNumber, tok: tok, max: max, signed: c != 'Y'}, nil
	case 'w':
		return num(dtWeek, 2), nil
	case 'e':
		return num(dtDayOfWeek, 1), nil
	case 'E':
		return parseStep{kind: stepText, tok: dtDayOfWeek, names: &loc.days}, nil
	case 'D':
		return num(dtDayOfYear, 3), nil
	case 'M':
		if n >= 3 {
			return parseStep{kind: stepText, tok: dtMonth, names: &loc.months}, nil
		}
		return num(dtMonth, 2), nil
	case 'd':
		return num(dtDay, 2), nil
	case 'a':
		return parseStep{kind: stepText, tok: dtAMPM, names: &loc.ampm}, nil
	case 'K':
		return num(dtHourOfHalfDay, 2), nil
	case 'h':
		return num(dtClockHourOfHalfDay, 2), nil
	case 'H':
		return num(dtHour, 2), nil
	case 'k':
		return num(dtClockHour, 2), nil
	case 'm':
		return num(dtMinute, 2), nil
	case 's':
		return num(dtSecond, 2), nil
	case 'S':
		return parseStep{kind: stepFraction, tok: dtFraction, max: n}, nil
	case 'z':
		return parseStep{kind: stepZoneName}, nil
	case 'Z':
		if n <= 2 {
			return parseStep{kind: stepOffset}, nil
		}
		return parseStep{kind: stepZoneID}, nil
	}
	return parseStep{}, fmt.Errorf("%q is not a Joda pattern letter (quote text with '...')", string(c))
}

// MustCompileJodaParser is CompileJodaParser for constants; it panics on
// error.
func MustCompileJodaParser(pattern string, locale *DateLocale) *JodaParser {
	p, err := CompileJodaParser(pattern, locale)
	if err != nil {
		panic(err)
	}
	return p
}

// String returns the pattern as written.
func (p *JodaParser) String() string { return p.pattern }

// HasYear says whether the pattern reads a year; without one Parse
// guesses it.
func (p *JodaParser) HasYear() bool { return p.hasYear }

// HasZone says whether the pattern reads an offset or a zone, which then
// wins over the zone given to Parse.
func (p *JodaParser) HasZone() bool { return p.hasZone }

// dateFields collects what the steps read.
type dateFields struct {
	year, yearOfEra, weekYear, century   int
	month, day, dayOfYear, week, weekday int
	hour, hourOfHalfDay, minute, second  int
	nsec                                 int
	era, halfDay                         int // 1 = AD / PM
	set                                  fieldSet
	offset                               int // seconds east of UTC
	loc                                  *time.Location
}

type fieldSet uint16

const (
	setYear fieldSet = 1 << iota
	setYearOfEra
	setWeekYear
	setCentury
	setEra
	setMonth
	setDay
	setDayOfYear
	setWeek
	setWeekday
	setHour
	setHourOfHalfDay
	setHalfDay
	setOffset
)

// Parse reads text with the pattern. A text that names no offset or zone
// is a local time in loc (nil is UTC). A pattern without a year takes the
// year of now() (nil is time.Now), except that a December date read in
// January is last year's and a January date read in December next year's,
// as Logstash's date filter guesses: so "Dec 31 23:59:59" read on 2
// January is last year's, and "Mar 15" read in December this year's. now's
// year and month are those of its own zone: time.Now's is the machine's,
// as Logstash's clock is in the JVM's default zone. now is only called for
// such patterns and for two-digit years. ok is false when the text does
// not match the pattern or names a time that does not exist (29 February
// in a common year, too, as Joda fails it).
func (p *JodaParser) Parse(text string, loc *time.Location, now func() time.Time) (t time.Time, ok bool) {
	f := dateFields{month: 1, day: 1, era: 1}
	pos := 0
	for i := range p.steps {
		s := &p.steps[i]
		var ok bool
		switch s.kind {
		case stepLiteral:
			if len(text)-pos < len(s.lit) {
				return time.Time{}, false
			}
			if text[pos:pos+len(s.lit)] != s.lit && !strings.EqualFold(text[pos:pos+len(s.lit)], s.lit) {
				return time.Time{}, false
			}
			pos += len(s.lit)
			continue
		case stepNumber:
			var v int
			v, pos, ok = readNumber(text, pos, s.max, s.signed)
			if ok {
				ok = f.setNumber(s.tok, v)
			}
		case stepTwoDigitYear:
			start := pos
			var v int
			if s.lenient {
				v, pos, ok = readNumber(text, pos, 9, true)
			} else {
				v, pos, ok = readNumber(text, pos, 2, false)
			}
			if ok && pos-start == 2 && text[start] != '+' && text[start] != '-' {
				if now == nil {
					now = time.Now
				}
				v = twoDigitYear(v, now().Year()-30)
			}
			if ok {
				ok = f.setNumber(s.tok, v)
			}
		case stepFraction:
			f.nsec, pos, ok = readFraction(text, pos, s.max)
		case stepText:
			var v int
			v, pos, ok = s.names.match(text, pos)
			if ok {
				ok = f.setNumber(s.tok, v)
			}
		case stepOffset:
			f.offset, pos, ok = readOffset(text, pos)
			f.set |= setOffset
		case stepZoneID:
			end := pos
			for end < len(text) && isZoneIDByte(text[end]) {
				end++
			}
			f.loc, ok = LookupZone(text[pos:end])
			pos = end
		case stepZoneName:
			f.loc, pos, ok = lookupZoneName(text, pos)
		}
		if !ok {
			return time.Time{}, false
		}
	}
	if pos != len(text) {
		return time.Time{}, false
	}
	if f.loc != nil {
		loc = f.loc
	}
	if loc == nil {
		loc = time.UTC
	}
	if p.hasYear {
		sec, ok := f.resolve(f.calendarYear(), loc)
		if !ok {
			return time.Time{}, false
		}
		return time.Unix(sec, int64(f.nsec)), true
	}
	return f.guessYear(loc, now)
}

// setNumber checks the range of a field, as Joda's strict fields do, and
// stores it.
func (f *dateFields) setNumber(tok dateTok, v int) bool {
	in := func(lo, hi int) bool { return v >= lo && v <= hi }
	switch tok {
	case dtYear:
		f.year, f.set = v, f.set|setYear
		return in(-292275054, 292278993)
	case dtYearOfEra:
		f.yearOfEra, f.set = v, f.set|setYearOfEra
		return in(1, 292278993)
	case dtWeekYear:
		f.weekYear, f.set = v, f.set|setWeekYear
		return in(-292275054, 292278993)
	case dtCentury:
		f.century, f.set = v, f.set|setCentury
		return in(0, 2922789)
	case dtEra:
		f.era, f.set = v, f.set|setEra
	case dtMonth:
		f.month, f.set = v, f.set|setMonth
		return in(1, 12)
	case dtDay:
		f.day, f.set = v, f.set|setDay
		return in(1, 31)
	case dtDayOfYear:
		f.dayOfYear, f.set = v, f.set|setDayOfYear
		return in(1, 366)
	case dtWeek:
		f.week, f.set = v, f.set|setWeek
		return in(1, 53)
	case dtDayOfWeek:
		f.weekday, f.set = v, f.set|setWeekday
		return in(1, 7)
	case dtAMPM:
		f.halfDay, f.set = v, f.set|setHalfDay
	case dtHour:
		f.hour, f.set = v, f.set|setHour
		return in(0, 23)
	case dtClockHour:
		f.hour, f.set = v%24, f.set|setHour
		return in(1, 24)
	case dtHourOfHalfDay:
		f.hourOfHalfDay, f.set = v, f.set|setHourOfHalfDay
		return in(0, 11)
	case dtClockHourOfHalfDay:
		f.hourOfHalfDay, f.set = v%12, f.set|setHourOfHalfDay
		return in(1, 12)
	case dtMinute:
		f.minute = v
		return in(0, 59)
	case dtSecond:
		f.second = v
		return in(0, 59)
	}
	return true
}

// calendarYear is the proleptic year the fields name.
func (f *dateFields) calendarYear() int {
	y := f.year
	switch {
	case f.set&setYear != 0:
	case f.set&setYearOfEra != 0:
		y = f.yearOfEra
		if f.era == 0 {
			y = 1 - y
		}
	case f.set&setWeekYear != 0:
		y = f.weekYear
	}
	if f.set&setCentury != 0 {
		y = f.century*100 + (y%100+100)%100
	}
	return y
}

// resolve computes the instant of the fields in year, in loc unless the
// text had an offset.
func (f *dateFields) resolve(year int, loc *time.Location) (int64, bool) {
	wall, ok := f.wall(year)
	if !ok {
		return 0, false
	}
	return f.instant(wall, loc)
}

// wall is the local wall time (seconds as if it were UTC) the fields name
// in year; ok is false when the calendar has no such day.
func (f *dateFields) wall(year int) (int64, bool) {
	var days int64
	switch {
	case f.set&setWeekYear != 0 || f.set&(setWeek|setMonth|setDay|setDayOfYear) == setWeek:
		wy := year
		if f.set&setWeekYear != 0 {
			wy = f.weekYear
		}
		week, wd := 1, 1
		if f.set&setWeek != 0 {
			week = f.week
		}
		if f.set&setWeekday != 0 {
			wd = f.weekday
		}
		if week > isoWeeksIn(wy) {
			return 0, false
		}
		// ISO week 1 holds 4 January.
		jan4 := daysFromCivil(wy, 1, 4)
		days = jan4 - int64(weekdayOf(jan4)-1) + int64(week-1)*7 + int64(wd-1)
	case f.set&setDayOfYear != 0:
		if f.dayOfYear > 365 && !isLeap(year) {
			return 0, false
		}
		days = daysFromCivil(year, 1, 1) + int64(f.dayOfYear-1)
	default:
		if f.day > daysIn(f.month, year) {
			return 0, false
		}
		days = daysFromCivil(year, f.month, f.day)
		if f.set&setWeekday != 0 {
			days += int64(f.weekday - weekdayOf(days))
		}
	}
	hour := f.hour
	if f.set&(setHourOfHalfDay|setHalfDay) != 0 {
		if f.set&setHour == 0 || f.set&setHourOfHalfDay != 0 {
			hour = f.hourOfHalfDay
		}
		hour = hour%12 + 12*f.halfDay
	}
	return days*86400 + int64(hour*3600+f.minute*60+f.second), true
}

// instant places a wall time in loc, or at the text's offset; ok is false
// in a DST gap.
func (f *dateFields) instant(wall int64, loc *time.Location) (int64, bool) {
	if f.set&setOffset != 0 {
		return wall - int64(f.offset), true
	}
	return wallToUnix(wall, loc)
}

// guessYear resolves fields without a year in the year Logstash's
// JodaParser.parseAndGuessYear picks: now's, or its neighbour across New
// Year. A time in that year's DST gap fails, as Joda fails it, rather than
// moving to another year.
func (f *dateFields) guessYear(loc *time.Location, now func() time.Time) (time.Time, bool) {
	if now == nil {
		now = time.Now
	}
	n := now()
	y := n.Year()
	wall, ok := f.wall(y)
	if !ok {
		return time.Time{}, false
	}
	// The month the fields name in now's year (a day of year or a week
	// names one too), as Joda reads it before setting the year.
	switch m := time.Unix(wall, 0).UTC().Month(); {
	case m == time.December && n.Month() == time.January:
		wall, ok = f.wall(y - 1)
	case m == time.January && n.Month() == time.December:
		wall, ok = f.wall(y + 1)
	}
	if !ok {
		return time.Time{}, false
	}
	sec, ok := f.instant(wall, loc)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(sec, int64(f.nsec)), true
}

// wallToUnix turns a local wall time (seconds as if it were UTC) into an
// instant in loc. In a gap (the hour skipped in spring) there is none; in
// an overlap (the hour repeated in autumn) Joda takes the earlier one,
// which keeps the offset in force before the transition.
func wallToUnix(wall int64, loc *time.Location) (int64, bool) {
	if loc == time.UTC {
		return wall, true
	}
	// Offsets in force a day around; transitions are further apart.
	before := offsetAt(wall-86400, loc)
	after := offsetAt(wall+86400, loc)
	if before == after {
		u := wall - int64(before)
		if offsetAt(u, loc) == before {
			return u, true
		}
		// Two transitions within two days: look closer.
		before, after = offsetAt(wall-int64(before)-3600*3, loc), offsetAt(wall-int64(before)+3600*3, loc)
	}
	u1, u2 := wall-int64(before), wall-int64(after)
	ok1, ok2 := offsetAt(u1, loc) == before, offsetAt(u2, loc) == after
	switch {
	case ok1 && ok2:
		return min(u1, u2), true
	case ok1:
		return u1, true
	case ok2:
		return u2, true
	}
	return 0, false // a gap
}

func offsetAt(unix int64, loc *time.Location) int {
	_, off := time.Unix(unix, 0).In(loc).Zone()
	return off
}

// readNumber reads 1 to max ASCII digits at pos, with a sign first when
// signed (the sign does not count).
func readNumber(s string, pos, max int, signed bool) (v, end int, ok bool) {
	neg := false
	if signed && pos < len(s) && (s[pos] == '-' || s[pos] == '+') {
		neg = s[pos] == '-'
		pos++
	}
	end = pos
	for end < len(s) && end-pos < max && s[end] >= '0' && s[end] <= '9' {
		v = v*10 + int(s[end]-'0')
		end++
	}
	if end == pos {
		return 0, pos, false
	}
	if neg {
		v = -v
	}
	return v, end, true
}

// readFraction reads 1 to max digits as a fraction of a second, in
// nanoseconds; digits past the ninth are read and dropped.
func readFraction(s string, pos, max int) (nsec, end int, ok bool) {
	end = pos
	scale := 100000000
	for end < len(s) && end-pos < max && s[end] >= '0' && s[end] <= '9' {
		nsec += int(s[end]-'0') * scale
		scale /= 10
		end++
	}
	return nsec, end, end > pos
}

// readOffset reads Joda's Z and ZZ: "Z", or a sign, two hour digits and
// optionally two minute digits, with or without a colon.
func readOffset(s string, pos int) (off, end int, ok bool) {
	if pos < len(s) && (s[pos] == 'Z' || s[pos] == 'z') {
		return 0, pos + 1, true
	}
	if pos+3 > len(s) || (s[pos] != '+' && s[pos] != '-') || !isDigit(s[pos+1]) || !isDigit(s[pos+2]) {
		return 0, pos, false
	}
	neg := s[pos] == '-'
	h := int(s[pos+1]-'0')*10 + int(s[pos+2]-'0')
	if h > 23 {
		return 0, pos, false
	}
	end = pos + 3
	m := 0
	if end < len(s) && (s[end] == ':' || isDigit(s[end])) {
		i := end
		if s[i] == ':' {
			i++
		}
		if i+2 > len(s) || !isDigit(s[i]) || !isDigit(s[i+1]) {
			if s[end] == ':' {
				return 0, pos, false
			}
		} else {
			m = int(s[i]-'0')*10 + int(s[i+1]-'0')
			if m > 59 {
				return 0, pos, false
			}
			end = i + 2
		}
	}
	off = h*3600 + m*60
	if neg {
		off = -off
	}
	return off, end, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isZoneIDByte(c byte) bool {
	return isASCIILetter(c) || isDigit(c) || c == '/' || c == '_' || c == '-' || c == '+'
}

// twoDigitYear is Joda's TwoDigitYear: v in the 100 years from pivot-50.
func twoDigitYear(v, pivot int) int {
	low := pivot - 50
	var t int
	if low >= 0 {
		t = low % 100
	} else {
		t = 99 + (low+1)%100
	}
	if v < t {
		v += 100
	}
	return v + low - t
}

// ---- calendar arithmetic (proleptic Gregorian) ----

// daysFromCivil is the number of days from 1970-01-01 to y-m-d.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// weekdayOf is the ISO weekday (1 = Monday) of a day number.
func weekdayOf(days int64) int {
	return int(((days+3)%7+7)%7) + 1 // 1970-01-01 was a Thursday
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(m, y int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// isoWeeksIn is 53 when the ISO year starts or (in a leap year) ends on a
// Thursday, else 52.
func isoWeeksIn(y int) int {
	wd := weekdayOf(daysFromCivil(y, 1, 1))
	if wd == 4 || wd == 3 && isLeap(y) {
		return 53
	}
	return 52
}

// ---- zones ----

var zoneCache struct {
	m sync.Map // name → *time.Location (nil: not a zone)
	n atomic.Int32
}

// maxCachedZones bounds the cache that hostile zone names could grow.
const maxCachedZones = 1024

// LookupZone returns the IANA time zone called name (Europe/Berlin, UTC,
// Etc/GMT+5), loading it once: for zones named per event (Joda's ZZZ,
// a timezone from a %{field}). "Local" and "" are not zones here.
func LookupZone(name string) (*time.Location, bool) {
	if v, ok := zoneCache.m.Load(name); ok {
		loc := v.(*time.Location)
		return loc, loc != nil
	}
	if name == "" || name == "Local" || strings.Contains(name, "..") {
		return nil, false
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = nil
	}
	if zoneCache.n.Load() < maxCachedZones {
		// The name may share an event's memory: keep a copy.
		if _, loaded := zoneCache.m.LoadOrStore(strings.Clone(name), loc); !loaded {
			zoneCache.n.Add(1)
		}
	}
	return loc, loc != nil
}

// zoneNames is Joda's default table of zone abbreviations for z: the
// abbreviations map to zones, not to fixed offsets (EST in July is read
// as New York's summer time, as in Joda).
var zoneNames = sync.OnceValue(func() *nameTable {
	t := &nameTable{}
	for i, n := range []string{"UTC", "GMT", "EST", "EDT", "CST", "CDT", "MST", "MDT", "PST", "PDT"} {
		t.add(n, i/2)
	}
	t.finish()
	return t
})

var zoneNameIDs = [...]string{"UTC", "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"}

func lookupZoneName(s string, pos int) (*time.Location, int, bool) {
	v, end, ok := zoneNames().match(s, pos)
	if !ok {
		return nil, pos, false
	}
	loc, ok := LookupZone(zoneNameIDs[v])
	return loc, end, ok
}

// ---- names ----

// nameTable matches names, whatever their case, longest first.
type nameTable struct {
	byFirst [128][]nameEntry // by lower-cased first ASCII byte
	other   []nameEntry      // names that start with another byte
}

type nameEntry struct {
	name  string
	value int
}

func (t *nameTable) add(name string, value int) {
	e := nameEntry{name, value}
	c := name[0]
	if c < 128 {
		c = lowerASCII(c)
		t.byFirst[c] = append(t.byFirst[c], e)
		return
	}
	t.other = append(t.other, e)
}

func (t *nameTable) finish() {
	byLen := func(l []nameEntry) {
		sort.SliceStable(l, func(i, j int) bool { return len(l[i].name) > len(l[j].name) })
	}
	for i := range t.byFirst {
		byLen(t.byFirst[i])
	}
	byLen(t.other)
}

func (t *nameTable) match(s string, pos int) (value, end int, ok bool) {
	if pos >= len(s) {
		return 0, pos, false
	}
	l := t.other
	if c := s[pos]; c < 128 {
		l = t.byFirst[lowerASCII(c)]
	}
	rest := s[pos:]
	for _, e := range l {
		if len(rest) >= len(e.name) && strings.EqualFold(rest[:len(e.name)], e.name) {
			return e.value, pos + len(e.name), true
		}
	}
	return 0, pos, false
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// ParseISO8601 reads the ISO 8601 forms Logstash's date filter accepts
// for "ISO8601" (Joda's ISODateTimeFormat.dateTimeParser and its
// "yyyy-MM-dd HH:mm:ss.SSS" cousins): a date (2024, 2024-03, 2024-03-05,
// the ordinal 2024-065, the week date 2024-W10-2), then optionally T or
// a space and a time (HH, HH:mm, HH:mm:ss, with a fraction of 1 to 9
// digits after . or ,), then optionally Z or an offset (+HH, +HHmm,
// +HH:mm). A text without an offset is a local time in loc (nil is UTC).
func ParseISO8601(s string, loc *time.Location) (time.Time, bool) {
	f := dateFields{month: 1, day: 1, era: 1}
	var ok bool
	pos := 0
	if f.year, pos, ok = readNumber(s, pos, 9, true); !ok || pos < 4 {
		return time.Time{}, false
	}
	if pos < len(s) && s[pos] == '-' {
		pos++
		switch {
		case pos < len(s) && s[pos] == 'W':
			if f.week, pos, ok = readFixed(s, pos+1, 2); !ok || !f.setNumber(dtWeek, f.week) {
				return time.Time{}, false
			}
			f.weekYear, f.set = f.year, f.set|setWeekYear
			if pos < len(s) && s[pos] == '-' {
				if f.weekday, pos, ok = readFixed(s, pos+1, 1); !ok || !f.setNumber(dtDayOfWeek, f.weekday) {
					return time.Time{}, false
				}
			}
		case pos+3 <= len(s) && isDigit(s[pos+2]) && (pos+3 == len(s) || !isDigit(s[pos+3])):
			if f.dayOfYear, pos, ok = readFixed(s, pos, 3); !ok || !f.setNumber(dtDayOfYear, f.dayOfYear) {
				return time.Time{}, false
			}
		default:
			if f.month, pos, ok = readFixed(s, pos, 2); !ok || !f.setNumber(dtMonth, f.month) {
				return time.Time{}, false
			}
			if pos < len(s) && s[pos] == '-' {
				if f.day, pos, ok = readFixed(s, pos+1, 2); !ok || !f.setNumber(dtDay, f.day) {
					return time.Time{}, false
				}
			}
		}
	}
	if pos < len(s) && (s[pos] == 'T' || s[pos] == 't' || s[pos] == ' ') {
		pos++
		var v int
		if v, pos, ok = readFixed(s, pos, 2); !ok || !f.setNumber(dtHour, v) {
			return time.Time{}, false
		}
		if pos < len(s) && s[pos] == ':' {
			if f.minute, pos, ok = readFixed(s, pos+1, 2); !ok || f.minute > 59 {
				return time.Time{}, false
			}
			if pos < len(s) && s[pos] == ':' {
				if f.second, pos, ok = readFixed(s, pos+1, 2); !ok || f.second > 59 {
					return time.Time{}, false
				}
				if pos < len(s) && (s[pos] == '.' || s[pos] == ',') {
					if f.nsec, pos, ok = readFraction(s, pos+1, 9); !ok {
						return time.Time{}, false
					}
				}
			}
		}
		if pos < len(s) {
			if f.offset, pos, ok = readOffset(s, pos); !ok {
				return time.Time{}, false
			}
			f.set |= setOffset
		}
	}
	if pos != len(s) {
		return time.Time{}, false
	}
	if loc == nil {
		loc = time.UTC
	}
	sec, ok := f.resolve(f.year, loc)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(sec, int64(f.nsec)), true
}

// readFixed reads exactly n digits.
func readFixed(s string, pos, n int) (v, end int, ok bool) {
	if pos+n > len(s) {
		return 0, pos, false
	}
	for i := pos; i < pos+n; i++ {
		if !isDigit(s[i]) {
			return 0, pos, false
		}
		v = v*10 + int(s[i]-'0')
	}
	return v, pos + n, true
}
