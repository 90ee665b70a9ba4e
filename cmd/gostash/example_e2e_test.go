package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/gostash/gostash/core/pluginhost"
	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// The example plugin is its own module, which `go test ./...` here does
// not reach: its own vet, tests and Example functions run from here.
func TestExamplePluginModuleTests(t *testing.T) {
	for _, args := range [][]string{{"vet", "./..."}, {"test", "-count=1", "./..."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = shoutModule
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), shoutModule, err, out)
		}
	}
}

// The example's pipeline runs unchanged through the built binary, over
// the real protocol, and its README's settings table is its schema's.
func TestExamplePluginEndToEnd(t *testing.T) {
	bin := sharedModulePlugin(t, shoutModule, "./cmd/gostash-shout")
	checkShoutExample(t, shoutModule, bin)

	reg := pluginhost.NewRegistry("", &pluginv1.Catalog{})
	if err := reg.AddBinary(context.Background(), "shout", bin, "", hclog.NewNullLogger()); err != nil {
		t.Fatal(err)
	}
	if checkSettingsTables(t, filepath.Join(shoutModule, "README.md"), reg) != 1 {
		t.Error("the example's README has no generated settings table")
	}
}

// checkShoutExample runs the shout module's example.hcl, unchanged, in a
// directory beside the built binary, as its README says to.
func checkShoutExample(t *testing.T, module, bin string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.Symlink(bin, filepath.Join(dir, "gostash-shout")); err != nil {
		t.Fatal(err)
	}
	copyFile(t, filepath.Join(module, "example.hcl"), filepath.Join(dir, "example.hcl"))
	cmd := exec.Command(gostashBin, "-f", "example.hcl")
	cmd.Dir = dir
	var errb strings.Builder
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gostash -f example.hcl: %v\n%s", err, errb.String())
	}
	events := jsonEvents(t, string(out))
	if len(events) != 2 || events[0]["message"] != "HELLO" || events[1]["message"] != "WORLD" {
		t.Fatalf("want HELLO and WORLD from the plugin, got %v", events)
	}
}
