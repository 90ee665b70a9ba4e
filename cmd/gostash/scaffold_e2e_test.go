package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A new plugin's go.mod asks for the Go the SDK itself needs.
func TestScaffoldGoVersionIsTheSDKs(t *testing.T) {
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	if m == nil || string(m[1]) != scaffoldGoVersion {
		t.Fatalf("go.mod says go %s, the scaffold writes go %s: make them equal", m[1], scaffoldGoVersion)
	}
}

// `gostash plugin new` writes a module that passes `make test`, builds
// with `make build`, and whose example.hcl runs unchanged, for each kind.
// It builds against this checkout, offline, from the module cache.
func TestPluginNewBuildsAndRuns(t *testing.T) {
	checkout, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "GOPROXY=off") // the module cache only
	for _, tc := range []struct {
		kind string
		// check looks at what `gostash -f example.hcl` did.
		check func(t *testing.T, dir, stdout string)
	}{
		{"filter", func(t *testing.T, _, stdout string) {
			events := jsonEvents(t, stdout)
			if len(events) != 2 || events[0]["geo_ip"].(map[string]any)["length"] != float64(5) {
				t.Errorf("want 2 events with [geo_ip][length] 5 first, got %v", events)
			}
		}},
		{"input", func(t *testing.T, _, stdout string) {
			events := jsonEvents(t, stdout)
			if len(events) != 3 || events[2]["message"] != "hello 3 from geo_ip" {
				t.Errorf("want the input's 3 events, got %v", events)
			}
		}},
		{"output", func(t *testing.T, dir, _ string) {
			got, err := os.ReadFile(filepath.Join(dir, "geo_ip.log"))
			if err != nil || string(got) != "hello\ngostash\n" {
				t.Errorf("the output's file: %q, %v", got, err)
			}
		}},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "gostash-geo_ip")
			run := func(name string, args ...string) string {
				t.Helper()
				cmd := exec.Command(name, args...)
				cmd.Dir, cmd.Env = dir, env
				var errb strings.Builder
				cmd.Stderr = &errb
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, errb.String())
				}
				return string(out)
			}
			cmd := exec.Command(gostashBin, "plugin", "new", tc.kind, "geo_ip", dir, "--sdk", checkout)
			cmd.Env = env
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("plugin new: %v\n%s", err, out)
			}
			for _, f := range []string{"go.mod", "Makefile", "README.md", "example.hcl", "main.go", tc.kind + ".go", tc.kind + "_test.go"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("the scaffold lacks %s", f)
				}
			}
			run("make", "test")
			run("make", "build")
			if out := run(gostashBin, "--configtest", "-f", "example.hcl"); !strings.Contains(out, "Configuration OK") {
				t.Fatalf("configtest of example.hcl: %s", out)
			}
			tc.check(t, dir, run(gostashBin, "-f", "example.hcl"))
		})
	}
}

func TestPluginNewRefusesBadInput(t *testing.T) {
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"codec", "x", t.TempDir()}, 2, "give filter, input or output"},
		{[]string{"filter", "Geo-IP", t.TempDir()}, 2, "use lower-case letters"},
		{[]string{"filter", "x", full}, 1, "is not empty: give a new directory"},
		{[]string{"filter", "x", t.TempDir(), "--sdk", t.TempDir()}, 2, "not the root of a gostash checkout"},
		{[]string{"filter", "x"}, 2, "takes filter|input|output NAME DIR, got 2"},
	} {
		_, stderr, code := gostash(t, "", append([]string{"plugin", "new"}, tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("plugin new %v: exit %d, want %d and %q:\n%s", tc.args, code, tc.code, tc.want, stderr)
		}
	}
}
