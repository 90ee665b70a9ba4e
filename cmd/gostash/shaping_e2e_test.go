package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// nginx access lines as a server writes them (combined format), on three
// days and in three zones, with the noise a real log has: load-balancer
// and Kubernetes health checks, and a line cut short by a rotation.
var shapingLines = []string{
	`203.0.113.9 - frank [02/Dec/2026:09:15:02 +0100] "GET /api/v1/items?page=2&size=50 HTTP/1.1" 200 5120 "https://www.example.com/" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"`,
	`10.0.0.5 - - [02/Dec/2026:09:15:05 +0100] "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.29"`,
	`198.51.100.23 - - [02/Dec/2026:23:59:58 +0100] "POST /api/v1/orders HTTP/1.1" 502 157 "-" "curl/8.5.0"`,
	// 00:30 on the 3rd in Paris is still the 2nd in UTC: the 5xx file of
	// the 2nd must get it.
	`198.51.100.23 - - [03/Dec/2026:00:30:00 +0100] "POST /api/v1/orders HTTP/1.1" 503 - "-" "curl/8.5.0"`,
	`10.0.0.6 - - [03/Dec/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 612 "-" "ELB-HealthChecker/2.0"`,
	`192.0.2.44 - - [03/Dec/2026:14:22:10 -0500] "GET /static/app.3f2a1c.js HTTP/2.0" 304 0 "https://www.example.com/" "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"`,
	`10.0.0.5 - - [04/Dec/2026:08:00:55 +0000] "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.29"`,
	`192.0.2.44 - - [04/Dec/2026:08:01:00 +0000] "GET /api/v1/items HTTP/1.1" 500 312 "https://www.example.com/cart" "Go-http-client/1.1"`,
	`203.0.113.9 - - [04/Dec/2026:08:01`,
}

// Logstash's classic access-log pipeline, moved over by renaming: grok with
// the legacy names, the noise dropped, the line's time as @timestamp,
// numbers made numbers, then everything to stdout and only the 5xx to one
// file a day, named from @timestamp.
const shapingPipeline = `
input "file" "nginx" {
  path                    = [%q]
  mode                    = "read"
  exit_after_read         = true
  sincedb_path            = "/dev/null"
  file_completed_action   = "log"
  file_completed_log_path = %q
}

filter "grok" "access" {
  match             = { message = "%%{COMBINEDAPACHELOG}" }
  ecs_compatibility = "disabled"
}

# Logstash: if [request] == "/healthz" or [agent] =~ /ELB-HealthChecker/ { drop {} }
filter "expr" "noise" {
  drop = "request == '/healthz' || (agent ?? '') contains 'ELB-HealthChecker'"
}

filter "date" "ts" {
  match        = ["timestamp", "dd/MMM/yyyy:HH:mm:ss Z"]
  remove_field = ["timestamp"]
}

# rename runs before gsub (Logstash's order, whatever the order written),
# so gsub names the field where rename put it.
filter "mutate" "shape" {
  convert      = { response = "integer", bytes = "integer" }
  gsub         = ["[user_agent][original]", "^\"|\"$", "", "referrer", "^\"|\"$", ""]
  rename       = { agent = "[user_agent][original]" }
  remove_field = ["ident", "auth"]
}

output "stdout" "all" {
  codec = "json_lines"
}

output "file" "errors" {
  when = "(response ?? 0) >= 500"
  path = "%s/5xx-%%{+YYYY-MM-dd}.json"
}
`

