package dissect

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/gostash/gostash/plugins/filters/grok/benchdata"
	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/host"
	"github.com/gostash/gostash/sdk/sdktest"
)

func run(t *testing.T, settings map[string]any, fields map[string]any) *sdk.Event {
	t.Helper()
	out := sdktest.RunFilters(t, context.Background(), []sdktest.FilterSpec{{Name: "dissect", Settings: settings}},
		[]*sdk.Event{sdktest.Event(fields)})
	if len(out) != 1 {
		t.Fatalf("%d events out, want 1", len(out))
	}
	return out[0]
}

func msg(mapping string) map[string]any {
	return map[string]any{"mapping": map[string]any{"message": mapping}}
}

// TestSettings covers every setting and modifier, failure tags included.
func TestSettings(t *testing.T) {
	cases := []struct {
		name     string
		settings map[string]any
		in       map[string]any
		want     map[string]any // fields that must hold these values
		absent   []string       // fields that must not exist
		tags     []string       // exactly these tags (nil: none)
	}{
		{name: "normal fields, the last takes the rest",
			settings: msg("%{ts} %{+ts} %{level} %{msg}"),
			in:       map[string]any{"message": "Nov 22 INFO all is well"},
			want:     map[string]any{"ts": "Nov 22", "level": "INFO", "msg": "all is well"}},
		{name: "leading and trailing delimiters; text after the last is ignored",
			settings: msg("[%{a}] <%{b}>"),
			in:       map[string]any{"message": "[x] <y> and more"},
			want:     map[string]any{"a": "x", "b": "y"}},
		{name: "leading delimiter must start the text",
			settings: msg("[%{a}]"),
			in:       map[string]any{"message": "x [y]"},
			absent:   []string{"a"}, tags: []string{"_dissectfailure"}},
		{name: "a delimiter not found fails and changes nothing",
			settings: msg("%{a} %{b}|%{c}"),
			in:       map[string]any{"message": "1 2 3"},
			absent:   []string{"a", "b", "c"}, tags: []string{"_dissectfailure"}},
		{name: "empty value between delimiters is an empty field",
			settings: msg("%{a},%{b},%{c}"),
			in:       map[string]any{"message": "1,,3"},
			want:     map[string]any{"a": "1", "b": "", "c": "3"}},
		{name: "-> skips padding on the right",
			settings: msg("%{id} %{function->} %{server}"),
			in:       map[string]any{"message": "00000043 ViewReceive     machine-321"},
			want:     map[string]any{"id": "00000043", "function": "ViewReceive", "server": "machine-321"}},
		{name: "without -> repeated delimiters are empty fields",
			settings: msg("%{a} %{b} %{c}"),
			in:       map[string]any{"message": "x  y"},
			want:     map[string]any{"a": "x", "b": "", "c": "y"}},
		{name: "%{->} skips padding without a name",
			settings: msg("%{a} %{->} %{c}"),
			in:       map[string]any{"message": "x pad     y"},
			want:     map[string]any{"a": "x", "c": "y"}},
		{name: "+ appends with the delimiter before it",
			settings: msg("%{a}-%{+a}-%{+a}"),
			in:       map[string]any{"message": "1-2-3"},
			want:     map[string]any{"a": "1-2-3"}},
		{name: "+/n orders the appends",
			settings: msg("%{+a/2} %{+a/1} %{+a/4} %{+a/3}"),
			in:       map[string]any{"message": "1 2 3 go"},
			want:     map[string]any{"a": "2 1 go 3"}},
		{name: "+ appends to a field the event already had",
			settings: msg("%{+a} %{b}"),
			in:       map[string]any{"message": "x y", "a": "old"},
			want:     map[string]any{"a": "old x", "b": "y"}},
		{name: "append with no delimiter before joins with a space",
			settings: msg("%{+a}|%{+a}"),
			in:       map[string]any{"message": "x|y"},
			want:     map[string]any{"a": "x|y"}},
		{name: "? skips a named field",
			settings: msg("%{?skipme} %{b}"),
			in:       map[string]any{"message": "x y"},
			want:     map[string]any{"b": "y"}, absent: []string{"skipme"}},
		{name: "%{} skips",
			settings: msg("%{} %{b}"),
			in:       map[string]any{"message": "x y"},
			want:     map[string]any{"b": "y"}},
		{name: "& names a field by another's value (? key)",
			settings: msg("%{?k}=%{&k}"),
			in:       map[string]any{"message": "error=disk full"},
			want:     map[string]any{"error": "disk full"}, absent: []string{"k"}},
		{name: "& with Elasticsearch's * key",
			settings: msg("%{*k}=%{&k}"),
			in:       map[string]any{"message": "error=disk full"},
			want:     map[string]any{"error": "disk full"}, absent: []string{"k", "*k"}},
		{name: "& with a normal key keeps both",
			settings: msg("%{k} %{&k}"),
			in:       map[string]any{"message": "hello world"},
			want:     map[string]any{"k": "hello", "hello": "world"}},
		{name: "& with an empty key sets nothing",
			settings: msg("%{?k}=%{&k}"),
			in:       map[string]any{"message": "=v"},
			absent:   []string{"k", ""}},
		{name: "nested field references",
			settings: msg("%{[http][method]} %{[url][path]}"),
			in:       map[string]any{"message": "GET /x"},
			want:     map[string]any{"http": map[string]any{"method": "GET"}, "url": map[string]any{"path": "/x"}}},
		{name: "mappings run in order; a later one dissects an earlier one's field",
			settings: map[string]any{"mapping": map[string]any{"message": "%{a} %{rest}", "rest": "%{b}:%{c}"}},
			in:       map[string]any{"message": "x y:z"},
			want:     map[string]any{"a": "x", "b": "y", "c": "z"}},
		{name: "a missing source field: no tag (as Logstash)",
			settings: map[string]any{"mapping": map[string]any{"nope": "%{a} %{b}"}},
			in:       map[string]any{"message": "x y"},
			absent:   []string{"a"}},
		{name: "an empty source field is a failure",
			settings: msg("%{a} %{b}"),
			in:       map[string]any{"message": ""},
			tags:     []string{"_dissectfailure"}},
		{name: "a null source field is a failure",
			settings: msg("%{a} %{b}"),
			in:       map[string]any{"message": nil},
			tags:     []string{"_dissectfailure"}},
		{name: "a number is dissected as its text",
			settings: map[string]any{"mapping": map[string]any{"n": "%{i}.%{f}"}},
			in:       map[string]any{"n": 3.25},
			want:     map[string]any{"i": "3", "f": "25"}},
		{name: "tag_on_failure",
			settings: map[string]any{"mapping": map[string]any{"message": "%{a}|%{b}"}, "tag_on_failure": []any{"x", "y"}},
			in:       map[string]any{"message": "no bar"},
			tags:     []string{"x", "y"}},
		{name: "a field that cannot be set is a failure",
			settings: msg("%{[a][b]} %{c}"),
			in:       map[string]any{"message": "x y", "a": "scalar"},
			want:     map[string]any{"a": "scalar", "c": "y"}, tags: []string{"_dissectfailure"}},
		{name: "add_tag applies on a match",
			settings: map[string]any{"mapping": map[string]any{"message": "%{a} %{b}"}, "add_tag": []any{"ok"}},
			in:       map[string]any{"message": "x y"},
			tags:     []string{"ok"}},
		{name: "add_tag does not apply on a failure",
			settings: map[string]any{"mapping": map[string]any{"message": "%{a}|%{b}"}, "add_tag": []any{"ok"}},
			in:       map[string]any{"message": "x y"},
			tags:     []string{"_dissectfailure"}},
		{name: "convert_datatype int and float",
			settings: map[string]any{"mapping": map[string]any{"message": "%{code} %{cpu} %{n}"},
				"convert_datatype": map[string]any{"code": "int", "cpu": "float", "n": "int"}},
			in:   map[string]any{"message": "00042 95.43 -7.9"},
			want: map[string]any{"code": int64(42), "cpu": 95.43, "n": int64(-7)}},
		{name: "convert_datatype on its own, on numbers already",
			settings: map[string]any{"convert_datatype": map[string]any{"a": "float", "b": "int", "c": "INT"}},
			in:       map[string]any{"a": int64(3), "b": 2.9, "c": "1e3"},
			want:     map[string]any{"a": 3.0, "b": int64(2), "c": int64(1000)}},
		{name: "convert_datatype failure tags",
			settings: map[string]any{"mapping": map[string]any{"message": "%{a} %{b}"},
				"convert_datatype": map[string]any{"a": "int", "ccu": "float", "other": "int", "sp": "int"}},
			in:   map[string]any{"message": "x1 y", "other": map[string]any{}, "sp": " 5"},
			want: map[string]any{"a": "x1", "sp": " 5"},
			tags: []string{"_dataconversionuncoercible_a_int", "_dataconversionnullvalue_ccu_float", "_dataconversionuncoercible_other_int", "_dataconversionuncoercible_sp_int"}},
		{name: "convert_datatype beyond int64 keeps the text",
			settings: map[string]any{"convert_datatype": map[string]any{"big": "int"}},
			in:       map[string]any{"big": "43947404257507186289"},
			want:     map[string]any{"big": "43947404257507186289"}},
		{name: "more fields than the stack buffer",
			settings: msg(strings.Repeat("%{} ", 40) + "%{last}"),
			in:       map[string]any{"message": strings.Repeat("x ", 40) + "end"},
			want:     map[string]any{"last": "end"}},
		{name: "multibyte delimiters and text",
			settings: msg("%{a} → %{b}"),
			in:       map[string]any{"message": "ünï → çødé"},
			want:     map[string]any{"a": "ünï", "b": "çødé"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := run(t, tc.settings, tc.in)
			fields := e.Fields()
			for k, v := range tc.want {
				if got := fields[k]; !reflect.DeepEqual(got, v) {
					t.Errorf("%s = %#v, want %#v", k, got, v)
				}
			}
			for _, k := range tc.absent {
				if v, ok := fields[k]; ok {
					t.Errorf("%s = %#v, want no such field", k, v)
				}
			}
			if got := e.Tags(); !reflect.DeepEqual(got, tc.tags) {
				t.Errorf("tags = %q, want %q", got, tc.tags)
			}
		})
	}
}

