package codecs

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/host"
)

// shapedEvent is the i-th event of a source whose events share a shape:
// a changing message and offset, objects that repeat beside them, and,
// as r decides, what real sources do now and then: a value of another
// type or length, an unchanging field that changed, a member or field
// more or less, no @timestamp, strings that need escaping or are not
// UTF-8, numbers of every size.
func shapedEvent(r *rand.Rand, i int, odd bool) *sdk.Event {
	e := sdk.NewEmptyEvent()
	if !odd || r.IntN(8) != 0 {
		e.SetTimestampNano(1764907267e9 + int64(i)*1e6)
	}
	f := e.Fields()
	f["message"] = fmt.Sprintf("Dec  5 10:%02d web-1 sshd[%d]: Accepted publickey for deploy", i%60, 1000+i)
	f["host"] = map[string]any{"name": "web-1"}
	f["log"] = map[string]any{"file": map[string]any{"path": "/var/log/messages"}, "offset": int64(i * 120)}
	f["tags"] = []any{"ssh", "auth"}
	f["process"] = map[string]any{"name": "sshd", "pid": int64(1000 + i)}
	f["source"] = map[string]any{"ip": "10.0.0." + strconv.Itoa(i%250), "port": int64(40000 + i)}
	f["service"] = map[string]any{"type": "system"}
	if !odd {
		return e
	}
	switch r.IntN(100) {
	case 0:
		f["message"] = randStrings[r.IntN(len(randStrings))]
	case 1:
		f["message"] = strings.Repeat("long line ", 20+r.IntN(2000)) // lengths past one byte
	case 2:
		f["message"] = randValue(r, 1) // another type
	case 3:
		f["host"] = map[string]any{"name": "web-" + strconv.Itoa(r.IntN(3))} // an unchanging run changes
	case 4:
		f["host"] = map[string]any{"name": "web-1", "ip": "10.1.1.1"}
	case 5:
		delete(f, "service")
	case 6:
		f["extra"] = "x"
	case 7:
		f["log"].(map[string]any)["offset"] = []int64{-1, 1 << 20, 1e8, 1e8 - 1, 1 << 40, -1 << 62}[r.IntN(6)]
	case 8:
		f["log"].(map[string]any)["rotated"] = true // a member more
	case 9:
		delete(f["process"].(map[string]any), "pid")
	case 10:
		f["source"] = "10.0.0.1" // an object no more
	case 11:
		f["tags"] = []any{"ssh"}
	case 12:
		f["log"].(map[string]any)["file"] = map[string]any{}
	case 13:
		f["process"].(map[string]any)["pid"] = "1000" // a string where a number was
	case 14:
		f["source"].(map[string]any)["ip"] = strings.Repeat("é", 70) // two-byte lengths inside an object
	}
	return e
}

// TestShapePlanExact: an encoder that learns its events' shape writes,
// event by event, byte for byte what a new encoder writes, over events
// that keep a shape and events that leave it in every way shapedEvent
// knows; the plan writes most of them, and events that leave it are
// written the ordinary way.
func TestShapePlanExact(t *testing.T) {
	for _, c := range []struct {
		name  string
		odd   bool
		names int // names numbered before the events' own: past 127 they take two bytes
	}{
		{"steady", false, 0},
		{"odd", true, 0},
		{"steady, long names", false, 140},
		{"odd, long names", true, 140},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, uint64(c.names)))
			warm := JSONEncoder{Unordered: true}
			var dec host.Decoder
			var total, slow int
			for round := range 40 {
				events := make([]*sdk.Event, 0, 65)
				if c.names > 0 {
					first := sdk.NewEmptyEvent()
					for k := range c.names {
						first.Fields()["n"+strconv.Itoa(k)] = int64(k)
					}
					events = append(events, first)
				}
				for i := range 64 {
					events = append(events, shapedEvent(r, round*64+i, c.odd))
				}
				decoded, err := dec.Decode(host.EncodeBatch(events))
				if err != nil {
					t.Fatal(err)
				}
				for i, e := range decoded {
					before := warm.shape.hits
					got := warm.AppendEvent([]byte("x"), e)
					cold := JSONEncoder{Unordered: true}
					if want := cold.AppendEvent([]byte("x"), e); !bytes.Equal(got, want) {
						t.Fatalf("round %d event %d (plan: %v): a warm encoder wrote\n%s\na new one\n%s",
							round, i, warm.shape.hits > before, got, want)
					}
					if c.names == 0 || i > 0 {
						total++
						if warm.shape.hits == before {
							slow++
						}
					}
				}
			}
			// The steady events leave the plan only while it is learnt,
			// once a batch here (each batch numbers the names anew); the
			// odd ones also when they leave the shape.
			limit := 40*(shapeRefs+1) + total/50
			if c.odd {
				limit = total / 4
			}
			if slow > limit {
				t.Fatalf("%d of %d events written the ordinary way: the plan is not used", slow, total)
			}
			if c.odd && slow < total/20 {
				t.Fatalf("only %d of %d events left the plan: the test does not exercise leaving it", slow, total)
			}
		})
	}
}

