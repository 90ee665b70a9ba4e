package kv

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
)

func run(t *testing.T, settings map[string]any, fields map[string]any) *sdk.Event {
	t.Helper()
	out := sdktest.RunFilters(t, context.Background(), []sdktest.FilterSpec{{Name: "kv", Settings: settings}},
		[]*sdk.Event{sdktest.Event(fields)})
	return out[0]
}

// TestSettings covers every setting, the tags included.
func TestSettings(t *testing.T) {
	long := strings.Repeat("x", 40)
	cases := []struct {
		name     string
		settings map[string]any
		in       map[string]any
		want     map[string]any
		absent   []string
		tags     []string
	}{
		{name: "defaults", in: map[string]any{"message": "a=1 b=two c=3"},
			want: map[string]any{"a": "1", "b": "two", "c": "3"}},
		{name: "text that is not a pair is passed over", in: map[string]any{"message": "GET /x a=1 junk b=2 ="},
			want: map[string]any{"a": "1", "b": "2"}, absent: []string{"GET", "junk"}},
		{name: "quotes and brackets", in: map[string]any{"message": `a="x y" b='z w' c=(p q) d=[r s] e=<t u> f="" g="unclosed h=1`},
			want: map[string]any{"a": "x y", "b": "z w", "c": "p q", "d": "r s", "e": "t u", "g": `"unclosed`, "h": "1"}, absent: []string{"f"}},
		{name: "include_brackets false", settings: map[string]any{"include_brackets": false},
			in: map[string]any{"message": "c=(p q) d=[r]"}, want: map[string]any{"c": "(p", "d": "[r]"}},
		{name: "lenient whitespace around =", in: map[string]any{"message": "a = 1 b= 2"},
			want: map[string]any{"a": "1", "b": "2"}},
		{name: "strict whitespace", settings: map[string]any{"whitespace": "strict"}, in: map[string]any{"message": "a = 1 b=2"},
			want: map[string]any{"b": "2"}, absent: []string{"a"}},
		{name: "source and target", settings: map[string]any{"source": "[q]", "target": "[params]"},
			in: map[string]any{"q": "x=1&y=2", "params": "old"}, want: map[string]any{"params": map[string]any{"x": "1&y=2"}}},
		{name: "field_split and value_split are character sets", settings: map[string]any{"field_split": "&?", "value_split": "=:"},
			in: map[string]any{"message": "a=1&b:2?c=3"}, want: map[string]any{"a": "1", "b": "2", "c": "3"}},
		{name: "include_keys", settings: map[string]any{"include_keys": []any{"a", "c"}}, in: map[string]any{"message": "a=1 b=2 c=3"},
			want: map[string]any{"a": "1", "c": "3"}, absent: []string{"b"}},
		{name: "exclude_keys", settings: map[string]any{"exclude_keys": []any{"b"}}, in: map[string]any{"message": "a=1 b=2"},
			want: map[string]any{"a": "1"}, absent: []string{"b"}},
		{name: "trim_key and trim_value", settings: map[string]any{"trim_key": `<>\[\]`, "trim_value": `<>\[\],`},
			in: map[string]any{"message": "<a>=[1], [b]=2,"}, want: map[string]any{"a": "1", "b": "2"}},
		{name: "prefix, with a reference", settings: map[string]any{"prefix": "%{svc}_"}, in: map[string]any{"message": "a=1", "svc": "web"},
			want: map[string]any{"web_a": "1"}},
		{name: "recursive", settings: map[string]any{"recursive": true}, in: map[string]any{"message": `a=[b=1 c=2] d=3`},
			want: map[string]any{"a": map[string]any{"b": "1", "c": "2"}, "d": "3"}},
		{name: "not recursive by default", in: map[string]any{"message": `a=[b=1 c=2]`}, want: map[string]any{"a": "b=1 c=2"}},
		{name: "default_keys", settings: map[string]any{"default_keys": map[string]any{"a": "d", "z": "zz"}}, in: map[string]any{"message": "a=1"},
			want: map[string]any{"a": "1", "z": "zz"}},
		{name: "duplicate keys make a list", in: map[string]any{"message": "a=1 a=2 a=1"},
			want: map[string]any{"a": []any{"1", "2", "1"}}},
		{name: "allow_duplicate_values false", settings: map[string]any{"allow_duplicate_values": false}, in: map[string]any{"message": "a=1 a=2 a=1 b=3 b=3"},
			want: map[string]any{"a": []any{"1", "2"}, "b": "3"}},
		{name: "allow_empty_values (strict: lenient would read a=\"b=2\", as Logstash does)", settings: map[string]any{"allow_empty_values": true, "whitespace": "strict"}, in: map[string]any{"message": "a= b=2"},
			want: map[string]any{"a": "", "b": "2"}},
		{name: "a list source", settings: map[string]any{"source": "l"}, in: map[string]any{"l": []any{"a=1", "b=2"}},
			want: map[string]any{"a": "1", "b": "2"}},
		{name: "backslash escapes", in: map[string]any{"message": `a\ b=1 c="x\"y"`}, want: map[string]any{`a\ b`: "1", "c": `x\"y`}},
		{name: "nested keys are field references", in: map[string]any{"message": "[http][status]=200"},
			want: map[string]any{"http": map[string]any{"status": "200"}}},
		{name: "nothing found: no decoration", settings: map[string]any{"add_tag": []any{"kv"}}, in: map[string]any{"message": "nothing"}},
		{name: "found: decoration", settings: map[string]any{"add_tag": []any{"kv"}}, in: map[string]any{"message": "a=1"},
			want: map[string]any{"a": "1"}, tags: []string{"kv"}},
		{name: "tag_on_failure", settings: map[string]any{"tag_on_failure": []any{"bad"}}, in: map[string]any{"message": "[a=1 b=2"},
			want: map[string]any{"b": "2"}, tags: []string{"bad"}},
		{name: "max_keys", settings: map[string]any{"max_keys": 2}, in: map[string]any{"message": "a=1 b=2 c=3 a=4"},
			want: map[string]any{"a": "1", "b": "2"}, absent: []string{"c"}, tags: []string{"_kv_filter_limit"}},
		{name: "max_key_length", settings: map[string]any{"max_key_length": 3}, in: map[string]any{"message": long + "=1 abc=2"},
			want: map[string]any{"abc": "2"}, absent: []string{long}, tags: []string{"_kv_filter_limit"}},
		{name: "max_value_length on a UTF-8 boundary", settings: map[string]any{"max_value_length": 4, "tag_on_limit": "cut"}, in: map[string]any{"message": "a=abcdef b=aéé"},
			want: map[string]any{"a": "abcd", "b": "aé"}, tags: []string{"cut"}},
		{name: "tag_on_timeout and timeout_millis are accepted", settings: map[string]any{"tag_on_timeout": "t", "timeout_millis": 5},
			in: map[string]any{"message": "a=1"}, want: map[string]any{"a": "1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := run(t, tc.settings, tc.in)
			checkFields(t, e.Fields(), tc.want, tc.absent)
			if got := e.Tags(); !reflect.DeepEqual(got, tc.tags) {
				t.Errorf("tags = %q, want %q", got, tc.tags)
			}
		})
	}
}

