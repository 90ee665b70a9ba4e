package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/gostash/gostash/plugins/outputs/elasticsearch/fakees"
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

// esCount refreshes and counts the documents of index (a pattern); -1
// when the engine does not answer with a count.
func esCount(t *testing.T, base, index string) int {
	t.Helper()
	esCall(t, "POST", base+"/"+index+"/_refresh")
	var c struct {
		Count *int `json:"count"`
	}
	if json.Unmarshal(esCall(t, "GET", base+"/"+index+"/_count"), &c) != nil || c.Count == nil {
		return -1
	}
	return *c.Count
}

// The seeds' Kafka job: JSON records stamped in two months, read with
// decorate_events, land in two monthly indices. The topic is then read
// again by a second group (as after a crash that lost the commits): with
// ids from the source, once with document_id_from_source and once with
// Logstash's document_id template, every record is still one document.
func TestKafkaToElasticsearchIdsFromTheSource(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	base := testenv.Elasticsearch(t)
	bootstrap := strings.Join(brokers, ",")
	topic := kafkaName("es-source")
	prefix := fmt.Sprintf("test-system-messages-%d", time.Now().UnixNano())
	t.Cleanup(func() { esCall(t, "DELETE", base+"/"+prefix+"-*") })
	const parts, n = 3, 900
	kafkaTopic(t, brokers, topic, parts)
	cfg := sarama.NewConfig()
	cfg.Producer.Return.Successes = true
	cfg.Producer.Partitioner = sarama.NewRoundRobinPartitioner
	p, err := sarama.NewSyncProducer(brokers, cfg)
	if err != nil {
		t.Fatal(err)
	}
	stamps := map[int]string{}
	var msgs []*sarama.ProducerMessage
	for i := range n {
		ts := time.Date(2026, time.March+time.Month(i%2), 1+i%28, 9, i%60, i%60, 0, time.UTC).Format("2006-01-02T15:04:05.000Z")
		stamps[i] = ts
		msgs = append(msgs, &sarama.ProducerMessage{Topic: topic,
			Value: sarama.StringEncoder(fmt.Sprintf(`{"@timestamp":%q,"message":"line %d","n":%d}`, ts, i, i))})
	}
	if err := p.SendMessages(msgs); err != nil {
		t.Fatal(err)
	}
	p.Close()

	run := func(group, id string) string {
		conf := writeFile(t, group+".hcl", fmt.Sprintf(`
input "kafka" "in" {
  bootstrap_servers = "%s"
  topics            = ["%s"]
  group_id          = "%s"
  auto_offset_reset = "earliest"
  codec             = "json"
  decorate_events   = "basic"
}
output "elasticsearch" "search" {
  hosts  = ["%s"]
  index  = "%s-%%{+YYYY.MM}"
  %s
}`, bootstrap, topic, group, base, prefix, id))
		cmd, _, errb := startGostash(t, "-f", conf, "--path.data", filepath.Join(t.TempDir(), "data"))
		// Everything read is committed once Elasticsearch has it.
		done := func() bool {
			var sum int64
			for _, off := range kafkaCommitted(t, brokers, group, topic, parts) {
				sum += off
			}
			return sum == n
		}
		if !waitFor(60*time.Second, done) {
			t.Fatalf("group %s: not every record committed within 60 s\n%s", group, errb)
		}
		cmd.Process.Signal(syscall.SIGTERM)
		if err := waitExit(cmd, 30*time.Second); err != nil {
			t.Fatalf("stop: %v\n%s", err, errb)
		}
		return errb.String()
	}
	log1 := run(kafkaName("g1"), "document_id_from_source = true")
	if c := esCount(t, base, prefix+"-*"); c != n {
		t.Fatalf("after the first read: %d documents, want %d\n%s", c, n, log1)
	}
	log2 := run(kafkaName("g2"), `document_id = "%{[@metadata][kafka][topic]}-%{[@metadata][kafka][partition]}-%{[@metadata][kafka][offset]}"`)
	for month, want := range map[string]int{"2026.03": n / 2, "2026.04": n / 2} {
		if c := esCount(t, base, prefix+"-"+month); c != want {
			t.Fatalf("%s-%s: %d documents after reading the topic twice, want %d\n%s\n%s", prefix, month, c, want, log1, log2)
		}
	}
	var r struct {
		Hits struct {
			Hits []struct {
				Index   string         `json:"_index"`
				ID      string         `json:"_id"`
				Version int            `json:"_version"`
				Source  map[string]any `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(esCall(t, "GET", base+"/"+prefix+"-*/_search?version=true&size="+fmt.Sprint(n)), &r); err != nil || len(r.Hits.Hits) != n {
		t.Fatalf("search: %v, %d hits", err, len(r.Hits.Hits))
	}
	for _, h := range r.Hits.Hits {
		i := int(h.Source["n"].(float64))
		if h.Source["@timestamp"] != stamps[i] {
			t.Fatalf("document %d: @timestamp %v, want %s", i, h.Source["@timestamp"], stamps[i])
		}
		if want := prefix + "-" + strings.ReplaceAll(stamps[i][:7], "-", "."); h.Index != want {
			t.Fatalf("document %d in %s, want %s", i, h.Index, want)
		}
		if _, ok := h.Source["@metadata"]; ok {
			t.Fatalf("document %d holds @metadata: %v", i, h.Source)
		}
		// Round-robin: record i is at partition i%3, offset i/3.
		if want := fmt.Sprintf("%s-%d-%d", topic, i%parts, i/parts); h.ID != want {
			t.Fatalf("document %d: _id %q, want %q", i, h.ID, want)
		}
		if h.Version != 2 {
			t.Fatalf("document %d: _version %d, want 2 (written by both reads, the second overwriting)", i, h.Version)
		}
	}
}

// sequenceOf reads the generator's [event][sequence] of an accepted
// document.
func sequenceOf(t *testing.T, doc json.RawMessage) int {
	t.Helper()
	var d struct {
		Event struct {
			Sequence *int `json:"sequence"`
		} `json:"event"`
	}
	if json.Unmarshal(doc, &d) != nil || d.Event.Sequence == nil {
		t.Fatalf("document without [event][sequence]: %s", doc)
	}
	return *d.Event.Sequence
}

// exactlyOnce checks that the fault server holds each of the generator's
// n events once.
func exactlyOnce(t *testing.T, srv *fakees.Server, n int, log string) {
	t.Helper()
	seen := map[int]int{}
	for _, a := range srv.Accepted() {
		seen[sequenceOf(t, a.Doc)]++
	}
	missing, dups := 0, 0
	for i := range n {
		switch c := seen[i]; {
		case c == 0:
			missing++
		case c > 1:
			dups += c - 1
		}
	}
	if missing > 0 || dups > 0 || len(seen) != n {
		t.Fatalf("%d of %d events missing, %d duplicates, %d distinct\n%s", missing, n, dups, len(seen), log)
	}
}

// The core writes each output on 2 x workers + 2 streams: as many bulk
// requests are in flight at once, each answering for its own batch. With
// slow answers and some documents refused (429) and retried inside their
// batch's write, the others go on, and every event lands once.
func TestElasticsearchBulkRequestsInFlight(t *testing.T) {
	srv := fakees.New(func(n int, actions []fakees.Action) fakees.Fault {
		f := fakees.Fault{Delay: 200 * time.Millisecond}
		if n%4 == 0 {
			f.Item = func(i int, _ fakees.Action) int {
				if i%3 == 0 {
					return 429
				}
				return 0
			}
		}
		return f
	})
	defer srv.Close()
	const n = 5000
	cfg := writeFile(t, "p.hcl", fmt.Sprintf(`
pipeline {
  workers    = 2
  batch_size = 100
}
input "generator" "in" {
  count = %d
}
output "elasticsearch" "search" {
  hosts                  = ["%s"]
  index                  = "inflight"
  retry_initial_interval = 1
}`, n, srv.URL))
	start := time.Now()
	_, stderr, code := gostash(t, "", "-f", cfg, "--path.data", filepath.Join(t.TempDir(), "data"))
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	exactlyOnce(t, srv, n, stderr)
	// 6 streams (workers 2): with 200 ms answers one at a time would take
	// 50 requests x 0.2 s = 10 s at least, plus the retries.
	if in := srv.MaxInFlight(); in < 4 || in > 6 {
		t.Fatalf("%d bulk requests in flight at most, want 4 to 6 (2 x workers + 2 streams)", in)
	}
	t.Logf("%d requests, at most %d in flight, %v", srv.Requests(), srv.MaxInFlight(), time.Since(start).Round(time.Millisecond))
}

// noLoss checks that the fault server holds each of the generator's n
// events, and returns how many it got more than once (a retransmit of a
// request the engine took but whose answer was lost).
func noLoss(t *testing.T, srv *fakees.Server, n int, log string) (again int) {
	t.Helper()
	seen := map[int]int{}
	for _, a := range srv.Accepted() {
		seen[sequenceOf(t, a.Doc)]++
	}
	missing := 0
	for i := range n {
		switch c := seen[i]; {
		case c == 0:
			missing++
		case c > 1:
			again += c - 1
		}
	}
	if missing > 0 || len(seen) != n {
		t.Fatalf("%d of %d events missing, %d distinct\n%s", missing, n, len(seen), log)
	}
	return again
}

const generatorToFakeES = `
pipeline {
  workers    = 2
  batch_size = 100
}
input "generator" "in" {
  count = %d
  rate  = %d
}
output "elasticsearch" "search" {
  hosts       = ["%s"]
  index       = "faults"
  document_id = "%%{[event][sequence]}"
  timeout     = 1
}`

// Fault server cases through the real binary: answers slower than
// timeout, connections reset mid-request, the engine down for 10 s. The
// batches are retried until the engine has them: nothing is lost, and
// what a lost answer makes arrive twice overwrites its own document.
func TestElasticsearchFaultsThroughTheBinary(t *testing.T) {
	t.Run("slow answers time out and are retried", func(t *testing.T) {
		srv := fakees.New(func(n int, _ []fakees.Action) fakees.Fault {
			if n%5 == 2 {
				return fakees.Fault{Delay: 2500 * time.Millisecond}
			}
			return fakees.Fault{}
		})
		defer srv.Close()
		const n = 3000
		cfg := writeFile(t, "p.hcl", fmt.Sprintf(generatorToFakeES, n, 0, srv.URL))
		_, stderr, code := gostash(t, "", "-f", cfg, "--path.data", filepath.Join(t.TempDir(), "data"))
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		again := noLoss(t, srv, n, stderr)
		if srv.Distinct() != n {
			t.Fatalf("%d distinct ids, want %d", srv.Distinct(), n)
		}
		if !strings.Contains(stderr, "deadline exceeded") {
			t.Fatalf("no timeout in the log:\n%s", stderr)
		}
		t.Logf("%d requests, %d documents sent again after a timeout (same ids: overwritten)", srv.Requests(), again)
	})
	t.Run("connections reset mid-request", func(t *testing.T) {
		srv := fakees.New(func(n int, _ []fakees.Action) fakees.Fault {
			return fakees.Fault{Reset: n%3 == 0}
		})
		defer srv.Close()
		const n = 3000
		cfg := writeFile(t, "p.hcl", fmt.Sprintf(generatorToFakeES, n, 0, srv.URL))
		_, stderr, code := gostash(t, "", "-f", cfg, "--path.data", filepath.Join(t.TempDir(), "data"))
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		exactlyOnce(t, srv, n, stderr) // a reset request was taken by nobody
		if !strings.Contains(stderr, "connection reset") && !strings.Contains(stderr, "EOF") {
			t.Fatalf("no reset in the log:\n%s", stderr)
		}
		t.Logf("%d requests, a third of them reset", srv.Requests())
	})
	t.Run("engine down for 10 s", func(t *testing.T) {
		srv := fakees.New(nil)
		defer srv.Close()
		const n, rate = 6000, 300 // 20 s of events
		cfg := writeFile(t, "p.hcl", fmt.Sprintf(generatorToFakeES, n, rate, srv.URL))
		cmd, _, errb := startGostash(t, "-f", cfg, "--path.data", filepath.Join(t.TempDir(), "data"))
		if !waitFor(15*time.Second, func() bool { return len(srv.Accepted()) >= 600 }) {
			t.Fatalf("nothing indexed within 15 s\n%s", errb)
		}
		srv.Down()
		before := len(srv.Accepted())
		time.Sleep(10 * time.Second)
		if err := srv.Up(); err != nil {
			t.Fatal(err)
		}
		t.Logf("down for 10 s after %d documents", before)
		if err := waitExit(cmd, 60*time.Second); err != nil {
			t.Fatalf("gostash: %v\n%s", err, errb)
		}
		again := noLoss(t, srv, n, errb.String())
		if srv.Distinct() != n {
			t.Fatalf("%d distinct ids, want %d", srv.Distinct(), n)
		}
		if !strings.Contains(errb.String(), "connection refused") {
			t.Fatalf("no refused connection in the log:\n%s", errb)
		}
		t.Logf("%d requests; %d documents sent again (answers cut by the outage)", srv.Requests(), again)
	})
}

// esDo sends body (JSON) and fails the test on an answer that is not 2xx.
func esDo(t *testing.T, method, url, body string) []byte {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %s\n%s", method, url, res.Status, b)
	}
	return b
}

// The seeds run two Elasticsearch nodes and name both in hosts. One is
// killed mid-run (SIGKILL, a crash): the output takes it out and goes on
// with the other, which promotes the replicas it holds. Every event is
// indexed once, checked by count and by id; the node is back after the test.
func TestElasticsearchNodeKilledMidRun(t *testing.T) {
	es := testenv.ESFaults(t)
	if es == nil {
		return
	}
	urls := es.URLs()
	index := fmt.Sprintf("node-killed-%d", time.Now().UnixNano())
	// Two shards, one replica: each node holds a primary, and a copy of the other.
	esDo(t, "PUT", urls[0]+"/"+index, `{"settings":{"number_of_shards":2,"number_of_replicas":1}}`)
	t.Cleanup(func() { esCall(t, "DELETE", urls[0]+"/"+index) })
	esDo(t, "GET", urls[0]+"/_cluster/health/"+index+"?wait_for_status=green&timeout=60s", "")

	const n, rate = 6000, 400 // 15 s of events
	cfg := writeFile(t, "p.hcl", fmt.Sprintf(`
pipeline {
  workers    = 2
  batch_size = 100
}
input "generator" "in" {
  count = %d
  rate  = %d
}
output "elasticsearch" "search" {
  hosts           = ["%s", "%s"]
  index           = "%s"
  document_id     = "%%{[event][sequence]}"
  resurrect_delay = 1
}`, n, rate, urls[0], urls[1], index))
	cmd, _, errb := startGostash(t, "-f", cfg, "--path.data", filepath.Join(t.TempDir(), "data"))
	if !waitFor(30*time.Second, func() bool { return esCount(t, urls[0], index) >= n/4 }) {
		t.Fatalf("not a quarter of the events indexed within 30 s\n%s", errb)
	}
	es.Kill(t, 2)
	before := esCount(t, urls[0], index)
	if before >= n {
		t.Fatalf("every event was indexed before node 2 was killed: make the run longer")
	}
	if err := waitExit(cmd, 90*time.Second); err != nil {
		t.Fatalf("gostash with node 2 down: %v\n%s", err, errb)
	}
	if c := esCount(t, urls[0], index); c != n {
		t.Fatalf("%d documents, want %d (%d before the kill)\n%s", c, n, before, errb)
	}
	var r struct {
		Hits struct {
			Hits []struct {
				ID string `json:"_id"`
			} `json:"hits"`
		} `json:"hits"`
	}
	b := esDo(t, "GET", fmt.Sprintf("%s/%s/_search?size=%d&_source=false", urls[0], index, n), "")
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, h := range r.Hits.Hits {
		ids[h.ID] = true
	}
	for i := range n {
		if !ids[fmt.Sprint(i)] {
			t.Fatalf("event %d has no document (%d distinct ids)\n%s", i, len(ids), errb)
		}
	}
	t.Logf("node 2 killed after %d of %d documents; all %d indexed once", before, n, n)
}

// TestElasticsearchDocumentsWaitingForRetryAreShown: with max_retries
// unset a cluster that refuses documents (per-item 429) holds them for
// ever, as in Logstash; while it does, /_node/stats and /metrics show how
// many wait, and once it takes them the gauges are gone.
func TestElasticsearchDocumentsWaitingForRetryAreShown(t *testing.T) {
	var refuse atomic.Bool
	refuse.Store(true)
	srv := fakees.New(func(int, []fakees.Action) fakees.Fault {
		if !refuse.Load() {
			return fakees.Fault{}
		}
		return fakees.Fault{Item: func(int, fakees.Action) int { return 429 }}
	})
	defer srv.Close()
	r := startAPIRun(t, writeFile(t, "p.hcl", fmt.Sprintf(`
input "stdin" "in" {}
output "elasticsearch" "es" {
  hosts                  = [%q]
  index                  = "waiting"
  retry_initial_interval = 1
  retry_max_interval     = 1
}
`, srv.URL)), "--path.data", filepath.Join(t.TempDir(), "data"))
	const n = 7
	if _, err := io.WriteString(r.stdin, strings.Repeat("refused for now\n", n)); err != nil {
		t.Fatal(err)
	}
	waiting := func() (stats, metric float64, found bool) {
		var doc struct {
			Pipelines map[string]struct {
				Plugins struct {
					Outputs []struct {
						ID     string
						Gauges []struct {
							Name  string
							Value float64
						}
					}
				}
			}
		}
		if err := json.Unmarshal(r.get(t, "/_node/stats/pipelines"), &doc); err != nil {
			t.Fatal(err)
		}
		for _, o := range doc.Pipelines["main"].Plugins.Outputs {
			for _, g := range o.Gauges {
				if o.ID == "es" && g.Name == "elasticsearch_documents_waiting_retry" {
					stats, found = g.Value, true
				}
			}
		}
		metric, _ = metricValue(r.metrics(t), "gostash_elasticsearch_documents_waiting_retry", map[string]string{"plugin_id": "es"})
		return stats, metric, found
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if s, m, ok := waiting(); ok && s == n && m == n {
			break
		}
		if time.Now().After(deadline) {
			s, m, _ := waiting()
			t.Fatalf("documents waiting: %v in /_node/stats, %v in /metrics, want %d\n%s", s, m, n, r.errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if srv.Taken() != 0 {
		t.Fatalf("the server took %d documents while refusing", srv.Taken())
	}
	refuse.Store(false)
	for deadline = time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, _, ok := waiting(); !ok && srv.Taken() == n {
			break
		}
		if time.Now().After(deadline) {
			s, _, _ := waiting()
			t.Fatalf("taken %d of %d, still %v waiting\n%s", srv.Taken(), n, s, r.errb.String())
		}
	}
	r.stdin.Close()
	if err := r.cmd.Wait(); err != nil {
		t.Fatalf("gostash: %v\n%s", err, r.errb.String())
	}
}
