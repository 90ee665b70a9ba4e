package mutate

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"

	_ "github.com/gostash/gostash/plugins/filters/grok" // the spec's grok-then-mutate cases
)

// Logstash's own cases, ported from logstash-filter-mutate
// (spec/filters/mutate_spec.rb and spec/filters/integration/
// multi_stage_spec.rb at ce9aabe, and docs/index.asciidoc). Each case is
// the spec's config, input event and expected fields. Logstash's older
// array forms (convert => ["a", "integer"]) are written as maps, as the
// README says. A case with diff set is a difference the README's "Where
// gostash differs" section explains: want is then gostash's result and
// the comment says Logstash's.
type specCase struct {
	name     string
	grok     M // a grok filter run before mutate, as in the spec's pipelines
	settings M
	in       M
	want     M
	diff     string
	skip     string
}

func TestLogstashSpec(t *testing.T) {
	for _, c := range logstashSpecCases() {
		t.Run(c.name, func(t *testing.T) {
			if c.skip != "" {
				t.Skip(c.skip)
			}
			if c.diff != "" {
				t.Logf("documented difference (README, Where gostash differs): %s", c.diff)
			}
			specs := []sdktest.FilterSpec{{Name: "mutate", Settings: c.settings}}
			if c.grok != nil {
				specs = append([]sdktest.FilterSpec{{Name: "grok", Settings: c.grok}}, specs...)
			}
			out := sdktest.RunFilters(t, context.Background(), specs, []*sdk.Event{sdktest.Event(c.in)})
			if len(out) != 1 {
				t.Fatalf("%d events out, want 1", len(out))
			}
			got := out[0].Fields()
			delete(got, "@version")
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("settings %v on %v:\n got  %#v\n want %#v", c.settings, c.in, got, c.want)
			}
		})
	}
}

// conv is a spec case converting field a of one event.
func conv(name, to string, in, want any) specCase {
	return specCase{name: name + " to " + to, settings: M{"convert": M{"a": to}}, in: M{"a": in}, want: M{"a": want}}
}

// convFails is a value Logstash converts that gostash cannot hold.
func convFails(name, to string, in any, diff string) specCase {
	c := conv(name, to, in, in)
	c.want["tags"] = failTags
	c.diff = diff
	return c
}

const diffInt64 = "Integers are 64-bit: beyond int64 fails with _mutate_error where Logstash makes a bignum"