func checkFields(t *testing.T, fields, want map[string]any, absent []string) {
	t.Helper()
	for k, v := range want {
		if got := fields[k]; !reflect.DeepEqual(got, v) {
			t.Errorf("%s = %#v, want %#v", k, got, v)
		}
	}
	for _, k := range absent {
		if v, ok := fields[k]; ok {
			t.Errorf("%s = %#v, want no such field", k, v)
		}
	}
}

// TestHostileLine: a megabyte of pairs makes at most max_keys fields.
func TestHostileLine(t *testing.T) {
	var b strings.Builder
	for b.Len() < 1<<20 {
		b.WriteString("k")
		b.WriteString(strings.Repeat("x", b.Len()%50))
		b.WriteString("=v ")
	}
	e := run(t, map[string]any{"target": "kv"}, map[string]any{"message": b.String()})
	m, _ := e.Fields()["kv"].(map[string]any)
	if len(m) == 0 || len(m) > defaultMaxKeys || !e.HasTag("_kv_filter_limit") {
		t.Fatalf("%d keys, tags %q", len(m), e.Tags())
	}
	e = run(t, nil, map[string]any{"message": strings.Repeat("a=1 ", 100000)})
	if l, _ := e.Fields()["a"].([]any); len(l) != defaultMaxKeys || !e.HasTag("_kv_filter_limit") {
		t.Fatalf("a list of %d duplicates, tags %q", len(l), e.Tags())
	}
}