// TestShapePlanRelearn: when a source's events change shape for good
// (a field added by a new pipeline), the plan that no longer fits is
// dropped, and one for the new shape is learnt.
func TestShapePlanRelearn(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	enc := JSONEncoder{Unordered: true}
	var dec host.Decoder
	for phase, extra := range []string{"", "geo", ""} {
		var hits int
		for round := range 8 {
			events := make([]*sdk.Event, 64)
			for i := range events {
				events[i] = shapedEvent(r, i, false)
				if extra != "" {
					events[i].Fields()[extra] = map[string]any{"city": "Lyon", "n": int64(i)}
				}
			}
			decoded, err := dec.Decode(host.EncodeBatch(events))
			if err != nil {
				t.Fatal(err)
			}
			before := enc.shape.hits
			for _, e := range decoded {
				enc.AppendEvent(nil, e)
			}
			if round >= 4 {
				hits += enc.shape.hits - before
			}
		}
		if hits < 4*64*9/10 {
			t.Fatalf("phase %d: %d of the last %d events written by the plan", phase, hits, 4*64)
		}
	}
}

// TestPutPlainString: putPlainString writes what sdk.AppendJSONString
// writes for every string it takes, and takes every string that needs
// no escaping and is valid UTF-8, around the word lengths it reads.
func TestPutPlainString(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	alphabet := []string{"a", "Z", " ", "~", "\"", "\\", "\x00", "\x1f", "\x7f", "é", "€", "😀", "\xff", "\xc3", "/", "<"}
	buf := make([]byte, 256)
	for range 200000 {
		var b strings.Builder
		for range r.IntN(40) {
			if r.IntN(4) == 0 {
				b.WriteString(alphabet[r.IntN(len(alphabet))])
			} else {
				b.WriteByte(byte('a' + r.IntN(26)))
			}
		}
		s := b.String()
		want := string(sdk.AppendJSONString(nil, s))
		n := putPlainString(unsafe.Pointer(&buf[0]), s)
		plain := want == `"`+s+`"`
		switch {
		case n > 0 && string(buf[:n]) != want:
			t.Fatalf("putPlainString(%q) = %s, want %s", s, buf[:n], want)
		case n == 0 && plain:
			t.Fatalf("putPlainString(%q) refused a string that needs no escaping", s)
		case n > 0 && !plain:
			t.Fatalf("putPlainString(%q) took a string that needs escaping", s)
		}
	}
}

// TestPutInt: every length of number putInt takes, at its edges.
func TestPutInt(t *testing.T) {
	var buf [16]byte
	check := func(x uint32) {
		n := putInt(unsafe.Pointer(&buf[0]), x)
		if got, want := string(buf[:n]), strconv.FormatUint(uint64(x), 10); got != want {
			t.Fatalf("putInt(%d) = %q", x, got)
		}
	}
	for p := uint32(1); p < 1e8; p *= 10 {
		for _, x := range []uint32{p - 1, p, p + 1, 2*p - 1, 5 * p, 10*p - 1} {
			if x < 1e8 {
				check(x)
			}
		}
	}
	for x := uint32(0); x < 1e8; x += 7919 {
		check(x)
	}
}

// TestShapePlanRoomBounded: the room the plan makes for an event does
// not grow with the event: a document of a megabyte, its message long,
// written into a bulk body with room for it twice over, stays where it
// is written (six times its wire bytes were reserved, twice).
func TestShapePlanRoomBounded(t *testing.T) {
	const size = 1 << 20
	events := make([]*sdk.Event, shapeRefs+3)
	for i := range events {
		events[i] = shapedEvent(nil, i, false)
		events[i].Fields()["message"] = strings.Repeat(strconv.Itoa(i), size)
	}
	var dec host.Decoder
	decoded, err := dec.Decode(host.EncodeBatch(events))
	if err != nil {
		t.Fatal(err)
	}
	enc := JSONEncoder{Unordered: true}
	for _, e := range decoded[:len(decoded)-1] {
		enc.AppendEvent(nil, e)
	}
	body := make([]byte, 0, 2*size+4096)
	hits := enc.shape.hits
	out := enc.AppendEvent(body, decoded[len(decoded)-1])
	if enc.shape.hits == hits {
		t.Fatal("the plan did not write the event: the test does not exercise it")
	}
	if len(out) < size || unsafe.SliceData(out) != unsafe.SliceData(body) {
		t.Fatalf("a document of %d bytes in a body with room for %d moved it (capacity now %d)", len(out), cap(body), cap(out))
	}
}
