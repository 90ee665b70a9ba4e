package stdout

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strings"
	"syscall"
	"testing"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
)

// capture points the output at a buffer for one test.
func capture(t *testing.T) *countingWriter {
	w := &countingWriter{}
	old := writer
	writer = func() io.Writer { return w }
	t.Cleanup(func() { writer = old })
	return w
}

type countingWriter struct {
	bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

func sample() *sdk.Event {
	e := sdktest.Event(map[string]any{
		"message":        "hello",
		"[host][name]":   "web-1",
		"[http][status]": 503,
		"[http][took]":   0.25,
		"tags":           []string{"a", "b"},
		"ok":             true,
	})
	e.Metadata()["kafka"] = map[string]any{"topic": "logs"}
	return e
}

func TestCodecs(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]any
		want     string
	}{
		{"rubydebug", map[string]any{}, `{
    "@timestamp" => 2024-01-02T03:04:05.000Z,
      "@version" => "1",
          "host" => {
        "name" => "web-1"
    },
          "http" => {
        "status" => 503,
          "took" => 0.25
    },
       "message" => "hello",
            "ok" => true,
          "tags" => [
        [0] "a",
        [1] "b"
    ]
}
`},
		{"rubydebug with metadata", map[string]any{"metadata": true}, `{
     "@metadata" => {
        "kafka" => {
            "topic" => "logs"
        }
    },
    "@timestamp" => 2024-01-02T03:04:05.000Z,
      "@version" => "1",
          "host" => {
        "name" => "web-1"
    },
          "http" => {
        "status" => 503,
          "took" => 0.25
    },
       "message" => "hello",
            "ok" => true,
          "tags" => [
        [0] "a",
        [1] "b"
    ]
}
`},
		{"json_lines", map[string]any{"codec": "json_lines"},
			`{"@timestamp":"2024-01-02T03:04:05.000Z","@version":"1","host":{"name":"web-1"},"http":{"status":503,"took":0.25},"message":"hello","ok":true,"tags":["a","b"]}` + "\n"},
		{"json_lines with metadata", map[string]any{"codec": "json_lines", "metadata": true},
			`{"@metadata":{"kafka":{"topic":"logs"}},"@timestamp":"2024-01-02T03:04:05.000Z","@version":"1","host":{"name":"web-1"},"http":{"status":503,"took":0.25},"message":"hello","ok":true,"tags":["a","b"]}` + "\n"},
		{"line", map[string]any{"codec": "line"}, "hello\n"},
		{"line with format", map[string]any{"codec": "line", "format": "%{[host][name]} %{[http][status]}: %{message} %{missing}"}, "web-1 503: hello %{missing}\n"},
		{"dots", map[string]any{"codec": "dots"}, "."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := capture(t)
			if err := sdktest.RunOutput(t, t.Context(), sdktest.OutputSpec{Name: "stdout", Settings: tt.settings}, []*sdk.Event{sample()}); err != nil {
				t.Fatal(err)
			}
			if got := w.String(); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// Strings are escaped as each format requires; nothing is lost.
func TestEscaping(t *testing.T) {
	msg := "a\"b\\\nc\td\x01e\xffé#{x}"
	tests := []struct{ codec, want string }{
		{"json_lines", `{"message":"a\"b\\\nc\td\u0001e�é#{x}"}` + "\n"},
		{"rubydebug", "{\n    \"message\" => \"a\\\"b\\\\\\nc\\td\\u0001e\\xFFé\\#{x}\"\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.codec, func(t *testing.T) {
			w := capture(t)
			e := sdk.NewEmptyEvent()
			e.Fields()["message"] = msg
			if err := sdktest.RunOutput(t, t.Context(), sdktest.OutputSpec{Name: "stdout", Settings: map[string]any{"codec": tt.codec}}, []*sdk.Event{e}); err != nil {
				t.Fatal(err)
			}
			if got := w.String(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestNumbersAndEmpties(t *testing.T) {
	tests := []struct {
		v               any
		json, rubydebug string
	}{
		{1.0, `1.0`, `1.0`},
		{-2.5, `-2.5`, `-2.5`},
		{1e21, `1e+21`, `1.0e+21`},
		{1e-7, `1e-7`, `1.0e-07`},
		{math.Inf(1), `null`, `Infinity`},
		{int64(-42), `-42`, `-42`},
		{nil, `null`, `nil`},
		{[]any{}, `[]`, `[]`},
		{map[string]any{}, `{}`, `{}`},
	}
	for _, tt := range tests {
		e := sdk.NewEmptyEvent()
		e.Fields()["v"] = tt.v
		o := &Output{}
		if got := string(o.appendJSONLine(nil, e)); got != `{"v":`+tt.json+"}\n" {
			t.Errorf("json_lines of %#v = %s, want %s", tt.v, got, tt.json)
		}
		if got := string(o.appendRubyDebug(nil, e)); got != "{\n    \"v\" => "+tt.rubydebug+"\n}\n" {
			t.Errorf("rubydebug of %#v = %q, want %s", tt.v, got, tt.rubydebug)
		}
	}
}

// A long array pads its indexes as awesome_print does, and hashes inside
// arrays indent under them.
func TestRubyDebugNesting(t *testing.T) {
	list := make([]any, 11)
	for i := range list {
		list[i] = int64(i)
	}
	list[10] = map[string]any{"k": "v"}
	e := sdk.NewEmptyEvent()
	e.Fields()["l"] = list
	got := string((&Output{}).appendRubyDebug(nil, e))
	want := `{
    "l" => [
        [ 0] 0,
        [ 1] 1,
        [ 2] 2,
        [ 3] 3,
        [ 4] 4,
        [ 5] 5,
        [ 6] 6,
        [ 7] 7,
        [ 8] 8,
        [ 9] 9,
        [10] {
            "k" => "v"
        }
    ]
}
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// json_lines output is JSON that reads back to the same values.
func TestJSONLinesIsValidJSON(t *testing.T) {
	w := capture(t)
	e := sample()
	e.Fields()["weird"] = map[string]any{"a\u2028b": []any{nil, 1.5, "\x00"}}
	if err := sdktest.RunOutput(t, t.Context(), sdktest.OutputSpec{Name: "stdout", Settings: map[string]any{"codec": "json_lines"}}, []*sdk.Event{e}); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(w.Bytes(), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, w.String())
	}
	if got := m["weird"].(map[string]any)["a\u2028b"].([]any)[2]; got != "\x00" {
		t.Errorf("round trip of \\x00 gave %q", got)
	}
}

// A batch is one write, and `when` picks the events.
func TestOneWritePerBatchAndWhen(t *testing.T) {
	w := capture(t)
	var events []*sdk.Event
	for _, m := range []string{"a", "b", "c", "d"} {
		events = append(events, sdktest.Event(map[string]any{"message": m}))
	}
	err := sdktest.RunOutput(t, t.Context(), sdktest.OutputSpec{Name: "stdout", Settings: map[string]any{
		"codec": "line", "when": `message != "b"`,
	}}, events)
	if err != nil {
		t.Fatal(err)
	}
	if w.String() != "a\nc\nd\n" || w.writes != 1 {
		t.Errorf("got %q in %d writes, want \"a\\nc\\nd\\n\" in 1", w.String(), w.writes)
	}
}

func TestValidate(t *testing.T) {
	comp := sdktest.Lookup(t, sdk.KindOutput, "stdout")
	ds := sdktest.Validate(comp, map[string]any{"codec": "json_lines", "format": "%{host}"})
	if len(ds) != 1 || !ds[0].Warning || strings.Join(ds[0].Path, ".") != "format" {
		t.Errorf("format without the line codec: %v, want one warning at format", ds)
	}
	ds = sdktest.Validate(comp, map[string]any{"codec": "yaml"})
	if len(ds) != 1 || ds[0].Warning || strings.Join(ds[0].Path, ".") != "codec" {
		t.Errorf("unknown codec: %v, want one error at codec", ds)
	}
}

func BenchmarkWrite(b *testing.B) {
	for _, codec := range []string{"json_lines", "rubydebug", "line"} {
		b.Run(codec, func(b *testing.B) {
			comp := sdktest.Lookup(b, sdk.KindOutput, "stdout")
			old := writer
			writer = func() io.Writer { return io.Discard }
			defer func() { writer = old }()
			out, err := comp.NewOutput(b.Context(), sdktest.Config(b, comp, map[string]any{"codec": codec}), sdktest.Env(b, "bench"))
			if err != nil {
				b.Fatal(err)
			}
			batch := make([]*sdk.Event, 125)
			for i := range batch {
				batch[i] = sample()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := out.Write(b.Context(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/event")
		})
	}
}

// BenchmarkEncodingJSON is the reference json_lines is measured against:
// encoding/json on the event as a map.
func BenchmarkEncodingJSON(b *testing.B) {
	batch := make([]*sdk.Event, 125)
	for i := range batch {
		batch[i] = sample()
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		for _, e := range batch {
			if err := enc.Encode(e.ToMap(false)); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/event")
}

// shortWriter takes only its first room bytes, then fails.
type shortWriter struct {
	bytes.Buffer
	room int
}

func (w *shortWriter) Write(p []byte) (int, error) {
	n := min(len(p), w.room)
	w.room -= n
	w.Buffer.Write(p[:n])
	if n < len(p) {
		return n, syscall.EAGAIN
	}
	return n, nil
}

// A write that fails part way retries only the events it did not print:
// retrying the whole batch printed the first ones twice.
func TestPartialWriteRetriesOnlyTheRest(t *testing.T) {
	for codec, room := range map[string]int{"line": len("a\nb\n"), "dots": len("..")} {
		t.Run(codec, func(t *testing.T) {
			w := &shortWriter{room: room}
			old := writer
			writer = func() io.Writer { return w }
			defer func() { writer = old }()
			comp := sdktest.Lookup(t, sdk.KindOutput, "stdout")
			out, err := comp.NewOutput(t.Context(), sdktest.Config(t, comp, map[string]any{"codec": codec}), sdktest.Env(t, "stdout"))
			if err != nil {
				t.Fatal(err)
			}
			var events []*sdk.Event
			for _, m := range []string{"a", "b", "c", "d"} {
				events = append(events, sdktest.Event(map[string]any{"message": m}))
			}
			if co, ok := out.(sdk.CountingOutput); ok {
				err = co.WriteCount(t.Context(), len(events))
			} else {
				err = out.Write(t.Context(), events)
			}
			var werr *sdk.WriteError
			if !errors.As(err, &werr) {
				t.Fatalf("Write: %v; want per-event outcomes", err)
			}
			var retried []int
			for _, it := range werr.Items {
				if it.Reject {
					t.Errorf("event %d rejected: printing cannot fail for one event", it.Index)
				}
				retried = append(retried, it.Index)
			}
			if len(retried) != 2 || retried[0] != 2 || retried[1] != 3 {
				t.Errorf("retried %v, want [2 3] (a and b were printed)", retried)
			}
		})
	}
}
