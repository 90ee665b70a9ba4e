package json

import (
	"context"
	"fmt"
	"testing"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
)

// appLines are JSON application logs of 8 fields (one nested object,
// an @timestamp), ~200 bytes.
func appLines(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(`{"@timestamp":"2026-12-04T10:%02d:00.123Z","level":"info","svc":"checkout","user":"u%d","status":%d,"dur_ms":%d.5,"http":{"method":"POST","path":"/api/v1/orders"},"msg":"order placed"}`,
			i%60, i, 200+i%5, i%300)
	}
	return out
}

// BenchmarkAppLog: events decoded from 125-event batches as a plugin
// process gets them, then json; per event.
func BenchmarkAppLog(b *testing.B) {
	lines := appLines(1000)
	comp := sdktest.Lookup(b, sdk.KindFilter, "json")
	for _, c := range []struct {
		name     string
		settings map[string]any
	}{{"Root", map[string]any{"source": "message"}}, {"Target", map[string]any{"source": "message", "target": "doc"}}} {
		f, err := comp.NewFilter(context.Background(), sdktest.Config(b, comp, c.settings), sdktest.Env(b, "json"))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) { sdktest.BenchFilterBatches(b, f, lines, sdk.Matched) })
	}
}
