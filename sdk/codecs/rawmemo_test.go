package codecs

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/host"
)

// TestJSONEncoderMemoExact: an encoder that has written many batches
// (its memos of whole fields, of fields inside objects and of
// @timestamp's seconds warm) gives byte for byte what a new one gives
// for each event, over events that repeat parts of their fields as
// events from one source do: nested objects whose members partly change,
// arrays, unicode, invalid UTF-8, big and negative numbers, floats,
// timestamps in the same seconds, whole days apart and before 1970,
// @metadata (never written).
func TestJSONEncoderMemoExact(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	pool := make([]any, 16) // values fields repeat, at any depth
	for i := range pool {
		pool[i] = randValue(r, 1)
	}
	pool = append(pool, "a string long enough to be kept", map[string]any{"path": "/var/log/messages"},
		[]any{"ssh", "auth"}, int64(math.MaxInt64), int64(math.MinInt64), int64(1<<20), int64(-1<<20))
	value := func(depth int) any {
		switch r.IntN(4) {
		case 0:
			return randValue(r, depth)
		case 1:
			// Numbers around the varint lengths smallInt reads.
			return int64(r.IntN(1<<22)) - 1<<21
		default:
			return pool[r.IntN(len(pool))]
		}
	}
	var object func(depth int) map[string]any
	object = func(depth int) map[string]any {
		m := map[string]any{}
		for range r.IntN(6) {
			if depth < 3 && r.IntN(4) == 0 {
				m[randKey(r)] = object(depth + 1)
			} else {
				m[randKey(r)] = value(depth + 1)
			}
		}
		return m
	}
	seconds := []int64{1764907267, 1764907267 + 86400, 1764907267 + 31*86400, 1764907268, -86401}
	warm := JSONEncoder{Unordered: true}
	var dec host.Decoder
	var hits, timestamps int
	for round := range 300 {
		events := make([]*sdk.Event, 1+r.IntN(40))
		for i := range events {
			e := sdk.NewEmptyEvent()
			switch r.IntN(4) {
			case 0:
				e.SetTimestampNano(r.Int64N(4e18) - 1e18)
			case 1:
			default:
				e.SetTimestampNano(seconds[r.IntN(len(seconds))]*1e9 + r.Int64N(1000)*1e6)
				timestamps++
			}
			for k, v := range object(0) {
				e.Fields()[k] = v
			}
			if r.IntN(3) == 0 {
				e.Metadata()["m"] = value(0)
			}
			events[i] = e
		}
		decoded, err := dec.Decode(host.EncodeBatch(events))
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range decoded {
			before := warm.memoHits
			got := warm.AppendEvent(nil, e)
			hits += warm.memoHits - before
			cold := JSONEncoder{Unordered: true}
			if want := cold.AppendEvent(nil, e); !bytes.Equal(got, want) {
				t.Fatalf("round %d event %d: a warm encoder wrote\n%s\na new one\n%s", round, i, got, want)
			}
			if bytes.Contains(got, []byte(`"@metadata"`)) {
				t.Fatalf("round %d event %d: @metadata written: %s", round, i, got)
			}
			checkNoRepeatedKeys(t, got)
		}
	}
	if hits < 500 || timestamps < 1000 {
		t.Fatalf("%d fields written from the memo, %d timestamps in kept seconds: the test does not exercise them", hits, timestamps)
	}
}

// TestJSONEncoderInnerMemo: a member of an object that changes (the
// offset beside [log][file]) does not stop the unchanged member from
// being written from the memo, and a member whose bytes change is
// written anew.
func TestJSONEncoderInnerMemo(t *testing.T) {
	enc := JSONEncoder{Unordered: true}
	var dec host.Decoder
	events := make([]*sdk.Event, 6)
	for i := range events {
		e := sdk.NewEmptyEvent()
		path := "/var/log/messages"
		if i == 4 {
			path = "/var/log/secure.1"
		}
		e.Fields()["log"] = map[string]any{"offset": int64(i * 120), "file": map[string]any{"path": path}}
		events[i] = e
	}
	decoded, err := dec.Decode(host.EncodeBatch(events))
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range decoded {
		before := enc.memoHits
		got := string(enc.AppendEvent(nil, e))
		path := map[bool]string{true: "/var/log/secure.1", false: "/var/log/messages"}[i == 4]
		a := `{"log":{"offset":` + strconv.Itoa(i*120) + `,"file":{"path":"` + path + `"}}}`
		b := `{"log":{"file":{"path":"` + path + `"},"offset":` + strconv.Itoa(i*120) + `}}`
		if got != a && got != b {
			t.Fatalf("event %d: got %s", i, got)
		}
		if hit := enc.memoHits > before; hit != (i > 0 && i != 4 && i != 5) {
			t.Fatalf("event %d: written from the memo: %v", i, hit)
		}
	}
}

