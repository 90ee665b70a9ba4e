package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestGrokDebugCommand(t *testing.T) {
	in := filepath.Join(t.TempDir(), "lines")
	if err := os.WriteFile(in, []byte("id=4F2A1B3C9D n=3\r\nsomething else\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"captures and no match", []string{"id=%{QID:[q][id]} n=%{INT:n:int}", in, "-p", "QID=[0-9A-F]{10}"}, 0,
			"{\"n\":3,\"q\":{\"id\":\"4F2A1B3C9D\"}}\nno match\n", ""},
		{"legacy names", []string{"--ecs", "disabled", "%{SYSLOGBASE}", in}, 0, "no match\nno match\n", ""},
		{"unknown pattern", []string{"%{INTT:n}", in}, 1, "", "did you mean %{INT}"},
		{"bad -p", []string{"-p", "nonsense", "%{INT}", in}, 2, "", "NAME=REGEX"},
		{"bad --ecs", []string{"--ecs", "v2", "%{INT}", in}, 2, "", "use v8, v1 or disabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(append([]string{"grok"}, tt.args...), &out, &errb); code != tt.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tt.code, errb.String())
			}
			if out.String() != tt.stdout {
				t.Errorf("stdout %q, want %q", out.String(), tt.stdout)
			}
			if !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("stderr %q lacks %q", errb.String(), tt.stderr)
			}
		})
	}
}

// grok tries the fields of match in the order they are written, as
// Logstash does: with break_on_match, the first field that matches is the
// only one whose captures are kept. (HCL objects reach plugins as maps,
// which used to sort the fields.)
func TestGrokTriesMatchFieldsInWrittenOrder(t *testing.T) {
	for _, tc := range []struct{ first, second string }{{"zeta", "alpha"}, {"alpha", "zeta"}} {
		cfg := writeFile(t, "p.hcl", fmt.Sprintf(`
input "generator" "gen" {
  lines = ["word"]
  count = 1
}
filter "expr" "fields" {
  set = { "[alpha]" = "'a'", "[zeta]" = "'z'" }
}
filter "grok" "g" {
  match = { %[1]s = "%%{WORD:from_%[1]s}", %[2]s = "%%{WORD:from_%[2]s}" }
}
output "stdout" "out" { codec = "json_lines" }
`, tc.first, tc.second))
		cmd := exec.Command(gostashBin, "-f", cfg, "--log.level", "warn")
		cmd.Dir = t.TempDir()
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("gostash: %v", err)
		}
		events := jsonEvents(t, string(out))
		if len(events) != 1 {
			t.Fatalf("%d events out: %s", len(events), out)
		}
		e := events[0]
		if _, ok := e["from_"+tc.first]; !ok {
			t.Errorf("match {%s, %s}: the first field's capture is missing: %v", tc.first, tc.second, e)
		}
		if _, ok := e["from_"+tc.second]; ok {
			t.Errorf("match {%s, %s}: the second field was tried after the first matched: %v", tc.first, tc.second, e)
		}
	}
}