func logstashSpecCases() []specCase {
	cases := []specCase{
		// Case changes of lists touch only the strings.
		{name: "uppercase of an array", settings: M{"uppercase": L{"array_of"}}, in: M{"array_of": L{"a", 2, "C"}}, want: M{"array_of": L{"A", int64(2), "C"}}},
		{name: "capitalize of an array", settings: M{"capitalize": L{"array_of"}}, in: M{"array_of": L{"ab", 2, "CDE"}}, want: M{"array_of": L{"Ab", int64(2), "Cde"}}},
		{name: "lowercase of an array", settings: M{"lowercase": L{"array_of"}}, in: M{"array_of": L{"a", 2, "C"}}, want: M{"array_of": L{"a", int64(2), "c"}}},
		{name: "lowercase of a missing field creates nothing", settings: M{"lowercase": L{"fake_field"}}, in: M{}, want: M{}},
		{name: "uppercase of a missing field creates nothing", settings: M{"uppercase": L{"fake_field"}}, in: M{}, want: M{}},
		{name: "capitalize of a missing field creates nothing", settings: M{"capitalize": L{"fake_field"}}, in: M{}, want: M{}},
		{name: "shared value not mutated", skip: "Ruby object identity (a frozen string shared with the caller); Go strings are immutable"},

		// strip
		{name: "strip", settings: M{"strip": L{"path"}}, in: M{"path": " /store.php "}, want: M{"path": "/store.php"}},
		{name: "strip several fields", settings: M{"strip": L{"foo", "bar"}}, in: M{"foo": " /bar.php ", "bar": " foo"}, want: M{"foo": "/bar.php", "bar": "foo"}},

		// split
		{name: "split a string", settings: M{"split": M{"field": ","}}, in: M{"field": "foo,bar,baz"}, want: M{"field": L{"foo", "bar", "baz"}}},
		{name: "split one value", settings: M{"split": M{"field": ","}}, in: M{"field": "foo"}, want: M{"field": L{"foo"}}},
		{name: "split drops a trailing empty value", settings: M{"split": M{"field": ","}}, in: M{"field": "foo,"}, want: M{"field": L{"foo"}}},
		{name: "split leaves nil", settings: M{"split": M{"field": ","}}, in: M{"field": nil}, want: M{"field": nil}},
		{name: "split leaves an array", settings: M{"split": M{"field": ","}}, in: M{"field": L{"foo", "bar"}}, want: M{"field": L{"foo", "bar"}}},
		{name: "split leaves a hash", settings: M{"split": M{"field": ","}}, in: M{"field": M{"foo": "bar,baz"}}, want: M{"field": M{"foo": "bar,baz"}}},

		// copy (independence of the copy: TestLogstashSpecCopyIsIndependent)
		{name: "copy a string", settings: M{"copy": M{"field": "target"}}, in: M{"field": "foobar"}, want: M{"field": "foobar", "target": "foobar"}},
		{name: "copy an array", settings: M{"copy": M{"field": "target"}}, in: M{"field": L{"foo", "bar"}}, want: M{"field": L{"foo", "bar"}, "target": L{"foo", "bar"}}},
		{name: "copy a hash", settings: M{"copy": M{"field": "target"}}, in: M{"field": M{"foo": "bar"}}, want: M{"field": M{"foo": "bar"}, "target": M{"foo": "bar"}}},

		// basics: every operation at once, in array form in the spec.
		{
			name: "basics",
			settings: M{
				"lowercase":  L{"lowerme", "Lowerme", "lowerMe"},
				"uppercase":  L{"upperme", "Upperme", "upperMe"},
				"capitalize": L{"capitalizeme", "Capitalizeme", "capitalizeMe"},
				"convert":    M{"intme": "integer", "floatme": "float"},
				"rename":     M{"rename1": "rename2"},
				"replace":    M{"replaceme": "hello world", "newfield": "newnew"},
				"update":     M{"nosuchfield": "weee", "updateme": "updated"},
			},
			in: M{
				"lowerme": "example", "upperme": "EXAMPLE", "capitalizeme": "Example",
				"Lowerme": "ExAmPlE", "Upperme": "ExAmPlE", "Capitalizeme": "ExAmPlE",
				"lowerMe": L{"ExAmPlE", "example"}, "upperMe": L{"ExAmPlE", "EXAMPLE"}, "capitalizeMe": L{"ExAmPlE", "Example"},
				"intme": L{"1234", "7890.4", "7.9"}, "floatme": L{"1234.455"},
				"rename1": L{"hello world"}, "updateme": L{"who cares"}, "replaceme": L{"who cares"},
			},
			want: M{
				"lowerme": "example", "upperme": "EXAMPLE", "capitalizeme": "Example",
				"Lowerme": "example", "Upperme": "EXAMPLE", "Capitalizeme": "Example",
				"lowerMe": L{"example", "example"}, "upperMe": L{"EXAMPLE", "EXAMPLE"}, "capitalizeMe": L{"Example", "Example"},
				"intme": L{int64(1234), int64(7890), int64(7)}, "floatme": L{1234.455},
				"rename2": L{"hello world"}, "updateme": "updated", "replaceme": "hello world", "newfield": "newnew",
			},
		},
		{
			name:     "case of multibyte unicode strings",
			settings: M{"lowercase": L{"lowerme"}, "uppercase": L{"upperme"}, "capitalize": L{"capitalizeme"}},
			in: M{
				"lowerme":      L{"АБВГД\x00MMM", "こにちわ", "XyZółć", "NÎcË GÛŸ"},
				"upperme":      L{"аБвгд\x00mmm", "こにちわ", "xYzółć", "Nîcë gûÿ"},
				"capitalizeme": L{"АБВГД\x00mmm", "こにちわ", "xyzółć", "nÎcË gÛŸ"},
			},
			want: M{
				"lowerme":      L{"абвгд\x00mmm", "こにちわ", "xyzółć", "nîcë gûÿ"},
				"upperme":      L{"АБВГД\x00MMM", "こにちわ", "XYZÓŁĆ", "NÎCË GÛŸ"},
				"capitalizeme": L{"Абвгд\x00mmm", "こにちわ", "Xyzółć", "Nîcë gûÿ"},
			},
		},
		{name: "convert one field to string", settings: M{"convert": M{"unicorns": "string"}}, in: M{"unicorns": 1234}, want: M{"unicorns": "1234"}},
		{
			name: "convert to boolean",
			settings: M{"convert": M{
				"true_field": "boolean", "false_field": "boolean", "true_upper": "boolean", "false_upper": "boolean",
				"true_one": "boolean", "false_zero": "boolean", "true_yes": "boolean", "false_no": "boolean",
				"true_y": "boolean", "false_n": "boolean", "wrong_field": "boolean",
				"integer_false": "boolean", "integer_true": "boolean", "integer_negative": "boolean", "integer_wrong": "boolean",
				"float_true": "boolean", "float_false": "boolean", "float_negative": "boolean", "float_wrong": "boolean", "float_wrong2": "boolean",
				"array": "boolean", "hash": "boolean",
			}},
			in: M{
				"true_field": "true", "false_field": "false", "true_upper": "True", "false_upper": "False",
				"true_one": "1", "false_zero": "0", "true_yes": "yes", "false_no": "no",
				"true_y": "Y", "false_n": "N", "wrong_field": "none of the above",
				"integer_false": 0, "integer_true": 1, "integer_negative": -1, "integer_wrong": 2,
				"float_true": 1.0, "float_false": 0.0, "float_negative": -1.0, "float_wrong": 1.0123, "float_wrong2": 0.01,
				"array": L{"1", "0", 0, 1, 2}, "hash": M{"a": 0},
			},
			want: M{
				"true_field": true, "false_field": false, "true_upper": true, "false_upper": false,
				"true_one": true, "false_zero": false, "true_yes": true, "false_no": false,
				"true_y": true, "false_n": false, "wrong_field": "none of the above",
				"integer_false": false, "integer_true": true, "integer_negative": int64(-1), "integer_wrong": int64(2),
				"float_true": true, "float_false": false, "float_negative": -1.0, "float_wrong": 1.0123, "float_wrong2": 0.01,
				"array": L{true, false, false, true, int64(2)}, "hash": M{"a": int64(0)},
			},
		},
		// The docs' boolean words beyond the spec's.
		conv(`docs: "1.0"`, "boolean", "1.0", true),
		conv(`docs: "0.0"`, "boolean", "0.0", false),
		conv(`docs: ""`, "boolean", "", false),
		conv(`docs: "T"`, "boolean", "T", true),
		conv(`docs: "f"`, "boolean", "f", false),

		// gsub
		{name: "gsub on a string", settings: M{"gsub": L{"unicorns", "but extinct", "and common"}}, in: M{"unicorns": "Magnificient, but extinct, animals"}, want: M{"unicorns": "Magnificient, and common, animals"}},
		{name: "gsub on an array of strings", settings: M{"gsub": L{"unicorns", "extinct", "common"}}, in: M{"unicorns": L{"Magnificient extinct animals", "Other extinct ideas"}}, want: M{"unicorns": L{"Magnificient common animals", "Other common ideas"}}},
		{name: "gsub on several fields", settings: M{"gsub": L{"colors", "red", "blue", "shapes", "square", "circle"}}, in: M{"colors": "One red car", "shapes": "Four red squares"}, want: M{"colors": "One blue car", "shapes": "Four red circles"}},
		{name: "gsub with a regular expression", settings: M{"gsub": L{"colors", `\d$`, "blue"}}, in: M{"colors": "red3"}, want: M{"colors": "redblue"}},
		{name: "gsub with %{} in the pattern", settings: M{"gsub": L{"unicorns", "of type %{unicorn_type}", "green"}}, in: M{"unicorns": "Unicorns of type blue are common", "unicorn_type": "blue"}, want: M{"unicorns": "Unicorns green are common", "unicorn_type": "blue"}},
		{name: "gsub with %{} in the pattern and the replacement", settings: M{"gsub": L{"unicorns2", "of type %{unicorn_color}", "%{unicorn_color} and green"}}, in: M{"unicorns2": "Unicorns of type blue are common", "unicorn_color": "blue"}, want: M{"unicorns2": "Unicorns blue and green are common", "unicorn_color": "blue"}},
		{name: "gsub on an array with %{} in the pattern", settings: M{"gsub": L{"unicorns_array", "of type %{color}", "blue and green"}}, in: M{"unicorns_array": L{"Unicorns of type blue are found in Alaska", "Unicorns of type blue are extinct"}, "color": "blue"}, want: M{"unicorns_array": L{"Unicorns blue and green are found in Alaska", "Unicorns blue and green are extinct"}, "color": "blue"}},
		// The docs' gsub example.
		{name: "docs: gsub example", settings: M{"gsub": L{"fieldname", "/", "_", "fieldname2", `[\\?#-]`, "."}}, in: M{"fieldname": "/a/b", "fieldname2": `a\b?c#d-e`}, want: M{"fieldname": "_a_b", "fieldname2": "a.b.c.d.e"}},

		// The other examples of the docs, one per option.
		{name: "docs: convert example", settings: M{"convert": M{"fieldname": "integer", "booleanfield": "boolean"}}, in: M{"fieldname": "3.99", "booleanfield": "yes"}, want: M{"fieldname": int64(3), "booleanfield": true}},
		{name: "docs: integer truncates a float", settings: M{"convert": M{"a": "integer", "b": "integer"}}, in: M{"a": 3.99, "b": -2.7}, want: M{"a": int64(3), "b": int64(-2)}},
		{name: "docs: float reads 1,000.5", settings: M{"convert": M{"a": "float", "b": "float_eu", "c": "integer_eu"}}, in: M{"a": "1,000.5", "b": "1.000,5", "c": "1.000"}, want: M{"a": 1000.5, "b": 1000.5, "c": int64(1000)}},
		{name: "docs: copy example", settings: M{"copy": M{"source_field": "dest_field"}}, in: M{"source_field": "v", "dest_field": "old"}, want: M{"source_field": "v", "dest_field": "v"}},
		{name: "docs: join example", settings: M{"join": M{"fieldname": ","}}, in: M{"fieldname": L{"a", "b", "c"}}, want: M{"fieldname": "a,b,c"}},
		{name: "docs: join leaves a non-array", settings: M{"join": M{"fieldname": ","}}, in: M{"fieldname": "a b"}, want: M{"fieldname": "a b"}},
		{name: "docs: lowercase example", settings: M{"lowercase": L{"fieldname"}}, in: M{"fieldname": "MiXeD"}, want: M{"fieldname": "mixed"}},
		{name: "docs: uppercase example", settings: M{"uppercase": L{"fieldname"}}, in: M{"fieldname": "MiXeD"}, want: M{"fieldname": "MIXED"}},
		{name: "docs: capitalize example", settings: M{"capitalize": L{"fieldname"}}, in: M{"fieldname": "mIXED case"}, want: M{"fieldname": "Mixed case"}},
		{name: "docs: merge example", settings: M{"merge": M{"dest_field": "added_field"}}, in: M{"dest_field": L{"a"}, "added_field": "b"}, want: M{"dest_field": L{"a", "b"}, "added_field": "b"}},
		{name: "docs: merge two hashes", settings: M{"merge": M{"dest_field": "added_field"}}, in: M{"dest_field": M{"a": 1}, "added_field": M{"b": 2}}, want: M{"dest_field": M{"a": int64(1), "b": int64(2)}, "added_field": M{"b": int64(2)}}},
		{name: "docs: coerce example", settings: M{"coerce": M{"field1": "default_value"}}, in: M{"field1": nil}, want: M{"field1": "default_value"}},
		{name: "docs: rename example", settings: M{"rename": M{"HOSTORIP": "client_ip"}}, in: M{"HOSTORIP": "10.0.0.1"}, want: M{"client_ip": "10.0.0.1"}},
		{name: "docs: rename replaces the destination", settings: M{"rename": M{"HOSTORIP": "client_ip"}}, in: M{"HOSTORIP": "10.0.0.1", "client_ip": "old"}, want: M{"client_ip": "10.0.0.1"}},
		{name: "docs: replace example", settings: M{"replace": M{"message": "%{source_host}: My new message"}}, in: M{"message": "m", "source_host": "h"}, want: M{"message": "h: My new message", "source_host": "h"}},
		{name: "docs: replace adds a missing field", settings: M{"replace": M{"message": "new"}}, in: M{}, want: M{"message": "new"}},
		{name: "docs: split example", settings: M{"split": M{"fieldname": ","}}, in: M{"fieldname": "a,b"}, want: M{"fieldname": L{"a", "b"}}},
		{name: "docs: strip example", settings: M{"strip": L{"field1", "field2"}}, in: M{"field1": "  a b  ", "field2": "\tc\n"}, want: M{"field1": "a b", "field2": "c"}},
		{name: "docs: update example", settings: M{"update": M{"sample": "My new message"}}, in: M{"sample": "old"}, want: M{"sample": "My new message"}},
		{name: "docs: update of a missing field does nothing", settings: M{"update": M{"sample": "My new message"}}, in: M{}, want: M{}},

		// grok then mutate
		{name: "lowercase a field grok made", grok: M{"match": M{"message": "%{WORD:foo}"}}, settings: M{"lowercase": "foo"}, in: M{"message": "HELLO WORLD"}, want: M{"message": "HELLO WORLD", "foo": "hello"}},
		{
			name: "MUTATE-33: grok then lowercase", grok: M{"match": M{"message": "(?:hello) %{WORD:bar}"}, "break_on_match": false},
			settings: M{"lowercase": L{"bar", "lower1", "lower2"}},
			in:       M{"message": "hello WORLD", "lower1": "PPQQRRSS", "lower2": "pppqqq"},
			want:     M{"message": "hello WORLD", "bar": "world", "lower1": "ppqqrrss", "lower2": "pppqqq"},
		},

		// rename
		{name: "LOGSTASH-757: rename of a missing field", settings: M{"rename": M{"nosuchfield": "hello"}}, in: M{"message": "whatever"}, want: M{"message": "whatever"}},
		{name: "rename with %{} in the source", settings: M{"rename": M{"field_%{x}": "destination"}}, in: M{"field_one": "value", "x": "one"}, want: M{"destination": "value", "x": "one"}},
		{name: "rename with %{} in the destination", settings: M{"rename": M{"origin": "field_%{x}"}}, in: M{"field_one": "value", "x": "one"}, want: M{"field_one": "value", "x": "one"}},

		// convert into nested fields and lists
		{name: "convert a nested field", settings: M{"convert": M{"[foo][bar]": "integer"}}, in: M{"foo": M{"bar": "1000"}}, want: M{"foo": M{"bar": int64(1000)}}},
		{name: "convert within an array", settings: M{"convert": M{"[foo][0]": "integer"}}, in: M{"foo": L{"100", "200"}}, want: M{"foo": L{int64(100), "200"}}},
		{name: "convert booleans to integer", settings: M{"convert": M{"[foo][0]": "integer", "[foo][1]": "integer", "[foo][2]": "integer", "[foo][3]": "integer", "[foo][4]": "integer"}}, in: M{"foo": L{false, true, "0", "1", "2"}}, want: M{"foo": L{int64(0), int64(1), int64(0), int64(1), int64(2)}}},
		{name: "convert US strings to integer", settings: M{"convert": M{"[foo][0]": "integer", "[foo][1]": "integer", "[foo][2]": "integer"}}, in: M{"foo": L{"1,000", "1,234,567.8", "123.4"}}, want: M{"foo": L{int64(1000), int64(1234567), int64(123)}}},
		{name: "convert US strings to float", settings: M{"convert": M{"[foo][0]": "float", "[foo][1]": "float", "[foo][2]": "float"}}, in: M{"foo": L{"1,000", "1,234,567.8", "123.4"}}, want: M{"foo": L{1000.0, 1234567.8, 123.4}}},
		{name: "convert EU strings to integer", settings: M{"convert": M{"[foo][0]": "integer_eu", "[foo][1]": "integer_eu", "[foo][2]": "integer_eu"}}, in: M{"foo": L{"1.000", "1.234.567,8", "123,4"}}, want: M{"foo": L{int64(1000), int64(1234567), int64(123)}}},
		{name: "convert EU strings to float", settings: M{"convert": M{"[foo][0]": "float_eu", "[foo][1]": "float_eu", "[foo][2]": "float_eu"}}, in: M{"foo": L{"1.000", "1.234.567,8", "123,4"}}, want: M{"foo": L{1000.0, 1234567.8, 123.4}}},
		{name: "convert booleans to string", settings: M{"convert": M{"true_field": "string", "false_field": "string"}}, in: M{"true_field": true, "false_field": false}, want: M{"true_field": "true", "false_field": "false"}},

		// merge
		{name: "merge a string into a missing field", settings: M{"merge": M{"list": "foo"}}, in: M{"foo": "bar"}, want: M{"foo": "bar", "list": L{"bar"}}},
		{name: "merge a string into an empty array", settings: M{"merge": M{"list": "foo"}}, in: M{"foo": "bar", "list": L{}}, want: M{"foo": "bar", "list": L{"bar"}}},
		{name: "merge a string into an array", settings: M{"merge": M{"list": "foo"}}, in: M{"foo": "bar", "list": L{"baz"}}, want: M{"foo": "bar", "list": L{"baz", "bar"}}},
		{name: "merge an array into an array", settings: M{"merge": M{"list": "foo"}}, in: M{"foo": L{"bar"}, "list": L{"baz"}}, want: M{"foo": L{"bar"}, "list": L{"baz", "bar"}}},
		{name: "merge an empty array into an array", settings: M{"merge": M{"list": "foo"}}, in: M{"foo": L{}, "list": L{"baz"}}, want: M{"foo": L{}, "list": L{"baz"}}},
		{name: "merge an array into a string", settings: M{"merge": M{"list": "foo"}}, in: M{"foo": L{"bar"}, "list": "baz"}, want: M{"foo": L{"bar"}, "list": L{"baz", "bar"}}},
		{name: "merge a string into a string", settings: M{"merge": M{"list": "foo"}}, in: M{"foo": "bar", "list": "baz"}, want: M{"foo": "bar", "list": L{"baz", "bar"}}},
		// The docs' rule: an array and a hash do not merge.
		{name: "docs: merge a hash into an array does nothing", settings: M{"merge": M{"list": "h"}}, in: M{"h": M{"a": "b"}, "list": L{"baz"}}, want: M{"h": M{"a": "b"}, "list": L{"baz"}}},

		// coerce: the spec's 5 and false are numbers in Ruby's config; HCL
		// hands any number or bool to a string setting as its text.
		{name: "coerce nulls", settings: M{"coerce": M{"field1": "Hello", "field2": "Bye", "field3": "5", "field4": "false"}}, in: M{"field1": nil, "field2": nil, "field3": nil, "field4": true}, want: M{"field1": "Hello", "field2": "Bye", "field3": "5", "field4": true}},

		// A failure tags the event with tag_on_failure (a single string, as
		// Logstash writes it) and skips the common options.
		{name: "tag_on_failure default", settings: M{"convert": M{"a": "integer"}, "add_field": M{"x": "y"}}, in: M{"a": "abc"}, want: M{"a": "abc", "tags": failTags}},
		{name: "tag_on_failure as one string", settings: M{"convert": M{"a": "integer"}, "tag_on_failure": "my_custom_tag"}, in: M{"a": "abc"}, want: M{"a": "abc", "tags": L{"my_custom_tag"}}},

		// The docs' processing-order example: split before add_field.
		{
			name: "docs: split then add_field", settings: M{"split": M{"hostname": "."}, "add_field": M{"shortHostname": "%{[hostname][0]}"}},
			in: M{"hostname": "web1.example.com"}, want: M{"hostname": L{"web1", "example", "com"}, "shortHostname": "web1"},
		},
		// The same through copy, which runs after split.
		{name: "docs example with copy", settings: M{"split": M{"hostname": "."}, "copy": M{"[hostname][0]": "shortHostname"}}, in: M{"hostname": "web1.example.com"}, want: M{"hostname": L{"web1", "example", "com"}, "shortHostname": "web1"}},
	}

	// convert's float and float_eu cases.
	for _, to := range []string{"float", "float_eu"} {
		cases = append(cases,
			conv("float", to, 3.1415926, 3.1415926),
			conv("integer", to, 3, 3.0),
			conv("true", to, true, 1.0),
			conv("false", to, false, 0.0),
			conv("nil", to, nil, nil),
			conv("no separator no decimal", to, "3141", 3141.0),
		)
	}
	cases = append(cases,
		conv("dot decimal", "float", "3141.5926", 3141.5926),
		conv("comma separator dot decimal", "float", "3,141.5926", 3141.5926),
		conv("comma separator", "float", "3,141", 3141.0),
		conv("comma decimal", "float_eu", "3141,5926", 3141.5926),
		conv("dot separator comma decimal", "float_eu", "3.141,5926", 3141.5926),
		conv("dot separator", "float_eu", "3.141", 3141.0),
		specCase{name: "convert a missing field", settings: M{"convert": M{"field": "float"}}, in: M{}, want: M{}},
	)

	// "convert makes type conversions" (8.14's strict rules).
	for _, c := range []struct {
		in      any
		str     string
		integer any
		float   any
	}{
		{123, "123", 123, 123.0},
		{123.0, "123.0", 123, 123.0},
		{"123", "123", 123, 123.0},
		{"0x7b", "0x7b", 123, 123.0},
		{"123.0", "123.0", 123, 123.0},
		{"1.230000e+02", "1.230000e+02", 123, 123.0},
		{123.45, "123.45", 123, 123.45},
		{"123.45", "123.45", 123, 123.45},
		{"1.234500e+02", "1.234500e+02", 123, 123.45},
		{"0x1.edcdp6", "0x1.edcdp6", 123, 123.4501953125},
		{-123.45, "", -123, -123.45},
		{"-123.45", "", -123, -123.45},
		{"-1.234500e+02", "", -123, -123.45},
		{"-0x1.edcdp6", "", -123, -123.4501953125},
		{16777217, "16777217", 16777217, 1.6777217e7},
		{1.6777217e7, "16777217.0", 16777217, 1.6777217e7},
		{"16777217", "16777217", 16777217, 1.6777217e7},
		{"16777217.0", "16777217.0", 16777217, 1.6777217e7},
		{2147483648, "2147483648", 2147483648, 2.147483648e9},
		{2.147483648e9, "2147483648.0", 2147483648, 2.147483648e9},
		{"2147483648", "2147483648", 2147483648, 2.147483648e9},
		{"2147483648.0", "2147483648.0", 2147483648, 2.147483648e9},
		{9007199254740993, "9007199254740993", 9007199254740993, 9.007199254740992e15},
		{"9007199254740993", "9007199254740993", 9007199254740993, 9.007199254740992e15},
		{"9007199254740993.0", "9007199254740993.0", 9007199254740993, 9.007199254740992e15},
		{"9.007199254740993e+15", "", 9007199254740993, 9.007199254740992e15},
		{"9223372036854775808", "9223372036854775808", nil, 9.223372036854775808e18},
		{"9223372036854775808.0", "9223372036854775808.0", nil, 9.223372036854775808e18},
		{"680564693277057720000000000000000000000", "680564693277057720000000000000000000000", nil, 6.805646932770577e+38},
		{"680564693277057720000000000000000000000.0", "680564693277057720000000000000000000000.0", nil, 6.805646932770577e+38},
	} {
		name := fmt.Sprintf("%T %v", c.in, c.in)
		if c.str != "" {
			cases = append(cases, conv(name, "string", c.in, c.str))
		}
		if c.integer == nil {
			cases = append(cases, convFails(name, "integer", c.in, diffInt64))
		} else {
			cases = append(cases, conv(name, "integer", c.in, int64(c.integer.(int))))
		}
		cases = append(cases, conv(name, "float", c.in, c.float))
	}

	// parse_signed_hex_str, a private method in Logstash, seen through
	// convert: hexadecimal integers and floats, signed, either case of x.
	for _, c := range []struct {
		in    string
		float float64
	}{
		{"0x1A", 26}, {"-0x1A", -26}, {"-0xFF", -255}, {"0X1A", 26},
		{"0x1.8p+1", 3}, {"-0x1.8p+1", -3}, {"-0x1.2p+2", -4.5},
		{"123", 123}, {"-456", -456}, {"1.23", 1.23},
	} {
		cases = append(cases, conv("hex "+c.in, "float", c.in, c.float))
	}
	cases = append(cases,
		conv("hex 0x1A", "integer", "0x1A", int64(26)),
		conv("hex -0xFF", "integer", "-0xFF", int64(-255)),
		conv("hex -0x1.2p+2", "integer", "-0x1.2p+2", int64(-4)),
	)
	for _, s := range []string{"abc", "0b1010"} {
		c := conv("not a number "+s, "float", s, s)
		c.want["tags"] = failTags // Float() raises: the rescue tags the event
		cases = append(cases, c)
	}
	return cases
}

