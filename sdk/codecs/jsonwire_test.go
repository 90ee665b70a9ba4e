package codecs

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/host"
)

// jsonGen writes random JSON lines with what the codec must treat alike
// on both paths: escapes, invalid UTF-8, numbers at int64's edges and
// beyond, nesting, and now and then what sends a line down the map path
// (a name twice, @metadata, a bad @timestamp, an array of objects,
// broken JSON). plain reports a line the fast path must take.
type jsonGen struct {
	r     *rand.Rand
	sb    strings.Builder
	plain bool
}

var genNames = []string{"a", "b", "message", "host", "tags", "n", "é", `q"uote`, "[x][y]", "", "@version", "type", "ünï", "k\\n", "long_name_for_a_field"}

func (g *jsonGen) name() {
	k := genNames[g.r.IntN(len(genNames))]
	g.str(k)
}

func (g *jsonGen) str(s string) {
	s = strings.ReplaceAll(s, `"`, `\"`)
	switch g.r.IntN(6) {
	case 0:
		s += "\xff" // invalid UTF-8: U+FFFD on both paths
	case 1:
		s += `\n\u00e9\ud83d\ude00\"`
	case 2:
		s += `\ud800` // a lone surrogate
	}
	g.sb.WriteString(`"` + s + `"`)
}

func (g *jsonGen) space() {
	if g.r.IntN(5) == 0 {
		g.sb.WriteString(" \t")
	}
}

func (g *jsonGen) value(depth int) {
	n := 10
	if depth > 3 {
		n = 8
	}
	g.space()
	switch g.r.IntN(n) {
	case 0:
		g.str(fmt.Sprintf("s%d", g.r.IntN(1000)))
	case 1:
		g.str(strings.Repeat("long text ", g.r.IntN(40)))
	case 2:
		g.sb.WriteString([]string{"0", "-1", "127", "128", "-9223372036854775808", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "18446744073709551615", "123456789012345678901234567890"}[g.r.IntN(10)])
	case 3:
		g.sb.WriteString([]string{"1.5", "-0.0", "1e3", "2E-7", "1.7976931348623157e308", "1e400", "-1e-400", "0.1"}[g.r.IntN(8)])
	case 4:
		g.sb.WriteString([]string{"true", "false", "null"}[g.r.IntN(3)])
	case 5:
		fmt.Fprintf(&g.sb, "%d", g.r.Int64())
	case 6, 7:
		g.sb.WriteString(`"`)
		g.sb.WriteString(strings.Repeat("x", g.r.IntN(300)))
		g.sb.WriteString(`"`)
	case 8:
		g.object(depth + 1)
	default:
		g.sb.WriteString("[")
		for i := range g.r.IntN(5) {
			if i > 0 {
				g.sb.WriteString(",")
			}
			g.value(depth + 1)
		}
		g.sb.WriteString("]")
	}
	g.space()
}

func (g *jsonGen) object(depth int) {
	g.sb.WriteString("{")
	seen := map[string]bool{}
	for i := range g.r.IntN(6) {
		if i > 0 {
			g.sb.WriteString(",")
		}
		k := genNames[g.r.IntN(len(genNames))]
		if seen[k] {
			g.plain = false // a name twice: the map keeps the last
		}
		seen[k] = true
		g.space()
		g.sb.WriteString(`"` + strings.ReplaceAll(k, `"`, `\"`) + `"`)
		g.space()
		g.sb.WriteString(":")
		g.value(depth)
	}
	g.sb.WriteString("}")
}

