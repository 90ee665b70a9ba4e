package sdk

import (
	"fmt"
	"strings"
	"time"
)

// Two date-pattern languages reach gostash from Logstash configurations:
// Joda-Time's DateTimeFormat in `%{+PATTERN}` and java.time's
// DateTimeFormatter in `%{{PATTERN}}`. Their letters look alike and differ
// where it hurts: Joda's `YYYY` is the year of era (the same as `yyyy`),
// java.time's `YYYY` is the week-based year, which is one off on the last
// days of December. Both compile here into the same list of items, printed
// in UTC without allocating.

// JodaFormat is a compiled Joda-Time DateTimeFormat pattern. Compile it
// once (at config time) and Append per event.
type JodaFormat struct {
	pattern string
	df      dateFormat
}

// CompileJoda compiles a Joda-Time pattern such as "YYYY.MM.dd" or
// "xxxx.ww". Letters outside Joda's table are an error, as in Joda.
func CompileJoda(pattern string) (*JodaFormat, error) {
	var b dateFormatBuilder
	err := scanJoda(pattern, func(c byte, n int) error {
		if err := b.joda(c, n); err != nil {
			return fmt.Errorf("Joda pattern %q: %w", pattern, err)
		}
		return nil
	}, b.literal)
	if err != nil {
		return nil, err
	}
	return &JodaFormat{pattern: pattern, df: b.df}, nil
}

// scanJoda splits a Joda-Time pattern into runs of one letter (letter is
// called with the letter and its count) and literal text, as Joda's
// DateTimeFormat does for both formatting and parsing: quotes switch
// letters to text, two quotes in a row are one quote, and an unclosed
// quote runs to the end
// (Joda does not complain).
func scanJoda(pattern string, letter func(c byte, n int) error, literal func(lit []byte)) error {
	var lit []byte
	for i := 0; i < len(pattern); {
		c := pattern[i]
		if isASCIILetter(c) {
			j := i + 1
			for j < len(pattern) && pattern[j] == c {
				j++
			}
			literal(lit)
			lit = lit[:0]
			if err := letter(c, j-i); err != nil {
				return err
			}
			i = j
			continue
		}
		quoted := false
		for ; i < len(pattern); i++ {
			c := pattern[i]
			switch {
			case c == '\'':
				if i+1 < len(pattern) && pattern[i+1] == '\'' {
					lit = append(lit, '\'')
					i++
				} else {
					quoted = !quoted
				}
			case !quoted && isASCIILetter(c):
				goto next
			default:
				lit = append(lit, c)
			}
		}
	next:
	}
	literal(lit)
	return nil
}

// MustCompileJoda is CompileJoda for constants; it panics on error.
func MustCompileJoda(pattern string) *JodaFormat {
	f, err := CompileJoda(pattern)
	if err != nil {
		panic(err)
	}
	return f
}

// String returns the pattern as written.
func (f *JodaFormat) String() string { return f.pattern }

// Append appends t, in UTC, formatted by the pattern. Joda keeps
// milliseconds, so fractions past three digits print as zeros.
func (f *JodaFormat) Append(dst []byte, t time.Time) []byte {
	t = t.UTC()
	if ns := t.Nanosecond(); ns%1e6 != 0 {
		t = t.Add(-time.Duration(ns % 1e6))
	}
	return f.df.append(dst, t)
}