func TestValidate(t *testing.T) {
	comp := sdktest.Lookup(t, sdk.KindFilter, "kv")
	for _, tc := range []struct {
		settings map[string]any
		path     string
	}{
		{map[string]any{"value_split": ""}, "value_split"},
		{map[string]any{"field_split": "→"}, "field_split"},
		{map[string]any{"target": "[a"}, "target"},
		{map[string]any{"source": "a]"}, "source"},
		{map[string]any{"max_keys": 0}, "max_keys"},
		{map[string]any{"prefix": "%{[a}"}, "prefix"},
		// As in Logstash, an empty pattern is refused; so are patterns
		// RE2 cannot compile (Logstash's own example with a lookahead)
		// and patterns that match empty text.
		{map[string]any{"value_split_pattern": ""}, "value_split_pattern"},
		{map[string]any{"field_split_pattern": ""}, "field_split_pattern"},
		{map[string]any{"field_split_pattern": `;\s*(?=key.+?:)|;$`, "value_split_pattern": `:\s+`}, "field_split_pattern"},
		{map[string]any{"value_split_pattern": "=*"}, "value_split_pattern"},
		{map[string]any{"field_split_pattern": "(", "field_split": " "}, "field_split_pattern"},
	} {
		ds := sdktest.Validate(comp, tc.settings)
		if len(ds) != 1 || strings.Join(ds[0].Path, ".") != tc.path {
			t.Errorf("%v: %v, want one diagnostic at %s", tc.settings, ds, tc.path)
		}
	}
}

// TestSplitPatterns: Logstash's kv spec cases for field_split_pattern and
// value_split_pattern.
func TestSplitPatterns(t *testing.T) {
	all := map[string]any{"hello": "world", "foo": "bar", "baz": "fizz", "doublequoted": "hello world", "singlequoted": "hello world",
		"bracketsone": "hello world", "bracketstwo": "hello world", "bracketsthree": "hello world"}
	cases := []struct {
		name     string
		settings map[string]any
		message  string
		want     map[string]any
		absent   []string
	}{
		{"value split multi", map[string]any{"field_split": " ", "value_split_pattern": "::"},
			`hello::world foo::bar baz::fizz doublequoted::"hello world" singlequoted::'hello world' bracketsone::(hello world) bracketstwo::[hello world] bracketsthree::<hello world>`,
			all, nil},
		{"field and value split multi", map[string]any{"field_split_pattern": "__", "value_split_pattern": "::"},
			`hello::world__foo::bar__baz::fizz__doublequoted::"hello world"__singlequoted::'hello world'__bracketsone::(hello world)__bracketstwo::[hello world]__bracketsthree::<hello world>`,
			all, nil},
		{"field and value split multi with regex", map[string]any{"field_split_pattern": "_+", "value_split_pattern": ":+"},
			`hello:world_foo::bar__baz:::fizz___doublequoted:::"hello world"____singlequoted:::::'hello world'____bracketsone:::(hello world)__bracketstwo:[hello world]_bracketsthree::::::<hello world>`,
			all, nil},
		{"field and value split multi using single char", map[string]any{"field_split_pattern": " ", "value_split_pattern": ":"},
			`hello:world foo:bar baz:fizz doublequoted:"hello world" singlequoted:'hello world' bracketsone:(hello world) bracketstwo:[hello world] bracketsthree:<hello world>`,
			all, nil},
		{"field and value split multi using escaping", map[string]any{"field_split_pattern": `\?\?`, "value_split_pattern": `\+\+`},
			`hello++world??foo++bar??baz++fizz??doublequoted++"hello world"??singlequoted++'hello world'??bracketsone++(hello world)??bracketstwo++[hello world]??bracketsthree++<hello world>`,
			all, nil},
		{"multi-char field split pattern with value that begins quoted and contains more unquoted", map[string]any{"field_split_pattern": "!!!!!"},
			`foo=bar!!!!!baz="quoted stuff" and more unquoted!!!!!msg="fully-quoted with a part! of the separator"!!!!!blip="this!!!!!is it"!!!!!empty=""!!!!!non-empty="foo"`,
			map[string]any{"foo": "bar", "baz": `"quoted stuff" and more unquoted`, "msg": "fully-quoted with a part! of the separator",
				"blip": "this!!!!!is it", "non-empty": "foo"}, []string{"empty"}},
		{"empty values with pattern splitters", map[string]any{"field_split_pattern": `\|`, "value_split_pattern": "="},
			"a=1|b=|c=3", map[string]any{"a": "1", "c": "3"}, []string{"b"}},
		{"lenient whitespace around a value split pattern", map[string]any{"value_split_pattern": "=>"},
			"a => 1 b=>2 c=3", map[string]any{"a": "1", "b": "2"}, []string{"c"}},
		{"recursive with patterns", map[string]any{"field_split_pattern": ", ", "value_split_pattern": ":", "recursive": true},
			"a:(b:1, c:2), d:3", map[string]any{"a": map[string]any{"b": "1", "c": "2"}, "d": "3"}, nil},
		{"text that is not a pair is passed over", map[string]any{"field_split_pattern": `\+\+`},
			"junk++a=1++b++c=2 x", map[string]any{"a": "1", "c": "2 x"}, []string{"junk", "b", "+a", "+c"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := run(t, tc.settings, map[string]any{"message": tc.message})
			checkFields(t, e.Fields(), tc.want, tc.absent)
		})
	}

	// Logstash's "field_split_pattern with literal backslashes": HTTP
	// headers whose line ends are the four characters \r\n.
	headers := `Host: foo.com\r\nUser-Agent: Qwerty/1.2.3 (www.qwerty.org)\r\nContent-Type: text/xml; charset=utf-8\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\nContent-Length: 123\r\nX-UUID: 0:15713435944943992\r\n\r\n`
	e := run(t, map[string]any{"source": "headers", "field_split_pattern": `\\r\\n`, "value_split_pattern": ": ", "whitespace": "strict", "target": "headerskv"},
		map[string]any{"headers": headers})
	want := map[string]any{"Host": "foo.com", "User-Agent": "Qwerty/1.2.3 (www.qwerty.org)", "Content-Type": "text/xml; charset=utf-8",
		"Accept": "*/*", "Accept-Encoding": "gzip, deflate", "Content-Length": "123", "X-UUID": "0:15713435944943992"}
	if got := e.Fields()["headerskv"]; !reflect.DeepEqual(got, want) {
		t.Errorf("headerskv = %#v,\nwant %#v", got, want)
	}
}

