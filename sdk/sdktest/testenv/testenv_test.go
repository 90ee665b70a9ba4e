package testenv

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// These tests need no server: they check how the helpers read the env file and
// whether they skip or fail.

func TestParse(t *testing.T) {
	in := `# Written by testenv.sh
KAFKA_BOOTSTRAP=127.0.0.1:21000,127.0.0.1:21002,127.0.0.1:21004
KAFKA_BROKERS=3

ELASTICSEARCH_URL=http://127.0.0.1:20250/
export OPENSEARCH_URL="http://127.0.0.1:29721"
ELASTICSEARCH_VERSION=8.19.21
`
	env, err := Parse("env", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if env.KafkaBootstrap != "127.0.0.1:21000,127.0.0.1:21002,127.0.0.1:21004" || env.KafkaBrokerCount != 3 {
		t.Errorf("kafka: %q, %d brokers", env.KafkaBootstrap, env.KafkaBrokerCount)
	}
	if env.ElasticsearchURL != "http://127.0.0.1:20250" {
		t.Errorf("elasticsearch: %q (trailing slash should go)", env.ElasticsearchURL)
	}
	if env.OpenSearchURL != "http://127.0.0.1:29721" {
		t.Errorf("opensearch: %q (export and quotes should go)", env.OpenSearchURL)
	}
	if env.Vars["ELASTICSEARCH_VERSION"] != "8.19.21" {
		t.Errorf("vars: %v", env.Vars)
	}

	if _, err := Parse("env", strings.NewReader("KAFKA_BOOTSTRAP\n")); err == nil {
		t.Error("a line without '=' should be an error")
	}
}

func TestFilePathFindsRepoRoot(t *testing.T) {
	t.Setenv(FileVar, "")
	p, err := FilePath()
	if err != nil {
		t.Fatal(err)
	}
	// go test runs in sdk/sdktest/testenv; the file lives three levels up.
	root, _ := filepath.Abs("../../..")
	if want := filepath.Join(root, ".testenv", "env"); p != want {
		t.Errorf("FilePath() = %q, want %q", p, want)
	}
	t.Setenv(FileVar, "/elsewhere/env")
	if p, _ := FilePath(); p != "/elsewhere/env" {
		t.Errorf("with %s set: %q", FileVar, p)
	}
}

// recorder stands in for *testing.T to see whether a helper skipped or failed.
// Unlike the real thing, Skipf and Fatalf return, which the helpers allow for.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Skipf(f string, a ...any)  { r.skipped = fmt.Sprintf(f, a...) }
func (r *recorder) Fatalf(f string, a ...any) { r.failed = fmt.Sprintf(f, a...) }

func TestSkipOrFail(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "env")
	t.Setenv(FileVar, missing)

	t.Setenv(RequireVar, "")
	r := &recorder{}
	if got := Kafka(r); got != "" || r.failed != "" || !strings.Contains(r.skipped, "make testenv-up") {
		t.Errorf("without %s: got %q, skipped %q, failed %q", RequireVar, got, r.skipped, r.failed)
	}

	t.Setenv(RequireVar, "1")
	r = &recorder{}
	if got := Elasticsearch(r); got != "" || r.skipped != "" || !strings.Contains(r.failed, "not up") {
		t.Errorf("with %s=1: got %q, skipped %q, failed %q", RequireVar, got, r.skipped, r.failed)
	}
}

func TestStaleEnvFile(t *testing.T) {
	// A port that was just free: nothing listens there any more.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	file := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(file, []byte("OPENSEARCH_URL=http://"+addr+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(FileVar, file)
	t.Setenv(RequireVar, "")

	r := &recorder{}
	if got := OpenSearch(r); got != "" || !strings.Contains(r.skipped, "does not accept connections") {
		t.Errorf("stale file: got %q, skipped %q", got, r.skipped)
	}
	r = &recorder{}
	if KafkaBrokers(r); !strings.Contains(r.skipped, "Kafka is not up") {
		t.Errorf("service left out: skipped %q", r.skipped)
	}
}