// TestJSONEncoderRunMemo: fields that repeat together are written from
// one run memo once they have been seen together, and a run in which one
// field changed (by its last byte, or in length) or which an event cuts
// short is not: each field is then written on its own, the changed one
// anew. Every event is what a new encoder writes.
func TestJSONEncoderRunMemo(t *testing.T) {
	enc := JSONEncoder{Unordered: true}
	enc.shape.off = true // the ordinary way's runs: the plan would take these events
	var dec host.Decoder
	names := []string{"host", "service", "tags", "user", "event"}
	for round := range 3 {
		events := make([]*sdk.Event, 16)
		for i := range events {
			e := sdk.NewEmptyEvent()
			values := []any{
				map[string]any{"name": "web-1"},
				map[string]any{"type": "system"},
				[]any{"ssh", "auth"},
				map[string]any{"name": "deploy"},
				map[string]any{"original": "Accepted publickey"},
			}
			// Events 4 to 8 change one field each by its last byte, 9 to
			// 13 one each in length; 14 has no [event]. Whatever order
			// the batch has, some change is in the middle of a run.
			switch j := i - 4; {
			case j >= 0 && j < 5:
				values[j] = []any{
					map[string]any{"name": "web-2"},
					map[string]any{"type": "systen"},
					[]any{"ssh", "autx"},
					map[string]any{"name": "deplox"},
					map[string]any{"original": "Accepted publickex"},
				}[j]
			case j >= 5 && j < 10:
				values[j-5] = map[string]any{"x": "a longer value"}
			}
			for k, name := range names {
				if i != 14 || name != "event" {
					e.Fields()[name] = values[k]
				}
			}
			e.Fields()["offset"] = int64(i * 120)
			events[i] = e
		}
		decoded, err := dec.Decode(host.EncodeBatch(events))
		if err != nil {
			t.Fatal(err)
		}
		var runs int
		for i, e := range decoded {
			before := enc.runHits
			got := enc.AppendEvent(nil, e)
			runs += enc.runHits - before
			cold := JSONEncoder{Unordered: true}
			if want := cold.AppendEvent(nil, e); !bytes.Equal(got, want) {
				t.Fatalf("round %d event %d: got\n%s\nwant\n%s", round, i, got, want)
			}
		}
		if runs < 4 {
			t.Fatalf("round %d: %d runs written from the run memo", round, runs)
		}
	}
}

// TestRawString: rawString takes a string Value of a one-byte length as
// protowire writes it, and nothing else: not a longer length, a cut one,
// another type, or a Value with more after the string.
func TestRawString(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 129, 300, 16384} {
		str := strings.Repeat("x", n)
		v := protowire.AppendBytes([]byte{wvString}, []byte(str))
		got, ok := rawString(v)
		if want := n < 128; ok != want || ok && got != str {
			t.Fatalf("length %d: %v %d", n, ok, len(got))
		}
		for _, bad := range [][]byte{v[:len(v)-1], append(v[:len(v):len(v)], 0), append([]byte{wvInt}, v[1:]...)} {
			if s, ok := rawString(bad); ok {
				t.Fatalf("length %d: %q... read as a string of %d", n, bad[:min(len(bad), 4)], len(s))
			}
		}
	}
}

// TestEncoderHelpers compares the short copies, compares, integers and
// timestamps with what they stand for.
func TestEncoderHelpers(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		n := r.IntN(40)
		src := make([]byte, n, n+r.IntN(40))
		for i := range src {
			src[i] = byte(r.IntN(3))
		}
		dst := make([]byte, r.IntN(8), 8+r.IntN(60))
		want := append(append([]byte(nil), dst...), src...)
		if got := appendShort(dst, src); !bytes.Equal(got, want) {
			t.Fatalf("appendShort(%q, %q) = %q", dst, src, got)
		}
		other := append(make([]byte, 0, n+r.IntN(40)), src...)
		if n > 0 && r.IntN(2) == 0 {
			other[r.IntN(n)] ^= 1 << r.IntN(8)
		}
		// What lies past the length must not count.
		for i := len(other); i < cap(other); i++ {
			other[:cap(other)][i] = byte(r.IntN(256))
		}
		if got, want := sameBytes(src, other), string(src) == string(other); got != want {
			t.Fatalf("sameBytes(%q, %q) = %v", src, other, got)
		}
	}
	for _, x := range []int64{0, 1, 9, 10, 99, 100, 101, 999, 1000, 12345, 99999999, 1e8, 1e8 + 1, -1, -10, math.MaxInt64, math.MinInt64} {
		if got, want := string(appendInt([]byte("x"), x)), "x"+strconv.FormatInt(x, 10); got != want {
			t.Fatalf("appendInt(%d) = %s", x, got)
		}
	}
	for range 100000 {
		x := r.Int64N(2e8) - 5e7
		if got, want := string(appendInt(nil, x)), strconv.FormatInt(x, 10); got != want {
			t.Fatalf("appendInt(%d) = %s", x, got)
		}
	}
	var enc JSONEncoder
	for range 100000 {
		var ns int64
		switch r.IntN(3) {
		case 0:
			ns = r.Int64N(8e18) - 4e18
		case 1:
			ns = (1764907267+r.Int64N(4)*86400)*1e9 + r.Int64N(1000)*1e6
		default:
			ns = r.Int64N(300)*1e9 - 150e9
		}
		if got, want := string(enc.appendTimestamp(nil, ns)), sdk.FormatTimestamp(ns); got != want {
			t.Fatalf("appendTimestamp(%d) = %s, want %s", ns, got, want)
		}
	}
}
