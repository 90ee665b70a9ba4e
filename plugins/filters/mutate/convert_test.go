package mutate

import (
	"math"
	"testing"
)

// convertCases are Logstash's spec (mutate_spec.rb, 8.14+ conversions)
// and the edges around them.
func TestConvert(t *testing.T) {
	bad := failTags
	runCases(t, []tcase{
		// integer
		{"integer of strings", M{"convert": M{"[foo][0]": "integer", "[foo][1]": "integer", "[foo][2]": "integer", "[foo][3]": "integer"}},
			M{"foo": L{"1,000", "1,234,567.8", "123.4", " -7.9 "}}, M{"foo": L{int64(1000), int64(1234567), int64(123), int64(-7)}}},
		{"integer of a list", M{"convert": M{"intme": "integer"}}, M{"intme": L{"1234", "7890.4", "7.9", nil}}, M{"intme": L{int64(1234), int64(7890), int64(7), nil}}},
		{"integer of booleans", M{"convert": M{"a": "integer", "b": "integer"}}, M{"a": true, "b": false}, M{"a": int64(1), "b": int64(0)}},
		{"integer of floats truncates", M{"convert": M{"a": "integer", "b": "integer"}}, M{"a": 123.45, "b": -123.45}, M{"a": int64(123), "b": int64(-123)}},
		{"integer of exponents and hex", M{"convert": M{"a": "integer", "b": "integer", "c": "integer", "d": "integer", "e": "integer"}},
			M{"a": "1.230000e+02", "b": "0x7b", "c": "-0x1.edcdp6", "d": "1E3", "e": "-1.234500e+02"},
			M{"a": int64(123), "b": int64(123), "c": int64(-123), "d": int64(1000), "e": int64(-123)}},
		{"integer exactly, not through a float", M{"convert": M{"a": "integer", "b": "integer"}}, M{"a": "9.007199254740993e+15", "b": "9007199254740993.0"}, M{"a": int64(9007199254740993), "b": int64(9007199254740993)}},
		{"integer with underscores", M{"convert": M{"a": "integer"}}, M{"a": "1_000"}, M{"a": int64(1000)}},
		{"integer of nonsense fails", M{"convert": M{"a": "integer"}}, M{"a": "abc"}, M{"a": "abc", "tags": bad}},
		{"integer of empty fails", M{"convert": M{"a": "integer"}}, M{"a": ""}, M{"a": "", "tags": bad}},
		{"integer beyond 64 bits fails", M{"convert": M{"a": "integer"}}, M{"a": "9223372036854775808"}, M{"a": "9223372036854775808", "tags": bad}},
		{"integer of a map in a list fails", M{"convert": M{"a": "integer"}}, M{"a": L{"1", M{"x": 1}}}, M{"a": L{int64(1), M{"x": int64(1)}}, "tags": bad}},
		{"integer_eu", M{"convert": M{"[foo][0]": "integer_eu", "[foo][1]": "integer_eu", "[foo][2]": "integer_eu"}},
			M{"foo": L{"1.000", "1.234.567,8", "123,4"}}, M{"foo": L{int64(1000), int64(1234567), int64(123)}}},
		// float
		{"float of strings", M{"convert": M{"[foo][0]": "float", "[foo][1]": "float", "[foo][2]": "float", "[foo][3]": "float"}},
			M{"foo": L{"1,000", "1,234,567.8", "123.4", ".5"}}, M{"foo": L{1000.0, 1234567.8, 123.4, 0.5}}},
		{"float of others", M{"convert": M{"a": "float", "b": "float", "c": "float", "d": "float", "e": "float"}},
			M{"a": 3, "b": true, "c": false, "d": "0x1.edcdp6", "e": "9007199254740993"},
			M{"a": 3.0, "b": 1.0, "c": 0.0, "d": 123.4501953125, "e": 9.007199254740992e15}},
		{"float is strict", M{"convert": M{"a": "float"}}, M{"a": "1.5x"}, M{"a": "1.5x", "tags": bad}},
		{"float: no trailing dot", M{"convert": M{"a": "float"}}, M{"a": "1."}, M{"a": "1.", "tags": bad}},
		{"float: no inf", M{"convert": M{"a": "float"}}, M{"a": "Infinity"}, M{"a": "Infinity", "tags": bad}},
		{"float: out of range", M{"convert": M{"a": "float"}}, M{"a": "1e400"}, M{"a": "1e400", "tags": bad}},
		{"float_eu", M{"convert": M{"[foo][0]": "float_eu", "[foo][1]": "float_eu", "[foo][2]": "float_eu"}},
			M{"foo": L{"1.000", "1.234.567,8", "123,4"}}, M{"foo": L{1000.0, 1234567.8, 123.4}}},
		{"float null stays", M{"convert": M{"a": "float"}}, M{"a": nil}, M{"a": nil}},
		{"missing stays missing", M{"convert": M{"a": "float"}}, M{}, M{}},
		{"a map is left alone", M{"convert": M{"h": "integer"}}, M{"h": M{"a": "1"}}, M{"h": M{"a": "1"}}},
		{"nested", M{"convert": M{"[foo][bar]": "integer"}}, M{"foo": M{"bar": "1000"}}, M{"foo": M{"bar": int64(1000)}}},
		// string
		{"string", M{"convert": M{"a": "string", "b": "string", "c": "string", "d": "string", "e": "string", "f": "string"}},
			M{"a": 1234, "b": 123.0, "c": true, "d": false, "e": "0x7b", "f": 2.147483648e9},
			M{"a": "1234", "b": "123.0", "c": "true", "d": "false", "e": "0x7b", "f": "2147483648.0"}},
		{"string of floats as Ruby writes them", M{"convert": M{"a": "string", "b": "string", "c": "string", "d": "string"}},
			M{"a": 1e16, "b": 1e15, "c": 0.0001, "d": 0.00001},
			M{"a": "1.0e+16", "b": "1000000000000000.0", "c": "0.0001", "d": "1.0e-05"}},
		// boolean
		{"boolean", M{"convert": M{
			"true_field": "boolean", "false_field": "boolean", "true_upper": "boolean", "false_upper": "boolean",
			"true_one": "boolean", "false_zero": "boolean", "true_yes": "boolean", "false_no": "boolean",
			"true_y": "boolean", "false_n": "boolean", "wrong_field": "boolean", "integer_false": "boolean",
			"integer_true": "boolean", "integer_negative": "boolean", "integer_wrong": "boolean", "float_true": "boolean",
			"float_false": "boolean", "float_negative": "boolean", "float_wrong": "boolean", "float_wrong2": "boolean",
			"array": "boolean", "hash": "boolean", "empty": "boolean"}},
			M{"true_field": "true", "false_field": "false", "true_upper": "True", "false_upper": "False",
				"true_one": "1", "false_zero": "0", "true_yes": "yes", "false_no": "no", "true_y": "Y", "false_n": "N",
				"wrong_field": "none of the above", "integer_false": 0, "integer_true": 1, "integer_negative": -1,
				"integer_wrong": 2, "float_true": 1.0, "float_false": 0.0, "float_negative": -1.0, "float_wrong": 1.0123,
				"float_wrong2": 0.01, "array": L{"1", "0", 0, 1, 2}, "hash": M{"a": 0}, "empty": ""},
			M{"true_field": true, "false_field": false, "true_upper": true, "false_upper": false,
				"true_one": true, "false_zero": false, "true_yes": true, "false_no": false, "true_y": true, "false_n": false,
				"wrong_field": "none of the above", "integer_false": false, "integer_true": true, "integer_negative": int64(-1),
				"integer_wrong": int64(2), "float_true": true, "float_false": false, "float_negative": -1.0, "float_wrong": 1.0123,
				"float_wrong2": 0.01, "array": L{true, false, false, true, int64(2)}, "hash": M{"a": int64(0)}, "empty": false}},
	})
}

func TestRubyFloat(t *testing.T) {
	for f, want := range map[float64]string{
		123.45: "123.45", -0.5: "-0.5", 1e100: "1.0e+100", 1.5e-7: "1.5e-07", 16777217: "16777217.0",
		math.Copysign(0, -1): "-0.0", 0: "0.0", 1234567.8: "1234567.8", 1e-4: "0.0001",
	} {
		if got := rubyFloat(f); got != want {
			t.Errorf("rubyFloat(%v) = %q, want %q", f, got, want)
		}
	}
}
