package elasticsearch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/codecs"
	"github.com/gostash/gostash/sdk/host"
	"github.com/gostash/gostash/sdk/sdktest"
)

// TestBodyWarmEqualsCold: the bulk body built by a write that has built
// many batches before (the encoder's memos warm: whole fields, members of
// objects, @timestamp's seconds) is byte for byte the body a new write
// builds, and every document holds what the sorted JSON encoder (the
// other outputs') writes for the event, @metadata left out. The events
// repeat parts of their fields as events from one source do and vary the
// rest: nested objects, arrays, unicode, invalid UTF-8, big numbers,
// floats, timestamps in a few seconds of two months.
func TestBodyWarmEqualsCold(t *testing.T) {
	comp := sdktest.Lookup(t, sdk.KindOutput, "elasticsearch")
	out, err := comp.NewOutput(t.Context(), sdktest.Config(t, comp, map[string]any{"index": "body-%{+YYYY.MM}"}), sdktest.Env(t, "es"))
	if err != nil {
		t.Fatal(err)
	}
	o := out.(*Output)
	r := rand.New(rand.NewPCG(21, 22))
	strs := []string{"web-1", "sshd", "Accepted publickey for deploy", "日本語のログ", "emoji 😀 here", "bad \xff\xfe utf8",
		"quote \" and \\ backslash", "ctl \x00\x1f", "/var/log/messages", "\u2028", ""}
	nums := []any{int64(0), int64(120), int64(1 << 20), int64(math.MaxInt64), int64(math.MinInt64), 1e21, -0.5, 123456.789, true, nil}
	leaf := func() any {
		if r.IntN(2) == 0 {
			return strs[r.IntN(len(strs))]
		}
		return nums[r.IntN(len(nums))]
	}
	var value func(depth int) any
	value = func(depth int) any {
		switch r.IntN(5) {
		case 0:
			if depth < 3 {
				m := map[string]any{}
				for range r.IntN(4) {
					m[fmt.Sprintf("k%d", r.IntN(6))] = value(depth + 1)
				}
				return m
			}
		case 1:
			if depth < 3 {
				return []any{leaf(), value(depth + 1)}
			}
		case 2:
			return int64(r.IntN(1 << 22))
		}
		return leaf()
	}
	shared := map[string]any{"host": map[string]any{"name": "web-1"}, "tags": []any{"ssh", "auth"}, "service": map[string]any{"type": "system"}}
	warm := o.getWrite()
	for round := range 60 {
		events := make([]*sdk.Event, 1+r.IntN(50))
		for i := range events {
			e := sdk.NewEvent(strs[r.IntN(len(strs))])
			e.SetTimestamp(time.Date(2026, 1+time.Month(r.IntN(2)), 1, 8, 0, r.IntN(3), r.IntN(1000)*1e6, time.UTC))
			for k, v := range shared {
				if r.IntN(4) != 0 {
					e.Fields()[k] = v
				}
			}
			_ = e.Set("[log][file][path]", "/var/log/messages")
			_ = e.Set("[log][offset]", int64(r.IntN(1<<30)))
			// Values of one length that differ in their last byte only.
			_ = e.Set("[source][ip]", fmt.Sprintf("10.0.0.%d", r.IntN(3)))
			_ = e.Set("[user][name]", fmt.Sprintf("user%d", r.IntN(3)))
			for range r.IntN(6) {
				e.Fields()[fmt.Sprintf("f%d", r.IntN(10))] = value(0)
			}
			e.Metadata()["secret"] = "never indexed"
			events[i] = e
		}
		var dec host.Decoder
		decoded, err := dec.Decode(host.EncodeBatch(events))
		if err != nil {
			t.Fatal(err)
		}
		var werr sdk.WriteError
		o.buildBody(warm, decoded, &werr)
		cold := &write{enc: codecs.JSONEncoder{Unordered: true}}
		o.buildBody(cold, decoded, &werr)
		if len(werr.Items) > 0 {
			t.Fatal(werr.Error())
		}
		if !bytes.Equal(warm.arena, cold.arena) {
			t.Fatalf("round %d: the warm body differs from a new one's:\n%s\n%s", round, warm.arena, cold.arena)
		}
		lines := bytes.Split(bytes.TrimSuffix(warm.arena, []byte("\n")), []byte("\n"))
		if len(lines) != 2*len(events) {
			t.Fatalf("round %d: %d lines for %d events", round, len(lines), len(events))
		}
		for i, e := range events {
			var sorted codecs.JSONEncoder
			want, got := parseDoc(t, sorted.AppendEvent(nil, e)), parseDoc(t, lines[2*i+1])
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d event %d: indexed\n%s\nwant\n%s", round, i, lines[2*i+1], sorted.AppendEvent(nil, e))
			}
			if _, ok := got["@metadata"]; ok {
				t.Fatalf("round %d event %d: @metadata indexed: %s", round, i, lines[2*i+1])
			}
		}
	}
}

func parseDoc(t *testing.T, b []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return m
}