// The spec's copy cases: after the filter, changing the source leaves the
// copy as it was.
func TestLogstashSpecCopyIsIndependent(t *testing.T) {
	for _, c := range []struct {
		name     string
		in, want any
		change   func(e *sdk.Event) error
	}{
		{"string", "foobar", "foobar", func(e *sdk.Event) error { return e.Set("field", nil) }},
		{"array", L{"foo", "bar"}, L{"foo", "bar"}, func(e *sdk.Event) error {
			v, _ := e.Get("field")
			return e.Set("field", append(v.(L), "baz"))
		}},
		{"hash", M{"foo": "bar"}, M{"foo": "bar"}, func(e *sdk.Event) error { return e.Set("[field][foo]", "baz") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			comp := sdktest.Lookup(t, sdk.KindFilter, "mutate")
			f, err := comp.NewFilter(context.Background(), sdktest.Config(t, comp, M{"copy": M{"field": "target"}}), sdktest.Env(t, "mutate"))
			if err != nil {
				t.Fatal(err)
			}
			e := sdktest.Event(M{"field": c.in})
			if r := f.Apply(context.Background(), e, nil); r != sdk.Matched {
				t.Fatalf("result %v", r)
			}
			if err := c.change(e); err != nil {
				t.Fatal(err)
			}
			src, _ := e.Get("field")
			dst, _ := e.Get("target")
			if reflect.DeepEqual(src, dst) {
				t.Errorf("target %#v changed with the source", dst)
			}
			if !reflect.DeepEqual(dst, c.want) {
				t.Errorf("target %#v, want %#v", dst, c.want)
			}
		})
	}
}

