package mutate

import (
	"context"
	"math/rand"
	"reflect"
	"strings"
	"testing"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
)

type M = map[string]any
type L = []any

type tcase struct {
	name     string
	settings M
	in       M
	want     M // the event's fields afterwards, @version aside
}

func run(t *testing.T, settings M, in M) M {
	t.Helper()
	out := sdktest.RunFilters(t, context.Background(), []sdktest.FilterSpec{{Name: "mutate", Settings: settings}}, []*sdk.Event{sdktest.Event(in)})
	if len(out) != 1 {
		t.Fatalf("%d events out, want 1", len(out))
	}
	got := out[0].Fields()
	delete(got, "@version")
	return got
}

func runCases(t *testing.T, cases []tcase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := run(t, c.settings, c.in)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("settings %v on %v:\n got  %#v\n want %#v", c.settings, c.in, got, c.want)
			}
		})
	}
}

var failTags = L{"_mutate_error"}

func TestCoerce(t *testing.T) {
	runCases(t, []tcase{
		{"null gets the default", M{"coerce": M{"a": "x-%{b}"}}, M{"a": nil, "b": "y"}, M{"a": "x-y", "b": "y"}},
		{"a value stays", M{"coerce": M{"a": "d"}}, M{"a": true}, M{"a": true}},
		{"a missing field stays missing", M{"coerce": M{"a": "d"}}, M{"b": 1}, M{"b": int64(1)}},
		{"nested", M{"coerce": M{"[a][b]": "d"}}, M{"a": M{"b": nil}}, M{"a": M{"b": "d"}}},
	})
}

func TestRename(t *testing.T) {
	runCases(t, []tcase{
		{"moves the value", M{"rename": M{"old": "new"}}, M{"old": L{"hello world"}}, M{"new": L{"hello world"}}},
		{"missing does nothing", M{"rename": M{"nosuchfield": "hello"}}, M{"message": "whatever"}, M{"message": "whatever"}},
		{"null is moved", M{"rename": M{"a": "b"}}, M{"a": nil}, M{"b": nil}},
		{"nested both sides", M{"rename": M{"[a][b]": "[c][d]"}}, M{"a": M{"b": 1, "x": 2}}, M{"a": M{"x": int64(2)}, "c": M{"d": int64(1)}}},
		{"into itself nested", M{"rename": M{"a": "[a][b]"}}, M{"a": "v"}, M{"a": M{"b": "v"}}},
		{"dynamic source", M{"rename": M{"field_%{x}": "destination"}}, M{"field_one": "value", "x": "one"}, M{"destination": "value", "x": "one"}},
		{"dynamic destination", M{"rename": M{"origin": "field_%{x}"}}, M{"origin": "value", "x": "one"}, M{"field_one": "value", "x": "one"}},
		{"list element", M{"rename": M{"[l][0]": "first"}}, M{"l": L{"a", "b"}}, M{"l": L{"b"}, "first": "a"}},
		{"destination under a string fails", M{"rename": M{"a": "[s][x]"}}, M{"a": 1, "s": "str"}, M{"s": "str", "tags": failTags}},
	})
}

func TestUpdateReplace(t *testing.T) {
	runCases(t, []tcase{
		{"update existing", M{"update": M{"updateme": "updated %{n}"}}, M{"updateme": L{"who cares"}, "n": 5}, M{"updateme": "updated 5", "n": int64(5)}},
		{"update missing does nothing", M{"update": M{"nosuchfield": "weee"}}, M{"a": 1}, M{"a": int64(1)}},
		{"update null exists", M{"update": M{"a": "x"}}, M{"a": nil}, M{"a": "x"}},
		{"replace creates", M{"replace": M{"newfield": "newnew"}}, M{}, M{"newfield": "newnew"}},
		{"replace overwrites with sprintf", M{"replace": M{"message": "%{source_host}: My new message"}}, M{"message": "x", "source_host": "h"}, M{"message": "h: My new message", "source_host": "h"}},
		{"replace missing reference stays literal", M{"replace": M{"m": "%{nope}"}}, M{}, M{"m": "%{nope}"}},
		{"replace nested creates maps", M{"replace": M{"[a][b][c]": "v"}}, M{}, M{"a": M{"b": M{"c": "v"}}}},
		{"replace into a list element", M{"replace": M{"[l][-1]": "z"}}, M{"l": L{"a", "b"}}, M{"l": L{"a", "z"}}},
		{"replace under a string fails", M{"replace": M{"[s][x]": "v"}}, M{"s": "str"}, M{"s": "str", "tags": failTags}},
		{"replace at a list index out of range fails", M{"replace": M{"[l][5]": "z"}}, M{"l": L{"a"}}, M{"l": L{"a"}, "tags": failTags}},
	})
}

