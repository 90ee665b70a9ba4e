package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk/sdktest/testenv"
)

func esCall(t *testing.T, method, url string) []byte {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return b
}

// The seeds' stdin job: JSON lines stamped in two months land in two
// monthly indices, in Elasticsearch, and in OpenSearch with only hosts and
// flavor changed.
func TestStdinToElasticsearchAndOpenSearch(t *testing.T) {
	for _, engine := range []struct {
		name, flavor string
		url          func(testing.TB) string
	}{
		{"elasticsearch", "elasticsearch", testenv.Elasticsearch},
		{"opensearch", "opensearch", testenv.OpenSearch},
	} {
		t.Run(engine.name, func(t *testing.T) {
			base := engine.url(t)
			prefix := fmt.Sprintf("test-system-messages-%d", time.Now().UnixNano())
			t.Cleanup(func() { esCall(t, "DELETE", base+"/"+prefix+"-*") })
			const n = 1000
			var in strings.Builder
			stamps := map[int]string{}
			for i := range n {
				ts := time.Date(2026, time.January+time.Month(i%2), 1+i%28, 8, i%60, 0, 0, time.UTC).Format("2006-01-02T15:04:05.000Z")
				stamps[i] = ts
				fmt.Fprintf(&in, `{"@timestamp":%q,"message":"line %d","n":%d,"@metadata":{"secret":"s"}}`+"\n", ts, i, i)
			}
			cfg := writeFile(t, "p.hcl", fmt.Sprintf(`
input "stdin" "in" {
  codec = "json"
}
output "elasticsearch" "search" {
  hosts  = ["%s"]
  flavor = "%s"
  index  = "%s-%%{+YYYY.MM}"
}`, base, engine.flavor, prefix))
			_, stderr, code := gostash(t, in.String(), "-f", cfg, "--path.data", filepath.Join(t.TempDir(), "data"))
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			esCall(t, "POST", base+"/"+prefix+"-*/_refresh")
			for month, want := range map[string]int{"2026.01": n / 2, "2026.02": n / 2} {
				var c struct {
					Count int `json:"count"`
				}
				b := esCall(t, "GET", base+"/"+prefix+"-"+month+"/_count")
				if json.Unmarshal(b, &c) != nil || c.Count != want {
					t.Fatalf("%s-%s: %s, want count %d\n%s", prefix, month, b, want, stderr)
				}
			}
			var r struct {
				Hits struct {
					Hits []struct {
						Index  string         `json:"_index"`
						Source map[string]any `json:"_source"`
					} `json:"hits"`
				} `json:"hits"`
			}
			if err := json.Unmarshal(esCall(t, "GET", base+"/"+prefix+"-*/_search?size=1000"), &r); err != nil || len(r.Hits.Hits) != n {
				t.Fatalf("search: %v, %d hits", err, len(r.Hits.Hits))
			}
			for _, h := range r.Hits.Hits {
				i := int(h.Source["n"].(float64))
				if h.Source["@timestamp"] != stamps[i] {
					t.Fatalf("document %d: @timestamp %v, want %s", i, h.Source["@timestamp"], stamps[i])
				}
				if wantIdx := prefix + "-" + strings.ReplaceAll(stamps[i][:7], "-", "."); h.Index != wantIdx {
					t.Fatalf("document %d in %s, want %s", i, h.Index, wantIdx)
				}
				if _, ok := h.Source["@metadata"]; ok {
					t.Fatalf("document %d holds @metadata: %v", i, h.Source)
				}
			}
		})
	}
}
