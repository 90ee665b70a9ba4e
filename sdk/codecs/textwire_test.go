package codecs

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/host"
)

// The plain and line codecs write a line's event as it will cross; it
// must be the event a map-built one is, for every reader: the whole map,
// single fields, changes, and the next process after a batch crossing.
func TestLineEventsAreWhatMapEventsAre(t *testing.T) {
	lines := []string{"", "a", "hello world", "tab\there", "ünïcödé ✓", "bad \xff\xfe utf-8", "\x00nul", strings.Repeat("long ", 2000)}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		b := make([]byte, rng.IntN(300))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		lines = append(lines, string(b))
	}
	d := (&Settings{Codec: CodecLine}).NewDecoder()
	var enc host.Encoder
	var dec host.Decoder
	for i, line := range lines {
		cut := i%7 == 3
		got := d.Decode(Line{Data: []byte(line), Cut: cut}, now+int64(i), nil)
		if len(got) != 1 {
			t.Fatalf("line %d made %d events", i, len(got))
		}
		want := sdk.NewEmptyEvent()
		want.SetTimestampNano(now + int64(i))
		want.Fields()[sdk.FieldVersion] = "1"
		want.Fields()[sdk.FieldMessage] = Text([]byte(line))
		if cut {
			want.AddTag(TagLineTooLong)
		}
		e := got[0].Event
		if e.Message() != want.Message() {
			t.Fatalf("line %d: message %q, want %q", i, e.Message(), want.Message())
		}
		crossed, err := dec.Decode(enc.Encode([]*sdk.Event{e}))
		if err != nil || len(crossed) != 1 {
			t.Fatalf("line %d: the batch did not decode: %v", i, err)
		}
		if g, w := crossed[0].ToMap(true), want.ToMap(true); !reflect.DeepEqual(g, w) {
			t.Fatalf("line %d after crossing: %v, want %v", i, g, w)
		}
		if g, w := e.ToMap(true), want.ToMap(true); !reflect.DeepEqual(g, w) {
			t.Fatalf("line %d: %v, want %v", i, g, w)
		}
		// Changed, then crossing: the change is what crosses.
		for _, ev := range []*sdk.Event{e, want} {
			_ = ev.Set("[message]", "changed")
			ev.Delete("[@version]")
			_ = ev.Set("[n]", int64(i))
		}
		crossed, err = dec.Decode(enc.Encode([]*sdk.Event{e}))
		if err != nil || len(crossed) != 1 {
			t.Fatalf("line %d: the changed batch did not decode: %v", i, err)
		}
		if g, w := crossed[0].ToMap(true), want.ToMap(true); !reflect.DeepEqual(g, w) {
			t.Fatalf("line %d changed, after crossing: %v, want %v", i, g, w)
		}
		// Handed back (as inputs do once Publish returned), it is filled
		// again for a later line with nothing left of this one.
		e.Metadata()["kafka"] = map[string]any{"offset": int64(i)}
		e.AddTag("old")
		if i%3 == 0 {
			_ = e.Fields() // every field decoded into the map
		}
		d.Reuse([]*sdk.Event{e})
	}
}

// An event's line must not change when the buffer it was read from is
// reused for the next lines (inputs read into one buffer).
func TestLineEventsOutliveTheirBuffer(t *testing.T) {
	d := (&Settings{Codec: CodecLine}).NewDecoder()
	buf := []byte("first line")
	e := d.Decode(Line{Data: buf}, now, nil)[0].Event
	copy(buf, "XXXXXXXXXX")
	_ = d.Decode(Line{Data: buf}, now, nil)
	if m := e.Message(); m != "first line" {
		t.Fatalf("message %q after its buffer was reused, want %q", m, "first line")
	}
}