func (b *dateFormatBuilder) joda(c byte, n int) error {
	switch c {
	case 'G':
		b.add(dtEra, textShort)
	case 'C':
		b.add(dtCentury, n)
	case 'Y', 'y', 'x':
		kind := dtYearOfEra // Joda's Y: the same as y for any year since 1 AD
		switch c {
		case 'y':
			kind = dtYear
		case 'x':
			kind = dtWeekYear
		}
		if n == 2 {
			b.add(kind, twoDigits)
		} else {
			b.add(kind, n)
		}
	case 'w':
		b.add(dtWeek, n)
	case 'e':
		b.add(dtDayOfWeek, n)
	case 'E':
		b.add(dtDayOfWeek, jodaText(n))
	case 'D':
		b.add(dtDayOfYear, n)
	case 'M':
		if n >= 3 {
			b.add(dtMonth, jodaText(n))
		} else {
			b.add(dtMonth, n)
		}
	case 'd':
		b.add(dtDay, n)
	case 'a':
		b.add(dtAMPM, textShort)
	case 'K':
		b.add(dtHourOfHalfDay, n)
	case 'h':
		b.add(dtClockHourOfHalfDay, n)
	case 'H':
		b.add(dtHour, n)
	case 'k':
		b.add(dtClockHour, n)
	case 'm':
		b.add(dtMinute, n)
	case 's':
		b.add(dtSecond, n)
	case 'S':
		b.add(dtFraction, n)
	case 'z':
		if n >= 4 {
			b.literal([]byte("Coordinated Universal Time"))
		} else {
			b.literal([]byte("UTC"))
		}
	case 'Z':
		switch n {
		case 1:
			b.literal([]byte("+0000"))
		case 2:
			b.literal([]byte("+00:00"))
		default:
			b.literal([]byte("UTC")) // the zone id
		}
	default:
		return fmt.Errorf("%q is not a Joda pattern letter (quote text with '...')", string(c))
	}
	return nil
}

// jodaText picks Joda's text form: full from 4 letters on, else short.
func jodaText(n int) int {
	if n >= 4 {
		return textFull
	}
	return textShort
}

// javaTimeFormat is a compiled java.time DateTimeFormatter pattern, for
// `%{{PATTERN}}`. Week fields follow ISO (weeks start on Monday, week 1
// holds 4 days or more): Logstash takes them from the JVM's locale, and
// ISO is what its documentation shows.
type javaTimeFormat struct {
	pattern string
	df      dateFormat
}

func compileJavaTime(pattern string) (*javaTimeFormat, error) {
	var b dateFormatBuilder
	optional := 0
	for i := 0; i < len(pattern); {
		c := pattern[i]
		switch {
		case isASCIILetter(c):
			j := i + 1
			for j < len(pattern) && pattern[j] == c {
				j++
			}
			if err := b.javaTime(c, j-i); err != nil {
				return nil, fmt.Errorf("java.time pattern %q: %w", pattern, err)
			}
			i = j
		case c == '\'':
			j := i + 1
			var lit []byte
			for ; j < len(pattern); j++ {
				if pattern[j] == '\'' {
					if j+1 < len(pattern) && pattern[j+1] == '\'' {
						lit = append(lit, '\'')
						j++
						continue
					}
					break
				}
				lit = append(lit, pattern[j])
			}
			if j >= len(pattern) {
				return nil, fmt.Errorf("java.time pattern %q: a quoted text is not closed", pattern)
			}
			if j == i+1 {
				lit = append(lit, '\'') // '' outside quotes
			}
			b.literal(lit)
			i = j + 1
		case c == '[':
			// An optional section prints when its fields are known,
			// and every field of an instant in UTC is.
			optional++
			i++
		case c == ']':
			if optional == 0 {
				return nil, fmt.Errorf("java.time pattern %q: ']' without '['", pattern)
			}
			optional--
			i++
		case c == '{' || c == '}' || c == '#':
			return nil, fmt.Errorf("java.time pattern %q: %q is reserved; quote it as '%c'", pattern, string(c), c)
		default:
			b.literal([]byte{c})
			i++
		}
	}
	return &javaTimeFormat{pattern: pattern, df: b.df}, nil
}

func (f *javaTimeFormat) Append(dst []byte, t time.Time) []byte {
	return f.df.append(dst, t.UTC())
}

