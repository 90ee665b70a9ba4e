package testenv

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ESCluster is the Elasticsearch cluster that only fault tests use (service
// es-faults of testenv.sh, two nodes): they kill its nodes, which on the
// shared single node would break every other test. Node 1 is the only
// master-eligible node; the others hold data only, so killing one of them
// leaves a cluster that still takes writes.
type ESCluster struct {
	Nodes  map[int]string // node number (1, 2, ...) → "http://127.0.0.1:PORT"
	script string
}

// ESFaults returns the fault tests' Elasticsearch cluster with every node
// running, and holds it for this test alone. The cluster is not part of
// `make testenv-up` by default (two more JVMs): when the other servers run
// and it does not, it is started here, once (about a minute on a busy
// 2-core box); `make testenv-up ES_NODES=2` starts it beforehand. When the
// test ends, every node it killed is launched again, passed or not.
func ESFaults(t testing.TB) *ESCluster {
	t.Helper()
	env := Get(t)
	if env == nil {
		return nil
	}
	c := &ESCluster{Nodes: map[int]string{}, script: script()}
	if env.Vars["ES_FAULTS_URLS"] == "" {
		if env.ElasticsearchURL == "" || os.Getenv(FileVar) != "" {
			// Started on demand only beside the servers testenv.sh runs.
			unavailable(t, "the fault tests' Elasticsearch cluster is not up (no ES_FAULTS_URLS in %s; start it with `make testenv-up ES_NODES=2`)", env.Path)
			return nil
		}
		t.Logf("starting the two-node Elasticsearch cluster es-faults (once; `make testenv-up ES_NODES=2` does it beforehand)")
		start := time.Now()
		cmd := exec.Command("bash", c.script, "up")
		cmd.Env = append(os.Environ(), "TESTENV=es-faults", "ES_NODES=2")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("testenv.sh up TESTENV=es-faults: %v\n%s", err, out)
		}
		t.Logf("es-faults up in %v", time.Since(start).Round(time.Second))
		if env = Get(t); env == nil {
			return nil
		}
		if env.Vars["ES_FAULTS_URLS"] == "" {
			t.Fatalf("testenv.sh up started es-faults but %s does not list it", env.Path)
		}
	}
	for k, v := range env.Vars {
		if id, ok := strings.CutPrefix(k, "ES_FAULTS_NODE_"); ok {
			n, err := strconv.Atoi(id)
			if err != nil {
				t.Fatalf("%s: %s is not ES_FAULTS_NODE_<n>", env.Path, k)
			}
			c.Nodes[n] = v
		}
	}
	if len(c.Nodes) < 2 {
		t.Fatalf("%s lists %d es-faults nodes, want 2 or more", env.Path, len(c.Nodes))
	}
	if data := env.Vars["ES_FAULTS_DATA"]; data != "" {
		lockFile(t, filepath.Join(data, "test.lock"))
	}
	c.restoreAll(t)
	// Launched again, not waited for: the next test of the cluster waits
	// (restoreAll above), while other tests run during the minute a node
	// takes to start.
	t.Cleanup(func() {
		for _, n := range c.ids() {
			c.run(t, "revive", n)
		}
	})
	return c
}

// URLs is every node's address, in node order, as `hosts` takes them.
func (c *ESCluster) URLs() []string {
	var out []string
	for _, n := range c.ids() {
		out = append(out, c.Nodes[n])
	}
	return out
}

// Kill SIGKILLs a node and returns once it is gone.
func (c *ESCluster) Kill(t testing.TB, node int) { t.Helper(); c.run(t, "kill", node) }

// Start launches a killed node again (same ports and data) and waits until
// it is back in the cluster; a running node is left alone.
func (c *ESCluster) Start(t testing.TB, node int) { t.Helper(); c.run(t, "start", node) }

func (c *ESCluster) ids() []int {
	ids := make([]int, 0, len(c.Nodes))
	for n := range c.Nodes {
		ids = append(ids, n)
	}
	sort.Ints(ids)
	return ids
}

func (c *ESCluster) restoreAll(t testing.TB) {
	t.Helper()
	// Every node first: the cluster is whole only once all run.
	for _, n := range c.ids() {
		c.run(t, "revive", n)
	}
	for _, n := range c.ids() {
		c.run(t, "start", n)
	}
}

func (c *ESCluster) run(t testing.TB, action string, node int) {
	t.Helper()
	cmd := exec.Command("bash", c.script, "es-node", action, strconv.Itoa(node))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("testenv.sh es-node %s %d: %v\n%s", action, node, err, out.String())
	}
	if s := strings.TrimSpace(out.String()); s != "" || (action != "start" && action != "revive") {
		t.Logf("es-faults node %d: %s in %v %s", node, action, time.Since(start).Round(time.Millisecond), s)
	}
}
