package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// jsonLines parses every line of a --log.format json stderr: each must
// be one JSON object with a time, a level and a message.
func jsonLines(t *testing.T, stderr string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSuffix(stderr, "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Errorf("not a JSON object: %q (%v)", l, err)
			continue
		}
		ts, _ := m["time"].(string)
		if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
			t.Errorf("no time: %q", l)
		}
		if lv, _ := m["level"].(string); lv != "DEBUG" && lv != "INFO" && lv != "WARN" && lv != "ERROR" {
			t.Errorf("no level: %q", l)
		}
		if msg, _ := m["message"].(string); msg == "" {
			t.Errorf("no message: %q", l)
		}
		lines = append(lines, m)
	}
	return lines
}

func findLine(lines []map[string]any, message string) map[string]any {
	for _, m := range lines {
		if m["message"] == message {
			return m
		}
	}
	return nil
}

// With --log.format json every line on stderr is one JSON object with
// the same keys, the core's and the plugin processes' (built-in and
// third-party, their stray prints included), each naming its pipeline
// and plugin; a configuration error too.
func TestLogFormatJSON(t *testing.T) {
	bin := sharedPlugin(t, "./testdata/testplugin")
	cfg := fmt.Sprintf(`
plugin "testplugin" { path = %q }
input "generator" "gen" { count = 5 }
filter "tagger" "t" { tag = "seen" }
output "stdout" "out" { codec = "json_lines" }
`, bin)
	// -path.data: gostash 0.1's spelling, whose warning is a JSON line too.
	stdout, stderr, code := gostash(t, "", "--log.format", "json", "--log.level", "debug", "-path.data", t.TempDir(), "-e", cfg)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if n := len(jsonEvents(t, stdout)); n != 5 {
		t.Errorf("%d events on stdout, want 5", n)
	}
	lines := jsonLines(t, stderr)
	for message, want := range map[string]map[string]any{
		"pipeline started":    {"pipeline": "main", "level": "INFO"},
		"pipeline stopped":    {"pipeline": "main", "events_in": 5.0, "elapsed": nil},
		"tagger opened":       {"pipeline": "main", "plugin": "t", "plugin_kind": "filter", "level": "WARN", "tag": "seen"},
		"tagger debug detail": {"pipeline": "main", "plugin": "t", "level": "DEBUG"},
		"-path.data is the old spelling of --path.data and will stop working: write --path.data": {"level": "WARN"},
	} {
		m := findLine(lines, message)
		if m == nil {
			t.Errorf("no line %q in\n%s", message, stderr)
			continue
		}
		for k, v := range want {
			if _, ok := m[k]; !ok || (v != nil && m[k] != v) {
				t.Errorf("%q: %s = %v, want %v", message, k, m[k], v)
			}
		}
	}
	// Durations are written as Go writes them, not in nanoseconds.
	if m := findLine(lines, "pipeline stopped"); m != nil {
		if _, err := time.ParseDuration(fmt.Sprint(m["elapsed"])); err != nil {
			t.Errorf("elapsed %v is not a duration", m["elapsed"])
		}
	}
	// The plugin's print at init is a line of the log, at debug.
	found := false
	for _, m := range lines {
		found = found || strings.Contains(fmt.Sprint(m["message"]), "hello from the test plugin")
	}
	if !found {
		t.Errorf("the plugin's stray print is not a log line:\n%s", stderr)
	}

	// A configuration error of a run: JSON lines pointing at the place.
	_, stderr, code = gostash(t, "", "--log.format", "json", "--path.data", t.TempDir(), "-e", `input "generator" "gen" { cuont = 5 }
output "null" "out" {}`)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, stderr)
	}
	lines = jsonLines(t, stderr)
	if len(lines) == 0 || lines[0]["level"] != "ERROR" || lines[0]["line"] != 1.0 || lines[0]["file"] != "<inline>" {
		t.Errorf("the error is not a JSON line with its place:\n%s", stderr)
	}
}

// Plain stays key=value text, as before (each pipeline line names its
// pipeline, as several may run).
func TestLogFormatPlain(t *testing.T) {
	_, stderr, code := gostash(t, "", "--path.data", t.TempDir(), "-e", `input "generator" "gen" { count = 2 }
output "null" "out" {}`)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, `level=INFO msg="pipeline stopped" pipeline=main events_in=2 events_out=2`) || strings.Contains(stderr, "{") {
		t.Errorf("plain log changed:\n%s", stderr)
	}
}
