package mutate

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gostash/gostash/sdk"
)

// convType is a `convert` target.
type convType uint8

const (
	convInteger convType = iota + 1
	convFloat
	convString
	convBoolean
	convIntegerEU
	convFloatEU
)

var convTypes = map[string]convType{
	"integer": convInteger, "float": convFloat, "string": convString,
	"boolean": convBoolean, "integer_eu": convIntegerEU, "float_eu": convFloatEU,
}

// convTypeNames is Logstash's list, in its order, for the error message.
const convTypeNames = "string, integer, float, boolean, integer_eu, float_eu"

// convert converts one value (not a list or a map: the caller handles
// those as Logstash does). An error is an exception in Logstash: the
// event gets tag_on_failure.
func convert(e *sdk.Event, t convType, v any) (any, error) {
	switch t {
	case convInteger:
		return toInteger(e, v, false)
	case convIntegerEU:
		return toInteger(e, v, true)
	case convFloat:
		return toFloat(v, false)
	case convFloatEU:
		return toFloat(v, true)
	case convString:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return e.StringValue(rubyString(v)), nil
	case convBoolean:
		return toBoolean(v), nil
	}
	return v, nil
}

var errNotNumber = errors.New("not a number")

// numText is a number's text as Logstash reads it: stripped, with the
// group separators (',', or '.' for the _eu types) taken out.
func numText(s string, eu bool) (string, bool) {
	s = rubyStrip(s)
	sep := byte(',')
	if eu {
		sep = '.'
	}
	if strings.IndexByte(s, sep) < 0 && !(eu && strings.IndexByte(s, ',') >= 0) {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == sep:
		case eu && c == ',':
			b = append(b, '.') // the decimal comma
		default:
			b = append(b, c)
		}
	}
	return string(b), true
}

func isHex(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	return len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')
}

// hexFloat reads a signed hexadecimal number, with a fraction and a
// binary exponent or not ("-0x1.edcdp6", "0x7b"), as Float() does.
func hexFloat(s string) (float64, error) {
	if strings.IndexAny(s, "pP") < 0 {
		s += "p0" // Go wants the exponent of a hex float
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, errNotNumber
	}
	return f, nil
}

// toInteger is Logstash's convert_integer (8.14 and later): booleans are
// 1 and 0, floats are truncated, strings are read exactly as
// BigDecimal(s).to_i ("1.9" is 1, "1.230000e+02" is 123), hexadecimal
// as Integer() or, with a fraction, as a truncated Float().
func toInteger(e *sdk.Event, v any, eu bool) (any, error) {
	switch t := v.(type) {
	case int64:
		return t, nil
	case bool:
		if t {
			return int64(1), nil
		}
		return int64(0), nil
	case float64:
		return truncate(t)
	case string:
		s, _ := numText(t, eu)
		if isHex(s) {
			if strings.IndexByte(s, '.') < 0 {
				n, err := strconv.ParseInt(s, 0, 64)
				if err != nil {
					return nil, fmt.Errorf("invalid value for Integer(): %q", t)
				}
				return n, nil
			}
			f, err := hexFloat(s)
			if err != nil {
				return nil, fmt.Errorf("invalid value for Float(): %q", t)
			}
			return truncate(f)
		}
		n, err := decimalToInt(s)
		if err != nil {
			return nil, fmt.Errorf("invalid value for BigDecimal(): %q: %w", t, err)
		}
		return n, nil
	}
	return nil, fmt.Errorf("can't convert %s into Integer", sdk.TypeName(v))
}

func truncate(f float64) (any, error) {
	if math.IsNaN(f) || f >= 9.223372036854775807e18 || f < -9.223372036854775808e18 {
		return nil, fmt.Errorf("%v does not fit an integer", f)
	}
	return int64(f), nil
}

// decimal splits a decimal number's text ([+-] digits [. digits]
// [e [+-] digits], with single underscores between digits, as Ruby
// reads it). strict is Float()'s grammar (a '.' needs digits on its
// right); BigDecimal also takes "1.".
type decimal struct {
	neg       bool
	intPart   string // may hold underscores
	fracPart  string
	exp       int
	expDigits bool
}