// TestLogstashCompatibilitySuite runs the dissect plugin's own
// compatibility vectors (spec/fixtures/dissect_tests.json of
// logstash-filter-dissect at dcac702, Apache 2.0).
func TestLogstashCompatibilitySuite(t *testing.T) {
	data, err := os.ReadFile("testdata/logstash_dissect_tests.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name     string            `json:"name"`
		Tok      string            `json:"tok"`
		Msg      string            `json:"msg"`
		Expected map[string]string `json:"expected"`
		Skip     bool              `json:"skip"`
	}
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		if tc.Skip {
			continue
		}
		t.Run(tc.Name, func(t *testing.T) {
			e := run(t, msg(tc.Tok), map[string]any{"message": tc.Msg})
			for k, v := range tc.Expected {
				if got, _ := e.Get(k); got != v {
					t.Errorf("%s = %#v, want %q", k, got, v)
				}
			}
			if tags := e.Tags(); tags != nil {
				t.Errorf("tags %q", tags)
			}
		})
	}
}

// TestValidate: what --configtest reports, on the setting it is about.
func TestValidate(t *testing.T) {
	comp := sdktest.Lookup(t, sdk.KindFilter, "dissect")
	cases := []struct {
		settings map[string]any
		path     string
		want     string
	}{
		{msg(""), "mapping.message", "empty"},
		{msg("no fields"), "mapping.message", "no %{...} field"},
		{msg("%{a} %{b"), "mapping.message", "not closed"},
		{msg("%{a %{b}"), "mapping.message", "not closed"},
		{msg("%{a}%{b}"), "mapping.message", "no delimiter"},
		{msg("%{+&a} x"), "mapping.message", "both an append"},
		{msg("%{&+a} x"), "mapping.message", "both an append"},
		{msg("%{+} %{b}"), "mapping.message", "no name"},
		{msg("%{&/2} %{b}"), "mapping.message", "no name"},
		{msg("%{[a} %{b}"), "mapping.message", "missing ']'"},
		{map[string]any{"mapping": map[string]any{"[x": "%{a}"}}, "mapping.[x", "missing ']'"},
		{map[string]any{"convert_datatype": map[string]any{"a": "integer"}}, "convert_datatype.a", `convert to "integer"`},
	}
	for _, tc := range cases {
		ds := sdktest.Validate(comp, tc.settings)
		if len(ds) != 1 || !strings.Contains(ds[0].Summary, tc.want) || strings.Join(ds[0].Path, ".") != tc.path {
			t.Errorf("%v: diagnostics %v, want one at %s containing %q", tc.settings, ds, tc.path, tc.want)
		}
	}
	if ds := sdktest.Validate(comp, msg("%{a->/2} %{+b/10->} %{?c} %{} %{&c}")); len(ds) != 0 {
		t.Errorf("a valid mapping: %v", ds)
	}
}

