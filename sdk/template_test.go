package sdk

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// templateEvent is what the template tables render against.
func templateEvent() *Event {
	e := NewEmptyEvent()
	e.SetTimestamp(time.Date(2024, 12, 30, 3, 4, 5, 0, time.UTC))
	f := e.Fields()
	f["message"] = "hello world"
	f["host"] = map[string]any{"name": "web-1", "ip": "10.0.0.1"}
	f["tags"] = []any{"a", "b"}
	f["count"] = int64(42)
	f["neg"] = int64(-7)
	f["ratio"] = 1.5
	f["whole"] = 3.0
	f["big"] = 1e7
	f["tiny"] = 0.0001
	f["ok"] = true
	f["nothing"] = nil
	f["mixed"] = []any{int64(1), []any{int64(2), int64(3)}, nil, "x", map[string]any{"k": "v"}}
	f["empty"] = []any{}
	f["doc"] = map[string]any{
		"b": []any{int64(1), 2.5, true, nil},
		"a": "q\"uote\n\t\\ é",
		"c": map[string]any{"z": int64(1), "y": map[string]any{}},
	}
	e.Metadata()["index"] = "weblogs"
	return e
}

func TestTemplateRender(t *testing.T) {
	tests := []struct {
		name, tmpl, want string
		ok               bool // every reference resolved
	}{
		{"plain text", "plain text", "plain text", true},
		{"empty", "", "", true},
		{"lone percent", "50% off {x}", "50% off {x}", true},
		{"string field", "%{message}", "hello world", true},
		{"field in text", "msg: %{message}!", "msg: hello world!", true},
		{"nested field", "%{[host][name]}", "web-1", true},
		{"bracketed top level", "%{[message]}", "hello world", true},
		{"metadata", "%{[@metadata][index]}-x", "weblogs-x", true},
		{"adjacent", "%{count}%{neg}", "42-7", true},
		{"map as sorted JSON", "%{host}", `{"ip":"10.0.0.1","name":"web-1"}`, true},
		{"JSON escapes and nesting", "%{doc}",
			`{"a":"q\"uote\n\t\\ é","b":[1,2.5,true,null],"c":{"y":{},"z":1}}`, true},
		{"list joined", "%{tags}", "a,b", true},
		{"nested list flattened, null empty", "%{mixed}", `1,2,3,,x,{"k":"v"}`, true},
		{"empty list", "[%{empty}]", "[]", true},
		{"list element", "%{[tags]}", "a,b", true},
		{"int", "%{count}", "42", true},
		{"float", "%{ratio}", "1.5", true},
		{"whole float keeps .0", "%{whole}", "3.0", true},
		{"large float in E form", "%{big}", "1.0E7", true},
		{"small float in E form", "%{tiny}", "1.0E-4", true},
		{"bool", "%{ok}", "true", true},
		{"timestamp field", "%{@timestamp}", "2024-12-30T03:04:05.000Z", true},
		{"bracketed timestamp", "%{[@timestamp]}", "2024-12-30T03:04:05.000Z", true},
		{"missing field stays literal", "x-%{nope}-y", "x-%{nope}-y", false},
		{"missing nested field stays literal", "%{[host][port]}", "%{[host][port]}", false},
		{"path through a string", "%{[message][x]}", "%{[message][x]}", false},
		{"null stays literal", "%{nothing}", "%{nothing}", false},
		{"one missing of two", "%{message} %{nope}", "hello world %{nope}", false},
		{"Joda date", "logs-%{+YYYY.MM.dd}", "logs-2024.12.30", true},
		{"Joda ISO week", "logs-%{+xxxx.ww}", "logs-2025.01", true},
		{"epoch seconds", "%{+%s}", "1735527845", true},
		{"java.time week year", "%{{YYYY}}", "2025", true},
		{"java.time date", "%{{yyyy-MM-dd}}T", "2024-12-30T", true},
		{"unclosed is text", "100%{ done", "100%{ done", true},
		{"unclosed after a field", "%{count} and %{b", "42 and %{b", true},
		{"percent brace inside a reference", "%{a%{b}", "%{a%{b}", false},
		{"single closing brace after {", "%{{yyyy}", "%{{yyyy}", false},
		{"everything", "%{[host][name]} %{count} %{+yyyy} %{{MM}} %{tags}", "web-1 42 2024 12 a,b", true},
	}
	e := templateEvent()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm, err := ParseTemplate(tt.tmpl)
			if err != nil {
				t.Fatalf("ParseTemplate(%q): %v", tt.tmpl, err)
			}
			if got := tm.Render(e); got != tt.want {
				t.Errorf("Render(%q) = %q, want %q", tt.tmpl, got, tt.want)
			}
			got, ok := tm.RenderStrict(e)
			if got != tt.want || ok != tt.ok {
				t.Errorf("RenderStrict(%q) = %q, %v; want %q, %v", tt.tmpl, got, ok, tt.want, tt.ok)
			}
			if got := string(tm.AppendRender([]byte("pre:"), e)); got != "pre:"+tt.want {
				t.Errorf("AppendRender(%q) = %q, want %q", tt.tmpl, got, "pre:"+tt.want)
			}
			if got := Sprintf(tt.tmpl, e); got != tt.want {
				t.Errorf("Sprintf(%q) = %q, want %q", tt.tmpl, got, tt.want)
			}
			if tm.String() != tt.tmpl {
				t.Errorf("String() = %q, want the source %q", tm.String(), tt.tmpl)
			}
		})
	}
}

