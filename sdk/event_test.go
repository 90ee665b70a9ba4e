package sdk

import (
	"bytes"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

func TestNewEvent(t *testing.T) {
	before := time.Now()
	e := NewEvent("hello")
	ts, ok := e.Timestamp()
	if !ok || ts.Before(before.Truncate(time.Microsecond)) || ts.After(time.Now()) {
		t.Errorf("NewEvent stamped %v (set %v), want the time of the call", ts, ok)
	}
	if ts.Location() != time.UTC {
		t.Errorf("Timestamp() is in %v, want UTC", ts.Location())
	}
	if got := e.Message(); got != "hello" {
		t.Errorf("Message() = %q", got)
	}
	if v, _ := e.Get("@version"); v != "1" {
		t.Errorf("@version = %v, want \"1\"", v)
	}
	if _, ok := NewEvent("").Fields()[FieldMessage]; ok {
		t.Error("NewEvent(\"\") has a message field")
	}
	if _, ok := NewEmptyEvent().Timestamp(); ok {
		t.Error("NewEmptyEvent has a timestamp")
	}
}

func TestTags(t *testing.T) {
	tests := []struct {
		name   string
		start  any // the tags field before; nil means absent
		add    []string
		remove []string
		want   any
	}{
		{"first tag makes a list", nil, []string{"a"}, nil, []any{"a"}},
		{"tags stay in order", nil, []string{"a", "b", "c"}, nil, []any{"a", "b", "c"}},
		{"tags stay unique", nil, []string{"a", "b", "a", "b"}, nil, []any{"a", "b"}},
		{"a single string tag becomes a list", "x", []string{"y"}, nil, []any{"x", "y"}},
		{"a string tag is not added twice", "x", []string{"x"}, nil, "x"},
		{"a non-string value is kept", int64(5), []string{"y"}, nil, []any{int64(5), "y"}},
		{"remove keeps the others in order", []any{"a", "b", "c"}, nil, []string{"b"}, []any{"a", "c"}},
		{"remove every copy", []any{"a", "b", "a"}, nil, []string{"a"}, []any{"b"}},
		{"remove the last leaves an empty list", []any{"a"}, nil, []string{"a"}, []any{}},
		{"remove a single string tag", "a", nil, []string{"a"}, []any{}},
		{"remove an absent tag changes nothing", []any{"a"}, nil, []string{"z"}, []any{"a"}},
		{"add after remove", []any{"a", "b"}, []string{"c"}, []string{"a"}, []any{"b", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEmptyEvent()
			if tt.start != nil {
				e.Fields()[FieldTags] = tt.start
			}
			for _, r := range tt.remove {
				e.RemoveTag(r)
			}
			for _, a := range tt.add {
				e.AddTag(a)
			}
			if got := e.Fields()[FieldTags]; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("tags = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestHasTagAndTags(t *testing.T) {
	e := NewEmptyEvent()
	if e.HasTag("a") || e.Tags() != nil {
		t.Error("an event without tags reports some")
	}
	e.AddTag("a")
	e.AddTag("b")
	if !e.HasTag("a") || !e.HasTag("b") || e.HasTag("c") {
		t.Errorf("HasTag wrong for tags %v", e.Tags())
	}
	if got := e.Tags(); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("Tags() = %v", got)
	}
	e.Fields()[FieldTags] = "solo"
	if !e.HasTag("solo") || !reflect.DeepEqual(e.Tags(), []string{"solo"}) {
		t.Errorf("a string tags field is one tag; got %v", e.Tags())
	}
}

func TestCloneIsIndependent(t *testing.T) {
	e := NewEvent("m")
	e.SetTimestamp(time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC))
	must(t, e.Set("[a][b]", "x"))
	must(t, e.Set("[list]", []any{"p", map[string]any{"q": int64(1)}}))
	must(t, e.Set("[@metadata][m]", "meta"))
	e.AddTag("t1")

	c := e.Clone()
	if !reflect.DeepEqual(c.ToMap(true), e.ToMap(true)) || c.TimestampNano() != e.TimestampNano() {
		t.Fatalf("clone differs:\n%v\n%v", c.ToMap(true), e.ToMap(true))
	}
	// Change the clone everywhere; the original must not notice.
	must(t, c.Set("[a][b]", "changed"))
	c.Fields()["list"].([]any)[1].(map[string]any)["q"] = int64(2)
	must(t, c.Set("[@metadata][m]", "changed"))
	c.AddTag("t2")
	c.RemoveTag("t1")
	c.SetTimestamp(time.Unix(0, 0))

	if v, _ := e.Get("[a][b]"); v != "x" {
		t.Errorf("original [a][b] = %v after changing the clone", v)
	}
	if v := e.Fields()["list"].([]any)[1].(map[string]any)["q"]; v != int64(1) {
		t.Errorf("original nested list value = %v after changing the clone", v)
	}
	if v, _ := e.Get("[@metadata][m]"); v != "meta" {
		t.Errorf("original metadata = %v after changing the clone", v)
	}
	if !reflect.DeepEqual(e.Tags(), []string{"t1"}) {
		t.Errorf("original tags = %v after changing the clone", e.Tags())
	}
	if e.TimestampNano() != time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC).UnixNano() {
		t.Error("original timestamp changed with the clone's")
	}
}

func TestToMapLeavesOutMetadata(t *testing.T) {
	e := NewEmptyEvent()
	e.SetTimestamp(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
	e.Fields()["message"] = "m"
	e.Metadata()["secret"] = "s"
	want := map[string]any{"message": "m", "@timestamp": "2024-01-02T03:04:05.000Z"}
	if got := e.ToMap(false); !reflect.DeepEqual(got, want) {
		t.Errorf("ToMap(false) = %v, want %v", got, want)
	}
	if got := e.ToMap(true)[FieldMetadata]; !reflect.DeepEqual(got, map[string]any{"secret": "s"}) {
		t.Errorf("ToMap(true) metadata = %v", got)
	}
	if _, ok := NewEmptyEvent().ToMap(true)[FieldTimestamp]; ok {
		t.Error("ToMap of an event without @timestamp has one")
	}
}

func TestFormatTimestamp(t *testing.T) {
	// As Logstash prints @timestamp: java.time's ISO_INSTANT, with
	// ".000" for a whole second.
	base := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		nsec int
		want string
	}{
		{0, "2024-01-02T03:04:05.000Z"},
		{123_000_000, "2024-01-02T03:04:05.123Z"},
		{100_000_000, "2024-01-02T03:04:05.100Z"},
		{123_456_000, "2024-01-02T03:04:05.123456Z"},
		{123_400_000, "2024-01-02T03:04:05.123400Z"},
		{123_456_789, "2024-01-02T03:04:05.123456789Z"},
		{123_456_700, "2024-01-02T03:04:05.123456700Z"},
		{1, "2024-01-02T03:04:05.000000001Z"},
	}
	for _, tt := range tests {
		ns := base.Add(time.Duration(tt.nsec)).UnixNano()
		if got := FormatTimestamp(ns); got != tt.want {
			t.Errorf("FormatTimestamp(+%dns) = %q, want %q", tt.nsec, got, tt.want)
		}
	}
	if got := FormatTimestamp(time.Date(1969, 12, 31, 23, 59, 59, 5e8, time.UTC).UnixNano()); got != "1969-12-31T23:59:59.500Z" {
		t.Errorf("before 1970: %q", got)
	}
	buf := make([]byte, 0, 32)
	if n := testing.AllocsPerRun(100, func() { buf = AppendTimestamp(buf[:0], base.UnixNano()) }); n != 0 {
		t.Errorf("AppendTimestamp allocates %.0f times", n)
	}
}

func TestNormalize(t *testing.T) {
	when := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in, want any
	}{
		{int(3), int64(3)},
		{int32(-3), int64(-3)},
		{uint16(7), int64(7)},
		{float32(1.5), 1.5},
		{[]string{"a", "b"}, []any{"a", "b"}},
		{map[string]string{"k": "v"}, map[string]any{"k": "v"}},
		{when, "2024-01-02T03:04:05.000Z"},
		{[]any{int(1), map[string]any{"n": int8(2)}}, []any{int64(1), map[string]any{"n": int64(2)}}},
		{"s", "s"},
		{nil, nil},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Normalize(%#v) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// The arithmetic path writes what package time does, for every instant
// int64 nanoseconds can hold: random ones, whole milliseconds, days'
// edges, leap days, before 1970 and the last one.
func TestAppendTimestampArithmetic(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	check := func(ns int64) {
		t.Helper()
		if got, want := AppendTimestamp(nil, ns), appendTimestampTime(nil, ns); !bytes.Equal(got, want) {
			t.Fatalf("%d: got %s want %s", ns, got, want)
		}
	}
	for i := range 200000 {
		switch i % 4 {
		case 0:
			check(r.Int64()) // anywhere up to 2262
		case 1:
			check(r.Int64N(4e18) / 1e6 * 1e6) // whole milliseconds
		case 2:
			check(-r.Int64N(4e18))
		default:
			check(r.Int64N(86400*1e9*3) + int64(r.IntN(100000))*86400*1e9) // days' edges
		}
	}
	for _, ns := range []int64{0, 1, 999999999, 1e9, 951782400e9, 951868800e9 - 1, 4107542400e9, math.MaxInt64} {
		check(ns)
	}
}