// TestMatchDoesNotAllocate: the scan itself allocates nothing.
func TestMatchDoesNotAllocate(t *testing.T) {
	d, err := compile("message", apacheMapping)
	if err != nil {
		t.Fatal(err)
	}
	line := apacheLine
	spans := make([]sdk.Span, len(d.fields))
	if n := testing.AllocsPerRun(100, func() {
		if !d.match(line, spans) {
			t.Fatal("no match")
		}
	}); n != 0 {
		t.Fatalf("%v allocations per match", n)
	}
}

// index finds a delimiter where strings.Index does: random texts over a
// small alphabet (so delimiters and their first bytes recur) and
// delimiters of 1-4 bytes.
func TestIndexIsStringsIndex(t *testing.T) {
	rng := rand.New(rand.NewSource(12))
	const alphabet = "ab \"]["
	text := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.Intn(len(alphabet))]
		}
		return string(b)
	}
	for range 200000 {
		s, d := text(rng.Intn(40)), text(1+rng.Intn(4))
		if got, want := index(s, d), strings.Index(s, d); got != want {
			t.Fatalf("index(%q, %q) = %d, strings.Index %d", s, d, got, want)
		}
	}
}

// A conversion made as its field is stored (fuse) leaves the event as the
// conversion pass after the mappings does: the same values and the same
// tags in the same order, on events decoded from a batch, for numbers,
// text that is not one, text beyond int64, a mapping that fails, a field
// on the way that is not a map, and mappings where fusing is not allowed.
func TestFusedConversionMatchesThePass(t *testing.T) {
	cases := []struct {
		mappings map[string]any
		convert  map[string]any
		fused    int // conversions that must be fused
	}{
		{map[string]any{"message": "%{a} %{b} %{c}"}, map[string]any{"a": "int", "b": "float", "c": "int"}, 3},
		{map[string]any{"message": "%{[x][a]} %{[x][b]} %{c}"}, map[string]any{"[x][a]": "int", "[x][b]": "float", "zz": "int"}, 2},
		{map[string]any{"message": "%{a} %{+a} %{c}"}, map[string]any{"a": "int", "c": "int"}, 1},
		{map[string]any{"message": "%{a} %{a} %{c}"}, map[string]any{"a": "int", "c": "float"}, 1},
		{map[string]any{"message": "%{a} %{&a} %{c}"}, map[string]any{"c": "int"}, 0},
		{map[string]any{"message": "%{a} %{b} %{c}"}, map[string]any{"a": "int", "[a]": "float"}, 0},
		{map[string]any{"message": "%{a} %{b} %{c}", "b": "%{d}.%{e}"}, map[string]any{"a": "int", "d": "int"}, 0},
	}
	lines := []string{"1 2.5 3", "-7.9 x 00042", "43947404257507186289 1e3 -", "12 34", "  ", "8 9.5.1 10", "0 0 0"}
	for ci, tc := range cases {
		settings := map[string]any{"mapping": tc.mappings, "convert_datatype": tc.convert}
		comp := sdktest.Lookup(t, sdk.KindFilter, "dissect")
		cfg := sdktest.Config(t, comp, settings)
		fused, ds := build(cfg)
		plain, _ := build(cfg)
		if err := ds.Err(); err != nil {
			t.Fatal(err)
		}
		n := 0
		for i := range plain.conversions {
			if fused.conversions[i].bit != 0 {
				n++
			}
			plain.conversions[i].bit = 0
		}
		for _, d := range plain.dissectors {
			clear(d.conv)
		}
		if n != tc.fused {
			t.Errorf("case %d: %d conversions fused, want %d", ci, n, tc.fused)
		}
		var evs []*sdk.Event
		for _, l := range lines {
			evs = append(evs, sdk.NewEvent(l))
			x := sdk.NewEvent(l)
			_ = x.Set("x", "not a map") // [x][a] cannot be set
			evs = append(evs, x)
		}
		batch := host.EncodeBatch(evs)
		var da, db host.Decoder
		a, err := da.Decode(batch)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := db.Decode(batch)
		for i := range a {
			ra := fused.Apply(context.Background(), a[i], nil)
			rb := plain.Apply(context.Background(), b[i], nil)
			if ma, mb := a[i].ToMap(true), b[i].ToMap(true); ra != rb || !reflect.DeepEqual(ma, mb) {
				t.Errorf("case %d, event %d: fused %v %v\n                     pass  %v %v", ci, i, ra, ma, rb, mb)
			}
		}
	}
}