// The spec's configuration errors, and Logstash's runtime error from a
// bad add_field reference, which gostash finds before the pipeline runs.
func TestLogstashSpecConfigErrors(t *testing.T) {
	comp := sdktest.Lookup(t, sdk.KindFilter, "mutate")
	for _, c := range []struct {
		settings M
		contains string
	}{
		{M{"convert": M{"message": "int"}}, "Invalid conversion type"},
		{M{"gsub": L{"message", "toreplace"}}, "Invalid gsub configuration"},
		// Logstash runs this and tags each event _mutate_error; a
		// reference that cannot parse is a configuration mistake, so
		// gostash reports it at --configtest (README: Where gostash
		// differs).
		{M{"add_field": M{"[[][[[[]message": "nope"}}, "add_field"},
	} {
		ds := sdktest.Validate(comp, c.settings)
		if !ds.HasErrors() || !strings.Contains(sdktest.Errors(ds), c.contains) {
			t.Errorf("%v: diagnostics %q, want an error containing %q", c.settings, sdktest.Errors(ds), c.contains)
		}
	}
}

// Every option of Logstash's docs is here with its name, a type that
// takes what Logstash's does, and its default.
func TestLogstashDocsOptions(t *testing.T) {
	comp := sdktest.Lookup(t, sdk.KindFilter, "mutate")
	want := map[string]sdk.Type{
		"convert": sdk.TypeStringMap, "copy": sdk.TypeStringMap, "gsub": sdk.TypeStringList,
		"join": sdk.TypeStringMap, "lowercase": sdk.TypeStringList, "merge": sdk.TypeStringOrListMap,
		"coerce": sdk.TypeStringMap, "rename": sdk.TypeStringMap, "replace": sdk.TypeStringMap,
		"split": sdk.TypeStringMap, "strip": sdk.TypeStringList, "update": sdk.TypeStringMap,
		"uppercase": sdk.TypeStringList, "capitalize": sdk.TypeStringList,
		// A string in Logstash; a list here, which also takes one string.
		"tag_on_failure": sdk.TypeStringList,
	}
	fields := map[string]sdk.Field{}
	for _, f := range comp.Fields() {
		fields[f.Name] = f
	}
	for name, ty := range want {
		f, ok := fields[name]
		switch {
		case !ok:
			t.Errorf("option %q is missing", name)
		case f.Type != ty:
			t.Errorf("option %q is %s, want %s", name, f.Type, ty)
		case f.Required:
			t.Errorf("option %q is required; Logstash's is not", name)
		case name == "tag_on_failure" && !reflect.DeepEqual(f.Default, []string{"_mutate_error"}):
			t.Errorf("tag_on_failure defaults to %#v, want [_mutate_error]", f.Default)
		case name != "tag_on_failure" && f.Default != nil:
			t.Errorf("option %q defaults to %#v; Logstash's has no default", name, f.Default)
		}
	}
}
