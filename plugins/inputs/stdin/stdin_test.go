package stdin

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/codecs"
	"github.com/gostash/gostash/sdk/sdktest"
)

// pipe points the input at a real pipe for one test and returns its
// write end.
func pipe(t *testing.T) *os.File {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := stdin
	stdin = func() io.Reader { return r }
	t.Cleanup(func() {
		stdin = old
		w.Close()
		r.Close()
	})
	return w
}

// feed writes data from another goroutine (a pipe holds only 64 KiB) and
// closes the pipe: end of input.
func feed(t *testing.T, data string) {
	w := pipe(t)
	go func() {
		_, _ = io.WriteString(w, data)
		w.Close()
	}()
}

func read(t *testing.T, settings map[string]any) []*sdk.Event {
	t.Helper()
	res := sdktest.RunInput(t, t.Context(), sdktest.InputSpec{Name: "stdin", Settings: settings})
	if res.Err != nil {
		t.Fatalf("Run: %v, want nil at the end of input", res.Err)
	}
	return res.Events
}

func messages(events []*sdk.Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Message())
	}
	return out
}

func TestLines(t *testing.T) {
	feed(t, "first\nwindows\r\n\nok\xffbad\ntwo\xfe\xfebad\nlast without newline")
	events := read(t, nil)
	// One U+FFFD per bad byte, as Java's decoders do for Logstash.
	want := []string{"first", "windows", "", "ok\uFFFDbad", "two\uFFFD\uFFFDbad", "last without newline"}
	if got := messages(events); !slices.Equal(got, want) {
		t.Fatalf("messages %q, want %q", got, want)
	}
	host, _ := os.Hostname()
	e := events[0]
	if got, _ := e.Get("[host][hostname]"); got != host {
		t.Errorf("[host][hostname] = %v, want %q", got, host)
	}
	if got, _ := e.Get("[event][original]"); got != "first" {
		t.Errorf("[event][original] = %v, want the line", got)
	}
	if got, _ := e.Get("@version"); got != "1" {
		t.Errorf("@version = %v", got)
	}
	if ts, ok := e.Timestamp(); !ok || time.Since(ts) > time.Minute {
		t.Errorf("@timestamp = %v, want about now", ts)
	}
}

func TestECSDisabled(t *testing.T) {
	feed(t, "x\n")
	e := read(t, map[string]any{"ecs_compatibility": "disabled"})[0]
	host, _ := os.Hostname()
	if e.Fields()["host"] != host {
		t.Errorf("host = %#v, want %q", e.Fields()["host"], host)
	}
	if _, ok := e.Fields()["event"]; ok {
		t.Errorf("[event][original] set with ecs_compatibility disabled")
	}
}

func TestLongLines(t *testing.T) {
	tests := []struct {
		name  string
		max   int
		input string
		want  []string
		tags  []bool
	}{
		{"cut", 10, "0123456789abcdef\nnext\n", []string{"0123456789", "next"}, []bool{true, false}},
		{"exactly max", 4, "abcd\nabcde\n", []string{"abcd", "abcd"}, []bool{false, true}},
		{"no half character", 5, "abcdé\n", []string{"abcd"}, []bool{true}},
		// Longer than a read: the rest is skipped over several reads.
		{"default limit", 1 << 20, strings.Repeat("x", 3<<20) + "\nafter\n", []string{strings.Repeat("x", 1<<20), "after"}, []bool{true, false}},
		{"long but allowed", 1 << 20, strings.Repeat("y", 200<<10) + "\n", []string{strings.Repeat("y", 200<<10)}, []bool{false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			feed(t, tt.input)
			events := read(t, map[string]any{"max_line_bytes": tt.max})
			got := messages(events)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %d messages of lengths %v, want %v", len(got), lengths(got), lengths(tt.want))
			}
			for i, e := range events {
				if e.HasTag(codecs.TagLineTooLong) != tt.tags[i] {
					t.Errorf("event %d: tags %v, want _linetoolong: %v", i, e.Tags(), tt.tags[i])
				}
			}
		})
	}
}

func lengths(ss []string) []int {
	var out []int
	for _, s := range ss {
		out = append(out, len(s))
	}
	return out
}