// An event decoded from a batch (fields stored raw, message read in
// place) comes out of the filter as an event made in place does (fields
// stored in its map), and so does what crosses to the next process: on
// benchdata's Apache lines and lines that fail, legacy and ECS names.
func TestDecodedEventsMatchMadeOnes(t *testing.T) {
	lines := append(benchdata.Apache(300), "not an apache line", "", `1.2.3.4 - - [x] "GET`)
	for _, ecs := range []bool{false, true} {
		f := apacheFilters(t, ecs)["Dissect"]
		var made []*sdk.Event
		for _, l := range lines {
			made = append(made, sdk.NewEvent(l))
		}
		decodedMatchesMade(t, f, made, func(i int) string { return fmt.Sprintf("ecs %v, line %q", ecs, lines[i]) })
	}
}

// decodedMatchesMade runs f on made and on the same events encoded in a
// batch and decoded: the results, the events and what crosses to the
// next process must be alike. what names the i-th event in a failure.
func decodedMatchesMade(t *testing.T, f sdk.Filter, made []*sdk.Event, what func(i int) string) {
	t.Helper()
	var dec host.Decoder
	decoded, err := dec.Decode(host.EncodeBatch(made))
	if err != nil {
		t.Fatal(err)
	}
	for i := range made {
		rm := f.Apply(context.Background(), made[i], nil)
		rd := f.Apply(context.Background(), decoded[i], nil)
		if rm != rd {
			t.Fatalf("%s: %v, made in place %v", what(i), rd, rm)
		}
	}
	var again host.Decoder
	crossed, err := again.Decode(host.EncodeBatch(decoded))
	if err != nil {
		t.Fatal(err)
	}
	for i := range made {
		want := made[i].ToMap(true)
		if got := decoded[i].ToMap(true); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s:\n got %v\nwant %v", what(i), got, want)
		}
		if got := crossed[i].ToMap(true); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s, crossed:\n got %v\nwant %v", what(i), got, want)
		}
	}
}

