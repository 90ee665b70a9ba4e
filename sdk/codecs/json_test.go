package codecs

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/host"
)

const now = int64(1700000000123000000)

func TestJSONEvents(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []map[string]any // fields of each event; nil: a parse failure
	}{
		{"object", `{"a":"x","n":42,"f":1.5,"t":true,"z":null}`, []map[string]any{{"a": "x", "n": int64(42), "f": 1.5, "t": true, "z": nil, "@version": "1"}}},
		{"nested", `{"http":{"status":200,"tags":["a",{"b":-1}]}}`, []map[string]any{{"http": map[string]any{"status": int64(200), "tags": []any{"a", map[string]any{"b": int64(-1)}}}, "@version": "1"}}},
		{"array of objects", `[{"a":1},{"a":2}]`, []map[string]any{{"a": int64(1), "@version": "1"}, {"a": int64(2), "@version": "1"}}},
		{"empty array", `[]`, []map[string]any{}},
		{"escapes", `{"s":"q\"b\\n\n\u00e9\ud83d\ude00/"}`, []map[string]any{{"s": "q\"b\\n\né😀/", "@version": "1"}}},
		{"lone surrogate", `{"s":"\ud83d"}`, []map[string]any{{"s": "\uFFFD", "@version": "1"}}},
		{"big numbers", `{"big":12345678901234567890,"e":1e3,"neg":-0.5}`, []map[string]any{{"big": "12345678901234567890", "e": 1000.0, "neg": -0.5, "@version": "1"}}},
		// Whole numbers beyond int64 keep every digit, as a string; the
		// int64 limits themselves stay numbers.
		{"beyond int64", `{"u":18446744073709551615,"n":-9223372036854775809,"max":9223372036854775807,"min":-9223372036854775808,"huge":[123456789012345678901234567890]}`, []map[string]any{{"u": "18446744073709551615", "n": "-9223372036854775809", "max": int64(9223372036854775807), "min": int64(-9223372036854775808), "huge": []any{"123456789012345678901234567890"}, "@version": "1"}}},
		{"big float stays a float", `{"f":1.8446744073709551615e19}`, []map[string]any{{"f": 1.8446744073709551615e19, "@version": "1"}}},
		{"version kept", `{"@version":"2"}`, []map[string]any{{"@version": "2"}}},
		{"spaces around", " \t{ \"a\" : [ ] } \r", []map[string]any{{"a": []any{}, "@version": "1"}}},
		{"invalid utf-8 replaced", "{\"s\":\"a\xffb\"}", []map[string]any{{"s": "a\uFFFDb", "@version": "1"}}},
		{"not json", `hello`, nil},
		{"trailing text", `{"a":1} x`, nil},
		{"two objects", `{"a":1}{"b":2}`, nil},
		{"bare number", `42`, nil},
		{"array of numbers", `[1,2]`, nil},
		{"unterminated", `{"a":"b`, nil},
		{"leading zero", `{"a":01}`, nil},
		{"bad escape", `{"a":"\x"}`, nil},
		{"control char", "{\"a\":\"\x01\"}", nil},
		{"trailing comma", `{"a":1,}`, nil},
		{"too deep", strings.Repeat("[", 2000), nil},
		{"deep object", `{"a":` + strings.Repeat(`{"a":`, 1500) + `1` + strings.Repeat(`}`, 1501), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := JSONEvents([]byte(tt.in), now, nil, nil)
			if tt.want == nil {
				if err == nil {
					t.Fatalf("no error; events %v", events)
				}
				if len(events) != 0 {
					t.Errorf("failed parse left %d events", len(events))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != len(tt.want) {
				t.Fatalf("got %d events, want %d", len(events), len(tt.want))
			}
			for i, e := range events {
				if !reflect.DeepEqual(e.Fields(), tt.want[i]) {
					t.Errorf("event %d fields = %#v\nwant %#v", i, e.Fields(), tt.want[i])
				}
				if e.TimestampNano() != now {
					t.Errorf("event %d time = %d, want now", i, e.TimestampNano())
				}
			}
		})
	}
}