func TestTemplateWithoutTimestamp(t *testing.T) {
	e := NewEmptyEvent()
	e.Fields()["message"] = "m"
	tests := []struct{ tmpl, want string }{
		{"logs-%{+YYYY.MM.dd}", "logs-"},
		{"t=%{+%s}", "t="},
		{"%{{yyyy}}|%{message}", "|m"},
		{"%{@timestamp}", "%{@timestamp}"},
	}
	for _, tt := range tests {
		tm := MustParseTemplate(tt.tmpl)
		got, ok := tm.RenderStrict(e)
		if got != tt.want || ok {
			t.Errorf("RenderStrict(%q) without @timestamp = %q, %v; want %q, false", tt.tmpl, got, ok, tt.want)
		}
	}
}

func TestTemplateEpochSecondsFloor(t *testing.T) {
	tests := []struct {
		at   time.Time
		want string
	}{
		{time.Date(2024, 1, 2, 3, 4, 5, 999_999_999, time.UTC), "1704164645"},
		{time.Date(1969, 12, 31, 23, 59, 59, 500_000_000, time.UTC), "-1"},
		{time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC), "-1"},
	}
	tm := MustParseTemplate("%{+%s}")
	for _, tt := range tests {
		e := NewEmptyEvent()
		e.SetTimestamp(tt.at)
		if got := tm.Render(e); got != tt.want {
			t.Errorf("%%{+%%s} at %s = %q, want %q", tt.at.Format(time.RFC3339Nano), got, tt.want)
		}
	}
}

func TestTemplateTimeNow(t *testing.T) {
	tm := MustParseTemplate("%{{TIME_NOW}}")
	if tm.IsStatic() {
		t.Error("TIME_NOW is not static")
	}
	before := time.Now().UTC().Truncate(time.Millisecond)
	got := tm.Render(NewEmptyEvent()) // needs no @timestamp
	after := time.Now().UTC()
	at, err := time.Parse(time.RFC3339Nano, got)
	if err != nil {
		t.Fatalf("TIME_NOW gave %q, not an ISO time: %v", got, err)
	}
	if !strings.HasSuffix(got, "Z") || at.Before(before) || at.After(after) {
		t.Errorf("TIME_NOW = %q, want a UTC time between %s and %s", got, before, after)
	}
}

func TestTemplateIsStatic(t *testing.T) {
	tests := []struct {
		tmpl   string
		static bool
	}{
		{"", true},
		{"logs", true},
		{"100%{ off", true},
		{"%{message}", false},
		{"logs-%{+YYYY}", false},
		{"%{+%s}", false},
	}
	for _, tt := range tests {
		if got := MustParseTemplate(tt.tmpl).IsStatic(); got != tt.static {
			t.Errorf("IsStatic(%q) = %v, want %v", tt.tmpl, got, tt.static)
		}
	}
}