// BenchmarkLinesToBatch is a line input's work per event with the plain
// or line codec (kafka, file, stdin): decoding 500 lines of 200 bytes
// and encoding them as the batch Publish sends, then handing the events
// back as the inputs do. cpu-ns/event is this process's CPU over the
// timed part (getrusage), GC included.
func BenchmarkLinesToBatch(b *testing.B) {
	const batch = 500
	lines := make([][]byte, batch)
	rng := rand.New(rand.NewPCG(3, 4))
	words := []string{"GET", "POST", "/index.html", "200", "404", "user=alice", "took=12ms", "10.1.2.3", "Mozilla/5.0", "upstream", "timeout", "-"}
	for i := range lines {
		var l []byte
		for len(l) < 200 {
			l = append(l, words[rng.IntN(len(words))]...)
			l = append(l, ' ')
		}
		lines[i] = l[:200]
	}
	d := (&Settings{Codec: CodecLine}).NewDecoder()
	var enc host.Encoder
	var recs []Record
	events := make([]*sdk.Event, 0, batch)
	b.ReportAllocs()
	from := cpuNow()
	for b.Loop() {
		recs = recs[:0]
		for _, l := range lines {
			recs = d.Decode(Line{Data: l}, 1, recs)
		}
		events = events[:0]
		for _, r := range recs {
			events = append(events, r.Event)
		}
		_ = enc.Encode(events)
		d.Reuse(events)
	}
	cpu := cpuNow() - from
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/event")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*batch), "cpu-ns/event")
}

// The file input hands a batch of several files' events back to one
// file's decoder: a decoder must never write over the lines of its own
// events still out because it was handed others'.
func TestLineEventsSurviveOtherDecodersEvents(t *testing.T) {
	set := &Settings{Codec: CodecLine}
	a, b := set.NewDecoder(), set.NewDecoder()
	kept := a.Decode(Line{Data: []byte("kept by the pipeline")}, now, nil)[0].Event
	mine := a.Decode(Line{Data: []byte("a's second")}, now, nil)[0].Event
	theirs := b.Decode(Line{Data: []byte("b's")}, now, nil)[0].Event
	a.Reuse([]*sdk.Event{theirs, mine}) // one of a's two is back
	b.Reuse(nil)
	for i := range 5000 {
		e := a.Decode(Line{Data: fmt.Appendf(nil, "later line %d %s", i, strings.Repeat("x", 100))}, now, nil)[0].Event
		if i%2 == 0 {
			a.Reuse([]*sdk.Event{e})
		}
	}
	if m := kept.Message(); m != "kept by the pipeline" {
		t.Fatalf("an event still out reads %q", m)
	}
}

// Arenas are written again once all their events are back, and only
// then: an event kept in an older arena survives while later batches
// cycle through the others; a batch cycle handed back makes no garbage.
func TestLineArenasAreReusedOnlyWhenEmpty(t *testing.T) {
	d := (&Settings{Codec: CodecLine}).NewDecoder()
	line := func(i int) []byte { return fmt.Appendf(nil, "%06d %s", i, strings.Repeat("y", 200)) }
	var kept *sdk.Event
	var events []*sdk.Event
	for i := range 3000 { // several arenas' worth
		e := d.Decode(Line{Data: line(i)}, now, nil)[0].Event
		if i == 10 {
			kept = e
			continue
		}
		events = append(events, e)
	}
	d.Reuse(events)
	batch := make([]*sdk.Event, 0, 500)
	lines := make([][]byte, 500)
	for i := range lines {
		lines[i] = line(i)
	}
	var recs []Record
	cycle := func() {
		batch = batch[:0]
		for _, l := range lines {
			recs = d.Decode(Line{Data: l}, now, recs[:0])
			batch = append(batch, recs[0].Event)
		}
		d.Reuse(batch)
	}
	for range 20 {
		cycle()
	}
	if got, want := kept.Message(), string(line(10)); got != want {
		t.Fatalf("an event still out reads %.20q..., want %.20q...", got, want)
	}
	if n := testing.AllocsPerRun(20, cycle); n != 0 {
		t.Errorf("a batch of 500 lines handed back made %.0f allocations, want none", n)
	}
}
