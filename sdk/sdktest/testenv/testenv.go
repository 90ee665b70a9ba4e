// Package testenv connects gostash's integration tests to the real servers that
// testenv.sh (make testenv-up) starts on 127.0.0.1: Apache Kafka, Elasticsearch
// and OpenSearch.
//
// testenv.sh writes their addresses to .testenv/env at the repository root; the
// helpers here read that file (or the one named by GOSTASH_TESTENV_FILE) and hand a
// test the address it needs:
//
//	func TestOutput(t *testing.T) {
//		brokers := testenv.KafkaBrokers(t) // skips, or fails, if Kafka is not up
//		...
//	}
//
// When a server is not up, the test is skipped with a message saying how to start
// it, unless GOSTASH_REQUIRE_TESTENV is set (make test and CI set it): then the
// test fails, so a broken environment can never pass as a run of skipped tests.
package testenv

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	// FileVar names an env file to read instead of <repo root>/.testenv/env.
	FileVar = "GOSTASH_TESTENV_FILE"
	// RequireVar, when set (to anything but "", "0" or "false"), turns skips into failures.
	RequireVar = "GOSTASH_REQUIRE_TESTENV"

	modulePath = "github.com/gostash/gostash"
	upHint     = "start the servers with `make testenv-up` (see docs/testing.md)"
)

// Env is what .testenv/env says runs. Fields are empty for servers not started.
type Env struct {
	Path             string            // the file read
	KafkaBootstrap   string            // "127.0.0.1:PORT[,127.0.0.1:PORT...]"
	KafkaBrokerCount int               // 1, or 3 with KAFKA_BROKERS=3
	ElasticsearchURL string            // "http://127.0.0.1:PORT"
	OpenSearchURL    string            // "http://127.0.0.1:PORT"
	Vars             map[string]string // every KEY=VALUE of the file, versions included
}

// Required reports whether GOSTASH_REQUIRE_TESTENV asks for failures instead of skips.
func Required() bool {
	switch strings.ToLower(strings.TrimSpace(os.Getenv(RequireVar))) {
	case "", "0", "false", "no":
		return false
	}
	return true
}

// FilePath returns the env file the helpers read: $GOSTASH_TESTENV_FILE, or
// .testenv/env in the repository root found by walking up from the working directory
// to gostash's go.mod (go test runs in the package's folder).
func FilePath() (string, error) {
	if p := os.Getenv(FileVar); p != "" {
		return p, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, ".testenv", "env"), nil
}

// repoRoot is the nearest folder above the working directory whose go.mod declares
// gostash's module, or failing that the nearest folder with any go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	first := ""
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil {
			if first == "" {
				first = dir
			}
			if declaresModule(string(data), modulePath) {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	if first != "" {
		return first, nil
	}
	return "", fmt.Errorf("no go.mod above the working directory; set %s to the env file", FileVar)
}

func declaresModule(gomod, module string) bool {
	for _, line := range strings.Split(gomod, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "module" && strings.Trim(f[1], `"`) == module {
			return true
		}
	}
	return false
}

// Load reads the env file. A missing file yields an error wrapping fs.ErrNotExist.
func Load() (*Env, error) {
	path, err := FilePath()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(path, f)
}

// Parse reads KEY=VALUE lines (blank lines and # comments ignored; values may be
// quoted) as testenv.sh writes them.
func Parse(path string, r io.Reader) (*Env, error) {
	env := &Env{Path: path, Vars: map[string]string{}}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: want KEY=VALUE, got %q", path, n, line)
		}
		env.Vars[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"'`)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	env.KafkaBootstrap = env.Vars["KAFKA_BOOTSTRAP"]
	env.ElasticsearchURL = strings.TrimRight(env.Vars["ELASTICSEARCH_URL"], "/")
	env.OpenSearchURL = strings.TrimRight(env.Vars["OPENSEARCH_URL"], "/")
	if env.KafkaBootstrap != "" {
		env.KafkaBrokerCount = len(strings.Split(env.KafkaBootstrap, ","))
		if s := env.Vars["KAFKA_BROKERS"]; s != "" {
			c, err := strconv.Atoi(s)
			if err != nil {
				return nil, fmt.Errorf("%s: KAFKA_BROKERS=%q is not a number", path, s)
			}
			env.KafkaBrokerCount = c
		}
	}
	return env, nil
}

// unavailable skips the test, or fails it when GOSTASH_REQUIRE_TESTENV is set.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := "testenv: " + fmt.Sprintf(format, args...)
	if Required() {
		t.Fatalf("%s (%s is set, so this fails instead of skipping)", msg, RequireVar)
		return
	}
	t.Skipf("%s; %s, or set %s=1 to fail instead of skip", msg, upHint, RequireVar)
}

// Get returns the environment, skipping (or failing) the test when no env file exists.
func Get(t testing.TB) *Env {
	t.Helper()
	env, err := Load()
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			unavailable(t, "the test servers are not up (no %s)", pathOr(err))
		} else {
			unavailable(t, "cannot read the test environment: %v", err)
		}
		return nil
	}
	return env
}

func pathOr(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Path
	}
	return err.Error()
}

// Kafka returns the bootstrap servers ("127.0.0.1:PORT", comma-separated when
// KAFKA_BROKERS=3), after checking that every broker accepts connections.
func Kafka(t testing.TB) string {
	t.Helper()
	return strings.Join(KafkaBrokers(t), ",")
}

// KafkaBrokers returns the broker addresses, as sarama.NewClient wants them.
func KafkaBrokers(t testing.TB) []string {
	t.Helper()
	env := Get(t)
	if env == nil {
		return nil
	}
	if env.KafkaBootstrap == "" {
		unavailable(t, "Kafka is not up (no KAFKA_BOOTSTRAP in %s; was it left out of TESTENV?)", env.Path)
		return nil
	}
	brokers := strings.Split(env.KafkaBootstrap, ",")
	for _, b := range brokers {
		if !reachable(t, "Kafka", b, env.Path) {
			return nil
		}
	}
	return brokers
}

// Elasticsearch returns the base URL of the Elasticsearch node ("http://127.0.0.1:PORT").
func Elasticsearch(t testing.TB) string {
	t.Helper()
	return engine(t, "Elasticsearch", "ELASTICSEARCH_URL", func(e *Env) string { return e.ElasticsearchURL })
}

// OpenSearch returns the base URL of the OpenSearch node ("http://127.0.0.1:PORT").
func OpenSearch(t testing.TB) string {
	t.Helper()
	return engine(t, "OpenSearch", "OPENSEARCH_URL", func(e *Env) string { return e.OpenSearchURL })
}

func engine(t testing.TB, name, key string, get func(*Env) string) string {
	t.Helper()
	env := Get(t)
	if env == nil {
		return ""
	}
	raw := get(env)
	if raw == "" {
		unavailable(t, "%s is not up (no %s in %s; was it left out of TESTENV?)", name, key, env.Path)
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		unavailable(t, "%s=%q in %s is not a URL", key, raw, env.Path)
		return ""
	}
	if !reachable(t, name, u.Host, env.Path) {
		return ""
	}
	return raw
}

// reachable catches an env file left behind by servers that have since died: a
// clear "nothing listens" beats a client's retry loop timing out much later.
func reachable(t testing.TB, name, addr, path string) bool {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		unavailable(t, "%s is listed at %s in %s but does not accept connections (%v); stale file?", name, addr, path, err)
		return false
	}
	c.Close()
	return true
}
