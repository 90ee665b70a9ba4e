package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/gostash/gostash/sdk/sdktest/testenv"
)

// Fault tests: brokers of the dedicated kafka-faults cluster (three nodes,
// testenv.KafkaFaults) are killed or frozen under a running gostash. They
// hold the cluster one at a time (a lock in testenv.KafkaFaults) and bring
// every node back when they end, passed or failed.

// faultTopic creates a one-partition topic on the fault cluster: replicated
// to every node with min.insync.replicas 2 (replicas nil), or on the given
// nodes only.
func faultTopic(t *testing.T, brokers []string, topic string, partitions int32, replicas []int32) {
	t.Helper()
	two := "2"
	d := &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 3,
		ConfigEntries: map[string]*string{"min.insync.replicas": &two}}
	if replicas != nil {
		d = &sarama.TopicDetail{NumPartitions: -1, ReplicationFactor: -1, ReplicaAssignment: map[int32][]int32{0: replicas}}
	}
	if err := kafkaAdmin(t, brokers).CreateTopic(topic, d, false); err != nil {
		t.Fatal(err)
	}
}

// leaderOf is the node id of the partition's leader.
func leaderOf(t *testing.T, brokers []string, topic string, part int32) int {
	t.Helper()
	c, err := sarama.NewClient(brokers, sarama.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, err := c.Leader(topic, part)
		if err == nil {
			return int(b.ID())
		}
		if time.Now().After(deadline) {
			t.Fatalf("no leader for %s/%d: %v", topic, part, err)
		}
		time.Sleep(200 * time.Millisecond)
		_ = c.RefreshMetadata(topic)
	}
}

// storedNow is what stored says, or -1 while the cluster cannot tell (a
// leader just died and the client's metadata still names it).
func storedNow(brokers []string, topic string) int64 {
	c, err := sarama.NewClient(brokers, sarama.NewConfig())
	if err != nil {
		return -1
	}
	defer c.Close()
	parts, err := c.Partitions(topic)
	if err != nil {
		return -1
	}
	var n int64
	for _, p := range parts {
		off, err := c.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			return -1
		}
		n += off
	}
	return n
}

