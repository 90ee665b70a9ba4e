package testenv

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// FaultCluster is the three-broker Kafka cluster that only fault tests use
// (service kafka-faults of testenv.sh): they kill, freeze and restart its
// brokers, which on the shared cluster would break every other test.
type FaultCluster struct {
	Name      string         // "kafka-faults"
	Bootstrap string         // "127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3"
	Nodes     map[int]string // node.id (1..3, as the brokers' ids) → "127.0.0.1:PORT"
	script    string
}

const faultCluster = "kafka-faults"

// KafkaFaults returns the fault tests' cluster with every node running and
// answering (a node left killed or frozen by an earlier test that died is
// brought back first), and holds it for this test alone: fault tests of
// other packages or checkouts wait. When the test ends, every node it
// killed or froze is brought back (t.Cleanup), whether it passed or not.
func KafkaFaults(t testing.TB) *FaultCluster {
	t.Helper()
	env := Get(t)
	if env == nil {
		return nil
	}
	if env.Vars["KAFKA_FAULTS_BOOTSTRAP"] == "" {
		unavailable(t, "the fault tests' Kafka cluster is not up (no KAFKA_FAULTS_BOOTSTRAP in %s; start it with `make testenv-up TESTENV=kafka-faults`)", env.Path)
		return nil
	}
	c := &FaultCluster{Name: faultCluster, Bootstrap: env.Vars["KAFKA_FAULTS_BOOTSTRAP"], Nodes: map[int]string{}, script: script()}
	for k, v := range env.Vars {
		if id, ok := strings.CutPrefix(k, "KAFKA_FAULTS_NODE_"); ok {
			n, err := strconv.Atoi(id)
			if err != nil {
				t.Fatalf("%s: %s is not KAFKA_FAULTS_NODE_<id>", env.Path, k)
			}
			c.Nodes[n] = v
		}
	}
	if data := env.Vars["KAFKA_FAULTS_DATA"]; data != "" {
		lockFile(t, filepath.Join(data, "test.lock"))
	}
	c.restoreAll(t)
	t.Cleanup(func() { c.restoreAll(t) })
	return c
}

// Brokers is Bootstrap split, as sarama.NewClient takes it.
func (c *FaultCluster) Brokers() []string { return strings.Split(c.Bootstrap, ",") }

// Others is every node's address but those of the given nodes: the survivors.
func (c *FaultCluster) Others(nodes ...int) []string {
	var out []string
	for _, id := range c.IDs() {
		if !containsInt(nodes, id) {
			out = append(out, c.Nodes[id])
		}
	}
	return out
}

// IDs is the node ids, in order.
func (c *FaultCluster) IDs() []int {
	ids := make([]int, 0, len(c.Nodes))
	for id := range c.Nodes {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}

// Kill SIGKILLs a node and returns once it is gone.
func (c *FaultCluster) Kill(t testing.TB, node int) { t.Helper(); c.run(t, "kill", node) }

// Stop freezes a node with SIGSTOP: its sockets stay open and nothing answers.
func (c *FaultCluster) Stop(t testing.TB, node int) { t.Helper(); c.run(t, "stop", node) }

// Cont lets a frozen node go on (SIGCONT).
func (c *FaultCluster) Cont(t testing.TB, node int) { t.Helper(); c.run(t, "cont", node) }

// Start brings a node back (continues it if frozen, launches it again with
// its recorded command if dead) and waits until it answers with the whole
// cluster in its metadata.
func (c *FaultCluster) Start(t testing.TB, node int) { t.Helper(); c.run(t, "start", node) }

func (c *FaultCluster) restoreAll(t testing.TB) {
	t.Helper()
	// Every node first: a node lists the whole cluster only once all run.
	for _, id := range c.IDs() {
		c.run(t, "revive", id)
	}
	for _, id := range c.IDs() {
		c.run(t, "start", id)
	}
}

func (c *FaultCluster) run(t testing.TB, action string, node int) string {
	t.Helper()
	cmd := exec.Command("bash", c.script, "kafka-node", action, c.Name, strconv.Itoa(node))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("testenv.sh kafka-node %s %s %d: %v\n%s%s", action, c.Name, node, err, out.String(), errb.String())
	}
	if s := strings.TrimSpace(out.String()); s != "" || (action != "start" && action != "revive") {
		t.Logf("%s node %d: %s in %v %s", c.Name, node, action, time.Since(start).Round(time.Millisecond), s)
	}
	return out.String()
}

// script is the testenv.sh beside this file: the one of the code under test.
func script() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "sdk/sdktest/testenv/testenv.sh"
	}
	return filepath.Join(filepath.Dir(file), "testenv.sh")
}

// lockFile holds an exclusive lock on path until the test ends.
func lockFile(t testing.TB, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatalf("lock %s: %v", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		t.Fatalf("lock %s: %v", path, err)
	}
	t.Cleanup(func() { f.Close() })
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