func TestJSONLines(t *testing.T) {
	feed(t, strings.Join([]string{
		`{"message":"hi","n":3,"f":1.5,"big":12345678901234,"nested":{"ok":true,"list":[1,"a",null]},"tags":["x"]}`,
		`{"@timestamp":"2024-05-06T07:08:09.123Z","@metadata":{"id":"m1"},"@version":"2"}`,
		`not json at all`,
		`{"a":1} trailing`,
		`[{"i":1},{"i":2}]`,
		`{"@timestamp":"yesterday"}`,
		`42`,
	}, "\n")+"\n")
	events := read(t, map[string]any{"codec": "json_lines"})
	if len(events) != 8 {
		t.Fatalf("got %d events, want 8: %q", len(events), messages(events))
	}
	e := events[0]
	for ref, want := range map[string]any{
		"message": "hi", "n": int64(3), "f": 1.5, "big": int64(12345678901234),
		"[nested][ok]": true, "tags": []any{"x"}, "[nested][list]": []any{int64(1), "a", nil},
	} {
		got, _ := e.Get(ref)
		if !equal(got, want) {
			t.Errorf("%s = %#v, want %#v", ref, got, want)
		}
	}
	if _, ok := e.Get("[event][original]"); ok {
		t.Errorf("json_lines set [event][original]")
	}
	e = events[1]
	if ts, _ := e.Timestamp(); sdk.FormatTimestamp(ts.UnixNano()) != "2024-05-06T07:08:09.123Z" {
		t.Errorf("@timestamp = %v", ts)
	}
	if e.Metadata()["id"] != "m1" || e.Fields()["@version"] != "2" {
		t.Errorf("@metadata %v, @version %v", e.Metadata(), e.Fields()["@version"])
	}
	for i, line := range map[int]string{2: "not json at all", 3: `{"a":1} trailing`, 7: "42"} {
		if events[i].Message() != line || !events[i].HasTag(codecs.TagJSONParseFailure) {
			t.Errorf("event %d: message %q tags %v; want the raw line tagged %s", i, events[i].Message(), events[i].Tags(), codecs.TagJSONParseFailure)
		}
	}
	if events[4].Fields()["i"] != int64(1) || events[5].Fields()["i"] != int64(2) {
		t.Errorf("array elements: %v, %v", events[4].Fields(), events[5].Fields())
	}
	if !events[6].HasTag(codecs.TagTimestampParseFailure) || events[6].Fields()["_@timestamp"] != "yesterday" {
		t.Errorf("bad @timestamp: tags %v, _@timestamp %v", events[6].Tags(), events[6].Fields()["_@timestamp"])
	}
}

func equal(a, b any) bool {
	if l, ok := a.([]any); ok {
		m, ok := b.([]any)
		return ok && slices.EqualFunc(l, m, equal)
	}
	return a == b
}

// A piped file fills whole batches.
func TestBatches(t *testing.T) {
	w := pipe(t)
	if _, err := io.WriteString(w, strings.Repeat("line\n", 1200)); err != nil {
		t.Fatal(err)
	}
	w.Close()
	res := sdktest.RunInput(t, t.Context(), sdktest.InputSpec{Name: "stdin"})
	if !slices.Equal(res.Batches, []int{500, 500, 200}) {
		t.Errorf("batches %v, want [500 500 200]", res.Batches)
	}
}

// Events are filled again once their batch is published, and events
// share one [host] object: each event still carries its own line, and
// an add_field into [host] (which would write into a shared object)
// gets one object per event.
func TestReusedEventsKeepTheirLines(t *testing.T) {
	var lines strings.Builder
	for i := range 1200 {
		fmt.Fprintf(&lines, "line %d\n", i)
	}
	for _, settings := range []map[string]any{nil, {"add_field": map[string]any{"[host][line]": "%{message}"}}} {
		w := pipe(t)
		go func() {
			_, _ = io.WriteString(w, lines.String())
			w.Close()
		}()
		events := read(t, settings)
		if len(events) != 1200 {
			t.Fatalf("%v: %d events, want 1200", settings, len(events))
		}
		host, _ := os.Hostname()
		for i, e := range events {
			want := fmt.Sprintf("line %d", i)
			if got := e.Message(); got != want {
				t.Fatalf("%v: event %d: message %q, want %q", settings, i, got, want)
			}
			if got, _ := e.Get("[event][original]"); got != want {
				t.Fatalf("%v: event %d: [event][original] %v, want %q", settings, i, got, want)
			}
			if got, _ := e.Get("[host][hostname]"); got != host {
				t.Fatalf("%v: event %d: [host][hostname] %v, want %q", settings, i, got, host)
			}
			if settings != nil {
				if got, _ := e.Get("[host][line]"); got != want {
					t.Fatalf("event %d: [host][line] %v, want %q (an object shared with other events?)", i, got, want)
				}
			}
		}
	}
}