func parseDecimal(s string, strict bool) (d decimal, ok bool) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		d.neg = s[i] == '-'
		i++
	}
	digits := func() string {
		start := i
		for i < len(s) {
			c := s[i]
			if c >= '0' && c <= '9' {
				i++
				continue
			}
			// An underscore only between two digits.
			if c == '_' && i > start && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' && s[i-1] != '_' {
				i++
				continue
			}
			break
		}
		return s[start:i]
	}
	d.intPart = digits()
	if i < len(s) && s[i] == '.' {
		i++
		d.fracPart = digits()
		if d.fracPart == "" && (strict || d.intPart == "") {
			return d, false
		}
	}
	if d.intPart == "" && d.fracPart == "" {
		return d, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		ed := digits()
		if ed == "" {
			return d, false
		}
		for j := 0; j < len(ed); j++ {
			if ed[j] == '_' {
				continue
			}
			if d.exp < 100000 {
				d.exp = d.exp*10 + int(ed[j]-'0')
			}
		}
		if eneg {
			d.exp = -d.exp
		}
		d.expDigits = true
	}
	return d, i == len(s)
}

// decimalToInt truncates the decimal number s to an integer exactly, as
// BigDecimal(s).to_i: "9.007199254740993e+15" is 9007199254740993, which
// a float64 cannot hold.
func decimalToInt(s string) (int64, error) {
	d, ok := parseDecimal(s, false)
	if !ok {
		return 0, errNotNumber
	}
	// The integer is the first len(intPart)+exp significant digits.
	keep := -1 // digits of intPart+fracPart kept
	var n uint64
	count := 0
	take := func(c byte) bool {
		if n > (math.MaxUint64-9)/10 {
			return false
		}
		n = n*10 + uint64(c-'0')
		return true
	}
	intDigits := 0
	for j := 0; j < len(d.intPart); j++ {
		if d.intPart[j] != '_' {
			intDigits++
		}
	}
	keep = intDigits + d.exp
	for _, part := range []string{d.intPart, d.fracPart} {
		for j := 0; j < len(part) && count < keep; j++ {
			if part[j] == '_' {
				continue
			}
			if !take(part[j]) {
				return 0, errors.New("does not fit an integer")
			}
			count++
		}
	}
	for ; count < keep; count++ { // the exponent's zeros
		if n == 0 {
			count = keep
			break
		}
		if !take('0') {
			return 0, errors.New("does not fit an integer")
		}
	}
	if d.neg {
		if n > 1<<63 {
			return 0, errors.New("does not fit an integer")
		}
		return -int64(n), nil
	}
	if n > math.MaxInt64 {
		return 0, errors.New("does not fit an integer")
	}
	return int64(n), nil
}

// toFloat is Logstash's convert_float (8.14 and later): booleans are 1.0
// and 0.0, integers widen, strings are read as Float() does (strictly:
// "1.5x" and "" fail).
func toFloat(v any, eu bool) (any, error) {
	switch t := v.(type) {
	case float64:
		return t, nil
	case int64:
		return float64(t), nil
	case bool:
		if t {
			return 1.0, nil
		}
		return 0.0, nil
	case string:
		s, _ := numText(t, eu)
		if isHex(s) {
			f, err := hexFloat(s)
			if err != nil {
				return nil, fmt.Errorf("invalid value for Float(): %q", t)
			}
			return f, nil
		}
		if _, ok := parseDecimal(s, true); !ok {
			return nil, fmt.Errorf("invalid value for Float(): %q", t)
		}
		if strings.IndexByte(s, '_') >= 0 {
			s = strings.ReplaceAll(s, "_", "")
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) || math.IsInf(f, 0) {
			// Ruby gives Infinity; an event cannot carry it.
			return nil, fmt.Errorf("%q is out of a float's range", t)
		}
		return f, nil
	}
	return nil, fmt.Errorf("can't convert %s into Float", sdk.TypeName(v))
}

