package codecs

import (
	"strings"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk"
)

func mlSettings(t *testing.T, rules map[string]any) *Settings {
	t.Helper()
	c := sdk.NewConfig(map[string]any{"codec": "multiline", "multiline": rules})
	set, ds := ParseSettings(c)
	if ds.HasErrors() {
		t.Fatalf("settings: %v", ds)
	}
	return set
}

// feed decodes text line by line, then flushes, and returns the messages
// with their tags.
func feed(t *testing.T, set *Settings, text string) []Record {
	t.Helper()
	d := set.NewDecoder()
	s := set.NewSplitter()
	var recs []Record
	s.Fill(strings.NewReader(text), 0)
	for l, ok := s.Next(); ok; l, ok = s.Next() {
		recs = d.Decode(l, now, recs)
	}
	return d.Flush(recs)
}

const javaTrace = `2024-01-02 03:04:05 ERROR boom
java.lang.IllegalStateException: bad
	at com.example.A.run(A.java:10)
	at com.example.B.call(B.java:20)
Caused by: java.io.IOException: disk
	... 2 more
2024-01-02 03:04:06 INFO recovered
`

func TestMultiline(t *testing.T) {
	tests := []struct {
		name  string
		rules map[string]any
		in    string
		want  []string // messages, tags after a "|"
	}{
		{"java stack trace, negate previous", map[string]any{"pattern": `^\d{4}-\d{2}-\d{2} `, "negate": true, "what": "previous"}, javaTrace, []string{
			"2024-01-02 03:04:05 ERROR boom\njava.lang.IllegalStateException: bad\n\tat com.example.A.run(A.java:10)\n\tat com.example.B.call(B.java:20)\nCaused by: java.io.IOException: disk\n\t... 2 more|multiline",
			"2024-01-02 03:04:06 INFO recovered|",
		}},
		{"indented continuation", map[string]any{"pattern": `^\s`, "what": "previous"}, "a\n b\n c\nd\n", []string{"a\n b\n c|multiline", "d|"}},
		{"backslash continues to next", map[string]any{"pattern": `\\$`, "what": "next"}, "one \\\ntwo \\\nthree\nfour\n", []string{"one \\\ntwo \\\nthree|multiline", "four|"}},
		{"max_lines", map[string]any{"pattern": `^\s`, "what": "previous", "max_lines": 2.0}, "a\n 1\n 2\n 3\nb\n", []string{"a\n 1|multiline,multiline_codec_max_lines_reached", " 2\n 3|multiline", "b|"}},
		{"max_bytes", map[string]any{"pattern": `^\s`, "what": "previous", "max_bytes": "4b"}, "ab\n cd\n ef\n", []string{"ab\n cd|multiline,multiline_codec_max_bytes_reached", " ef|"}},
		{"custom tag", map[string]any{"pattern": `^\s`, "what": "previous", "multiline_tag": "joined"}, "a\n b\n", []string{"a\n b|joined"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := feed(t, mlSettings(t, tt.rules), tt.in)
			var got []string
			for _, r := range recs {
				got = append(got, r.Event.Message()+"|"+strings.Join(r.Event.Tags(), ","))
			}
			if strings.Join(got, "\n---\n") != strings.Join(tt.want, "\n---\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n---\n"), strings.Join(tt.want, "\n---\n"))
			}
		})
	}
}

// An event's End is the end of its last line, so an input committing it
// never skips lines still held for the next event.
func TestMultilineOffsets(t *testing.T) {
	set := mlSettings(t, map[string]any{"pattern": `^\s`, "what": "previous"})
	d := set.NewDecoder()
	recs := d.Decode(Line{Data: []byte("a"), Start: 0, End: 2}, now, nil)
	recs = d.Decode(Line{Data: []byte(" b"), Start: 2, End: 5}, now, recs)
	if len(recs) != 0 || !d.Pending() {
		t.Fatalf("event came out before its end was known: %v", recs)
	}
	recs = d.Decode(Line{Data: []byte("c"), Start: 5, End: 7}, now+1, recs)
	if len(recs) != 1 || recs[0].Start != 0 || recs[0].End != 5 {
		t.Fatalf("records %+v, want one spanning [0,5)", recs)
	}
	if recs[0].Event.TimestampNano() != now {
		t.Errorf("event time is not its first line's")
	}
}