// TestEndToEndNginxShaping runs nginx lines through grok → expr (drop) →
// date → mutate into stdout and a 5xx-only daily file, and checks what
// issue #12 asks: @timestamp comes from the line, numbers are JSON numbers,
// the noise is gone, and the guarded output got only its events.
func TestEndToEndNginxShaping(t *testing.T) {
	data := writeFile(t, "access.log", strings.Join(shapingLines, "\n")+"\n")
	outDir := t.TempDir()
	cfg := writeFile(t, "nginx.hcl", fmt.Sprintf(shapingPipeline, data, filepath.Join(t.TempDir(), "completed.log"), outDir))
	stdout, stderr, code := gostash(t, "", "-f", cfg, "--log.level", "warn")
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, stderr)
	}

	// What each kept line must become: @timestamp from the line (in UTC),
	// and the two numbers.
	type want struct {
		ts       string
		response float64
		bytes    any // float64, or nil when the line has "-"
		agent    string
	}
	wants := map[string]want{
		shapingLines[0]: {"2026-12-02T08:15:02.000Z", 200, 5120.0, "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"},
		shapingLines[2]: {"2026-12-02T22:59:58.000Z", 502, 157.0, "curl/8.5.0"},
		shapingLines[3]: {"2026-12-02T23:30:00.000Z", 503, nil, "curl/8.5.0"},
		shapingLines[5]: {"2026-12-03T19:22:10.000Z", 304, 0.0, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"},
		shapingLines[7]: {"2026-12-04T08:01:00.000Z", 500, 312.0, "Go-http-client/1.1"},
	}
	events := jsonEvents(t, stdout)
	seen := map[string]bool{}
	for _, e := range events {
		msg, _ := e["message"].(string)
		if seen[msg] {
			t.Errorf("line out twice: %q", msg)
		}
		seen[msg] = true
		if msg == shapingLines[8] {
			// The cut line: kept, tagged by grok, untouched by date (its
			// field is missing, which is no failure) and mutate.
			if tags := fmt.Sprint(e["tags"]); tags != "[_grokparsefailure]" {
				t.Errorf("cut line: tags = %s, want [_grokparsefailure]", tags)
			}
			continue
		}
		w, ok := wants[msg]
		if !ok {
			t.Errorf("line should have been dropped: %q", msg)
			continue
		}
		if e["@timestamp"] != w.ts {
			t.Errorf("%q: @timestamp = %v, want %s (the line's time)", msg, e["@timestamp"], w.ts)
		}
		// encoding/json gives float64 for a JSON number, string for "200".
		if e["response"] != w.response {
			t.Errorf("%q: response = %#v, want the JSON number %v", msg, e["response"], w.response)
		}
		if e["bytes"] != w.bytes {
			t.Errorf("%q: bytes = %#v, want %#v", msg, e["bytes"], w.bytes)
		}
		ua, _ := e["user_agent"].(map[string]any)
		if ua["original"] != w.agent {
			t.Errorf("%q: [user_agent][original] = %#v, want %q (unquoted, renamed)", msg, ua["original"], w.agent)
		}
		if ref, _ := e["referrer"].(string); ref == "" || strings.Contains(ref, `"`) {
			t.Errorf("%q: referrer = %#v, want it without its quotes", msg, e["referrer"])
		}
		for _, gone := range []string{"timestamp", "ident", "auth", "agent", "tags"} {
			if v, ok := e[gone]; ok {
				t.Errorf("%q: field %q = %v should not be there", msg, gone, v)
			}
		}
	}
	for line := range wants {
		if !seen[line] {
			t.Errorf("line missing from stdout: %q", line)
		}
	}
	if !seen[shapingLines[8]] {
		t.Errorf("the cut line is missing from stdout")
	}

	// The guarded output: only the 5xx, in the file of the day the line
	// names (in UTC), not the day gostash ran.
	files, _ := filepath.Glob(filepath.Join(outDir, "*"))
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	if want := []string{"5xx-2026-12-02.json", "5xx-2026-12-04.json"}; !slices.Equal(names, want) {
		t.Fatalf("files written: %v, want %v", names, want)
	}
	for name, lines := range map[string][]string{
		"5xx-2026-12-02.json": {shapingLines[2], shapingLines[3]},
		"5xx-2026-12-04.json": {shapingLines[7]},
	} {
		b, err := os.ReadFile(filepath.Join(outDir, name))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range jsonEvents(t, string(b)) {
			got = append(got, e["message"].(string))
			if n, ok := e["response"].(float64); !ok || n < 500 {
				t.Errorf("%s: event with response %#v", name, e["response"])
			}
		}
		slices.Sort(got)
		slices.Sort(lines)
		if !slices.Equal(got, lines) {
			t.Errorf("%s holds %q, want %q", name, got, lines)
		}
	}
}
