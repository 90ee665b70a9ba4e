package date

import (
	"context"
	"testing"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
)

func newBench(b *testing.B, settings map[string]any) sdk.Filter {
	comp := sdktest.Lookup(b, sdk.KindFilter, "date")
	f, err := comp.NewFilter(context.Background(), sdktest.Config(b, comp, settings), sdktest.Env(b, "date"))
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// benchFilter runs the filter on one event whose field is reset to the
// text each time (the event is reused, as the pipeline reuses batches).
func benchFilter(b *testing.B, settings map[string]any, text any) {
	f := newBench(b, settings)
	ctx := context.Background()
	e := sdktest.Event(map[string]any{"timestamp": text})
	if f.Apply(ctx, e, nil) != sdk.Matched {
		b.Fatalf("%v does not parse", text)
	}
	b.ReportAllocs()
	for b.Loop() {
		e.SetTimestampNano(1)
		if f.Apply(ctx, e, nil) != sdk.Matched {
			b.Fatal("no match")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkApache is issue #12's case: the Apache timestamp into @timestamp.
func BenchmarkApache(b *testing.B) {
	benchFilter(b, map[string]any{"match": []any{"timestamp", "dd/MMM/yyyy:HH:mm:ss Z"}}, "10/Oct/2000:13:55:36 -0700")
}

// BenchmarkISO8601 is a JSON log's time, with a fraction and an offset.
func BenchmarkISO8601(b *testing.B) {
	benchFilter(b, map[string]any{"match": []any{"timestamp", "ISO8601"}}, "2000-10-10T13:55:36.123-07:00")
}

// BenchmarkSyslogInZone is a year-less syslog date in a named zone, after a
// first format that fails: the year guess and the zone's rules per event.
func BenchmarkSyslogInZone(b *testing.B) {
	benchFilter(b, map[string]any{"match": []any{"timestamp", "MMM  d HH:mm:ss", "MMM dd HH:mm:ss"}, "timezone": "Europe/Berlin"}, "Oct 10 13:55:36")
}

// BenchmarkUnixMS is a number field.
func BenchmarkUnixMS(b *testing.B) {
	benchFilter(b, map[string]any{"match": []any{"timestamp", "UNIX_MS"}}, int64(1700000000123))
}