// A line typed at a terminal is an event at once, without waiting for a
// full batch, and the input stops when asked although its read blocks.
func TestInteractive(t *testing.T) {
	w := pipe(t)
	if _, err := io.WriteString(w, "typed\n"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res := sdktest.RunInput(t, t.Context(), sdktest.InputSpec{Name: "stdin", StopAfter: 1})
	if got := messages(res.Events); !slices.Equal(got, []string{"typed"}) || res.Err != nil {
		t.Fatalf("got %q, %v", got, res.Err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestValidate(t *testing.T) {
	comp := sdktest.Lookup(t, sdk.KindInput, "stdin")
	if !comp.Spec.Stdin {
		t.Errorf("spec does not say it reads stdin: the core would not give it stdin")
	}
	tests := []struct {
		name     string
		settings map[string]any
		path     string // of the one error wanted; "" for none
	}{
		{"defaults", nil, ""},
		{"max_line_bytes 0", map[string]any{"max_line_bytes": 0}, "max_line_bytes"},
		{"empty delimiter", map[string]any{"delimiter": ""}, "delimiter"},
		{"multiline without rules", map[string]any{"codec": "multiline"}, "codec"},
		{"bad pattern", map[string]any{"codec": "multiline", "multiline": map[string]any{"pattern": "(", "what": "previous"}}, "multiline.pattern"},
		{"bad what", map[string]any{"codec": "multiline", "multiline": map[string]any{"pattern": "x", "what": "up"}}, "multiline.what"},
		{"multiline ok", map[string]any{"codec": "multiline", "multiline": map[string]any{"pattern": `^\s`, "what": "previous"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errs []string
			for _, d := range sdktest.Validate(comp, tt.settings) {
				if !d.Warning {
					errs = append(errs, strings.Join(d.Path, "."))
				}
			}
			var want []string
			if tt.path != "" {
				want = []string{tt.path}
			}
			if !slices.Equal(errs, want) {
				t.Errorf("errors on %q, want on %q", errs, want)
			}
		})
	}
}

// The json codec decodes each line as json_lines does; blank lines make
// no event and a last line without a newline is decoded too.
func TestJSON(t *testing.T) {
	feed(t, "{\"a\":1}\n\n   \nnope\n{\"b\":2}")
	events := read(t, map[string]any{"codec": "json"})
	if len(events) != 3 {
		t.Fatalf("got %d events, want 3: %q", len(events), messages(events))
	}
	if events[0].Fields()["a"] != int64(1) || events[2].Fields()["b"] != int64(2) {
		t.Errorf("fields %v, %v", events[0].Fields(), events[2].Fields())
	}
	if events[1].Message() != "nope" || !events[1].HasTag(codecs.TagJSONParseFailure) {
		t.Errorf("message %q tags %v, want the raw line tagged %s", events[1].Message(), events[1].Tags(), codecs.TagJSONParseFailure)
	}
	host, _ := os.Hostname()
	for i, e := range events {
		if got, _ := e.Get("[host][hostname]"); got != host {
			t.Errorf("event %d: [host][hostname] = %v, want %q", i, got, host)
		}
	}
}

// A host the JSON already gives is kept.
func TestJSONKeepsHost(t *testing.T) {
	feed(t, `{"host":{"hostname":"web1"}}`+"\n"+`{"host":{"ip":"10.0.0.1"}}`+"\n")
	events := read(t, map[string]any{"codec": "json_lines"})
	if got, _ := events[0].Get("[host][hostname]"); got != "web1" {
		t.Errorf("[host][hostname] = %v, want the event's own", got)
	}
	host, _ := os.Hostname()
	if got, _ := events[1].Get("[host][hostname]"); got != host {
		t.Errorf("[host][hostname] = %v, want ours beside [host][ip]", got)
	}
	if got, _ := events[1].Get("[host][ip]"); got != "10.0.0.1" {
		t.Errorf("[host][ip] = %v, want kept", got)
	}
}

const stackTrace = `2024-05-06 07:08:09 ERROR request failed
java.lang.IllegalStateException: boom
	at com.example.Handler.handle(Handler.java:42)
	at com.example.Server.run(Server.java:7)
Caused by: java.io.IOException: closed
	... 2 more
`

func TestMultiline(t *testing.T) {
	javaRules := map[string]any{"pattern": `^(\s|Caused by:|java\.)`, "what": "previous"}
	tests := []struct {
		name     string
		input    string
		rules    map[string]any
		want     []string
		multi    []bool
		extraTag string
	}{
		{
			name:  "java stack trace",
			input: "start\n" + stackTrace + "2024-05-06 07:08:10 INFO next",
			rules: javaRules,
			want:  []string{"start", strings.TrimSuffix(stackTrace, "\n"), "2024-05-06 07:08:10 INFO next"},
			multi: []bool{false, true, false},
		},
		{
			name:  "what next",
			input: "a \\\nb \\\nc\nd\n",
			rules: map[string]any{"pattern": `\\$`, "what": "next"},
			want:  []string{"a \\\nb \\\nc", "d"},
			multi: []bool{true, false},
		},
		{
			name:  "negate",
			input: "[1] one\ncont\n[2] two\n",
			rules: map[string]any{"pattern": `^\[`, "negate": true, "what": "previous"},
			want:  []string{"[1] one\ncont", "[2] two"},
			multi: []bool{true, false},
		},
		{
			name:     "max_lines",
			input:    "x\n 1\n 2\n 3\n",
			rules:    map[string]any{"pattern": `^\s`, "what": "previous", "max_lines": 2},
			want:     []string{"x\n 1", " 2\n 3"},
			multi:    []bool{true, true},
			extraTag: codecs.TagMaxLinesReached,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			feed(t, tt.input)
			events := read(t, map[string]any{"codec": "multiline", "multiline": tt.rules})
			if got := messages(events); !slices.Equal(got, tt.want) {
				t.Fatalf("messages %q, want %q", got, tt.want)
			}
			for i, e := range events {
				if e.HasTag("multiline") != tt.multi[i] {
					t.Errorf("event %d: tags %v, want multiline: %v", i, e.Tags(), tt.multi[i])
				}
				if got, _ := e.Get("[event][original]"); got != tt.want[i] {
					t.Errorf("event %d: [event][original] = %q, want the joined text", i, got)
				}
			}
			if tt.extraTag != "" && !events[0].HasTag(tt.extraTag) {
				t.Errorf("first event tags %v, want %s", events[0].Tags(), tt.extraTag)
			}
		})
	}
}

// The last multiline event goes out after the quiet interval while stdin
// stays open: a stack trace is not held until the next log line.
func TestMultilineAutoFlush(t *testing.T) {
	w := pipe(t)
	if _, err := io.WriteString(w, stackTrace); err != nil {
		t.Fatal(err)
	}
	const quiet = 300 * time.Millisecond
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	start := time.Now()
	res := sdktest.RunInput(t, ctx, sdktest.InputSpec{Name: "stdin", StopAfter: 1, Settings: map[string]any{
		"codec":     "multiline",
		"multiline": map[string]any{"pattern": `^(\s|Caused by:|java\.)`, "what": "previous", "auto_flush_interval": "300ms"},
	}})
	took := time.Since(start)
	if ctx.Err() != nil {
		t.Fatalf("no event within 10 s; got %q", messages(res.Events))
	}
	if got, want := messages(res.Events), []string{strings.TrimSuffix(stackTrace, "\n")}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want the whole stack trace", got)
	}
	if took < quiet || took > quiet+3*time.Second {
		t.Errorf("emitted after %v, want after the quiet interval of %v", took, quiet)
	}
}

// With auto flush off, the last multiline event still comes at the end of
// input.
func TestMultilineFlushAtEOF(t *testing.T) {
	feed(t, "a\n b\n c")
	events := read(t, map[string]any{"codec": "multiline", "multiline": map[string]any{"pattern": `^\s`, "what": "previous", "auto_flush_interval": "0s"}})
	if got := messages(events); !slices.Equal(got, []string{"a\n b\n c"}) {
		t.Errorf("got %q", got)
	}
}

func TestDelimiter(t *testing.T) {
	feed(t, "one|two\r|three")
	events := read(t, map[string]any{"delimiter": "|"})
	// Only the default "\n" also drops a "\r" before it.
	if got, want := messages(events), []string{"one", "two\r", "three"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func BenchmarkLines(b *testing.B) {
	comp := sdktest.Lookup(b, sdk.KindInput, "stdin")
	in, err := comp.NewInput(b.Context(), sdktest.Config(b, comp, nil), sdktest.Env(b, "bench"))
	if err != nil {
		b.Fatal(err)
	}
	data := strings.Repeat("GET /index.html HTTP/1.1 200 512 \"Mozilla/5.0\"\n", b.N)
	old := stdin
	stdin = func() io.Reader { return strings.NewReader(data) }
	defer func() { stdin = old }()
	p := &count{}
	b.ReportAllocs()
	b.ResetTimer()
	if err := in.Run(b.Context(), p); err != nil || p.n != b.N {
		b.Fatal(err, p.n)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

type count struct{ n int }

func (c *count) Publish(_ context.Context, events []*sdk.Event, _ func()) error {
	c.n += len(events)
	return nil
}

// A stop publishes the multiline event the codec still holds: its lines
// were read from standard input, which cannot give them again. (It was
// dropped: only "START 1" came out.)
func TestStopFlushesMultiline(t *testing.T) {
	w := pipe(t) // stays open: the input is stopped, not at the end of input
	if _, err := io.WriteString(w, "START 1\n a\nSTART 2\n b\n"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	res := sdktest.RunInput(t, ctx, sdktest.InputSpec{Name: "stdin", StopAfter: 1, Settings: map[string]any{
		"codec":     "multiline",
		"multiline": map[string]any{"pattern": "^START", "negate": true, "what": "previous", "auto_flush_interval": "60s"},
	}})
	if ctx.Err() != nil {
		t.Fatal("the input did not stop")
	}
	if got, want := messages(res.Events), []string{"START 1\n a", "START 2\n b"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}