func TestGsub(t *testing.T) {
	runCases(t, []tcase{
		{"string", M{"gsub": L{"u", "but extinct", "and common"}}, M{"u": "Magnificient, but extinct, animals"}, M{"u": "Magnificient, and common, animals"}},
		{"list of strings, others kept", M{"gsub": L{"u", "extinct", "common"}}, M{"u": L{"a extinct", 3, "extinct b"}}, M{"u": L{"a common", int64(3), "common b"}}},
		{"several fields", M{"gsub": L{"colors", "red", "blue", "shapes", "square", "circle"}}, M{"colors": "One red car", "shapes": "Four red squares"}, M{"colors": "One blue car", "shapes": "Four red circles"}},
		{"regex and $ at a line end", M{"gsub": L{"c", `\d$`, "blue"}}, M{"c": "red3\nred4"}, M{"c": "redblue\nredblue"}},
		{"character class", M{"gsub": L{"f", `[\\?#-]`, "."}}, M{"f": `a\b?c#d-e`}, M{"f": "a.b.c.d.e"}},
		{"groups in ruby syntax", M{"gsub": L{"f", `(\w+)@(\w+)`, `\2 at \1 (\0) \\`}}, M{"f": "joe@host"}, M{"f": `host at joe (joe@host) \`}},
		{"named group", M{"gsub": L{"f", `(?<user>\w+)@`, `\k<user> at `}}, M{"f": "joe@host"}, M{"f": "joe at host"}},
		{"dynamic pattern", M{"gsub": L{"u", "of type %{t}", "green"}}, M{"u": "Unicorns of type blue are common", "t": "blue"}, M{"u": "Unicorns green are common", "t": "blue"}},
		{"dynamic pattern and replacement", M{"gsub": L{"u", "of type %{c}", "%{c} and green"}}, M{"u": "Unicorns of type blue", "c": "blue"}, M{"u": "Unicorns blue and green", "c": "blue"}},
		{"dynamic pattern that does not compile fails", M{"gsub": L{"u", "%{c}", "x"}}, M{"u": "a", "c": "("}, M{"u": "a", "c": "(", "tags": failTags}},
		{"number left alone", M{"gsub": L{"n", "1", "2"}}, M{"n": 1}, M{"n": int64(1)}},
		{"missing left alone", M{"gsub": L{"n", "1", "2"}}, M{}, M{}},
		{"nested", M{"gsub": L{"[a][b]", "/", "_"}}, M{"a": M{"b": "x/y/z"}}, M{"a": M{"b": "x_y_z"}}},
	})
}

func TestCase(t *testing.T) {
	runCases(t, []tcase{
		{"upper", M{"uppercase": L{"a", "b", "c"}}, M{"a": "example", "b": "ExAmPlE", "c": L{"a", 2, "C"}}, M{"a": "EXAMPLE", "b": "EXAMPLE", "c": L{"A", int64(2), "C"}}},
		{"lower", M{"lowercase": L{"a", "c"}}, M{"a": "ExAmPlE", "c": L{"ExAmPlE", "example"}}, M{"a": "example", "c": L{"example", "example"}}},
		{"capitalize", M{"capitalize": L{"a", "c"}}, M{"a": "ExAmPlE", "c": L{"ab", 2, "CDE"}}, M{"a": "Example", "c": L{"Ab", int64(2), "Cde"}}},
		{"unicode", M{"lowercase": L{"l"}, "uppercase": L{"u"}, "capitalize": L{"c"}},
			M{"l": L{"АБВГД\x00MMM", "こにちわ", "XyZółć", "NÎcË GÛŸ"}, "u": L{"аБвгд\x00mmm", "xYzółć"}, "c": L{"АБВГД\x00mmm", "nÎcË gÛŸ"}},
			M{"l": L{"абвгд\x00mmm", "こにちわ", "xyzółć", "nîcë gûÿ"}, "u": L{"АБВГД\x00MMM", "XYZÓŁĆ"}, "c": L{"Абвгд\x00mmm", "Nîcë gûÿ"}}},
		{"missing is not created", M{"uppercase": L{"fake"}, "lowercase": L{"fake"}, "capitalize": L{"fake"}}, M{}, M{}},
		{"non-string left alone", M{"uppercase": L{"n", "m"}}, M{"n": 1.5, "m": M{"a": "b"}}, M{"n": 1.5, "m": M{"a": "b"}}},
		{"order: uppercase, capitalize, then lowercase", M{"lowercase": L{"a"}, "uppercase": L{"a"}}, M{"a": "Mixed"}, M{"a": "mixed"}},
	})
}

func TestStrip(t *testing.T) {
	runCases(t, []tcase{
		{"both ends", M{"strip": L{"foo", "bar"}}, M{"foo": " /bar.php ", "bar": "\t foo\r\n"}, M{"foo": "/bar.php", "bar": "foo"}},
		{"list", M{"strip": L{"l"}}, M{"l": L{" a ", "b "}}, M{"l": L{"a", "b"}}},
		{"a number in a list fails, as Logstash's NoMethodError", M{"strip": L{"l"}}, M{"l": L{" a ", 1}}, M{"l": L{" a ", int64(1)}, "tags": failTags}},
		{"a number alone is left", M{"strip": L{"n"}}, M{"n": 1}, M{"n": int64(1)}},
		{"inner spaces stay", M{"strip": L{"s"}}, M{"s": "  a  b  "}, M{"s": "a  b"}},
	})
}

func TestSplitJoin(t *testing.T) {
	runCases(t, []tcase{
		{"split", M{"split": M{"f": ","}}, M{"f": "foo,bar,baz"}, M{"f": L{"foo", "bar", "baz"}}},
		{"split one", M{"split": M{"f": ","}}, M{"f": "foo"}, M{"f": L{"foo"}}},
		{"split drops trailing empties", M{"split": M{"f": ","}}, M{"f": "foo,,"}, M{"f": L{"foo"}}},
		{"split keeps leading empties", M{"split": M{"f": ","}}, M{"f": ",a,,b"}, M{"f": L{"", "a", "", "b"}}},
		{"split empty string", M{"split": M{"f": ","}}, M{"f": ""}, M{"f": L{}}},
		{"split on a space is on whitespace runs", M{"split": M{"f": " "}}, M{"f": "  a \t b\nc  "}, M{"f": L{"a", "b", "c"}}},
		{"split on nothing is characters", M{"split": M{"f": ""}}, M{"f": "añb"}, M{"f": L{"a", "ñ", "b"}}},
		{"split multi-character separator", M{"split": M{"f": "::"}}, M{"f": "a::b"}, M{"f": L{"a", "b"}}},
		{"split a list does nothing", M{"split": M{"f": ","}}, M{"f": L{"a,b"}}, M{"f": L{"a,b"}}},
		{"split a map does nothing", M{"split": M{"f": ","}}, M{"f": M{"a": "b,c"}}, M{"f": M{"a": "b,c"}}},
		{"split null does nothing", M{"split": M{"f": ","}}, M{"f": nil}, M{"f": nil}},
		{"join", M{"join": M{"f": ", "}}, M{"f": L{"a", 1, 2.5, true, nil, L{"x", "y"}}}, M{"f": "a, 1, 2.5, true, , x, y"}},
		{"join a string does nothing", M{"join": M{"f": ","}}, M{"f": "abc"}, M{"f": "abc"}},
		{"split then join", M{"join": M{"f": "|"}, "split": M{"f": ","}}, M{"f": "a,b"}, M{"f": "a|b"}},
	})
}

func TestMerge(t *testing.T) {
	runCases(t, []tcase{
		{"string into missing", M{"merge": M{"list": "foo"}}, M{"foo": "bar"}, M{"list": L{"bar"}, "foo": "bar"}},
		{"string into empty list", M{"merge": M{"list": "foo"}}, M{"foo": "bar", "list": L{}}, M{"list": L{"bar"}, "foo": "bar"}},
		{"string into list", M{"merge": M{"list": "foo"}}, M{"foo": "bar", "list": L{"baz"}}, M{"list": L{"baz", "bar"}, "foo": "bar"}},
		{"list into list", M{"merge": M{"list": "foo"}}, M{"foo": L{"bar"}, "list": L{"baz"}}, M{"list": L{"baz", "bar"}, "foo": L{"bar"}}},
		{"empty list into list", M{"merge": M{"list": "foo"}}, M{"foo": L{}, "list": L{"baz"}}, M{"list": L{"baz"}, "foo": L{}}},
		{"list into string", M{"merge": M{"list": "foo"}}, M{"foo": L{"bar"}, "list": "baz"}, M{"list": L{"baz", "bar"}, "foo": L{"bar"}}},
		{"string into string", M{"merge": M{"list": "foo"}}, M{"foo": "bar", "list": "baz"}, M{"list": L{"baz", "bar"}, "foo": "bar"}},
		{"maps", M{"merge": M{"d": "a"}}, M{"d": M{"x": 1, "y": 1}, "a": M{"y": 2}}, M{"d": M{"x": int64(1), "y": int64(2)}, "a": M{"y": int64(2)}}},
		{"map and list are not merged", M{"merge": M{"d": "a"}}, M{"d": M{"x": 1}, "a": L{1}}, M{"d": M{"x": int64(1)}, "a": L{int64(1)}}},
		{"several into a list accumulate", M{"merge": M{"d": L{"a", "b"}}}, M{"d": L{"x"}, "a": "1", "b": "2"}, M{"d": L{"x", "1", "2"}, "a": "1", "b": "2"}},
		{"missing into missing is an empty list", M{"merge": M{"d": "a"}}, M{}, M{"d": L{}}},
	})
}

func TestCopy(t *testing.T) {
	runCases(t, []tcase{
		{"string", M{"copy": M{"field": "target"}}, M{"field": "foobar"}, M{"field": "foobar", "target": "foobar"}},
		{"overwrites", M{"copy": M{"a": "b"}}, M{"a": 1, "b": 2}, M{"a": int64(1), "b": int64(1)}},
		{"missing and null are not copied", M{"copy": M{"a": "b", "n": "m"}}, M{"n": nil}, M{"n": nil}},
		{"nested map", M{"copy": M{"[a][b]": "[c][d]"}}, M{"a": M{"b": M{"x": 1}}}, M{"a": M{"b": M{"x": int64(1)}}, "c": M{"d": M{"x": int64(1)}}}},
	})
}

// The copy is deep: changing the copy leaves the source alone.
func TestCopyIsDeep(t *testing.T) {
	comp := sdktest.Lookup(t, sdk.KindFilter, "mutate")
	f, err := comp.NewFilter(context.Background(), sdktest.Config(t, comp, M{"copy": M{"a": "b"}}), sdktest.Env(t, "mutate"))
	if err != nil {
		t.Fatal(err)
	}
	e := sdktest.Event(M{"a": M{"x": L{"1"}}})
	if r := f.Apply(context.Background(), e, nil); r != sdk.Matched {
		t.Fatalf("result %v", r)
	}
	b, _ := e.Get("[b][x]")
	b.(L)[0] = "changed"
	if a, _ := e.Get("[a][x]"); a.(L)[0] != "1" {
		t.Fatalf("the source changed with the copy: %v", a)
	}
}

// Every operation, written in the reverse of Logstash's order, runs in
// Logstash's order: each one sees what the one before it did.
func TestOrderOfOperations(t *testing.T) {
	settings := M{
		"copy":       M{"v": "copied"},
		"merge":      M{"list": "v"},
		"join":       M{"v": "+"},
		"split":      M{"v": ","},
		"strip":      L{"v"},
		"lowercase":  L{"v"},
		"capitalize": L{"v"},
		"uppercase":  L{"v"},
		"gsub":       L{"v", "X", ","},
		"convert":    M{"n": "integer"},
		"replace":    M{"n": "%{num}"},
		"update":     M{"v": " aXbXc "},
		"rename":     M{"src": "v"},
		"coerce":     M{"src": "was null"},
	}
	got := run(t, settings, M{"src": nil, "num": "12.7", "list": L{"first"}})
	// coerce: src = "was null"; rename: v = "was null"; update: v = " aXbXc ";
	// replace: n = "12.7"; convert: n = 12; gsub: " a,b,c "; uppercase:
	// " A,B,C "; capitalize: " a,b,c "; lowercase: same; strip: "a,b,c";
	// split: [a b c]; join: "a+b+c"; merge: list = [first a+b+c]; copy.
	want := M{"v": "a+b+c", "n": int64(12), "num": "12.7", "list": L{"first", "a+b+c"}, "copied": "a+b+c"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}
}

// A failure tags the event, stops the operations after it and skips the
// common options (add_field, add_tag); the ones before it stay applied.
func TestFailureStopsAndTags(t *testing.T) {
	settings := M{
		"rename":         M{"a": "b"},
		"convert":        M{"bad": "integer"},
		"copy":           M{"b": "c"},
		"add_field":      M{"added": "yes"},
		"add_tag":        L{"mutated"},
		"tag_on_failure": L{"_custom", "_mutate_error"},
	}
	got := run(t, settings, M{"a": 1, "bad": "abc"})
	want := M{"b": int64(1), "bad": "abc", "tags": L{"_custom", "_mutate_error"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}
	got = run(t, settings, M{"a": 1, "bad": "12"})
	want = M{"b": int64(1), "c": int64(1), "bad": int64(12), "added": "yes", "tags": L{"mutated"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("success: got %#v\nwant %#v", got, want)
	}
}

func TestValidate(t *testing.T) {
	comp := sdktest.Lookup(t, sdk.KindFilter, "mutate")
	for _, c := range []struct {
		settings M
		path     string
		contains string
	}{
		{M{"convert": M{"n": "int"}}, "convert.n", `Invalid conversion type "int"`},
		{M{"gsub": L{"a", "b"}}, "gsub", "triples"},
		{M{"gsub": L{"a", "(?<=x)y", "z"}}, "gsub.1", "RE2"},
		{M{"gsub": L{"a", "b", "%{}"}}, "gsub.2", "template"},
		{M{"rename": M{"[a": "b"}}, "rename.[a", "field reference"},
		{M{"copy": M{"a": "b]"}}, "copy.a", "field reference"},
		{M{"uppercase": L{"ok", "[x"}}, "uppercase.1", "field reference"},
		{M{"replace": M{"a": "x%{}"}}, "replace.a", "template"},
		{M{"merge": M{"d": L{"a", "[b"}}}, "merge.d", "field reference"},
	} {
		ds := sdktest.Validate(comp, c.settings)
		found := false
		for _, d := range ds {
			p := ""
			for i, s := range d.Path {
				if i > 0 {
					p += "."
				}
				p += s
			}
			if p == c.path && contains(d.Error(), c.contains) {
				found = true
			}
		}
		if !found {
			t.Errorf("%v: diagnostics %v, want one at %s containing %q", c.settings, ds, c.path, c.contains)
		}
	}
	if ds := sdktest.Validate(comp, M{"convert": M{"a": "integer_eu"}, "gsub": L{"a", `\d+`, `\1`}}); len(ds) != 0 {
		t.Errorf("valid settings: %v", ds)
	}
}

func contains(s, sub string) bool { return len(sub) == 0 || indexOf(s, sub) >= 0 }

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// gsub's replacement without regexp (a pattern that is literal text, or
// literal text then .*) replaces exactly what the regexp does, on text
// with several matches, newlines, multibyte and invalid UTF-8; patterns
// it must not take (case folding, lazy .*, anything more) are left to
// the regexp.
func TestGsubLiteralPatternMatchesRegexp(t *testing.T) {
	taken := []string{`\?.*`, `\?`, `ab`, `ab.*`, `é.*`, `\.`, `x\n`, `--.*`, `(?:ab)`, `a\.b.*`, `[a]b`}
	notTaken := []string{`(?i)ab`, `ab.*?`, `a.*b`, `^ab`, `ab$`, `(ab)`, `a|b`, `ab+`, `(?s)ab.*`, `.*`, ``}
	for _, src := range notTaken {
		if p := literalPatternOf(src); p != nil {
			t.Errorf("%q taken as %+v", src, *p)
		}
	}
	texts := []string{"", "ab", "/x?id=1", "a?b?c\nd?e\n?", "abab.ab", "--x\n--y--", "é?éé\xffab\xe2ab", "x\nx\n", "aab.b a.bb"}
	rng := rand.New(rand.NewSource(7))
	alphabet := []string{"a", "b", "?", "\n", ".", "-", "é", "\xff", "x", "="}
	for range 300 {
		var sb strings.Builder
		for range rng.Intn(24) {
			sb.WriteString(alphabet[rng.Intn(len(alphabet))])
		}
		texts = append(texts, sb.String())
	}
	for _, src := range taken {
		p := literalPatternOf(src)
		if p == nil {
			t.Errorf("%q not taken", src)
			continue
		}
		re, err := compileRuby(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range texts {
			for _, repl := range []string{"", "R", "?"} {
				if got, want := p.replace(s, repl), re.ReplaceAllLiteralString(s, repl); got != want {
					t.Errorf("gsub %q by %q on %q = %q, regexp gives %q", src, repl, s, got, want)
				}
			}
		}
	}
}
