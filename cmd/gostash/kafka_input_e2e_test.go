package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk/sdktest/testenv"
)

// kcatRecord is one record as `kcat -C -J` prints it.
type kcatRecord struct {
	Topic     string   `json:"topic"`
	Partition int32    `json:"partition"`
	Offset    int64    `json:"offset"`
	TS        int64    `json:"ts"`
	Headers   []string `json:"headers"`
	Key       *string  `json:"key"`
	Payload   string   `json:"payload"`
}

func kcatRecords(t *testing.T, bootstrap, topic string) []kcatRecord {
	t.Helper()
	out := testenv.Kcat(t, "", "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-J")
	var recs []kcatRecord
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r kcatRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("kcat -J printed %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	return recs
}

// waitFor polls cond every 50 ms until it holds or within passes.
func waitFor(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// kafkaDecoratedToJSON reads a topic with decorate_events = "extended" and
// writes each event with its [@metadata][kafka] copied to a visible
// [kafka] field, as JSON lines (bootstrap, topic, group, path).
const kafkaDecoratedToJSON = `
input "kafka" "in" {
  bootstrap_servers = "%s"
  topics            = ["%s"]
  group_id          = "%s"
  auto_offset_reset = "earliest"
  decorate_events   = "extended"
}
filter "expr" "show" {
  set = { "[kafka]" = "metadata.kafka" }
}
output "file" "out" {
  path  = "%s"
  codec = "json_lines"
}
`

// parseRubyDebug reads the events the stdout output's rubydebug codec
// printed: `"key" => value` lines, hashes between { and }. Strings are
// unquoted; other values (numbers, nil, timestamps) are kept as printed.
func parseRubyDebug(t *testing.T, out string) []map[string]any {
	t.Helper()
	lines := strings.Split(out, "\n")
	var events []map[string]any
	for i := 0; i < len(lines); {
		if lines[i] != "{" {
			i++
			continue
		}
		var e map[string]any
		e, i = parseRubyHash(t, lines, i+1)
		events = append(events, e)
	}
	return events
}

func parseRubyHash(t *testing.T, lines []string, i int) (map[string]any, int) {
	t.Helper()
	m := map[string]any{}
	for ; i < len(lines); i++ {
		l := strings.TrimSuffix(strings.TrimSpace(lines[i]), ",")
		if l == "}" {
			return m, i + 1
		}
		k, v, ok := strings.Cut(l, " => ")
		key, err := strconv.Unquote(k)
		if !ok || err != nil {
			t.Fatalf("rubydebug line %d is not `\"key\" => value`: %q", i, lines[i])
		}
		switch v {
		case "{":
			var sub map[string]any
			sub, i = parseRubyHash(t, lines, i+1)
			m[key] = sub
			i--
		case "{}":
			m[key] = map[string]any{}
		default:
			if s, err := strconv.Unquote(v); err == nil {
				m[key] = s
			} else {
				m[key] = v
			}
		}
	}
	t.Fatalf("rubydebug hash not closed")
	return nil, 0
}

// The seeds' second job: a topic whose records have keys and headers,
// read by three consumer threads of one group with decorate_events =
// "extended", printed by the stdout output with its @metadata: each record's
// coordinates under Logstash's names, checked against what kcat reads.
func TestKafkaDecorateEventsExtendedToStdout(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	bootstrap := strings.Join(brokers, ",")
	topic, group := kafkaName("decorate"), kafkaName("g")
	kafkaTopic(t, brokers, topic, 3)
	for p := range 3 {
		testenv.Kcat(t, fmt.Sprintf("key-%d-a:hello from %d\nkey-%d-b:bye from %d\n", p, p, p, p),
			"-b", bootstrap, "-P", "-t", topic, "-p", strconv.Itoa(p), "-K:",
			"-H", "src=kcat", "-H", "bin=\xff\xfe", "-H", "dup=first", "-H", "dup=last")
	}
	// A record without a key: Logstash's key is then nil.
	testenv.Kcat(t, "no key\n", "-b", bootstrap, "-P", "-t", topic, "-p", "0")
	recs := kcatRecords(t, bootstrap, topic)
	if len(recs) != 7 {
		t.Fatalf("kcat reads %d records back, want 7", len(recs))
	}
	cfg := writeFile(t, "p.hcl", fmt.Sprintf(`
input "kafka" "in" {
  bootstrap_servers = "%s"
  topics            = ["%s"]
  group_id          = "%s"
  consumer_threads  = 3
  auto_offset_reset = "earliest"
  decorate_events   = "extended"
}
output "stdout" "out" {
  metadata = true
}
`, bootstrap, topic, group))
	cmd, out, errb := startGostash(t, "-f", cfg)
	if !waitFor(30*time.Second, func() bool { return strings.Count(out.String(), `"message" =>`) >= len(recs) }) {
		t.Fatalf("stdout after 30 s:\n%s\nstderr:\n%s", out, errb)
	}
	cmd.Process.Signal(syscall.SIGINT)
	if err := waitExit(cmd, 15*time.Second); err != nil {
		t.Fatalf("stop: %v\n%s", err, errb)
	}
	// Three members, one partition each.
	for i := range 3 {
		if !strings.Contains(errb.String(), fmt.Sprintf("member=%d", i)) {
			t.Errorf("no consumer thread %d in the log:\n%s", i, errb)
		}
	}

	events := parseRubyDebug(t, out.String())
	if len(events) != len(recs) {
		t.Fatalf("%d events printed, want %d:\n%s", len(events), len(recs), out)
	}
	byCoord := map[string]map[string]any{}
	for _, e := range events {
		md, _ := e["@metadata"].(map[string]any)
		k, _ := md["kafka"].(map[string]any)
		if k == nil {
			t.Fatalf("event without [@metadata][kafka]: %v", e)
		}
		k["message"] = e["message"]
		byCoord[fmt.Sprint(k["partition"], "/", k["offset"])] = k
	}
	for _, r := range recs {
		coord := fmt.Sprint(r.Partition, "/", r.Offset)
		k := byCoord[coord]
		if k == nil {
			t.Errorf("record %s (%q) was not printed", coord, r.Payload)
			continue
		}
		want := map[string]any{
			"message":        r.Payload,
			"topic":          topic,
			"partition":      strconv.Itoa(int(r.Partition)),
			"offset":         strconv.FormatInt(r.Offset, 10),
			"key":            "nil",
			"timestamp":      strconv.FormatInt(r.TS, 10),
			"consumer_group": group,
		}
		if r.Key != nil {
			want["key"] = *r.Key
			// bin's value is not UTF-8: left out, as Logstash does; a
			// repeated header keeps its last value.
			want["headers"] = map[string]any{"src": "kcat", "dup": "last"}
		}
		if fmt.Sprint(k) != fmt.Sprint(want) {
			t.Errorf("record %s printed with\n  %v\nwant\n  %v", coord, k, want)
		}
	}
	if t.Failed() {
		t.Logf("stdout:\n%s", out)
	}
}

// Every compression kcat (librdkafka) writes is read: none, gzip, snappy,
// lz4 and zstd batches, with keys and headers, arrive in a file once each.
func TestKafkaInputReadsEveryCompression(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	bootstrap := strings.Join(brokers, ",")
	topic, group := kafkaName("codecs"), kafkaName("g")
	codecs := []string{"none", "gzip", "snappy", "lz4", "zstd"}
	const per = 200
	kafkaTopic(t, brokers, topic, 1)
	for _, c := range codecs {
		var in strings.Builder
		for i := range per {
			fmt.Fprintf(&in, "%s-%d:%s record %d %s\n", c, i, c, i, strings.Repeat("compressible ", 8))
		}
		testenv.Kcat(t, in.String(), "-b", bootstrap, "-P", "-t", topic, "-z", c, "-K:", "-H", "codec="+c, "-H", "src=kcat")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "out.jsonl")
	cfg := writeFile(t, "p.hcl", fmt.Sprintf(kafkaDecoratedToJSON, bootstrap, topic, group, out))
	cmd, _, errb := startGostash(t, "-f", cfg, "--path.data", filepath.Join(dir, "data"))
	n := len(codecs) * per
	if !waitFor(30*time.Second, func() bool { return shippedLines(out) >= n }) {
		t.Fatalf("%d of %d records after 30 s:\n%s", shippedLines(out), n, errb)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := waitExit(cmd, 15*time.Second); err != nil {
		t.Fatalf("stop: %v\n%s", err, errb)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range jsonEvents(t, string(data)) {
		k, _ := e["kafka"].(map[string]any)
		hs, _ := k["headers"].(map[string]any)
		c, _ := hs["codec"].(string)
		var i int
		if _, err := fmt.Sscanf(fmt.Sprint(e["message"]), c+" record %d", &i); err != nil ||
			e["message"] != fmt.Sprintf("%s record %d %s", c, i, strings.Repeat("compressible ", 8)) ||
			k["key"] != fmt.Sprintf("%s-%d", c, i) || hs["src"] != "kcat" {
			t.Fatalf("event %v", e)
		}
		seen[fmt.Sprintf("%s-%d", c, i)]++
	}
	for _, c := range codecs {
		for i := range per {
			if got := seen[fmt.Sprintf("%s-%d", c, i)]; got != 1 {
				t.Fatalf("%s record %d arrived %d times", c, i, got)
			}
		}
	}
	// kcat really wrote them compressed: the broker stores what it got.
	dump := testenv.DumpLogSegments(t, topic, 0)
	var stored []string
	for _, c := range codecs {
		if strings.Contains(dump, "compresscodec: "+c) {
			stored = append(stored, c)
		}
	}
	sort.Strings(stored)
	if len(stored) != len(codecs) {
		t.Fatalf("the topic's batches use %v, want all of %v:\n%.3000s", stored, codecs, dump)
	}
}

// Records that are not UTF-8 are not lost: the value and the key get
// U+FFFD for the bytes that are not (as Logstash's plain codec and Kafka's
// StringDeserializer), and a header whose value is not UTF-8 is left out
// (as Logstash), the others kept.
func TestKafkaInputNonUTF8(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	bootstrap := strings.Join(brokers, ",")
	topic, group := kafkaName("utf8"), kafkaName("g")
	kafkaTopic(t, brokers, topic, 1)
	testenv.Kcat(t, "\xff\xfekey:bad \xff value\nok-key:good \xc3\xa9 value\n",
		"-b", bootstrap, "-P", "-t", topic, "-K:", "-H", "src=kcat", "-H", "bin=\xff\xfe", "-H", "\xffname=x")
	dir := t.TempDir()
	out := filepath.Join(dir, "out.jsonl")
	cfg := writeFile(t, "p.hcl", fmt.Sprintf(kafkaDecoratedToJSON, bootstrap, topic, group, out))
	cmd, _, errb := startGostash(t, "-f", cfg, "--path.data", filepath.Join(dir, "data"))
	if !waitFor(30*time.Second, func() bool { return shippedLines(out) >= 2 }) {
		t.Fatalf("%d of 2 records after 30 s:\n%s", shippedLines(out), errb)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := waitExit(cmd, 15*time.Second); err != nil {
		t.Fatalf("stop: %v\n%s", err, errb)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	events := jsonEvents(t, string(data))
	if len(events) != 2 {
		t.Fatalf("%d events, want 2:\n%s", len(events), data)
	}
	for i, want := range []struct{ message, key string }{
		{"bad \uFFFD value", "\uFFFD\uFFFDkey"},
		{"good é value", "ok-key"},
	} {
		e := events[i]
		k, _ := e["kafka"].(map[string]any)
		if e["message"] != want.message || k["key"] != want.key {
			t.Errorf("event %d: message %q key %q, want %q and %q", i, e["message"], k["key"], want.message, want.key)
		}
		// bin's value is not UTF-8: left out. A name that is not UTF-8 is
		// decoded as Kafka's Java client decodes it, with U+FFFD.
		if hs, want := fmt.Sprint(k["headers"]), "map[src:kcat \uFFFDname:x]"; hs != want {
			t.Errorf("event %d: headers %q, want %q", i, hs, want)
		}
	}
}

// An address nothing listens on: gostash says which, keeps trying with
// backoff, and Ctrl-C still stops it at once, with exit 0.
func TestKafkaInputUnreachableRetriesAndStopsOnCtrlC(t *testing.T) {
	cfg := writeFile(t, "p.hcl", `
input "kafka" "in" {
  bootstrap_servers = "127.0.0.1:1"
  topics            = ["nowhere"]
  group_id          = "nobody"
}
output "stdout" "out" {}
`)
	cmd, _, errb := startGostash(t, "-f", cfg)
	// The first attempt, and a second one a backoff later.
	if !waitFor(20*time.Second, func() bool { return strings.Count(errb.String(), "cannot reach Kafka") >= 2 }) {
		t.Fatalf("no two attempts logged after 20 s:\n%s", errb)
	}
	if !strings.Contains(errb.String(), "bootstrap_servers=[127.0.0.1:1]") {
		t.Errorf("the log does not name the address:\n%s", errb)
	}
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	if err := waitExit(cmd, 10*time.Second); err != nil {
		t.Fatalf("Ctrl-C: %v\n%s", err, errb)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Ctrl-C took %v to stop gostash", took)
	} else {
		t.Logf("stopped %v after Ctrl-C", took.Round(time.Millisecond))
	}
}

// The seeds' configurations still say zk_connect: configtest says what
// replaced it, without connecting anywhere.
func TestKafkaZkConnectConfigTest(t *testing.T) {
	cfg := writeFile(t, "old.hcl", `
input "kafka" "in" {
  zk_connect = "zk1:2181,zk2:2181"
  topics     = ["logs"]
}
output "stdout" "out" {}
`)
	stdout, stderr, code := gostash(t, "", "-t", "-f", cfg)
	if code != 1 {
		t.Fatalf("configtest: exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"old.hcl:3", "zk_connect", "bootstrap_servers"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the message lacks %q:\n%s", want, stderr)
		}
	}
}