// TestSplitPatternsHostile: patterns Logstash's spec uses to make its
// regexp backtrack for ever (`(?:=+=+)+:` against a run of =) and a
// megabyte of pairs split by a pattern finish, within the bounds.
func TestSplitPatternsHostile(t *testing.T) {
	start := time.Now()
	e := run(t, map[string]any{"value_split_pattern": "(?:=+=+)+:"}, map[string]any{"message": "foo" + strings.Repeat("=", 1<<20) + " a==:1"})
	if v := e.Fields()["a"]; v != "1" {
		t.Errorf("a = %#v, want 1", v)
	}
	var b strings.Builder
	for i := 0; b.Len() < 1<<20; i++ {
		fmt.Fprintf(&b, "k%d::v++", i)
	}
	e = run(t, map[string]any{"field_split_pattern": `\+\+`, "value_split_pattern": "::", "target": "kv"}, map[string]any{"message": b.String()})
	if m, _ := e.Fields()["kv"].(map[string]any); len(m) != defaultMaxKeys || !e.HasTag("_kv_filter_limit") {
		t.Errorf("%d keys, tags %q", len(m), e.Tags())
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("two megabytes took %v", d)
	}
}

// TestKeysMoveBetweenLines: references are remembered by a pair's place
// in the line; lines whose keys change places still get their own.
func TestKeysMoveBetweenLines(t *testing.T) {
	lines := []string{"a=1 b=2", "b=3 a=4", "[x][y]=5 a=6 b=7", "a=8 [x][y]=9"}
	events := make([]*sdk.Event, len(lines))
	for i, l := range lines {
		events[i] = sdk.NewEvent(l)
	}
	out := sdktest.RunFilters(t, context.Background(), []sdktest.FilterSpec{{Name: "kv"}}, events)
	want := []map[string]any{
		{"a": "1", "b": "2"}, {"a": "4", "b": "3"},
		{"a": "6", "b": "7", "x": map[string]any{"y": "5"}}, {"a": "8", "x": map[string]any{"y": "9"}},
	}
	for i, e := range out {
		checkFields(t, e.Fields(), want[i], nil)
	}
}

// FuzzSplitPatterns: any text, with patterns that overlap the quotes,
// escapes and each other, is read to its end without a panic, and every
// value is a piece of the text.
func FuzzSplitPatterns(f *testing.F) {
	for _, s := range []string{`a=1++b="x++y"++c`, `\++a=\=1`, `==a==b=`, `"a"=(b c)+<d>`, `a=\`, `++++`, "a= b\n=c"} {
		f.Add(s)
	}
	comp := sdktest.Lookup(f, sdk.KindFilter, "kv")
	var filters []sdk.Filter
	for _, settings := range []map[string]any{
		{"field_split_pattern": `\+\+`},
		{"field_split_pattern": `\+|"`, "value_split_pattern": "=+"},
		{"value_split_pattern": `\\|=`, "whitespace": "strict", "recursive": true},
	} {
		flt, err := comp.NewFilter(context.Background(), sdktest.Config(f, comp, settings), sdktest.Env(f, "kv"))
		if err != nil {
			f.Fatal(err)
		}
		filters = append(filters, flt)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, flt := range filters {
			e := sdk.NewEvent(s)
			flt.Apply(context.Background(), e, nil)
			for k, v := range e.Fields() {
				if str, ok := v.(string); ok && k != "message" && k != "@version" && !strings.Contains(s, str) {
					t.Errorf("%q: %s = %q is not in the text", s, k, str)
				}
			}
		}
	})
}
