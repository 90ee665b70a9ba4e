package main

import (
	"fmt"
	"strings"
	"testing"
)

// --log.level reaches plugin processes: a plugin's debug line is in the
// log when the operator asks for debug, and only then.
func TestLogLevelReachesPluginProcesses(t *testing.T) {
	bin := sharedPlugin(t, "./testdata/testplugin")
	cfg := fmt.Sprintf(`
plugin "testplugin" { path = %q }
input "generator" "gen" { count = 1 }
filter "tagger" "t" { tag = "seen" }
output "null" "out" {}
`, bin)
	_, stderr, code := gostash(t, "", "--log.level", "debug", "-e", cfg)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "tagger debug detail") {
		t.Errorf("with --log.level debug, the plugin's debug line is missing:\n%s", stderr)
	}
	_, stderr, code = gostash(t, "", "-e", cfg)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if strings.Contains(stderr, "tagger debug detail") {
		t.Errorf("at the default level, the plugin wrote a debug line:\n%s", stderr)
	}
	if !strings.Contains(stderr, "tagger opened") {
		t.Errorf("the plugin's warning is missing:\n%s", stderr)
	}
}
