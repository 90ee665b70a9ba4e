package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `gostash plugin lock` pins the plugin binaries a pipeline uses; a later
// run refuses a binary that changed, and one the lock does not name,
// with what to do.
func TestPluginLock(t *testing.T) {
	dir := t.TempDir()
	shout := filepath.Join(dir, "gostash-shout")
	copyFile(t, sharedModulePlugin(t, shoutModule, "./cmd/gostash-shout"), shout)
	tagger := filepath.Join(dir, "gostash-testplugin")
	copyFile(t, sharedPlugin(t, "./testdata/testplugin"), tagger)
	pipeline := func(plugins ...string) string {
		var b strings.Builder
		for _, p := range plugins {
			fmt.Fprintf(&b, "plugin %q { path = %q }\n", strings.TrimPrefix(filepath.Base(p), "gostash-"), p)
		}
		b.WriteString(`
input "generator" "gen" { count = 1 }
filter "shout" "loud" {}
output "null" "out" {}
`)
		return b.String()
	}
	cfg := filepath.Join(dir, "p.hcl")
	if err := os.WriteFile(cfg, []byte(pipeline(shout)), 0o644); err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(dir, "gostash.lock")
	gs := func(args ...string) (string, string, int) {
		t.Helper()
		return gostash(t, "", append(args, "--plugin.lock", lock)...)
	}

	// A named lock file that does not exist is an error, not "no lock".
	if _, stderr, code := gs("-t", "-f", cfg); code != 1 || !strings.Contains(stderr, "gostash plugin lock -f PIPELINE --plugin.lock "+lock) {
		t.Fatalf("a missing --plugin.lock: exit %d\n%s", code, stderr)
	}
	stdout, stderr, code := gs("plugin", "lock", "-f", cfg)
	if code != 0 || !strings.Contains(stdout, "locked 1 plugin binaries in "+lock) {
		t.Fatalf("plugin lock: exit %d\n%s%s", code, stdout, stderr)
	}
	data, _ := os.ReadFile(lock)
	if !strings.Contains(string(data), sha256File(t, shout)) || strings.Contains(string(data), "testplugin") {
		t.Fatalf("the lock file must hold the shout binary's sha256, and only what the pipeline uses:\n%s", data)
	}
	if _, stderr, code := gs("-f", cfg); code != 0 {
		t.Fatalf("a run with the plugin as locked: exit %d\n%s", code, stderr)
	}

	// The binary changes: nothing starts.
	f, err := os.OpenFile(shout, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte("tampered"))
	f.Close()
	_, stderr, code = gs("-f", cfg)
	text := strings.Join(strings.Fields(stderr), " ")
	if code != 1 || !strings.Contains(text, "the lock file "+lock+" expects") || !strings.Contains(text, "run `gostash plugin lock` with this pipeline again") {
		t.Fatalf("a changed plugin binary must not start: exit %d\n%s", code, stderr)
	}

	// A plugin the lock does not name is not started.
	if err := os.WriteFile(cfg, []byte(pipeline(shout, tagger)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = gs("-t", "-f", cfg)
	if text := strings.Join(strings.Fields(stderr), " "); code != 1 || !strings.Contains(text, "is not in the lock file "+lock) {
		t.Fatalf("an unlocked plugin must not start: exit %d\n%s", code, stderr)
	}

	// Locking again takes the new binary.
	if _, stderr, code := gs("plugin", "lock", "-f", cfg); code != 0 {
		t.Fatalf("relock: exit %d\n%s", code, stderr)
	}
	if stdout, stderr, code := gs("-t", "-f", cfg); code != 0 || !strings.Contains(stdout, "Configuration OK") {
		t.Fatalf("after relocking: exit %d\n%s%s", code, stdout, stderr)
	}

	// A plugin found on the plugin path is locked and checked the same way.
	if err := os.WriteFile(cfg, []byte(pipeline()), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := gs("plugin", "lock", "-f", cfg, "--path.plugins", dir); code != 0 {
		t.Fatalf("lock with discovery: exit %d\n%s", code, stderr)
	}
	if data, _ := os.ReadFile(lock); !strings.Contains(string(data), shout) || strings.Contains(string(data), tagger) {
		t.Fatalf("the lock must name the discovered shout binary the pipeline uses, and nothing else:\n%s", data)
	}
	copyFile(t, tagger, shout) // another binary under the locked name
	_, stderr, code = gs("-t", "-f", cfg, "--path.plugins", dir)
	if text := strings.Join(strings.Fields(stderr), " "); code != 1 || !strings.Contains(text, "the lock file "+lock+" expects") {
		t.Fatalf("a changed discovered plugin must not start: exit %d\n%s", code, stderr)
	}
	// Listing plugins starts them: the lock holds there too.
	stdout, stderr, code = gs("plugin", "list", "--path.plugins", dir)
	if code != 0 || strings.Contains(stdout, "shout") || !strings.Contains(stderr, "the lock file "+lock+" expects") {
		t.Fatalf("plugin list must not start a binary the lock refuses: exit %d\n%s%s", code, stdout, stderr)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o755); err != nil {
		t.Fatal(err)
	}
}
