package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// docs/deploy/stage.sh lays out what a package installs; the staged
// binary checks a pipeline as the unit's ExecStartPre would, and the
// completions are real scripts.
func TestPackageStaging(t *testing.T) {
	dest := t.TempDir()
	cmd := exec.Command("sh", "../../docs/deploy/stage.sh", gostashBin)
	cmd.Env = append(os.Environ(), "DESTDIR="+dest)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("stage.sh: %v\n%s", err, out)
	}
	for path, want := range map[string]string{
		"usr/lib/systemd/system/gostash.service":           "ExecStart=/usr/bin/gostash",
		"usr/lib/sysusers.d/gostash.conf":                  "u gostash - ",
		"usr/share/bash-completion/completions/gostash":    "__start_gostash",
		"usr/share/zsh/vendor-completions/_gostash":        "#compdef gostash",
		"usr/share/fish/vendor_completions.d/gostash.fish": "complete -c gostash",
		"usr/share/doc/gostash/operations.md":              "## The log",
	} {
		b, err := os.ReadFile(filepath.Join(dest, path))
		if err != nil || !strings.Contains(string(b), want) {
			t.Errorf("%s: %v, want it to hold %q", path, err, want)
		}
	}
	for _, dir := range []string{"etc/gostash/conf.d", "usr/lib/gostash/plugins"} {
		if fi, err := os.Stat(filepath.Join(dest, dir)); err != nil || !fi.IsDir() {
			t.Errorf("%s: %v", dir, err)
		}
	}
	conf := filepath.Join(dest, "etc/gostash/conf.d")
	writeFileAt(t, filepath.Join(conf, "50-pipeline.hcl"), `input "generator" "gen" { count = 1 }
output "null" "out" {}
`)
	out, err := exec.Command(filepath.Join(dest, "usr/bin/gostash"), "-t", "-f", conf).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Configuration OK") {
		t.Errorf("the staged gostash -t: %v\n%s", err, out)
	}
}
