package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk/sdktest/testenv"
)

// decorate_events writes where an event came from; here the host of stdin,
// into a visible field.
func TestDecorateEventsStdin(t *testing.T) {
	stdout, stderr, code := gostash(t, "one\n", "-e", `
input "stdin" "in" {}
filter "decorate_events" "src" { target = "[source]" }
output "stdout" "out" { codec = "json_lines" }`)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	host, _ := os.Hostname()
	evs := jsonEvents(t, stdout)
	if len(evs) != 1 {
		t.Fatalf("%d events:\n%s", len(evs), stdout)
	}
	src, _ := evs[0]["source"].(map[string]any)
	if src["host"] != host || len(src) != 1 {
		t.Fatalf("[source] = %v, want {host: %q}", src, host)
	}
}

// The seeds' second job through the filter: records with keys and headers
// → decorate_events with target "[kafka]" → a file, as Logstash 2.x's
// decorate_events => true wrote them (msg_size included).
func TestDecorateEventsKafkaIntoVisibleField(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	bootstrap := strings.Join(brokers, ",")
	topic, group := kafkaName("decorate"), kafkaName("g")
	kafkaTopic(t, brokers, topic, 1)
	testenv.Kcat(t, "k1:first\nk2:second value\n", "-b", bootstrap, "-P", "-t", topic, "-K:", "-H", "src=kcat", "-H", "env=test")
	dir := t.TempDir()
	out := filepath.Join(dir, "out.json")
	cfg := writeFile(t, "p.hcl", fmt.Sprintf(`
input "kafka" "in" {
  bootstrap_servers = "%s"
  topics            = ["%s"]
  group_id          = "%s"
  auto_offset_reset = "earliest"
}
filter "decorate_events" "kafka" {
  target  = "[kafka]"
  headers = true
}
output "file" "out" { path = "%s" }`, bootstrap, topic, group, out))
	cmd, _, errb := startGostash(t, "-f", cfg, "--path.data", filepath.Join(dir, "data"))
	deadline := time.Now().Add(30 * time.Second)
	for shippedLines(out) < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := waitExit(cmd, 30*time.Second); err != nil {
		t.Fatalf("stop: %v\n%s", err, errb)
	}
	data, _ := os.ReadFile(out)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d events written:\n%s\n%s", len(lines), data, errb)
	}
	for i, line := range lines {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		k, _ := e["kafka"].(map[string]any)
		msg := []string{"first", "second value"}[i]
		want := map[string]any{"topic": topic, "consumer_group": group, "partition": 0.0, "offset": float64(i),
			"key": fmt.Sprintf("k%d", i+1), "msg_size": float64(len(msg))}
		for name, v := range want {
			if k[name] != v {
				t.Errorf("event %d [kafka][%s] = %#v, want %#v", i, name, k[name], v)
			}
		}
		if ts, _ := k["timestamp"].(float64); time.Since(time.UnixMilli(int64(ts))) > time.Minute {
			t.Errorf("event %d [kafka][timestamp] = %v, want the record's time in epoch ms", i, k["timestamp"])
		}
		if hs, _ := k["headers"].(map[string]any); hs["src"] != "kcat" || hs["env"] != "test" {
			t.Errorf("event %d [kafka][headers] = %v", i, k["headers"])
		}
		if e["message"] != msg {
			t.Errorf("event %d message %v", i, e["message"])
		}
	}
}
