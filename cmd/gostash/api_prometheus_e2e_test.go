package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk/sdktest/testenv"
)

// A real Prometheus (Debian's `prometheus` package) scrapes the API and
// finds the count of what went through; promtool finds nothing to say
// about the exposition's names. Skipped where Prometheus is not installed.
func TestMonitoringAPIScrapedByPrometheus(t *testing.T) {
	prom, err := exec.LookPath("prometheus")
	if err != nil {
		if testenv.Required() {
			t.Fatal("prometheus is not installed: `make testenv-up` installs it (apt-get install prometheus)")
		}
		t.Skip("prometheus is not installed (apt-get install prometheus, or `make testenv-up`)")
	}
	const n = 321
	r := startAPIRun(t, writeFile(t, "api.hcl", apiPipeline))
	var lines strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&lines, "%d\n", i)
	}
	if _, err := io.WriteString(r.stdin, lines.String()); err != nil {
		t.Fatal(err)
	}

	// promtool lints the exposition as Prometheus's maintainers would.
	if promtool, err := exec.LookPath("promtool"); err == nil {
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(string(r.get(t, "/metrics")))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	}

	dir := t.TempDir()
	target := strings.TrimPrefix(r.base, "http://")
	cfg := writeFile(t, "prometheus.yml", fmt.Sprintf(`
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: gostash
    static_configs:
      - targets: ["%s"]
`, target))
	addr := freeAddr(t)
	cmd := exec.Command(prom, "--config.file", cfg, "--storage.tsdb.path", filepath.Join(dir, "tsdb"),
		"--web.listen-address", addr, "--log.level", "warn")
	var errb lockedBuffer
	cmd.Stdout, cmd.Stderr = &errb, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })

	query := func(q string) (string, bool) {
		resp, err := http.Get("http://" + addr + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return "", false
		}
		defer resp.Body.Close()
		var res struct {
			Data struct {
				Result []struct {
					Value [2]any `json:"value"`
				}
			}
		}
		if json.NewDecoder(resp.Body).Decode(&res) != nil || len(res.Data.Result) != 1 {
			return "", false
		}
		s, _ := res.Data.Result[0].Value[1].(string)
		return s, true
	}
	want := map[string]string{
		`up{job="gostash"}`: "1",
		`gostash_pipeline_events_in_total{job="gostash",pipeline="main"}`:                                  fmt.Sprint(n),
		`gostash_plugin_events_dropped_total{plugin_id="drop_fourths",plugin_type="filter",plugin="expr"}`: fmt.Sprint(n / 4),
	}
	for q, v := range want {
		var got string
		if !waitFor(30*time.Second, func() bool { got, _ = query(q); return got == v }) {
			t.Errorf("Prometheus: %s = %q; want %s\n%s", q, got, v, errb.String())
		}
	}
	// The histogram is usable as Prometheus users use it.
	if got, ok := query(`histogram_quantile(0.99, gostash_pipeline_batch_latency_seconds_bucket)`); !ok || got == "NaN" {
		t.Errorf("p99 batch latency %q (%v)", got, ok)
	}
}

// freeAddr is a loopback address with a port nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