// waitNewLeader waits until no partition of the topic is led by dead and
// returns how long that took.
func waitNewLeader(t *testing.T, survivors []string, topic string, dead int) time.Duration {
	t.Helper()
	t0 := time.Now()
	for time.Since(t0) < 30*time.Second {
		c, err := sarama.NewClient(survivors, sarama.NewConfig())
		if err == nil {
			parts, err := c.Partitions(topic)
			ok := err == nil
			for _, p := range parts {
				b, err := c.Leader(topic, p)
				ok = ok && err == nil && int(b.ID()) != dead
			}
			c.Close()
			if ok {
				return time.Since(t0)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s still led by node %d after 30 s", topic, dead)
	return 0
}

// readTopic reads every record of the topic with kcat from the given
// brokers and counts each line number [0, n); other values are torn.
func readTopic(t *testing.T, brokers []string, topic string, n int) (seen []int, torn int) {
	t.Helper()
	out := testenv.Kcat(t, "", "-b", strings.Join(brokers, ","), "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%s\n")
	f := filepath.Join(t.TempDir(), "read")
	if err := os.WriteFile(f, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	return countShipped(t, f, n)
}

func tally(seen []int) (missing, dups int) {
	for _, c := range seen {
		if c == 0 {
			missing++
		} else {
			dups += c - 1
		}
	}
	return missing, dups
}

// warnings counts the lines of gostash's log that contain every one of words.
func warnings(log string, words ...string) int {
	n := 0
	for _, line := range strings.Split(log, "\n") {
		ok := line != ""
		for _, w := range words {
			ok = ok && strings.Contains(line, w)
		}
		if ok {
			n++
		}
	}
	return n
}

func waitOrFail(t *testing.T, within time.Duration, what string, errb *bytes.Buffer, cond func() bool) {
	t.Helper()
	if !waitFor(within, cond) {
		t.Fatalf("%s: not within %v\n%s", what, within, errb)
	}
}

const fileToKafka = `
pipeline {
  workers    = 2
  batch_size = %d
}
input "file" "in" {
  path           = ["%s"]
  start_position = "beginning"
}
output "kafka" "out" {
  bootstrap_servers = "%s"
  topic_id          = "%s"
  acks              = "all"
  format            = "%%{message}"
}
`

// acks "all" on a topic replicated 3 times with min.insync.replicas 2: the
// partition's leader is killed mid-run. Every line is in the topic (read
// back from the two survivors); a record sent again after the kill may be
// there twice, no more than what was in flight.
func TestKafkaOutputLeaderKilled(t *testing.T) {
	c := testenv.KafkaFaults(t)
	brokers := c.Brokers()
	topic := kafkaName("out-failover")
	const (
		n     = 60000
		batch = 250
	)
	faultTopic(t, brokers, topic, 1, nil)
	leader := leaderOf(t, brokers, topic, 0)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.log")
	numberedLines(t, in, 0, n)
	cfg := writeFile(t, "p.hcl", fmt.Sprintf(fileToKafka, batch, in, c.Bootstrap, topic))
	cmd, _, errb := startGostash(t, "-f", cfg, "--path.data", filepath.Join(dir, "data"))

	waitOrFail(t, 30*time.Second, "a third of the lines in the topic", errb, func() bool { return stored(t, brokers, topic) >= n/3 })
	atKill := stored(t, brokers, topic)
	t0 := time.Now()
	c.Kill(t, leader)
	survivors := c.Others(leader)
	election := waitNewLeader(t, survivors, topic, leader)
	waitOrFail(t, 45*time.Second, "every line in the topic", errb, func() bool { return storedNow(survivors, topic) >= n })
	resumed := time.Since(t0)
	var seen []int
	waitOrFail(t, 15*time.Second, "every line read back", errb, func() bool {
		seen, _ = readTopic(t, survivors, topic, n)
		m, _ := tally(seen)
		return m == 0
	})
	cmd.Process.Signal(syscall.SIGTERM)
	if err := waitExit(cmd, 30*time.Second); err != nil {
		t.Fatalf("stop: %v\n%s", err, errb)
	}
	seen, torn := readTopic(t, survivors, topic, n)
	missing, dups := tally(seen)
	newLeader := leaderOf(t, survivors, topic, 0)
	warns := warnings(errb.String(), "WARN")
	// What can be sent twice: the batches in flight when the leader died
	// (2 workers, each one batch at the output) and the pipeline's
	// credits behind them.
	bound := 6 * batch
	t.Logf("%d lines; leader %d killed with %d stored; new leader %d after %v; every line stored %v after the kill; %d duplicates (bound %d), %d torn, %d warnings logged",
		n, leader, atKill, newLeader, election.Round(time.Millisecond), resumed.Round(time.Millisecond), dups, bound, torn, warns)
	if missing > 0 || torn > 0 {
		t.Fatalf("%d lines missing, %d torn", missing, torn)
	}
	if dups > bound {
		t.Errorf("%d duplicates, more than the bound %d", dups, bound)
	}
	if newLeader == leader {
		t.Errorf("leader is still node %d", leader)
	}
}

// The kafka input reads a topic replicated 3 times while the leader of
// one of its partitions is killed: it follows the new leader, and every
// record arrives.
func TestKafkaInputLeaderKilled(t *testing.T) {
	c := testenv.KafkaFaults(t)
	brokers := c.Brokers()
	topic, group := kafkaName("in-failover"), kafkaName("g")
	const (
		n     = 150000
		batch = 125
	)
	faultTopic(t, brokers, topic, 3, nil)
	produceNumbered(t, brokers, topic, 0, n/2)
	leader := leaderOf(t, brokers, topic, 0)
	dir := t.TempDir()
	out := filepath.Join(dir, "out.log")
	cfg := writeFile(t, "p.hcl", fmt.Sprintf(kafkaToFile, batch, c.Bootstrap, topic, group, out))
	cmd, _, errb := startGostash(t, "-f", cfg, "--path.data", filepath.Join(dir, "data"))

	waitOrFail(t, 30*time.Second, "a third of the records shipped", errb, func() bool { return shippedLines(out) >= n/3 })
	atKill := shippedLines(out)
	t0 := time.Now()
	c.Kill(t, leader)
	// The second half is written after the leader change: the input must
	// fetch it from the new leaders.
	survivors := c.Others(leader)
	election := waitNewLeader(t, survivors, topic, leader)
	produceNumbered(t, survivors, topic, n/2, n)
	waitOrFail(t, 45*time.Second, "every record shipped", errb, func() bool {
		seen, _ := countShipped(t, out, n)
		m, _ := tally(seen)
		return m == 0
	})
	took := time.Since(t0)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := waitExit(cmd, 30*time.Second); err != nil {
		t.Fatalf("stop: %v\n%s", err, errb)
	}
	seen, torn := countShipped(t, out, n)
	missing, dups := tally(seen)
	// Read again: what was published and not committed when the leader
	// or group coordinator moved, at most the input's commit window.
	bound := kafkaReadAgain * batch
	t.Logf("%d records (half written after the kill); leader %d of partition 0 killed after %d shipped; new leaders after %v; all shipped %v after the kill; %d duplicates (bound %d), %d torn, %d warnings logged",
		n, leader, atKill, election.Round(time.Millisecond), took.Round(time.Millisecond), dups, bound, torn, warnings(errb.String(), "WARN"))
	if missing > 0 || torn > 0 {
		t.Fatalf("%d records missing, %d torn\n%s", missing, torn, errb)
	}
	if dups > bound {
		t.Errorf("%d duplicates, more than the bound %d", dups, bound)
	}
}

// The single-broker case: a topic with one replica, on one node, which is
// killed for 10 s while gostash writes to it (file → kafka) and another
// gostash reads it (kafka → file). Both log the outage a bounded number of
// times (per backoff, not per record), carry on when the broker is back,
// and lose nothing.
func TestKafkaBrokerDown10s(t *testing.T) {
	c := testenv.KafkaFaults(t)
	brokers := c.Brokers()
	topic, group := kafkaName("down10s"), kafkaName("g")
	const (
		n     = 40000
		batch = 250
		node  = 3
	)
	faultTopic(t, brokers, topic, 1, []int32{node})
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.log"), filepath.Join(dir, "out.log")
	numberedLines(t, in, 0, n/2)
	outCfg := writeFile(t, "out.hcl", fmt.Sprintf(fileToKafka, batch, in, c.Bootstrap, topic))
	inCfg := writeFile(t, "in.hcl", fmt.Sprintf(kafkaToFile, batch, c.Bootstrap, topic, group, out))
	producer, _, perr := startGostash(t, "-f", outCfg, "--path.data", filepath.Join(dir, "data-out"))
	consumer, _, cerr := startGostash(t, "-f", inCfg, "--path.data", filepath.Join(dir, "data-in"))

	waitOrFail(t, 30*time.Second, "the first half written", perr, func() bool { return stored(t, brokers, topic) >= n/2 })
	waitOrFail(t, 30*time.Second, "the first half read", cerr, func() bool { return shippedLines(out) >= n/2 })
	pBefore, cBefore := len(perr.String()), len(cerr.String())
	c.Kill(t, node)
	t0 := time.Now()
	numberedLines(t, in, n/2, n) // the second half meets a dead broker
	time.Sleep(10 * time.Second)
	pDown, cDown := perr.String()[pBefore:], cerr.String()[cBefore:]
	c.Start(t, node)
	back := time.Since(t0)

	waitOrFail(t, 45*time.Second, "every line written", perr, func() bool { return stored(t, brokers, topic) >= n })
	waitOrFail(t, 45*time.Second, "every record read", cerr, func() bool {
		seen, _ := countShipped(t, out, n)
		m, _ := tally(seen)
		return m == 0
	})
	recovered := time.Since(t0)
	producer.Process.Signal(syscall.SIGTERM)
	consumer.Process.Signal(syscall.SIGTERM)
	if err := waitExit(producer, 30*time.Second); err != nil {
		t.Fatalf("stop writer: %v\n%s", err, perr)
	}
	if err := waitExit(consumer, 30*time.Second); err != nil {
		t.Fatalf("stop reader: %v\n%s", err, cerr)
	}
	wSeen, wTorn := readTopic(t, brokers, topic, n)
	wMissing, wDups := tally(wSeen)
	rSeen, rTorn := countShipped(t, out, n)
	rMissing, rDups := tally(rSeen)
	pWarn, cWarn := warnings(pDown, "WARN"), warnings(cDown, "WARN")
	t.Logf("node %d down %v (10 s dead, then restarted); all through %v after the kill", node, back.Round(time.Millisecond), recovered.Round(time.Millisecond))
	t.Logf("writer: %d duplicates, %d torn, %d warnings while down", wDups, wTorn, pWarn)
	t.Logf("reader: %d duplicates, %d torn, %d warnings while down", rDups, rTorn, cWarn)
	if testing.Verbose() {
		t.Logf("writer's log while down:\n%s\nreader's log while down:\n%s", pDown, cDown)
	}
	if wMissing > 0 || wTorn > 0 || rMissing > 0 || rTorn > 0 {
		t.Fatalf("writer: %d missing, %d torn; reader: %d missing, %d torn", wMissing, wTorn, rMissing, rTorn)
	}
	if pWarn == 0 || cWarn == 0 {
		t.Errorf("the outage was not logged: writer %d warnings, reader %d", pWarn, cWarn)
	}
	// Once per backoff: a doubling backoff over 10 s is a handful of
	// tries; per record it would be thousands.
	for name, w := range map[string]int{"writer": pWarn, "reader": cWarn} {
		if w > 25 {
			t.Errorf("the %s logged %d warnings in 10 s: not once per backoff", name, w)
		}
	}
	if wDups > 6*batch || rDups > kafkaReadAgain*batch {
		t.Errorf("duplicates: writer %d (bound %d), reader %d (bound %d)", wDups, 6*batch, rDups, kafkaReadAgain*batch)
	}
}