func (g *jsonGen) line() string {
	g.sb.Reset()
	g.plain = true
	switch g.r.IntN(20) {
	case 0:
		g.plain = false
		g.sb.WriteString(`[{"a":1},{"b":2}]`)
		return g.sb.String()
	case 1:
		g.plain = false
		g.sb.WriteString(`{"a":1,"b":`) // broken
		return g.sb.String()
	}
	g.sb.WriteString(" {")
	top := map[string]bool{}
	for i := range g.r.IntN(14) {
		if i > 0 {
			g.sb.WriteString(",")
		}
		var k string
		switch g.r.IntN(12) {
		case 0:
			k = "@timestamp"
			if g.r.IntN(4) == 0 {
				g.plain = false
				g.sb.WriteString(`"@timestamp":"yesterday"`)
				continue
			}
			if top[k] {
				g.plain = false
			}
			top[k] = true
			g.sb.WriteString(`"@timestamp":` + []string{`"2026-01-02T03:04:05.123Z"`, `"2024-02-29T23:59:59.999999999+01:00"`, `"1970-01-01T00:00:00Z"`}[g.r.IntN(3)])
			continue
		case 1:
			g.plain = false
			g.sb.WriteString(`"@metadata":{"id":"x"}`)
			continue
		default:
			k = genNames[g.r.IntN(len(genNames))]
		}
		if top[k] {
			g.plain = false
		}
		top[k] = true
		g.sb.WriteString(`"` + strings.ReplaceAll(k, `"`, `\"`) + `":`)
		g.value(0)
	}
	g.sb.WriteString("}\r")
	return g.sb.String()
}

// decodeAsBefore is what the codec made of a line before the fast path:
// JSONEvents, or the line tagged _jsonparsefailure.
func decodeAsBefore(line string) []*sdk.Event {
	evs, err := JSONEvents([]byte(line), now, nil, nil)
	if err != nil {
		evs = []*sdk.Event{FailedJSONEvent(line, now, &sdk.Values{})}
	}
	return evs
}

func isRaw(e *sdk.Event) bool {
	_, dict, raw := host.RawView(e, nil)
	return dict != nil && len(raw) > 0
}

// The fast path makes the same events as JSONEvents, read directly and
// after crossing to the next process in one batch, even when the line's
// buffer is overwritten before the batch is encoded (an input reuses it
// after Publish; nothing of the fast path's events may point into it).
func TestJSONFastPathSameEvents(t *testing.T) {
	g := &jsonGen{r: rand.New(rand.NewPCG(7, 11))}
	set := &Settings{Codec: CodecJSONLines}
	d := set.NewDecoder()
	var enc host.Encoder
	fast, plain := 0, 0
	for batch := range 200 {
		var lines []string
		var bufs [][]byte
		var cuts []bool
		var recs []Record
		for range 1 + g.r.IntN(40) {
			line := g.line()
			buf := []byte(line)
			before := len(recs)
			cut := g.r.IntN(10) == 0
			cuts = append(cuts, cut)
			recs = d.Decode(Line{Data: buf, Cut: cut}, now, recs)
			for _, rec := range recs[before:] {
				if isRaw(rec.Event) {
					fast++
				}
			}
			if g.plain {
				plain++
				if len(recs) != before+1 || !isRaw(recs[before].Event) {
					t.Fatalf("a plain line took the map path: %s", line)
				}
			}
			lines = append(lines, line)
			bufs = append(bufs, buf)
		}
		var before []*sdk.Event
		for i, line := range lines {
			for _, e := range decodeAsBefore(line) {
				if cuts[i] {
					e.AddTag(TagLineTooLong)
				}
				before = append(before, e)
			}
		}
		// What the map path's events are after the wire: the batch
		// encoding has its own rules (invalid UTF-8 in a failed line).
		beforeWire, err := host.DecodeBatch(host.EncodeBatch(before))
		if err != nil {
			t.Fatal(err)
		}
		var want, wantWire []map[string]any
		var wantTS []int64
		for i, e := range before {
			want = append(want, e.ToMap(true))
			wantWire = append(wantWire, beforeWire[i].ToMap(true))
			wantTS = append(wantTS, e.TimestampNano())
		}
		// The fast path's events no longer need the line.
		var rawEvents []int
		for i, rec := range recs {
			if isRaw(rec.Event) {
				rawEvents = append(rawEvents, i)
			}
		}
		events := make([]*sdk.Event, len(recs))
		for i, rec := range recs {
			events[i] = rec.Event
		}
		var back []*sdk.Event
		wire := append([]byte(nil), enc.Encode(events)...)
		for _, b := range bufs {
			for i := range b {
				b[i] = '#'
			}
		}
		back, err = host.DecodeBatch(wire)
		if err != nil {
			t.Fatal(err)
		}
		if len(back) != len(want) {
			t.Fatalf("batch %d: %d events after the wire, want %d", batch, len(back), len(want))
		}
		for i := range want {
			if got := back[i].ToMap(true); !reflect.DeepEqual(got, wantWire[i]) || back[i].TimestampNano() != wantTS[i] {
				t.Fatalf("batch %d event %d after the wire:\n got %#v (%d)\nwant %#v (%d)", batch, i, got, back[i].TimestampNano(), wantWire[i], wantTS[i])
			}
		}
		for _, i := range rawEvents {
			if got := events[i].ToMap(true); !reflect.DeepEqual(got, want[i]) || events[i].TimestampNano() != wantTS[i] {
				t.Fatalf("batch %d event %d read directly:\n got %#v\nwant %#v", batch, i, got, want[i])
			}
		}
	}
	if plain < 1000 || fast < plain {
		t.Errorf("only %d lines of %d plain ones took the fast path", fast, plain)
	}
}

