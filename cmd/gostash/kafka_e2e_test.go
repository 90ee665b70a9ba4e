package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/gostash/gostash/sdk/sdktest/testenv"
)

// These tests run the real binary against the real broker that `make
// testenv-up` starts, and read what gostash wrote with kcat, another client.

func kafkaName(prefix string) string { return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()) }

func kafkaAdmin(t testing.TB, brokers []string) sarama.ClusterAdmin {
	t.Helper()
	admin, err := sarama.NewClusterAdmin(brokers, sarama.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	return admin
}

func kafkaTopic(t testing.TB, brokers []string, topic string, partitions int32) {
	t.Helper()
	if err := kafkaAdmin(t, brokers).CreateTopic(topic, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 1}, false); err != nil {
		t.Fatal(err)
	}
}

// stored is how many records the topic holds (the sum of its partitions'
// high watermarks).
func stored(t testing.TB, brokers []string, topic string) int64 {
	t.Helper()
	c, err := sarama.NewClient(brokers, sarama.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	parts, err := c.Partitions(topic)
	if err != nil {
		return 0
	}
	var n int64
	for _, p := range parts {
		// A new topic's leader may not answer for it yet (NotLeader):
		// new metadata and a few tries, not a failed test.
		off, err := c.GetOffset(topic, p, sarama.OffsetNewest)
		for try := 0; err != nil && try < 20; try++ {
			time.Sleep(100 * time.Millisecond)
			_ = c.RefreshMetadata(topic)
			off, err = c.GetOffset(topic, p, sarama.OffsetNewest)
		}
		if err != nil {
			t.Fatal(err)
		}
		n += off
	}
	return n
}

// The seeds' first job: syslog lines from a file into a topic, snappy.
func TestSyslogFileToKafkaSnappy(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	bootstrap := strings.Join(brokers, ",")
	topic := kafkaName("syslog")
	const n = 5000
	dir := t.TempDir()
	in := filepath.Join(dir, "messages")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := range n {
		fmt.Fprintf(w, "Dec  4 20:%02d:%02d web-1 sshd[%d]: Accepted publickey for deploy from 10.0.0.%d port %d ssh2 #%d\n", i/60%60, i%60, 1000+i, i%250, 40000+i, i)
	}
	w.Flush()
	f.Close()
	cfg := writeFile(t, "p.hcl", fmt.Sprintf(`
input "file" "messages" {
  path           = ["%s"]
  start_position = "beginning"
  type           = "system-message"
}
output "kafka" "cluster" {
  bootstrap_servers = "%s"
  topic_id          = "%s"
  compression_type  = "snappy"
  codec             = "plain"
  format            = "%%{message}"
}`, in, bootstrap, topic))
	cmd, _, errb := startGostash(t, "-f", cfg, "--path.data", filepath.Join(dir, "data"))
	deadline := time.Now().Add(60 * time.Second)
	for stored(t, brokers, topic) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the topic holds %d of %d records after 60 s:\n%s", stored(t, brokers, topic), n, errb)
		}
		time.Sleep(100 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := waitExit(cmd, 30*time.Second); err != nil {
		t.Fatalf("stop: %v\n%s", err, errb)
	}
	out := testenv.Kcat(t, "", "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%s\n")
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(got) != n {
		t.Fatalf("kcat read %d records, want %d", len(got), n)
	}
	sort.Slice(got, func(i, j int) bool { return suffixNumber(got[i]) < suffixNumber(got[j]) })
	for i, line := range got {
		if !strings.HasSuffix(line, fmt.Sprintf(" ssh2 #%d", i)) || !strings.Contains(line, "sshd[") {
			t.Fatalf("record %d is %q", i, line)
		}
	}
	dump := testenv.DumpLogSegments(t, topic, 0)
	if !strings.Contains(dump, "compresscodec: snappy") || strings.Contains(dump, "compresscodec: none") {
		t.Fatalf("the stored batches are not all snappy:\n%.2000s", dump)
	}
}

func suffixNumber(s string) int {
	var n int
	fmt.Sscanf(s[strings.LastIndexByte(s, '#')+1:], "%d", &n)
	return n
}

// produceNumbered writes records "n=<i> ..." for i in [from, to), spread
// over the topic's partitions.
func produceNumbered(t *testing.T, brokers []string, topic string, from, to int) {
	t.Helper()
	cfg := sarama.NewConfig()
	cfg.Producer.Return.Successes = true
	cfg.Producer.Partitioner = sarama.NewRoundRobinPartitioner
	cfg.Producer.Compression = sarama.CompressionSnappy
	p, err := sarama.NewSyncProducer(brokers, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var msgs []*sarama.ProducerMessage
	for i := from; i < to; i++ {
		msgs = append(msgs, &sarama.ProducerMessage{Topic: topic,
			Value: sarama.StringEncoder(fmt.Sprintf("n=%d GET /some/path/of/a/typical/length?q=%d HTTP/1.1 200 1234", i, i))})
		if len(msgs) == 1000 || i == to-1 {
			if err := p.SendMessages(msgs); err != nil {
				t.Fatal(err)
			}
			msgs = msgs[:0]
		}
	}
}

// kafkaReadAgain is the most batches the kafka input may publish and not
// commit with workers = 1 (kafkaToFile's): the pipeline's credits (2 ×
// workers + 2) and the input's commit window of 64 more, in the pipeline
// or delivered and waiting for their commit (plugins/inputs/kafka's
// README, Delivery). A kill, or a broker or leader lost, reads at most
// that again.
const kafkaReadAgain = 2*1 + 2 + 64

const kafkaToFile = `
pipeline {
  workers    = 1
  batch_size = %d
}
input "kafka" "in" {
  bootstrap_servers       = "%s"
  topics                  = ["%s"]
  group_id                = "%s"
  auto_offset_reset       = "earliest"
}
output "file" "out" {
  path   = "%s"
  codec  = "line"
  format = "%%{message}"
}
`

// At-least-once through crashes: gostash reads a topic into a file while
// it is killed with SIGKILL four times. Every record arrives; what arrives
// twice is bounded by what was in flight; after a clean stop a restart
// reads nothing again.
func TestKafkaToFileSurvivesKill9(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic, group := kafkaName("kill9"), kafkaName("g")
	const (
		batch = 125
		kills = 4
		// What a kill may read again, however slow commits get.
		window = kafkaReadAgain * batch
		// Each run ships twice the window before it dies (below), and
		// the last one has some left to read.
		n = (kills + 1) * 2 * window
	)
	kafkaTopic(t, brokers, topic, 3)
	produceNumbered(t, brokers, topic, 0, n)
	dir := t.TempDir()
	out := filepath.Join(dir, "out.log")
	cfg := writeFile(t, "p.hcl", fmt.Sprintf(kafkaToFile, batch, strings.Join(brokers, ","), topic, group, out))
	args := []string{"-f", cfg, "--path.data", filepath.Join(dir, "data")}

	var progress []int
	for k := 0; k < kills; k++ {
		cmd, _, errb := startGostash(t, args...)
		before := shippedLines(out)
		deadline := time.Now().Add(30 * time.Second)
		// Each run ships twice the window before it dies, so a commit that
		// lagged further behind than the window would show.
		for shippedLines(out) < before+2*window && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if shippedLines(out) == before {
			t.Fatalf("run %d shipped nothing:\n%s", k, errb)
		}
		progress = append(progress, shippedLines(out))
	}
	cmd, _, errb := startGostash(t, args...)
	waitAllShipped(t, out, n, 60*time.Second, errb)
	// The members the kills left behind leave the group only when their
	// sessions expire, and each departure is a rebalance: a stop during
	// one has its last commit refused by the coordinator (a stale
	// generation), and the records of it are read again, as Kafka's own
	// consumers do. The clean stop below is checked on a settled group.
	waitGroupSettled(t, brokers, group, 60*time.Second)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := waitExit(cmd, 30*time.Second); err != nil {
		t.Fatalf("clean stop: %v\n%s", err, errb)
	}
	stopLog := errb.String()
	seen, torn := countShipped(t, out, n)
	dups := 0
	for _, c := range seen {
		dups += c - 1
	}
	// Read again after a kill: at most the window. A 5 s commit timer, as
	// Logstash's, would re-read every record of these short runs: twice
	// the bound.
	bound := kills * window
	t.Logf("%d records, %d kills (lines after each: %v): %d duplicates (bound %d), %d torn", n, kills, progress, dups, bound, torn)
	if dups > bound {
		t.Errorf("%d duplicates, more than the bound %d", dups, bound)
	}
	if torn > kills {
		t.Errorf("%d torn lines for %d kills", torn, kills)
	}

	// Committed on the clean stop: a restart reads nothing again.
	size := shippedLines(out)
	cmd, _, errb = startGostash(t, args...)
	time.Sleep(3 * time.Second)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := waitExit(cmd, 30*time.Second); err != nil {
		t.Fatalf("stop: %v\n%s", err, errb)
	}
	if after := shippedLines(out); after != size {
		t.Errorf("a run after a clean stop shipped %d records again:\n%s\nthe clean stop's run:\n%s", after-size, errb, stopLog)
	}
}

// waitGroupSettled waits until group is stable with one member: the
// members of killed processes have left, and no rebalance is under way.
func waitGroupSettled(t *testing.T, brokers []string, group string, within time.Duration) {
	t.Helper()
	admin := kafkaAdmin(t, brokers)
	deadline := time.Now().Add(within)
	for {
		gs, err := admin.DescribeConsumerGroups([]string{group})
		if err == nil && len(gs) == 1 && gs[0].State == "Stable" && len(gs[0].Members) == 1 {
			return
		}
		if time.Now().After(deadline) {
			state := fmt.Sprint(err)
			if err == nil && len(gs) == 1 {
				state = fmt.Sprintf("%s with %d members", gs[0].State, len(gs[0].Members))
			}
			t.Fatalf("group %s not settled after %v: %s", group, within, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Ctrl-C on an input that has read everything ends at once: it does not
// wait out the fetch the broker holds open for new records
// (fetch_max_wait_ms, here 20 s), it commits what was delivered, and it
// says nothing alarming on the way out.
func TestKafkaInputStopsWithoutWaitingOutAFetch(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic, group := kafkaName("stop"), kafkaName("g")
	const n = 600
	kafkaTopic(t, brokers, topic, 3)
	produceNumbered(t, brokers, topic, 0, n)
	dir := t.TempDir()
	out := filepath.Join(dir, "out.log")
	cfg := writeFile(t, "p.hcl", fmt.Sprintf(`
input "kafka" "in" {
  bootstrap_servers = "%s"
  topics            = ["%s"]
  group_id          = "%s"
  auto_offset_reset = "earliest"
  fetch_max_wait_ms = 20000
}
output "file" "out" {
  path   = "%s"
  codec  = "line"
  format = "%%{message}"
}
`, strings.Join(brokers, ","), topic, group, out))
	cmd, _, errb := startGostash(t, "-f", cfg, "--path.data", filepath.Join(dir, "data"))
	waitAllShipped(t, out, n, 60*time.Second, errb)
	committed := func() int64 {
		var sum int64
		for _, off := range kafkaCommitted(t, brokers, group, topic, 3) {
			sum += max(off, 0)
		}
		return sum
	}
	for deadline := time.Now().Add(10 * time.Second); committed() < n; {
		if time.Now().After(deadline) {
			t.Fatalf("the group committed %d of %d records:\n%s", committed(), n, errb)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Caught up: each partition's fetch now waits at the broker.
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	if err := waitExit(cmd, 30*time.Second); err != nil {
		t.Fatalf("stop: %v\n%s", err, errb)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the stop took %v: it waited for the broker's fetch", took.Round(time.Millisecond))
	}
	if got := committed(); got != n {
		t.Errorf("after the stop the group has %d of %d records committed", got, n)
	}
	for _, line := range strings.Split(errb.String(), "\n") {
		if strings.Contains(line, "WARN") || strings.Contains(line, "ERROR") {
			t.Errorf("the stop logged: %s", line)
		}
	}
}
