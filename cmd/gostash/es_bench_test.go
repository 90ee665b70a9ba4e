package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gostash/gostash/plugins/outputs/elasticsearch/fakees"
	"github.com/gostash/gostash/sdk/sdktest/testenv"
)

// The Elasticsearch output's end-to-end benchmarks of issue #11:
//
//	go test ./cmd/gostash -run '^$' -bench ElasticsearchOutput -benchtime 1x
//	BENTHOS=/path/to/benthos go test ... (adds Benthos v4.24.0's rows)
//	GOSTASH_ES_BENCH_BEFORE=/path/to/old/gostash go test ... (adds a "before" row: that binary, uncompressed)
//	GOSTASH_ES_BENCH_ROUNDS=5 go test ... (rounds; 3 by default)
//
// Every side reads the same esBenchDocs JSON lines (12-field ECS-shaped
// events, @timestamp in two months) from stdin and indexes them into
// PREFIX-YYYY.MM, 125 documents a bulk request: gostash (stdin, json
// codec → elasticsearch output), es-bulk (testdata: a bare
// go-elasticsearch loop putting each line as it is under its action, six
// requests in flight, as gostash's 2 × workers + 2 streams) and Benthos's
// elasticsearch output. "fake" is the in-process fault server answering
// success to everything (it counts documents and keeps none); "real" is
// the Elasticsearch node of `make testenv-up` (gostash and es-bulk only:
// the engine is the bottleneck). The sides run in turn, round after
// round; figures are medians, ratios medians of per-round ratios; CPU is
// that of the sender's processes only (the fake server runs in the test
// process); "gostash/X-cpu" is gostash's CPU over X's. Each run is checked
// to have delivered every document.
const (
	esBenchDocs     = 100_000
	esBenchRealDocs = 10_000
	esBenchRounds   = 3
)

// esBenchFile writes n JSON lines shaped like the output's bulk body
// benchmark's event.
func esBenchFile(b *testing.B, n int) string {
	var sb strings.Builder
	for i := range n {
		ts := time.Date(2026, 1+time.Month(i%2), 1+i%28, 8, i%60, i%60, 0, time.UTC).Format("2006-01-02T15:04:05.000Z")
		fmt.Fprintf(&sb, `{"@timestamp":%q,"message":"Dec  4 20:%02d:%02d web-1 sshd[%d]: Accepted publickey for deploy from 10.0.0.%d port %d ssh2",`+
			`"host":{"name":"web-1"},"log":{"file":{"path":"/var/log/messages"},"offset":%d},"event":{"original":"Accepted publickey"},`+
			`"process":{"name":"sshd","pid":%d},"source":{"ip":"10.0.0.%d","port":%d},"user":{"name":"deploy"},"tags":["ssh","auth"],"service":{"type":"system"}}`+"\n",
			ts, i%60, i%60, 1000+i%5000, i%250, 40000+i%20000, i*120, 1000+i%5000, i%250, 40000+i%20000)
	}
	return writeFileB(b, "docs.ndjson", sb.String())
}

