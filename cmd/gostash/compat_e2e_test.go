package main

import (
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

const frozenV1 = "testdata/compat/shout-v1"

// frozenV2 is the example plugin as written for SDK 0.2 (Filter.Apply).
// shout-v1's source stopped building at 0.2, by the rename; its binary
// built against sdk-v0.1 still loads.
const frozenV2 = "testdata/compat/shout-v2"

// frozenSDKV01 is the SDK's sdk and sdk/proto/v1 packages as gostash
// 0.1.0 shipped them (protocol v1.1), a module of their own with the
// dependency versions of that release.
const frozenSDKV01 = "testdata/compat/sdk-v0.1"

// The sums pin the frozen copies: a test that a change could edit to pass
// would pin nothing.
const (
	frozenV1Sum     = "23c1ae03cfc52fac2e993a350cb72386348e6b51874a9f8e26b32148942b4f53"
	frozenV2Sum     = "92bc844a1e290625809eff4e8caf46ebcdc3ddabfaa366076393a97da3a3300d"
	frozenSDKV01Sum = "62b26fcfe722a4c1c89f8a631f0129d58ce763f5c4f4bc8a78bba4a52a7368b2"
)

// A plugin written for SDK 0.2 keeps building against the SDK and
// loading in gostash: a frozen copy of the example plugin, never edited,
// runs its pipeline through the current core.
func TestFrozenV2PluginStillLoads(t *testing.T) {
	checkFrozen(t, frozenV2, frozenV2Sum)
	checkout, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	checkShoutExample(t, frozenV2, buildFrozen(t, frozenV2, checkout))
}

// A plugin binary built with the SDK of gostash 0.1.0 keeps loading: the
// frozen plugin, built against a frozen copy of that SDK's runtime, runs
// its pipeline through the current core. Whatever the SDK's wire code
// becomes, this binary speaks protocol v1 as 0.1.0 did.
func TestCompatSDKv01BinaryStillLoads(t *testing.T) {
	checkFrozen(t, frozenV1, frozenV1Sum)
	checkFrozen(t, frozenSDKV01, frozenSDKV01Sum)
	sdk, err := filepath.Abs(frozenSDKV01)
	if err != nil {
		t.Fatal(err)
	}
	bin := buildFrozen(t, frozenV1, sdk)
	// The binary must hold the frozen runtime, not the checkout's.
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var linked string
	for _, d := range info.Deps {
		if d.Path == "github.com/gostash/gostash" && d.Replace != nil {
			linked = d.Replace.Path
		}
	}
	if linked != sdk {
		t.Fatalf("the plugin links the SDK from %q, want the frozen copy %s", linked, sdk)
	}
	checkShoutExample(t, frozenV1, bin)
}

// checkFrozen fails when a frozen copy's files differ from the ones
// pinned by sum.
func checkFrozen(t *testing.T, dir, sum string) {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		h.Write([]byte(filepath.ToSlash(path) + "\x00"))
		h.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		t.Fatalf("%s changed (sha256 %s): it must stay as it was written; add a new frozen copy instead", dir, got)
	}
}

// buildFrozen builds a frozen plugin module as its author would, in a
// copy whose go.mod points github.com/gostash/gostash at sdk (the
// checkout, or a frozen SDK module), with go.mod and go.sum updated to
// that SDK's dependencies (its go.sum supplies the checksums, so the
// module cache suffices). The source is not touched.
func buildFrozen(t *testing.T, module, sdk string) string {
	t.Helper()
	dir := t.TempDir()
	err := filepath.WalkDir(module, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(module, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	sums, err := os.ReadFile(filepath.Join(sdk, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "go.sum"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write(sums)
	f.Close()
	bin := filepath.Join(dir, "gostash-shout")
	for _, args := range [][]string{
		{"mod", "edit", "-replace", "github.com/gostash/gostash=" + sdk},
		{"build", "-mod=mod", "-o", bin, "./cmd/gostash-shout"},
	} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %v in a copy of %s: %v\n%s", args, module, err, out)
		}
	}
	return bin
}