// TestTemplateByDay checks which templates say they render the same all
// day, and that those that say so do: rendered at instants all over a day
// (and around midnight) they give one name, and another the next day.
func TestTemplateByDay(t *testing.T) {
	tests := []struct {
		tmpl  string
		byDay bool
	}{
		{"logs", true},
		{"logs-%{+YYYY.MM.dd}", true},
		{"logs-%{+yyyy.MM}", true},
		{"logs-%{+xxxx.ww}", true},
		{"logs-%{+YYYY.MM.dd}-%{+EEE}", true},
		{"logs-%{{yyyy.MM.dd}}", true},
		{"logs-%{+YYYY.MM.dd.HH}", false},
		{"logs-%{+YYYY.MM.dd'T'mm}", false},
		{"logs-%{+YYYY.SSS}", false},
		{"logs-%{{HH}}", false},
		{"logs-%{+%s}", false},
		{"logs-%{@timestamp}", false},
		{"logs-%{[host][name]}-%{+YYYY}", false},
		{"logs-%{{TIME_NOW}}", false},
	}
	day := time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		tm := MustParseTemplate(tt.tmpl)
		if got := tm.ByDay(); got != tt.byDay {
			t.Errorf("ByDay(%q) = %v, want %v", tt.tmpl, got, tt.byDay)
		}
		if !tt.byDay {
			continue
		}
		render := func(at time.Time) string {
			e := NewEmptyEvent()
			e.SetTimestamp(at)
			return tm.Render(e)
		}
		want := render(day)
		for _, d := range []time.Duration{1, time.Millisecond, 37 * time.Minute, 13 * time.Hour, 24*time.Hour - 1} {
			if got := render(day.Add(d)); got != want {
				t.Errorf("%q at %v gave %q, at midnight %q", tt.tmpl, day.Add(d), got, want)
			}
		}
	}
}

func TestParseTemplateErrors(t *testing.T) {
	tests := []struct{ tmpl, mention string }{
		{"%{}", "names no field"},
		{"x-%{[a]b}", "[a]b"},
		{"%{[a][}", "[a]["},
		{"%{+yyyy.q}", "not a Joda pattern letter"},
		{"%{{cc}}", "cc"},
		{"%{{yyyy#}}", "reserved"},
	}
	for _, tt := range tests {
		_, err := ParseTemplate(tt.tmpl)
		if err == nil {
			t.Errorf("ParseTemplate(%q) succeeded, want an error", tt.tmpl)
			continue
		}
		if !strings.Contains(err.Error(), tt.tmpl) || !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("ParseTemplate(%q) error %q should quote the template and mention %q", tt.tmpl, err, tt.mention)
		}
	}
	if got := Sprintf("%{+q}", templateEvent()); got != "%{+q}" {
		t.Errorf("Sprintf of a bad template = %q, want it unchanged", got)
	}
}

func TestJavaDoubleFormat(t *testing.T) {
	// Java's Double.toString, which Logstash prints floats with.
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{1, "1.0"},
		{-2.5, "-2.5"},
		{0.1, "0.1"},
		{0.001, "0.001"},
		{0.00099, "9.9E-4"},
		{100, "100.0"},
		{123.456, "123.456"},
		{1234567, "1234567.0"},
		{9999999, "9999999.0"},
		{1e7, "1.0E7"},
		{12345678.9, "1.23456789E7"},
		{1e16, "1.0E16"},
		{1e21, "1.0E21"},
		{1e-5, "1.0E-5"},
		{2.0 / 3, "0.6666666666666666"},
		{math.MaxFloat64, "1.7976931348623157E308"},
		{math.NaN(), "NaN"},
		{math.Inf(1), "Infinity"},
		{math.Inf(-1), "-Infinity"},
	}
	for _, tt := range tests {
		if got := string(appendJavaDouble(nil, tt.f)); got != tt.want {
			t.Errorf("appendJavaDouble(%v) = %q, want %q", tt.f, got, tt.want)
		}
	}
}

func TestTemplateAppendRenderDoesNotAllocate(t *testing.T) {
	e := templateEvent()
	tests := []string{
		"static-index",
		"%{message}",
		"%{[host][name]}-%{count}-%{ratio}",
		"logs-%{+YYYY.MM.dd}",
		"%{@timestamp} %{+%s}",
		"%{nope}", // missing: written literally
	}
	buf := make([]byte, 0, 256)
	for _, src := range tests {
		tm := MustParseTemplate(src)
		if n := testing.AllocsPerRun(100, func() { buf = tm.AppendRender(buf[:0], e) }); n != 0 {
			t.Errorf("AppendRender(%q) allocates %.0f times per event", src, n)
		}
	}
	for _, src := range []string{"static-index", "%{message}"} {
		tm := MustParseTemplate(src)
		if n := testing.AllocsPerRun(100, func() { _ = tm.Render(e) }); n != 0 {
			t.Errorf("Render(%q) allocates %.0f times per event; it needs no copy", src, n)
		}
	}
}

func BenchmarkTemplate(b *testing.B) {
	e := templateEvent()
	for _, bc := range []struct{ name, tmpl string }{
		{"static", "weblogs"},
		{"field", "%{message}"},
		{"nested+int", "%{[host][name]}-%{count}"},
		{"joda-index", "logs-%{+YYYY.MM.dd}"},
		{"map-json", "%{host}"},
	} {
		tm := MustParseTemplate(bc.tmpl)
		b.Run("AppendRender/"+bc.name, func(b *testing.B) {
			buf := make([]byte, 0, 256)
			b.ReportAllocs()
			for b.Loop() {
				buf = tm.AppendRender(buf[:0], e)
			}
		})
		b.Run("Render/"+bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = tm.Render(e)
			}
		})
	}
}

