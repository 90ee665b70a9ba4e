package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// A plugin is refused when it speaks a protocol this gostash does not
// know, with both versions named; an older revision of v1 loads.
func TestPluginProtocolVersionIsChecked(t *testing.T) {
	bin := sharedPlugin(t, "./testdata/otherproto")
	cfg := fmt.Sprintf(`
plugin "other" { path = %q }
input "generator" "g" { count = 1 }
filter "other" "o" {}
output "null" "n" {}
`, bin)
	for _, tc := range []struct {
		version string
		code    int
		want    []string
	}{
		{"2.0", 1, []string{"speaks gostash plugin protocol v2, this gostash speaks v1", "rebuild the plugin"}},
		{"1.99", 1, []string{"speaks gostash plugin protocol v1.99, this gostash speaks v1.1", "upgrade gostash"}},
		{"1.0", 0, []string{"Configuration OK"}},
	} {
		t.Run(tc.version, func(t *testing.T) {
			cmd := exec.Command(gostashBin, "-t", "-e", cfg)
			cmd.Dir = t.TempDir()
			cmd.Env = append(os.Environ(), "OTHERPROTO_VERSION="+tc.version)
			out, _ := cmd.CombinedOutput()
			if code := cmd.ProcessState.ExitCode(); code != tc.code {
				t.Fatalf("protocol %s: exit %d, want %d\n%s", tc.version, code, tc.code, out)
			}
			text := strings.Join(strings.Fields(string(out)), " ") // unwrapped
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("protocol %s: the output lacks %q:\n%s", tc.version, w, out)
				}
			}
		})
	}
}
