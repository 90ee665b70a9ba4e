package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk/sdktest/testenv"
)

// An output that cannot write holds every batch: the Kafka input's lag is
// all it read, per partition, at /metrics; the health report says the
// output is retrying and why.
func TestMonitoringAPIKafkaLagAndRetryingOutput(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	bootstrap := strings.Join(brokers, ",")
	topic, group := kafkaName("api-lag"), kafkaName("g")
	kafkaTopic(t, brokers, topic, 2)
	perPartition := map[string]int{"0": 30, "1": 70}
	for part, n := range perPartition {
		var in strings.Builder
		for i := range n {
			fmt.Fprintf(&in, "p%s record %d\n", part, i)
		}
		testenv.Kcat(t, in.String(), "-b", bootstrap, "-P", "-t", topic, "-p", part)
	}
	cfg := writeFile(t, "p.hcl", fmt.Sprintf(`
input "kafka" "in" {
  bootstrap_servers = "%s"
  topics            = ["%s"]
  group_id          = "%s"
  auto_offset_reset = "earliest"
}
output "elasticsearch" "es" { hosts = ["http://127.0.0.1:1"] }
`, bootstrap, topic, group))
	r := startAPIRun(t, cfg, "--path.data", filepath.Join(t.TempDir(), "data"))

	// Nothing is acked, so nothing is committed: the lag counts from the
	// first record read, that is every record. The input reports it
	// every 5 s.
	lag := func(part string) (float64, bool) {
		return metricValue(r.metrics(t), "gostash_kafka_consumer_lag",
			map[string]string{"topic": topic, "partition": part, "group_id": group, "plugin_id": "in", "plugin_type": "input", "pipeline": "main"})
	}
	if !waitFor(30*time.Second, func() bool {
		l0, ok0 := lag("0")
		l1, ok1 := lag("1")
		return ok0 && ok1 && l0 == 30 && l1 == 70
	}) {
		l0, _ := lag("0")
		l1, _ := lag("1")
		t.Fatalf("lag per partition %v, %v; want 30 and 70\n%s", l0, l1, r.errb.String())
	}

	var health struct {
		Status     string
		Indicators map[string]struct {
			Indicators map[string]struct {
				Status, Symptom string
				Diagnosis       []struct{ Cause, Action string }
			}
		}
	}
	if err := json.Unmarshal(r.get(t, "/_health_report"), &health); err != nil {
		t.Fatal(err)
	}
	main := health.Indicators["pipelines"].Indicators["main"]
	if health.Status != "yellow" || main.Status != "yellow" || !strings.Contains(main.Symptom, `output "es" is retrying`) ||
		len(main.Diagnosis) == 0 || main.Diagnosis[0].Action == "" {
		t.Fatalf("health %s / %s: %q %+v; want yellow, the output retrying and what to do", health.Status, main.Status, main.Symptom, main.Diagnosis)
	}
	if retried, ok := metricValue(r.metrics(t), "gostash_plugin_events_retried_total", map[string]string{"plugin_id": "es"}); !ok || retried < 1 {
		t.Fatalf("retried events %v (%v)", retried, ok)
	}
	// Stopping with events held is no error of the test's: the drain
	// deadline ends it.
}

// The file input reports, per file, the bytes not delivered yet: with an
// output that cannot write, all of each file.
func TestMonitoringAPIFileBytesBehind(t *testing.T) {
	dir := t.TempDir()
	sizes := map[string]int{}
	for name, n := range map[string]int{"a.log": 10, "b.log": 25} {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "%s line %d\n", name, i)
		}
		writeFileAt(t, filepath.Join(dir, name), b.String())
		sizes[filepath.Join(dir, name)] = b.Len()
	}
	cfg := writeFile(t, "p.hcl", fmt.Sprintf(`
input "file" "in" {
  path           = ["%s/*.log"]
  start_position = "beginning"
  stat_interval  = "20ms"
}
output "elasticsearch" "es" { hosts = ["http://127.0.0.1:1"] }
`, dir))
	r := startAPIRun(t, cfg, "--path.data", filepath.Join(dir, "data"))
	for path, size := range sizes {
		var got float64
		if !waitFor(20*time.Second, func() bool {
			got, _ = metricValue(r.metrics(t), "gostash_file_bytes_behind", map[string]string{"path": path, "plugin_id": "in"})
			return got == float64(size)
		}) {
			t.Errorf("%s: %v bytes behind; want its size %d\n%s", path, got, size, r.get(t, "/metrics"))
		}
	}
}

func writeFileAt(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A file that grows while nothing can be delivered: the bytes behind grow
// report after report, and the health report calls the input lagging.
func TestMonitoringAPIHealthSaysAnInputLags(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "app.log")
	writeFileAt(t, log, "first\n")
	cfg := writeFile(t, "p.hcl", fmt.Sprintf(`
input "file" "in" {
  path           = ["%s"]
  start_position = "beginning"
  stat_interval  = "20ms"
}
output "elasticsearch" "es" { hosts = ["http://127.0.0.1:1"] }
`, log))
	r := startAPIRun(t, cfg, "--path.data", filepath.Join(dir, "data"))
	stop := make(chan struct{})
	defer close(stop)
	go func() { // the application keeps writing
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			if err := appendLine(log, fmt.Sprintf("line %d", i)); err != nil {
				return
			}
		}
	}()
	var symptom string
	// Three growing reports, 5 s apart, after the first.
	if !waitFor(40*time.Second, func() bool {
		var h struct {
			Indicators map[string]struct {
				Indicators map[string]struct{ Symptom string }
			}
		}
		_ = json.Unmarshal(r.get(t, "/_health_report"), &h)
		symptom = h.Indicators["pipelines"].Indicators["main"].Symptom
		return strings.Contains(symptom, `the input "in" is lagging`)
	}) {
		t.Fatalf("no lagging input in %q", symptom)
	}
	t.Logf("health: %s", symptom)
}

func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(line + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
