package kv

import (
	"context"
	"fmt"
	"testing"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
)

// tenPairs are lines of 10 pairs, one of them quoted, ~150 bytes.
func tenPairs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(`ts=2026-12-04T10:%02d:00Z level=info svc=checkout user=u%d status=%d bytes=%d dur_ms=%d path=/api/v1/orders method=POST msg="order placed"`,
			i%60, i, 200+i%5, 1000+i, i%300)
	}
	return out
}

// BenchmarkTenPairs: events decoded from 125-event batches as a plugin
// process gets them, then kv; per event.
func BenchmarkTenPairs(b *testing.B) {
	lines := tenPairs(1000)
	comp := sdktest.Lookup(b, sdk.KindFilter, "kv")
	for _, c := range []struct {
		name     string
		settings map[string]any
	}{{"Root", map[string]any{}}, {"Target", map[string]any{"target": "kv"}}} {
		f, err := comp.NewFilter(context.Background(), sdktest.Config(b, comp, c.settings), sdktest.Env(b, "kv"))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) { sdktest.BenchFilterBatches(b, f, lines, sdk.Matched) })
	}
}