// The parser agrees with encoding/json on what it accepts, for values
// that are objects.
func TestJSONAgreesWithStdlib(t *testing.T) {
	inputs := []string{`{"a":[1,2,{"b":"c"}],"d":-1.25e-3,"e":"\u0041"}`, `{"a":tru}`, `{"a":1.}`, `{"a":-}`, `{"a":.5}`, `{"a":1e}`, `{"a":"\uZZZZ"}`, `{"":0}`, `{"a":[,]}`}
	for _, in := range inputs {
		var v map[string]any
		stdErr := json.Unmarshal([]byte(in), &v)
		_, err := JSONEvents([]byte(in), now, nil, nil)
		if (stdErr == nil) != (err == nil) {
			t.Errorf("%s: encoding/json error %v, ours %v", in, stdErr, err)
		}
	}
}

func TestJSONTimestampAndMetadata(t *testing.T) {
	events, err := JSONEvents([]byte(`{"@timestamp":"2024-01-02T03:04:05.123Z","@metadata":{"id":"x"},"a":1}`), now, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := events[0]
	if got := sdk.FormatTimestamp(e.TimestampNano()); got != "2024-01-02T03:04:05.123Z" {
		t.Errorf("@timestamp = %s", got)
	}
	if e.Metadata()["id"] != "x" {
		t.Errorf("@metadata = %v", e.Metadata())
	}
	if _, ok := e.Fields()["@metadata"]; ok {
		t.Error("@metadata left among the fields")
	}

	events, _ = JSONEvents([]byte(`{"@timestamp":"yesterday"}`), now, nil, nil)
	e = events[0]
	if e.Fields()["_@timestamp"] != "yesterday" || !e.HasTag(TagTimestampParseFailure) || e.TimestampNano() != now {
		t.Errorf("bad @timestamp: fields %v, tags %v, time %v", e.Fields(), e.Tags(), time.Unix(0, e.TimestampNano()))
	}
}

func TestDecoderJSONFailureKeepsLine(t *testing.T) {
	set := &Settings{Codec: CodecJSONLines}
	d := set.NewDecoder()
	recs := d.Decode(Line{Data: []byte(`{"broken": `), Start: 10, End: 22}, now, nil)
	recs = d.Decode(Line{Data: []byte(`   `), Start: 22, End: 26}, now, recs)
	recs = d.Decode(Line{Data: []byte(`{"ok":true}`), Start: 26, End: 38, Cut: true}, now, recs)
	if len(recs) != 2 {
		t.Fatalf("got %d records, want 2 (a blank line makes none)", len(recs))
	}
	bad := recs[0].Event
	if bad.Message() != `{"broken": ` || !bad.HasTag(TagJSONParseFailure) || recs[0].End != 22 {
		t.Errorf("failure event: %v tags %v end %d", bad.Fields(), bad.Tags(), recs[0].End)
	}
	if ok := recs[1].Event; ok.Fields()["ok"] != true || !ok.HasTag(TagLineTooLong) || ok.HasTag(TagJSONParseFailure) {
		t.Errorf("good event: %v", ok.Fields())
	}
}

// Events decoded from JSON survive the wire encoding as they are.
func TestJSONEventsCrossTheWire(t *testing.T) {
	events, err := JSONEvents([]byte(`{"a":{"b":[1,"x",2.5,null,false]},"big":-300}`), now, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	back, err := host.DecodeBatch(host.EncodeBatch(events))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back[0].Fields(), events[0].Fields()) {
		t.Errorf("after the wire: %v, before: %v", back[0].Fields(), events[0].Fields())
	}
}

func TestJSONEncoderRoundTrip(t *testing.T) {
	e := sdk.NewEmptyEvent()
	e.SetTimestamp(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
	f := e.Fields()
	f["message"] = "a \"quoted\"\nline \xff"
	f["n"] = int64(-3)
	f["f"] = 2.0
	f["nested"] = map[string]any{"b": []any{"x", true, nil}, "a": 1.5}
	e.Metadata()["secret"] = "m"
	var enc JSONEncoder
	out := enc.AppendEvent(nil, e)
	want := `{"@timestamp":"2024-01-02T03:04:05.000Z","f":2.0,"message":"a \"quoted\"\nline �","n":-3,"nested":{"a":1.5,"b":["x",true,null]}}`
	if string(out) != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
	enc.Metadata = true
	out = enc.AppendEvent(nil, e)
	if !strings.Contains(string(out), `"@metadata":{"secret":"m"}`) {
		t.Errorf("metadata missing: %s", out)
	}
	back, err := JSONEvents(out, 0, nil, nil)
	if err != nil {
		t.Fatalf("our own output does not parse: %v", err)
	}
	if back[0].TimestampNano() != e.TimestampNano() || back[0].Metadata()["secret"] != "m" || back[0].Fields()["n"] != int64(-3) {
		t.Errorf("round trip lost something: %v", back[0].ToMap(true))
	}
}

func BenchmarkJSONEvents(b *testing.B) {
	line := []byte(`{"clientip":"83.149.9.216","verb":"GET","request":"/presentations/logstash-monitorama-2013/images/kibana-search.png","httpversion":"1.1","response":200,"bytes":203023,"referrer":"http://semicomplete.com/presentations/logstash-monitorama-2013/","agent":"Mozilla/5.0"}`)
	var vals sdk.Values
	var dst []*sdk.Event
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		dst, err = JSONEvents(line, now, &vals, dst[:0])
		if err != nil {
			b.Fatal(err)
		}
	}
}

// TestParseJSON: any JSON value, as the json filter parses a field.
func TestParseJSON(t *testing.T) {
	for _, c := range []struct {
		in   string
		want any
		bad  bool
	}{
		{in: ` {"a": {"b": [1, "x", null]}} `, want: map[string]any{"a": map[string]any{"b": []any{int64(1), "x", nil}}}},
		{in: `[{"k":"v"}, 2.5]`, want: []any{map[string]any{"k": "v"}, 2.5}},
		{in: `"s\n"`, want: "s\n"},
		{in: `123`, want: int64(123)},
		{in: `12345678901234567890`, want: "12345678901234567890"},
		{in: `true`, want: true},
		{in: `null`, want: nil},
		{in: ``, bad: true},
		{in: `   `, bad: true},
		{in: `{"a":1} x`, bad: true},
		{in: `{"a":}`, bad: true},
		{in: `random_message`, bad: true},
	} {
		got, err := ParseJSON(c.in, nil)
		if c.bad {
			if err == nil {
				t.Errorf("%q: no error, got %#v", c.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %#v, %v; want %#v", c.in, got, err, c.want)
		}
	}
}

// ParseJSONObject gives an object's members in the order written,
// duplicates kept, nested objects as maps; other texts are not objects.
func TestParseJSONObject(t *testing.T) {
	got, obj, err := ParseJSONObject(` {"b": 1, "a": {"x": "y"}, "b": [true]} `, nil, nil)
	want := []Member{{"b", int64(1)}, {"a", map[string]any{"x": "y"}}, {"b", []any{true}}}
	if err != nil || !obj || !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, %v, %v; want %#v", got, obj, err, want)
	}
	for _, in := range []string{`[{"a":1}]`, `"s"`, ``, `  1`} {
		if got, obj, err := ParseJSONObject(in, nil, nil); obj || err != nil || len(got) != 0 {
			t.Errorf("%q: %#v, object %v, %v; want not an object", in, got, obj, err)
		}
	}
	for _, in := range []string{`{"a":1} x`, `{"a":}`, `{"a":1`} {
		if _, obj, err := ParseJSONObject(in, nil, nil); !obj || err == nil {
			t.Errorf("%q: object %v, %v; want an error", in, obj, err)
		}
	}
}

// BenchmarkJSONEncoder is the encoder alone on a 12-field event (nested
// objects, tags, @timestamp), as the elasticsearch output's benchmark
// builds it: "map" events built with Set, "from_batch" events decoded
// from a batch with their top-level fields still raw (as an output's
// Write gets them; the batch is decoded again before each round, outside
// the timer).
//
//	go test ./sdk/codecs -run '^$' -bench JSONEncoder
func BenchmarkJSONEncoder(b *testing.B) {
	const batch = 125
	mk := func() []*sdk.Event {
		events := make([]*sdk.Event, batch)
		for i := range events {
			e := sdk.NewEmptyEvent()
			for ref, v := range map[string]any{
				"message":           "Dec  4 20:00:00 web-1 sshd[1000]: Accepted publickey for deploy from 10.0.0.1 port 40000 ssh2",
				"[host][name]":      "web-1",
				"[log][file][path]": "/var/log/messages",
				"[log][offset]":     int64(i * 120),
				"[event][original]": "Accepted publickey",
				"[process][name]":   "sshd",
				"[process][pid]":    int64(1000 + i),
				"[source][ip]":      "10.0.0.1",
				"[source][port]":    int64(40000 + i),
				"[user][name]":      "deploy",
				"tags":              []any{"ssh", "auth"},
				"[service][type]":   "system",
			} {
				if err := e.Set(ref, v); err != nil {
					b.Fatal(err)
				}
			}
			e.SetTimestamp(time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC))
			events[i] = e
		}
		return events
	}
	for _, c := range []struct {
		name      string
		fromBatch bool
		unordered bool
	}{{"map", false, false}, {"from_batch", true, false}, {"map/unordered", false, true}, {"from_batch/unordered", true, true}} {
		b.Run(c.name, func(b *testing.B) {
			events := mk()
			wire := host.EncodeBatch(events)
			var dec host.Decoder
			enc := JSONEncoder{Unordered: c.unordered}
			var buf []byte
			b.ReportAllocs()
			b.ResetTimer()
			var cpu time.Duration
			from := cpuNow()
			for n := 0; n < b.N; n++ {
				if c.fromBatch {
					cpu += cpuNow() - from
					b.StopTimer()
					var err error
					if events, err = dec.Decode(wire); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					from = cpuNow()
				}
				buf = buf[:0]
				for _, e := range events {
					buf = enc.AppendEvent(buf, e)
				}
			}
			cpu += cpuNow() - from
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/event")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*batch), "cpu-ns/event")
		})
	}
}

// cpuNow is this process's CPU time: on the shared box, wall time counts
// other sessions' work too.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Events handed back with Reuse are filled again, with nothing left of
// what they held: not a field, a tag, metadata or the old timestamp.
func TestDecoderReuse(t *testing.T) {
	set := &Settings{Codec: CodecLine}
	d := set.NewDecoder()
	recs := d.Decode(Line{Data: []byte("first"), Cut: true}, now, nil)
	first := recs[0].Event
	first.Fields()["extra"] = "x"
	first.Metadata()["kafka"] = map[string]any{"offset": int64(1)}
	d.Reuse([]*sdk.Event{first})

	recs = d.Decode(Line{Data: []byte("second")}, now+1, recs[:0])
	e := recs[0].Event
	if e != first {
		t.Fatal("the event handed back was not reused")
	}
	want := map[string]any{"@timestamp": sdk.FormatTimestamp(now + 1), "@version": "1", "message": "second"}
	if got := e.ToMap(true); !reflect.DeepEqual(got, want) {
		t.Errorf("reused event: %v, want %v", got, want)
	}
	if again := d.Decode(Line{Data: []byte("third")}, now, nil)[0].Event; again == first {
		t.Error("an event handed back once was filled twice")
	}
}

// So do the multiline codec's, which build their events in maps.
func TestMultilineDecoderReuse(t *testing.T) {
	set := &Settings{Codec: CodecMultiline, Multiline: &MultilineConfig{Pattern: regexp.MustCompile(`^\s`)}}
	d := set.NewDecoder()
	flush := func(line string, ts int64) *sdk.Event {
		t.Helper()
		if recs := d.Decode(Line{Data: []byte(line)}, ts, nil); len(recs) != 0 {
			t.Fatalf("a line without a follower made %d events", len(recs))
		}
		recs := d.Flush(nil)
		if len(recs) != 1 {
			t.Fatalf("flush made %d events, want 1", len(recs))
		}
		return recs[0].Event
	}
	first := flush("first", now)
	first.Fields()["extra"] = "x"
	first.AddTag("old")
	first.Metadata()["kafka"] = map[string]any{"offset": int64(1)}
	d.Reuse([]*sdk.Event{first})

	e := flush("second", now+1)
	if e != first {
		t.Fatal("the event handed back was not reused")
	}
	want := map[string]any{"@timestamp": sdk.FormatTimestamp(now + 1), "@version": "1", "message": "second"}
	if got := e.ToMap(true); !reflect.DeepEqual(got, want) {
		t.Errorf("reused event: %v, want %v", got, want)
	}
	if again := flush("third", now); again == first {
		t.Error("an event handed back once was filled twice")
	}
}