// Logstash's field references index lists, in templates as elsewhere:
// mutate's documented split example names the first part %{[hostname][0]}.
func TestTemplateIndexesLists(t *testing.T) {
	e := NewEvent("m")
	if err := MustParseFieldRef("hostname").Set(e, []any{"www", "example", "com"}); err != nil {
		t.Fatal(err)
	}
	for tmpl, want := range map[string]string{
		"%{[hostname][0]}":  "www",
		"%{[hostname][-1]}": "com",
		"%{[hostname][3]}":  "%{[hostname][3]}",
	} {
		if got := MustParseTemplate(tmpl).Render(e); got != want {
			t.Errorf("%s = %q, want %q", tmpl, got, want)
		}
	}
}

// TestAppendJSONString: what needs escaping is escaped as Jackson does
// (\" \\ \n \r \t \b \f, other control characters \u00XX), each invalid
// UTF-8 byte becomes U+FFFD, and DEL, <>&, U+2028, U+2029 and valid runes
// stay as they are; wherever they fall in strings of any length (the
// words of plain text skipped eight bytes at a time, the bytes after the
// last word) and several in one string, after what dst held.
func TestAppendJSONString(t *testing.T) {
	specials := map[string]string{
		`"`: `\"`, `\`: `\\`, "\n": `\n`, "\r": `\r`, "\t": `\t`, "\b": `\b`, "\f": `\f`,
		"\x00": `\u0000`, "\x01": `\u0001`, "\x1b": `\u001b`, "\x1f": `\u001f`,
		"\x7f": "\x7f", "<": "<", ">": ">", "&": "&", "\u2028": "\u2028", "\u2029": "\u2029",
		"é": "é", "日": "日", "😀": "😀",
		"\x80": "\ufffd", "\xff": "\ufffd", "\xc3": "\ufffd", "\xe6\x97": "\ufffd\ufffd",
		"\xc0\xaf": "\ufffd\ufffd", "\xed\xa0\x80": "\ufffd\ufffd\ufffd", "\xf4\x90\x80\x80": "\ufffd\ufffd\ufffd\ufffd",
	}
	keys := make([]string, 0, len(specials))
	for k := range specials {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, sp := range keys {
		for n := range 20 {
			for at := 0; at <= n; at++ {
				s := strings.Repeat("a", at) + sp + strings.Repeat("b", n-at)
				want := `x"` + strings.Repeat("a", at) + specials[sp] + strings.Repeat("b", n-at) + `"`
				if got := string(AppendJSONString([]byte("x"), s)); got != want {
					t.Fatalf("%q: got %q want %q", s, got, want)
				}
			}
		}
	}
	// Mixes, plain text between the specials (two invalid pieces side by
	// side could make a valid rune).
	const plain = "GET /index.html?q=1 HTTP/1.1"
	r := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		var s, want strings.Builder
		want.WriteByte('"')
		for range r.IntN(6) {
			p := plain[:1+r.IntN(len(plain))]
			sp := keys[r.IntN(len(keys))]
			s.WriteString(p + sp)
			want.WriteString(p + specials[sp])
		}
		want.WriteByte('"')
		if got := string(AppendJSONString(nil, s.String())); got != want.String() {
			t.Fatalf("%q: got %q want %q", s.String(), got, want.String())
		}
	}
}

// A template's sample keeps its text and its dates and leaves its field
// references out: what every event's rendering holds, for an output to
// check a name before any event.
func TestRenderSample(t *testing.T) {
	for src, want := range map[string]string{
		"Logs-%{+YYYY.MM.dd}":             "Logs-2026.12.07",
		"logs-%{+MMM}-%{+EEE}-%{+a}":      "logs-Dec-Mon-PM",
		"%{[type]}-%{[service][name]}-x":  "--x",
		"logs-%{@timestamp}":              "logs-2026-12-07T15:04:05.000Z",
		"plain":                           "plain",
		"a %{missing} b %{+YYYY} %{type}": "a  b 2026 ",
	} {
		tmpl, err := ParseTemplate(src)
		if err != nil {
			t.Fatal(err)
		}
		if got := tmpl.RenderSample(); got != want {
			t.Errorf("%q: sample %q, want %q", src, got, want)
		}
	}
}