func (b *dateFormatBuilder) javaTime(c byte, n int) error {
	tooMany := func() error {
		return fmt.Errorf("too many pattern letters: %s", strings.Repeat(string(c), n))
	}
	// Letters whose count picks a number (1, 2) or a text (3, 4, 5).
	numberOrText := func(kind dateTok) error {
		switch {
		case n <= 2:
			b.add(kind, n)
		case n <= 5:
			b.addText(kind, n)
		default:
			return tooMany()
		}
		return nil
	}
	// Letters printed as numbers of at most max digits.
	number := func(kind dateTok, max int) error {
		if n > max {
			return tooMany()
		}
		b.add(kind, n)
		return nil
	}
	switch c {
	case 'G':
		if n > 5 {
			return tooMany()
		}
		b.addText(dtEra, n)
	case 'u', 'y', 'Y':
		kind := dtYear
		switch c {
		case 'y':
			kind = dtYearOfEra
		case 'Y':
			kind = dtWeekYear // the trap: not the calendar year
		}
		switch {
		case n == 2:
			b.add(kind, twoDigits)
		case n < 4:
			b.add(kind, n)
		default:
			b.add(kind, n)
			b.df.items[len(b.df.items)-1].plus = true
		}
	case 'M', 'L':
		return numberOrText(dtMonth)
	case 'Q', 'q':
		return numberOrText(dtQuarter)
	case 'E':
		if n > 5 {
			return tooMany()
		}
		b.addText(dtDayOfWeek, max(n, 3))
	case 'e':
		return numberOrText(dtDayOfWeek)
	case 'c':
		if n == 2 {
			return fmt.Errorf(`"cc" is not a pattern (use c, ccc, cccc or ccccc)`)
		}
		return numberOrText(dtDayOfWeek)
	case 'd':
		return number(dtDay, 2)
	case 'D':
		return number(dtDayOfYear, 3)
	case 'w':
		return number(dtWeek, 2)
	case 'W':
		return number(dtWeekOfMonth, 1)
	case 'a':
		if n > 1 {
			return tooMany()
		}
		b.add(dtAMPM, textShort)
	case 'h':
		return number(dtClockHourOfHalfDay, 2)
	case 'K':
		return number(dtHourOfHalfDay, 2)
	case 'k':
		return number(dtClockHour, 2)
	case 'H':
		return number(dtHour, 2)
	case 'm':
		return number(dtMinute, 2)
	case 's':
		return number(dtSecond, 2)
	case 'S':
		return number(dtFraction, 9)
	case 'A':
		b.add(dtMilliOfDay, n)
	case 'n':
		b.add(dtNanoOfSecond, n)
	case 'N':
		b.add(dtNanoOfDay, n)
	// The zone is always UTC, which java.time names by its offset id "Z".
	case 'z':
		if n > 4 {
			return tooMany()
		}
		b.literal([]byte("Z"))
	case 'v':
		if n != 1 && n != 4 {
			return fmt.Errorf("pattern letter v must appear 1 or 4 times")
		}
		b.literal([]byte("Z"))
	case 'V':
		if n != 2 {
			return fmt.Errorf("pattern letter V must appear 2 times")
		}
		b.literal([]byte("Z"))
	case 'O':
		if n != 1 && n != 4 {
			return fmt.Errorf("pattern letter O must appear 1 or 4 times")
		}
		b.literal([]byte("GMT"))
	case 'X':
		if n > 5 {
			return tooMany()
		}
		b.literal([]byte("Z"))
	case 'x':
		switch {
		case n > 5:
			return tooMany()
		case n == 1:
			b.literal([]byte("+00"))
		case n%2 == 0:
			b.literal([]byte("+0000"))
		default:
			b.literal([]byte("+00:00"))
		}
	case 'Z':
		switch {
		case n > 5:
			return tooMany()
		case n == 4:
			b.literal([]byte("GMT"))
		case n == 5:
			b.literal([]byte("Z"))
		default:
			b.literal([]byte("+0000"))
		}
	case 'B', 'F', 'g', 'p':
		return fmt.Errorf("pattern letter %c is not supported by gostash", c)
	default:
		return fmt.Errorf("%q is not a java.time pattern letter (quote text with '...')", string(c))
	}
	return nil
}

// ---- the shared compiled form ----

type dateTok uint8

const (
	dtLiteral dateTok = iota
	dtEra
	dtCentury
	dtYear      // proleptic: 0 is 1 BC
	dtYearOfEra // never below 1
	dtWeekYear  // ISO week-based year
	dtWeek      // ISO week of the week-based year
	dtWeekOfMonth
	dtDayOfWeek // 1 = Monday … 7 = Sunday
	dtDayOfYear
	dtMonth
	dtQuarter
	dtDay
	dtAMPM
	dtHourOfHalfDay      // 0-11
	dtClockHourOfHalfDay // 1-12
	dtHour               // 0-23
	dtClockHour          // 1-24
	dtMinute
	dtSecond
	dtFraction // width = number of digits, truncated
	dtMilliOfDay
	dtNanoOfSecond
	dtNanoOfDay
)

