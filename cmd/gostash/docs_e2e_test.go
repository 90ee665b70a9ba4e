package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gostash/gostash/core/config"
	"github.com/gostash/gostash/sdk"
)

// `plugin describe --format markdown` renders a plugin's reference from
// its schema, a third-party binary's over the protocol, examples included.
func TestPluginDescribeMarkdown(t *testing.T) {
	stdout, stderr, code := gostash(t, "", "plugin", "describe", "output/stdout", "--format", "markdown")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, want := range []string{
		"## output `stdout`\n\nPrints events to standard output.",
		"| `codec` | `rubydebug`, `json_lines`, `line`, `dots` | `\"rubydebug\"` |",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("describe --format markdown lacks %q:\n%s", want, stdout)
		}
	}

	bin := sharedPlugin(t, "./testdata/testplugin")
	stdout, stderr, code = gostash(t, "", "plugin", "describe", bin, "--format=markdown")
	if code != 0 {
		t.Fatalf("describe %s: exit %d\n%s", bin, code, stderr)
	}
	for _, want := range []string{
		"## filter `tagger`\n\nTags every event with its tag setting.\n\nVersion 0.1.0, plugin binary `" + bin + "`.",
		"| `tag` | string | (required) | The tag to add. Example: `tag = \"seen\"`. |",
		"## output `slow`",
		"| `delay` | duration | `\"100ms\"` |",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the third-party plugin's markdown lacks %q:\n%s", want, stdout)
		}
	}

	_, stderr, code = gostash(t, "", "plugin", "describe", "generator", "--format", "html")
	if code != 2 || !strings.Contains(stderr, "use text or markdown") {
		t.Errorf("an unknown format: exit %d, want 2 and what to use:\n%s", code, stderr)
	}
}

// `gostash docs` is the reference of every plugin found: each built-in
// and the third-party plugins on the plugin path.
func TestDocsListsEveryPlugin(t *testing.T) {
	bin := sharedPlugin(t, "./testdata/testplugin")
	stdout, stderr, code := gostash(t, "", "docs", "--path.plugins", filepath.Dir(bin))
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, c := range sdk.Components() {
		if h := "## " + c.Kind.String() + " `" + c.Name + "`\n"; !strings.Contains(stdout, h) {
			t.Errorf("gostash docs lacks the built-in %s %s", c.Kind, c.Name)
		}
	}
	if !strings.Contains(stdout, "## filter `tagger`\n") || !strings.Contains(stdout, "The tag to add.") {
		t.Errorf("gostash docs lacks the third-party plugin found on --path.plugins:\n%s", stdout)
	}
}

// docs/plugin-reference.md is `gostash docs` of the built-ins: a test
// fails when it is stale, and -update-readmes rewrites it.
func TestPluginReferenceIsCurrent(t *testing.T) {
	cmd := exec.Command(gostashBin, "docs")
	cmd.Dir = t.TempDir() // no ./plugins here
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, config.EnvPluginPath+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gostash docs: %v", err)
	}
	const path = "../../docs/plugin-reference.md"
	old, _ := os.ReadFile(path)
	if string(old) == string(out) {
		return
	}
	if *updateREADMEs {
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s differs from `gostash docs`; run `go test ./cmd/gostash -run 'READMEs|Example|PluginReference' -args -update-readmes`", path)
}
