package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

const frozenV1 = "testdata/compat/shout-v1"

// frozenV1Sum pins the frozen copy: a test that a change could edit to
// pass would pin nothing.
const frozenV1Sum = "23c1ae03cfc52fac2e993a350cb72386348e6b51874a9f8e26b32148942b4f53"

// A plugin written for protocol v1 keeps building against the SDK and
// loading in gostash: a frozen copy of the example plugin, never edited,
// runs its pipeline through the current core.
func TestFrozenV1PluginStillLoads(t *testing.T) {
	h := sha256.New()
	err := filepath.WalkDir(frozenV1, func(path string, d fs.DirEntry, err error) error {
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
	if got := hex.EncodeToString(h.Sum(nil)); got != frozenV1Sum {
		t.Fatalf("%s changed (sha256 %s): it must stay as it was written; add a new frozen copy instead", frozenV1, got)
	}
	checkShoutExample(t, frozenV1, buildFrozen(t, frozenV1))
}

// buildFrozen builds a frozen plugin module as its author would against a
// later gostash: in a copy, with go.mod and go.sum updated to the SDK's
// current dependencies (the checkout's go.sum supplies the checksums,
// so the module cache suffices). The source is not touched.
func buildFrozen(t *testing.T, module string) string {
	t.Helper()
	checkout, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	err = filepath.WalkDir(module, func(path string, d fs.DirEntry, err error) error {
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
	sums, err := os.ReadFile(filepath.Join(checkout, "go.sum"))
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
		{"mod", "edit", "-replace", "github.com/gostash/gostash=" + checkout},
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