// Widths below zero select a form instead of a zero-padding.
const (
	twoDigits  = -1 // the last two digits of a year
	textShort  = -3 // "Tue", "Jul", "AD"
	textFull   = -4 // "Tuesday", "July", "Anno Domini"
	textNarrow = -5 // "T", "J", "A"
)

type dateItem struct {
	tok   dateTok
	width int    // zero-padding, or one of the forms above
	plus  bool   // java.time: '+' before a year longer than width
	lit   string // dtLiteral
}

type dateFormat struct {
	items []dateItem
	needs dateNeeds // which parts of the time the items read
}

// byDay reports whether f prints nothing finer than the day.
func (f *dateFormat) byDay() bool {
	if f.needs&needClock != 0 {
		return false
	}
	for _, it := range f.items {
		switch it.tok {
		case dtFraction, dtNanoOfSecond, dtMilliOfDay, dtNanoOfDay:
			return false
		}
	}
	return true
}

type dateFormatBuilder struct{ df dateFormat }

func (b *dateFormatBuilder) add(tok dateTok, width int) {
	b.df.items = append(b.df.items, dateItem{tok: tok, width: width})
	switch tok {
	case dtWeekYear, dtWeek:
		b.df.needs |= needWeek
	case dtWeekOfMonth:
		b.df.needs |= needDate | needWeekday
	case dtDayOfWeek:
		b.df.needs |= needWeekday
	case dtHour, dtClockHour, dtHourOfHalfDay, dtClockHourOfHalfDay, dtAMPM,
		dtMinute, dtSecond, dtMilliOfDay, dtNanoOfDay:
		b.df.needs |= needClock
	case dtFraction, dtNanoOfSecond:
	case dtDayOfYear:
		b.df.needs |= needYearDay
	default:
		b.df.needs |= needDate
	}
}

// dateNeeds lets a format compute only the calendar parts it prints:
// each of time.Time's accessors converts the instant again.
type dateNeeds uint8

const (
	needDate dateNeeds = 1 << iota
	needClock
	needWeek
	needWeekday
	needYearDay
)

// addText adds java.time's text form picked by a count of 1-3 (short),
// 4 (full) or 5 (narrow).
func (b *dateFormatBuilder) addText(tok dateTok, n int) {
	switch {
	case n <= 3:
		b.add(tok, textShort)
	case n == 4:
		b.add(tok, textFull)
	default:
		b.add(tok, textNarrow)
	}
}

func (b *dateFormatBuilder) literal(lit []byte) {
	if len(lit) == 0 {
		return
	}
	if n := len(b.df.items); n > 0 && b.df.items[n-1].tok == dtLiteral {
		b.df.items[n-1].lit += string(lit)
		return
	}
	b.df.items = append(b.df.items, dateItem{tok: dtLiteral, lit: string(lit)})
}

var (
	monthNames = [...]string{"January", "February", "March", "April", "May", "June",
		"July", "August", "September", "October", "November", "December"}
	dayNames = [...]string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
		"Saturday", "Sunday"}
	quarterNames = [...]string{"1st quarter", "2nd quarter", "3rd quarter", "4th quarter"}
)

