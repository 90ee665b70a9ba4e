package api

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gostash/gostash/core/pipeline"
	"github.com/gostash/gostash/sdk"
)

func TestListenRefusesBeyondLoopbackUnlessAllowed(t *testing.T) {
	for _, host := range []string{"0.0.0.0", "::", "192.0.2.1", "example.org"} {
		_, err := Listen(host, "0", false)
		if err == nil || !strings.Contains(err.Error(), "--api.http.allow_remote") {
			t.Errorf("Listen(%q): %v; want a refusal naming --api.http.allow_remote", host, err)
		}
	}
	for _, host := range []string{"127.0.0.1", "localhost", "::1", "[::1]"} {
		if !isLoopback(host) {
			t.Errorf("%q is loopback", host)
		}
	}
	ln, err := Listen("0.0.0.0", "0", true)
	if err != nil {
		t.Fatalf("allowed: %v", err)
	}
	ln.Close()
}

func TestListenTakesTheFirstFreePortOfARange(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	ln, err := Listen("127.0.0.1", strings.Join([]string{itoa(port), itoa(port + 5)}, "-"), false)
	if err != nil {
		t.Skipf("no free port after %d: %v", port, err)
	}
	defer ln.Close()
	if got := ln.Addr().(*net.TCPAddr).Port; got <= port || got > port+5 {
		t.Fatalf("bound %d; want the first free one after the busy %d", got, port)
	}
	if _, err := Listen("127.0.0.1", itoa(port), false); err == nil || !strings.Contains(err.Error(), "--api.http.port") {
		t.Fatalf("a busy port: %v; want an error that says how to choose another", err)
	}
	for _, bad := range []string{"x", "9700-9600", "1-70000", "96oo"} {
		if _, err := Listen("127.0.0.1", bad, false); err == nil {
			t.Errorf("port %q accepted", bad)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestHealthNamesTheReason(t *testing.T) {
	now := time.Now()
	snap := pipeline.Snapshot{
		ID: "main",
		Inputs: []pipeline.PluginStats{{ID: "in", Type: "kafka", Kind: sdk.KindInput, Process: "builtin-inputs",
			Restarts: 2, LastRestart: now.Add(-10 * time.Second)}},
		Outputs: []pipeline.PluginStats{{ID: "es", Type: "elasticsearch", Kind: sdk.KindOutput,
			Retried: 7, LastRetry: now.Add(-time.Second), RetryReason: "connection refused"}},
	}
	h := pipelineHealth(snap, now)
	if h.Status != "yellow" || !strings.Contains(h.Symptom, `output "es" is retrying`) ||
		!strings.Contains(h.Symptom, "connection refused") || !strings.Contains(h.Symptom, `input "in" restarted`) {
		t.Fatalf("%s: %s", h.Status, h.Symptom)
	}
	if len(h.Diagnosis) != 2 || h.Diagnosis[0].Action == "" {
		t.Fatalf("diagnosis %+v", h.Diagnosis)
	}

	// An hour later both are history: green.
	if h := pipelineHealth(snap, now.Add(time.Hour)); h.Status != "green" {
		t.Fatalf("an hour later: %s: %s", h.Status, h.Symptom)
	}

	snap.Outputs[0].RestartError = "exec: permission denied"
	if h := pipelineHealth(snap, now.Add(time.Hour)); h.Status != "red" || !strings.Contains(h.Symptom, "cannot be restarted") {
		t.Fatalf("a process that cannot restart: %s: %s", h.Status, h.Symptom)
	}

	// A pipeline that could not start (one of several) is red, and says why.
	down := pipeline.Snapshot{ID: "web", StartError: `input "in": open: sincedb is a directory`}
	if h := pipelineHealth(down, now); h.Status != "red" || !strings.Contains(h.Symptom, "could not start: input \"in\"") {
		t.Fatalf("a pipeline that could not start: %s: %s", h.Status, h.Symptom)
	}
	rep := New(Node{}, fake{pipeline.Snapshot{ID: "ok"}}, fake{down}).report()
	if rep.Status != "red" || rep.Indicators["pipelines"].Indicators["ok"].Status != "green" {
		t.Fatalf("report %s, ok %s: one pipeline down makes the node red, not the others", rep.Status, rep.Indicators["pipelines"].Indicators["ok"].Status)
	}
}

// fake is a pipeline whose counts the test sets.
type fake struct{ snap pipeline.Snapshot }

func (f fake) Snapshot() pipeline.Snapshot        { return f.snap }
func (f fake) Histograms() []prometheus.Collector { return nil }

func TestPathsAnswerJSONAndUnknownOnesSayWhatExists(t *testing.T) {
	srv := httptest.NewServer(New(Node{ID: "n1", Version: "9.9"}, fake{pipeline.Snapshot{ID: "main", In: 5}}).Handler())
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/?pretty"); code != 200 || !strings.Contains(body, "\n  \"id\": \"n1\"") || !strings.Contains(body, `"status": "green"`) {
		t.Errorf("GET /?pretty: %d %s", code, body)
	}
	if code, body := get("/_node/stats/pipelines/main"); code != 200 || !strings.Contains(body, `"in":5`) {
		t.Errorf("GET /_node/stats/pipelines/main: %d %s", code, body)
	}
	if code, body := get("/_node/stats/pipelines/other"); code != 404 || !strings.Contains(body, "no pipeline other") {
		t.Errorf("an unknown pipeline: %d %s", code, body)
	}
	if code, body := get("/_node/hot_threads"); code != 404 || !strings.Contains(body, "/_node/stats") {
		t.Errorf("an unknown path: %d %s", code, body)
	}
}