// Random mappings (flat and nested names, skips, appends, indirect
// fields, padding, fused and unfused conversions) on random lines and on
// events that already have some of the names (an object whole, in part,
// a name on the way that is not an object): an event decoded from a
// batch, whose fields are written raw, comes out as one made in place,
// and so does what crosses to the next process.
func TestRandomMappingsDecodedMatchMade(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	names := []string{"a", "b", "msg", "[h][r][m]", "[h][v]", "[h][r][n]", "[u][n]", "[x][y][z]", "[x][w]", "n"}
	delims := []string{" ", " - ", "|", "] [", ":", "->"}
	word := func() string {
		const alphabet = "abcdefgh0123456789."
		b := make([]byte, rng.Intn(6))
		for i := range b {
			b[i] = alphabet[rng.Intn(len(alphabet))]
		}
		if rng.Intn(3) == 0 {
			return fmt.Sprint(rng.Intn(100000)) // a number, to convert
		}
		return string(b)
	}
	prefill := []func(e *sdk.Event){
		func(*sdk.Event) {},
		func(e *sdk.Event) { _ = e.Set("[h][keep]", "k") },
		func(e *sdk.Event) { _ = e.Set("[h][r][m]", "old"); _ = e.Set("[u][n]", "old") },
		func(e *sdk.Event) { _ = e.Set("h", "not an object") },
		func(e *sdk.Event) { _ = e.Set("a", "old"); _ = e.Set("[x][y]", int64(3)) },
		func(e *sdk.Event) { _ = e.Set("dyn", "was here") },
	}
	for round := range 300 {
		var mapping strings.Builder
		var keys []string
		nfields := 1 + rng.Intn(7)
		for i := range nfields {
			name := names[rng.Intn(len(names))]
			spec := name
			switch rng.Intn(10) {
			case 0:
				spec = "?" + name
			case 1:
				spec = "+" + name
			case 2:
				spec = fmt.Sprintf("+%s/%d", name, 1+rng.Intn(3))
			case 3:
				if len(keys) > 0 {
					spec = "&" + keys[rng.Intn(len(keys))]
				}
			case 4:
				spec = name + "->"
			case 5:
				spec = ""
			}
			keys = append(keys, name)
			mapping.WriteString("%{" + spec + "}")
			if i < nfields-1 || rng.Intn(2) == 0 {
				mapping.WriteString(delims[rng.Intn(len(delims))])
			}
		}
		conv := map[string]any{}
		for range rng.Intn(3) {
			conv[names[rng.Intn(len(names))]] = []string{"int", "float"}[rng.Intn(2)]
		}
		settings := map[string]any{"mapping": map[string]any{"message": mapping.String()}}
		if len(conv) > 0 {
			settings["convert_datatype"] = conv
		}
		comp := sdktest.Lookup(t, sdk.KindFilter, "dissect")
		f, err := comp.NewFilter(context.Background(), sdktest.Config(t, comp, settings), sdktest.Env(t, "dissect"))
		if err != nil {
			continue // a mapping Logstash refuses too
		}
		var made []*sdk.Event
		for range 20 {
			// A line the mapping matches mostly: its delimiters with
			// words between them (a word may be "dyn", a name for &).
			var line strings.Builder
			for _, part := range strings.SplitAfter(mapping.String(), "}") {
				if k := strings.Index(part, "%{"); k >= 0 {
					line.WriteString(part[:k])
				}
				w := word()
				if rng.Intn(5) == 0 {
					w = "dyn"
				}
				line.WriteString(w)
			}
			e := sdk.NewEvent(line.String())
			prefill[rng.Intn(len(prefill))](e)
			made = append(made, e)
		}
		decodedMatchesMade(t, f, made, func(i int) string {
			return fmt.Sprintf("round %d, mapping %q, convert %v, line %q", round, mapping.String(), conv, made[i].Message())
		})
	}
}