func (df *dateFormat) append(dst []byte, t time.Time) []byte {
	var (
		year, day, hour, minute, sec, wyear, week, dow, yday int
		month                                                time.Month
	)
	if df.needs&needDate != 0 {
		year, month, day = t.Date()
	}
	if df.needs&needClock != 0 {
		hour, minute, sec = t.Clock()
	}
	if df.needs&needWeek != 0 {
		wyear, week = t.ISOWeek()
	}
	if df.needs&needWeekday != 0 {
		dow = int(t.Weekday()+6)%7 + 1
	}
	if df.needs&needYearDay != 0 {
		yday = t.YearDay()
	}
	nsec := t.Nanosecond()
	yoe := year
	if year <= 0 {
		yoe = 1 - year
	}
	for i := range df.items {
		it := &df.items[i]
		switch it.tok {
		case dtLiteral:
			dst = append(dst, it.lit...)
		case dtEra:
			era := [2][3]string{{"BC", "Before Christ", "B"}, {"AD", "Anno Domini", "A"}}[b2i(year > 0)]
			dst = append(dst, era[textIndex(it.width)]...)
		case dtCentury:
			dst = appendPadded(dst, yoe/100, it.width)
		case dtYear:
			dst = appendYear(dst, year, it)
		case dtYearOfEra:
			dst = appendYear(dst, yoe, it)
		case dtWeekYear:
			dst = appendYear(dst, wyear, it)
		case dtWeek:
			dst = appendPadded(dst, week, it.width)
		case dtWeekOfMonth:
			dst = appendPadded(dst, isoWeekOfMonth(day, dow), it.width)
		case dtDayOfWeek:
			dst = appendNumberOrText(dst, dow, it.width, dayNames[dow-1])
		case dtDayOfYear:
			dst = appendPadded(dst, yday, it.width)
		case dtMonth:
			dst = appendNumberOrText(dst, int(month), it.width, monthNames[month-1])
		case dtQuarter:
			q := (int(month)-1)/3 + 1
			switch it.width {
			case textShort:
				dst = append(dst, 'Q', byte('0'+q))
			case textFull:
				dst = append(dst, quarterNames[q-1]...)
			case textNarrow:
				dst = append(dst, byte('0'+q))
			default:
				dst = appendPadded(dst, q, it.width)
			}
		case dtDay:
			dst = appendPadded(dst, day, it.width)
		case dtAMPM:
			if hour < 12 {
				dst = append(dst, "AM"...)
			} else {
				dst = append(dst, "PM"...)
			}
		case dtHourOfHalfDay:
			dst = appendPadded(dst, hour%12, it.width)
		case dtClockHourOfHalfDay:
			dst = appendPadded(dst, (hour+11)%12+1, it.width)
		case dtHour:
			dst = appendPadded(dst, hour, it.width)
		case dtClockHour:
			dst = appendPadded(dst, (hour+23)%24+1, it.width)
		case dtMinute:
			dst = appendPadded(dst, minute, it.width)
		case dtSecond:
			dst = appendPadded(dst, sec, it.width)
		case dtFraction:
			var digits [9]byte
			for j, f := 8, nsec; j >= 0; j-- {
				digits[j] = byte('0' + f%10)
				f /= 10
			}
			if it.width <= 9 {
				dst = append(dst, digits[:it.width]...)
			} else {
				dst = append(dst, digits[:]...)
				for j := 9; j < it.width; j++ {
					dst = append(dst, '0')
				}
			}
		case dtMilliOfDay:
			dst = appendPadded(dst, ((hour*60+minute)*60+sec)*1000+nsec/1e6, it.width)
		case dtNanoOfSecond:
			dst = appendPadded(dst, nsec, it.width)
		case dtNanoOfDay:
			dst = appendPadded(dst, ((hour*60+minute)*60+sec)*1e9+nsec, it.width)
		}
	}
	return dst
}

func appendYear(dst []byte, y int, it *dateItem) []byte {
	if it.width == twoDigits {
		if y < 0 {
			y = -y
		}
		return appendPadded(dst, y%100, 2)
	}
	if it.plus && y >= 0 && digitCount(y) > it.width {
		dst = append(dst, '+')
	}
	return appendPadded(dst, y, it.width)
}

func appendNumberOrText(dst []byte, v, width int, full string) []byte {
	switch width {
	case textShort:
		return append(dst, full[:3]...)
	case textFull:
		return append(dst, full...)
	case textNarrow:
		return append(dst, full[0])
	}
	return appendPadded(dst, v, width)
}

// isoWeekOfMonth is java.time's week-of-month for weeks that start on
// Monday and need 4 days in the month to count as its first week.
func isoWeekOfMonth(day, dow int) int {
	weekStart := ((day-dow)%7 + 7) % 7
	offset := -weekStart
	if weekStart+1 > 4 {
		offset = 7 - weekStart
	}
	return (7 + offset + day - 1) / 7
}

func textIndex(width int) int {
	switch width {
	case textFull:
		return 1
	case textNarrow:
		return 2
	}
	return 0
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// appendPadded appends v in decimal, zero-padded to width digits.
func appendPadded(dst []byte, v, width int) []byte {
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	var buf [20]byte
	i := len(buf)
	for v >= 10 {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	i--
	buf[i] = byte('0' + v)
	for n := len(buf) - i; n < width; n++ {
		dst = append(dst, '0')
	}
	return append(dst, buf[i:]...)
}

func digitCount(v int) int {
	n := 1
	for v >= 10 {
		v /= 10
		n++
	}
	return n
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