func BenchmarkElasticsearchOutput(b *testing.B) {
	bulkBin := buildTestdata(b, "es-bulk")
	benthos := os.Getenv("BENTHOS")
	stdinFrom := func(path string) *os.File {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { f.Close() })
		return f
	}
	// gostashCfg is gostash's pipeline; extra goes into the output block.
	gostashCfg := func(url, prefix, extra string) string {
		return writeFileB(b, "es.hcl", fmt.Sprintf(`
input "stdin" "in" {
  codec = "json"
}
output "elasticsearch" "es" {
  hosts = [%q]
  index = "%s-%%{+YYYY.MM}"
  %s
}
`, url, prefix, extra))
	}
	benthosCfg := func(url, prefix string) string {
		return writeFileB(b, "benthos.yaml", fmt.Sprintf(`
http:
  enabled: false
logger:
  level: WARN
input:
  stdin:
    codec: lines
output:
  elasticsearch:
    urls: [%q]
    index: '%s-${! json("@timestamp").slice(0, 7).replace_all("-", ".") }'
    id: ""
    sniff: false
    healthcheck: false
    max_in_flight: 6
    batching:
      count: 125
      period: 100ms
`, url, prefix))
	}

	b.Run("fake", func(b *testing.B) {
		docs := esBenchFile(b, esBenchDocs)
		srv := fakees.New(nil)
		srv.Discard = true
		defer srv.Close()
		// run runs one side and checks the server took every document.
		run := func(name string, cmd func() *exec.Cmd) func(*testing.B, int) runStats {
			return func(b *testing.B, _ int) runStats {
				before := srv.Taken()
				c := cmd()
				c.Stdin = stdinFrom(docs)
				st := runSide(b, name, c, nil)
				if got := srv.Taken() - before; got != esBenchDocs {
					b.Fatalf("%s: the server took %d documents, want %d", name, got, esBenchDocs)
				}
				return st
			}
		}
		sides := []kafkaSide{
			// Uncompressed, as the others send; gzip (Logstash's default
			// compression_level = 1) is the next row.
			{"gostash", run("gostash", func() *exec.Cmd {
				return exec.Command(gostashBin, "-f", gostashCfg(srv.URL, "bench", "compression_level = 0"), "--log.level", "warn")
			})},
		}
		if before := os.Getenv("GOSTASH_ES_BENCH_BEFORE"); before != "" {
			// Another gostash binary (the code before a change), the same
			// pipeline: its ratio to this one is measured in the same run.
			sides = append(sides, kafkaSide{"before", run("before", func() *exec.Cmd {
				return exec.Command(before, "-f", gostashCfg(srv.URL, "bench", "compression_level = 0"), "--log.level", "warn")
			})})
		}
		sides = append(sides, []kafkaSide{
			{"gostash-gzip", run("gostash-gzip", func() *exec.Cmd {
				return exec.Command(gostashBin, "-f", gostashCfg(srv.URL, "bench", ""), "--log.level", "warn")
			})},
			{"es-bulk", run("es-bulk", func() *exec.Cmd {
				return exec.Command(bulkBin, "-url", srv.URL, "-index", "bench", "-batch", "125", "-inflight", "6")
			})},
		}...)
		if benthos != "" {
			sides = append(sides, kafkaSide{"benthos", run("benthos", func() *exec.Cmd {
				return exec.Command(benthos, "-c", benthosCfg(srv.URL, "bench"))
			})})
		} else {
			b.Log("set BENTHOS to a Benthos v4.24.0 binary to add its rows")
		}
		esBench(b, esBenchDocs, sides)
		b.Logf("at most %d bulk requests in flight", srv.MaxInFlight())
	})

	b.Run("real", func(b *testing.B) {
		base := testenv.Elasticsearch(b)
		docs := esBenchFile(b, esBenchRealDocs)
		run := func(name string, cmd func(prefix string) *exec.Cmd) func(*testing.B, int) runStats {
			return func(b *testing.B, _ int) runStats {
				prefix := fmt.Sprintf("gostash-bench-%s-%d", name, time.Now().UnixNano())
				defer esDelete(b, base+"/"+prefix+"-*")
				c := cmd(prefix)
				c.Stdin = stdinFrom(docs)
				st := runSide(b, name, c, nil)
				if got := esCountB(b, base, prefix+"-*"); got != esBenchRealDocs {
					b.Fatalf("%s: %d documents in %s-*, want %d", name, got, prefix, esBenchRealDocs)
				}
				return st
			}
		}
		esBench(b, esBenchRealDocs, []kafkaSide{
			{"gostash", run("gostash", func(prefix string) *exec.Cmd {
				return exec.Command(gostashBin, "-f", gostashCfg(base, prefix, "compression_level = 0"), "--log.level", "warn")
			})},
			{"es-bulk", run("es-bulk", func(prefix string) *exec.Cmd {
				return exec.Command(bulkBin, "-url", base, "-index", prefix, "-batch", "125", "-inflight", "6")
			})},
		})
	})
}

// esBench runs the sides in turn, esBenchRounds times (benchSides).
// GOSTASH_ES_BENCH_ROUNDS sets another number of rounds.
func esBench(b *testing.B, docs int, sides []kafkaSide) {
	rounds := esBenchRounds
	if n, err := strconv.Atoi(os.Getenv("GOSTASH_ES_BENCH_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	benchSides(b, sides, docs, "doc", rounds)
}

func esDelete(b *testing.B, url string) {
	req, _ := http.NewRequest("DELETE", url, nil)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
	}
}

func esCountB(b *testing.B, base, index string) int {
	b.Helper()
	for _, path := range []string{"/_refresh", "/_count"} {
		req, _ := http.NewRequest(map[string]string{"/_refresh": "POST", "/_count": "GET"}[path], base+"/"+index+path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var c struct {
			Count int `json:"count"`
		}
		err = json.NewDecoder(res.Body).Decode(&c)
		res.Body.Close()
		if path == "/_count" {
			if err != nil {
				b.Fatalf("count %s: %v", index, err)
			}
			return c.Count
		}
	}
	return -1
}
