package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/gostash/gostash/core/pluginhost"
	"github.com/gostash/gostash/sdk/host"
)

var updateREADMEs = flag.Bool("update-readmes", false, "rewrite the generated settings tables of the plugins' READMEs")

var settingsBlock = regexp.MustCompile(`(?s)(<!-- settings: ([a-z]+/[a-z_]+) -->\n)(.*?)(<!-- /settings -->)`)

// A plugin README's settings table is generated from the plugin's schema
// (the table of `gostash plugin describe KIND/NAME --format markdown`),
// so the two never disagree. This rewrites them, with the example's and
// docs/plugin-reference.md:
//
//	go test ./cmd/gostash -run 'READMEs|Example|PluginReference' -args -update-readmes
func TestPluginREADMEsSettingsTablesAreCurrent(t *testing.T) {
	reg := pluginhost.NewRegistry(gostashBin, host.Catalog())
	readmes, _ := filepath.Glob("../../plugins/*/*/README.md")
	checked := 0
	for _, path := range readmes {
		checked += checkSettingsTables(t, path, reg)
	}
	if checked == 0 {
		t.Fatal("no README has a generated settings table")
	}
}

// checkSettingsTables compares the generated settings tables of the README
// at path with the schemas of reg's plugins (rewriting them with
// -update-readmes) and returns how many it checked.
func checkSettingsTables(t *testing.T, path string, reg *pluginhost.Registry) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var failed bool
	checked := 0
	out := settingsBlock.ReplaceAllFunc(data, func(m []byte) []byte {
		sub := settingsBlock.FindSubmatch(m)
		found := lookupPlugin(reg, string(sub[2]), os.Stderr)
		if len(found) != 1 {
			t.Errorf("%s: %s names no single plugin", path, sub[2])
			return m
		}
		want := settingsMarkdown(found[0])
		if string(sub[3]) != want {
			failed = true
		}
		checked++
		return append(append(append([]byte{}, sub[1]...), want...), sub[4]...)
	})
	if !failed {
		return checked
	}
	if *updateREADMEs {
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return checked
	}
	t.Errorf("%s: the settings table differs from the plugin's schema; run `go test ./cmd/gostash -run 'READMEs|Example|PluginReference' -args -update-readmes`", path)
	return checked
}
