package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk/sdktest/testenv"
)

const kafkaGroupMember = `
pipeline {
  workers    = 1
  batch_size = %d
}
input "kafka" "in" {
  bootstrap_servers     = "%s"
  topics                = ["%s"]
  group_id              = "%s"
  auto_offset_reset     = "earliest"
  session_timeout_ms    = 6000
  heartbeat_interval_ms = 1000
}
output "file" "out" {
  path   = "%s"
  codec  = "line"
  format = "%%{message}"
}
`

// The seeds' backlog: gostash processes in one consumer group share a
// 6-partition topic while records keep coming. Two start, a third joins
// mid-run, one is killed with SIGKILL; once the survivors have taken its
// partitions over, every record is in one of the output files, and what
// arrived twice is what the killed member had written but not committed.
func TestKafkaGroupScalesOutAndSurvivesAMemberKill(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	bootstrap := strings.Join(brokers, ",")
	topic, group := kafkaName("scaleout"), kafkaName("g")
	const (
		n          = 30000
		partitions = 6
		batch      = 125
		chunk      = 300 // records produced every 100 ms: 3000/s
	)
	kafkaTopic(t, brokers, topic, partitions)
	dir := t.TempDir()

	type member struct {
		name   string
		out    string
		cmd    *exec.Cmd
		errb   *bytes.Buffer
		killed bool
	}
	var members []*member
	start := func(name string) *member {
		out := filepath.Join(dir, name, "out.log")
		cfg := writeFile(t, name+".hcl", fmt.Sprintf(kafkaGroupMember, batch, bootstrap, topic, group, out))
		cmd, _, errb := startGostash(t, "-f", cfg, "--path.data", filepath.Join(dir, name, "data"))
		m := &member{name: name, out: out, cmd: cmd, errb: errb}
		members = append(members, m)
		return m
	}
	// pumpUntil produces the next records, chunk after chunk, until cond
	// holds: the members always have something to read while the group
	// changes.
	next := 0
	pumpUntil := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(40 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				var logs strings.Builder
				for _, m := range members {
					fmt.Fprintf(&logs, "--- %s (%d lines):\n%s\n", m.name, shippedLines(m.out), m.errb)
				}
				t.Fatalf("%s: not after 40 s (%d records produced)\n%s", what, next, logs.String())
			}
			if next < n {
				to := min(next+chunk, n)
				produceNumbered(t, brokers, topic, next, to)
				next = to
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	has := func(m *member, lines int) func() bool {
		return func() bool { return shippedLines(m.out) >= lines }
	}

	a, b := start("a"), start("b")
	// Both have records only once the group has shared the partitions:
	// the first to join reads them all until the second arrives.
	pumpUntil("a and b both read records", func() bool { return has(a, 1)() && has(b, 1)() })
	atTwo := next
	c := start("c")
	pumpUntil("c, joining mid-run, reads records", has(c, 1))
	atThree := next
	// a has two of the six partitions now, and is reading them.
	before := shippedLines(a.out)
	pumpUntil("a reads on after c joined", has(a, before+1))
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	a.killed = true
	a.cmd.Wait()
	atKill := next
	// The rest is produced while a's partitions wait for the session
	// timeout (6 s) to give them to b and c.
	pumpUntil("every record produced", func() bool { return next >= n })

	deadline := time.Now().Add(60 * time.Second)
	var seen []int
	for {
		seen = make([]int, n)
		for _, m := range members {
			s, torn := countShipped(t, m.out, n)
			if torn > 0 && !m.killed {
				t.Fatalf("%s wrote %d torn lines", m.name, torn)
			}
			for i, k := range s {
				seen[i] += k
			}
		}
		missing := 0
		for _, k := range seen {
			if k == 0 {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d records still missing 60 s after the last was produced\n--- b:\n%s\n--- c:\n%s", missing, n, b.errb, c.errb)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Clean stops: both survivors exit 0 and commit what they delivered.
	for _, m := range []*member{b, c} {
		if err := m.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []*member{b, c} {
		if err := waitExit(m.cmd, 30*time.Second); err != nil {
			t.Fatalf("%s: clean stop: %v\n%s", m.name, err, m.errb)
		}
	}
	offsets := kafkaCommitted(t, brokers, group, topic, partitions)
	var total int64
	for p, off := range offsets {
		total += off
		if off < 0 {
			t.Errorf("partition %d has no committed offset", p)
		}
	}
	// Against what the topic holds: the test's producer may have written
	// a record twice (a retry without idempotence), and the group must
	// commit past every record of the topic.
	if held := stored(t, brokers, topic); total != held {
		t.Errorf("committed offsets %v add up to %d, want %d, the records the topic holds (every record delivered and committed)", offsets, total, held)
	}

	dups := 0
	for _, k := range seen {
		dups += k - 1
	}
	// Only a's kill can make duplicates: the survivors gave up partitions
	// at each rebalance after their batches in flight were delivered and
	// committed. What a had written and not committed is at most what
	// its commit window lets out: the bound TestKafkaToFileSurvivesKill9 uses.
	bound := kafkaReadAgain * batch
	var counts []string
	for _, m := range members {
		counts = append(counts, fmt.Sprintf("%s=%d", m.name, shippedLines(m.out)))
	}
	t.Logf("%d records (%d produced with two members, %d when c joined, %d when a was killed); lines per member %s; %d duplicates (bound %d)",
		n, atTwo, atThree, atKill, strings.Join(counts, " "), dups, bound)
	if dups > bound {
		t.Errorf("%d duplicates, more than the bound %d", dups, bound)
	}
}

// kafkaCommitted returns the group's committed offsets of topic, by
// partition (-1 where it has none).
func kafkaCommitted(t *testing.T, brokers []string, group, topic string, partitions int32) map[int32]int64 {
	t.Helper()
	parts := make([]int32, partitions)
	for i := range parts {
		parts[i] = int32(i)
	}
	res, err := kafkaAdmin(t, brokers).ListConsumerGroupOffsets(group, map[string][]int32{topic: parts})
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	for _, p := range parts {
		out[p] = -1
		if b := res.GetBlock(topic, p); b != nil {
			out[p] = b.Offset
		}
	}
	return out
}