// toBoolean is convert_boolean: the value's text matched, ignoring case,
// against true|t|yes|y|1|1.0 and false|f|no|n|0|0.0 (the '.' matches any
// one character, as in Logstash's regular expression); "" is false;
// anything else is left as it is.
func toBoolean(v any) any {
	var s string
	switch t := v.(type) {
	case bool:
		return t
	case string:
		s = t
	case int64:
		if t == 1 || t == 0 {
			return t == 1
		}
		s = strconv.FormatInt(t, 10) // 100 is true: "1.0" matches it
	case float64:
		s = rubyFloat(t)
	default:
		return v
	}
	if s == "" {
		return false
	}
	switch {
	case eqFold(s, "true"), eqFold(s, "t"), eqFold(s, "yes"), eqFold(s, "y"), s == "1", anyMiddle(s, '1'):
		return true
	case eqFold(s, "false"), eqFold(s, "f"), eqFold(s, "no"), eqFold(s, "n"), s == "0", anyMiddle(s, '0'):
		return false
	}
	return v
}

func eqFold(s, lower string) bool { return len(s) == len(lower) && strings.EqualFold(s, lower) }

// anyMiddle reports whether s is d, one character but a newline, 0.
func anyMiddle(s string, d byte) bool {
	if len(s) < 3 || s[0] != d || s[len(s)-1] != '0' {
		return false
	}
	mid := s[1 : len(s)-1]
	r, n := utf8.DecodeRuneInString(mid)
	return n == len(mid) && r != '\n'
}

// rubyString is Ruby's to_s of a value, as convert => string and join
// write it.
func rubyString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case nil:
		return ""
	case bool:
		return strconv.FormatBool(t)
	case int64:
		return strconv.FormatInt(t, 10)
	case float64:
		return rubyFloat(t)
	case time.Time:
		return sdk.FormatTimestamp(t.UnixNano())
	}
	// A map or list inside a list: JSON, where Ruby would write its
	// inspect form ({"a"=>1}).
	return sdk.Sprintf("%{v}", jsonHolder(v))
}

// jsonHolder is an event with v in field v, so that the SDK's template
// writes it as Logstash's sprintf does (JSON for a map, a list joined).
func jsonHolder(v any) *sdk.Event {
	e := sdk.NewEmptyEvent()
	e.Fields()["v"] = v
	return e
}

// rubyFloat is Ruby's Float#to_s: the shortest digits that read back,
// in plain notation when the decimal exponent is in -4 < e <= 16
// ("123.0", "0.0001", "1000000000000000.0"), else as "1.0e+16",
// "1.0e-05".
func rubyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	var buf [32]byte
	b := strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	epos := strings.IndexByte(string(b), 'e')
	mant, expText := b[:epos], b[epos+1:]
	exp, _ := strconv.Atoi(string(expText))
	digits := make([]byte, 0, 20)
	for _, c := range mant {
		if c != '.' {
			digits = append(digits, c)
		}
	}
	decpt := exp + 1
	out := make([]byte, 0, 32)
	if neg {
		out = append(out, '-')
	}
	switch {
	case decpt > 0 && decpt <= 16:
		if len(digits) <= decpt {
			out = append(out, digits...)
			for i := len(digits); i < decpt; i++ {
				out = append(out, '0')
			}
			out = append(out, '.', '0')
		} else {
			out = append(out, digits[:decpt]...)
			out = append(out, '.')
			out = append(out, digits[decpt:]...)
		}
	case decpt <= 0 && decpt > -4:
		out = append(out, '0', '.')
		for i := decpt; i < 0; i++ {
			out = append(out, '0')
		}
		out = append(out, digits...)
	default:
		out = append(out, digits[0], '.')
		if len(digits) > 1 {
			out = append(out, digits[1:]...)
		} else {
			out = append(out, '0')
		}
		out = append(out, 'e')
		e := decpt - 1
		if e < 0 {
			out = append(out, '-')
			e = -e
		} else {
			out = append(out, '+')
		}
		if e < 10 {
			out = append(out, '0')
		}
		out = strconv.AppendInt(out, int64(e), 10)
	}
	return string(out)
}

// rubyStrip is Ruby's String#strip: ASCII whitespace and NUL off both
// ends.
func rubyStrip(s string) string {
	i, j := 0, len(s)
	for i < j && isRubySpace(s[i]) {
		i++
	}
	for j > i && isRubySpace(s[j-1]) {
		j--
	}
	return s[i:j]
}

func isRubySpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' || c == 0
}
