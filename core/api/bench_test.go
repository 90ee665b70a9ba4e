package api

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gostash/gostash/core/pipeline"
	"github.com/gostash/gostash/sdk"
)

// BenchmarkScrape is what one Prometheus scrape of /metrics costs the
// process (a pipeline of one input, three filters, one output), and one
// read of /_node/stats/pipelines.
func BenchmarkScrape(b *testing.B) {
	snap := pipeline.Snapshot{ID: "main",
		Inputs:  []pipeline.PluginStats{{ID: "in", Type: "kafka", Kind: sdk.KindInput}},
		Filters: []pipeline.PluginStats{{ID: "a", Type: "grok", Kind: sdk.KindFilter}, {ID: "b", Type: "date", Kind: sdk.KindFilter}, {ID: "c", Type: "mutate", Kind: sdk.KindFilter}},
		Outputs: []pipeline.PluginStats{{ID: "es", Type: "elasticsearch", Kind: sdk.KindOutput}},
	}
	h := New(Node{}, fake{snap}).Handler()
	for _, path := range []string{"/metrics", "/_node/stats/pipelines"} {
		b.Run(path, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.Header.Set("Accept-Encoding", "gzip") // as Prometheus asks
			for b.Loop() {
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}