// A stream of ever new names fills one dictionary after another: a batch
// whose events were written with two of them still crosses intact, and
// no line is lost when a dictionary is full.
func TestJSONFastPathNewNames(t *testing.T) {
	d := (&Settings{Codec: CodecJSON}).NewDecoder()
	var enc host.Encoder
	fast := 0
	for batch := range 12 {
		var recs []Record
		var lines []string
		for i := range 50 {
			line := fmt.Sprintf(`{"f%d":{"g%d":%d},"message":"m"}`, batch*50+i, i%7, i)
			lines = append(lines, line)
			recs = d.Decode(Line{Data: []byte(line)}, now, recs)
		}
		events := make([]*sdk.Event, len(recs))
		for i, rec := range recs {
			events[i] = rec.Event
			if isRaw(rec.Event) {
				fast++
			}
		}
		back, err := host.DecodeBatch(enc.Encode(events))
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range lines {
			want := decodeAsBefore(line)[0].ToMap(true)
			if got := back[i].ToMap(true); !reflect.DeepEqual(got, want) {
				t.Fatalf("batch %d line %d: got %v, want %v", batch, i, got, want)
			}
		}
	}
	if fast < 500 {
		t.Errorf("%d of 600 lines took the fast path", fast)
	}
}

// Strings are scanned eight bytes at a time: what ends them, escapes,
// control characters and bytes beyond ASCII are found wherever they
// fall in a word, and read as encoding/json reads them.
func TestJSONStringScanAnyOffset(t *testing.T) {
	for _, special := range []string{`\"`, `\\`, `\n`, `\u00e9`, "\x01", "\x1f", "é", "\xff", "\xe2\x82", `"`, "~", "\x7f"} {
		for pre := range 20 {
			for post := range 10 {
				in := `"` + strings.Repeat("a", pre) + special + strings.Repeat("b", post) + `"`
				var want string
				wantErr := json.Unmarshal([]byte(in), &want)
				if text := in[1 : len(in)-1]; !utf8.ValidString(text) {
					// A run of invalid bytes is one U+FFFD, as the
					// codec always did (encoding/json writes one each).
					want = strings.ToValidUTF8(text, "\uFFFD")
				}
				got, err := ParseJSON(in, nil)
				if (err != nil) != (wantErr != nil) {
					t.Fatalf("%q: error %v, encoding/json's %v", in, err, wantErr)
				}
				if err == nil && got != want {
					t.Fatalf("%q: got %q, want %q", in, got, want)
				}
			}
		}
	}
}

// A reference parsed once (as filters and inputs keep them) remembers
// a name's number, or its absence, per dictionary: a name the next line
// adds to the growing dictionary is found by the same reference.
func TestJSONFastPathReferenceSeesNewNames(t *testing.T) {
	d := (&Settings{Codec: CodecJSONLines}).NewDecoder()
	host, err := sdk.ParseFieldRef("[host][ip]")
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range []string{`{"a":1}`, `{"host":{"ip":"10.0.0.1"}}`} {
		recs := d.Decode(Line{Data: []byte(line)}, now, nil)
		if len(recs) != 1 || !isRaw(recs[0].Event) {
			t.Fatalf("line %d did not take the fast path", i)
		}
		got, ok := host.Get(recs[0].Event)
		if want := i == 1; ok != want || (ok && got != "10.0.0.1") {
			t.Fatalf("line %d: [host][ip] = %v, %v", i, got, ok)
		}
	}
}