func TestMultilineAutoFlush(t *testing.T) {
	set := mlSettings(t, map[string]any{"pattern": `^\s`, "what": "previous", "auto_flush_interval": "100ms"})
	d := set.NewDecoder()
	d.Decode(Line{Data: []byte("a"), End: 2}, now, nil)
	if d.Due(now + int64(99*time.Millisecond)) {
		t.Error("due before the interval")
	}
	if at, ok := d.DueAt(); !ok || at != now+int64(100*time.Millisecond) {
		t.Errorf("DueAt = %d, %v", at, ok)
	}
	if !d.Due(now + int64(100*time.Millisecond)) {
		t.Fatal("not due after the interval")
	}
	if recs := d.Flush(nil); len(recs) != 1 || recs[0].Event.Message() != "a" {
		t.Errorf("flush: %+v", recs)
	}
	if d.Pending() {
		t.Error("still pending after a flush")
	}
}

func TestParseSettingsDiagnostics(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]any
		path     string // the setting the error points at; "" for no error
		warning  bool
	}{
		{"defaults", map[string]any{}, "", false},
		{"multiline without rules", map[string]any{"codec": "multiline"}, "codec", false},
		{"bad regexp", map[string]any{"codec": "multiline", "multiline": map[string]any{"pattern": "(", "what": "previous"}}, "multiline.pattern", false},
		{"grok reference", map[string]any{"codec": "multiline", "multiline": map[string]any{"pattern": "^%{TIMESTAMP_ISO8601}", "what": "previous"}}, "multiline.pattern", false},
		{"bad what", map[string]any{"codec": "multiline", "multiline": map[string]any{"pattern": "x", "what": "before"}}, "multiline.what", false},
		{"unknown key", map[string]any{"codec": "multiline", "multiline": map[string]any{"pattern": "x", "what": "next", "negat": true}}, "multiline.negat", false},
		{"bad max_bytes", map[string]any{"codec": "multiline", "multiline": map[string]any{"pattern": "x", "what": "next", "max_bytes": "ten"}}, "multiline.max_bytes", false},
		{"rules without the codec", map[string]any{"multiline": map[string]any{"pattern": "x", "what": "next"}}, "multiline", true},
		{"empty delimiter", map[string]any{"delimiter": ""}, "delimiter", false},
		{"zero max_line_bytes", map[string]any{"max_line_bytes": 0.0}, "max_line_bytes", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ds := ParseSettings(sdk.NewConfig(tt.settings))
			if tt.path == "" {
				if len(ds) != 0 {
					t.Fatalf("unexpected diagnostics: %v", ds)
				}
				return
			}
			if len(ds) != 1 {
				t.Fatalf("got %d diagnostics %v, want 1", len(ds), ds)
			}
			if got := strings.Join(ds[0].Path, "."); got != tt.path || ds[0].Warning != tt.warning {
				t.Errorf("diagnostic at %q (warning %v): %s; want at %q (warning %v)", got, ds[0].Warning, ds[0].Summary, tt.path, tt.warning)
			}
		})
	}
}

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in   any
		want int64
	}{{1024.0, 1024}, {"10 MiB", 10 << 20}, {"512kb", 512 << 10}, {"1g", 1 << 30}, {"7", 7}}
	for _, tt := range tests {
		if got, err := ParseBytes(tt.in); err != nil || got != tt.want {
			t.Errorf("ParseBytes(%v) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	if _, err := ParseBytes("3 parsecs"); err == nil {
		t.Error("an unknown unit was accepted")
	}
}
