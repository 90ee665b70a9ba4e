package config

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gostash/gostash/sdk"
)

var update = flag.Bool("update", false, "rewrite testdata/errors/*.golden from the current output")

// TestGoldenErrors loads each testdata/errors case (a .hcl file or a
// directory), decodes it, runs the fake plugin-side checks, and compares
// what `gostash --configtest` would print with <case>.golden.
func TestGoldenErrors(t *testing.T) {
	t.Setenv("GOSTASH_TEST_HOST", "127.0.0.1")
	t.Setenv("GOSTASH_TEST_TOPIC", "logs")
	t.Setenv("GOSTASH_TEST_EMPTY", "")
	t.Setenv("GOSTASH_TEST_SECRET", "hunter2")
	entries, err := os.ReadDir("testdata/errors")
	if err != nil {
		t.Fatal(err)
	}
	cases := 0
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() && !strings.HasSuffix(name, ".hcl") {
			continue
		}
		cases++
		base := strings.TrimSuffix(name, ".hcl")
		t.Run(base, func(t *testing.T) {
			p, diags := Load([]string{filepath.Join("testdata/errors", name)}, "")
			diags = append(diags, p.Decode(testSchemas)...)
			if !diags.HasErrors() {
				for _, b := range p.Blocks() {
					diags = append(diags, b.Diagnostics(pluginValidate(b))...)
				}
			}
			if !diags.HasErrors() {
				t.Fatal("no errors: every case must show at least one")
			}
			var got bytes.Buffer
			WriteDiagnostics(&got, p, diags)
			if strings.Contains(got.String(), "hunter2") {
				t.Errorf("the value of GOSTASH_TEST_SECRET appears in the diagnostics:\n%s", got.String())
			}
			golden := filepath.Join("testdata/errors", base+".golden")
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./core/config -run TestGoldenErrors -update)", err)
			}
			if got.String() != string(want) {
				t.Errorf("output differs from %s (rerun with -update if the change is intended)\n--- got:\n%s\n--- want:\n%s", golden, got.String(), want)
			}
		})
	}
	if cases < 12 {
		t.Errorf("only %d golden cases; the issue asks for at least ten kinds of error", cases)
	}
}

// pluginValidate runs the checks of a real plugin the tests link in
// (plugins_test.go) on a block of its type, and fakeValidate on the others.
func pluginValidate(b *Block) sdk.Diagnostics {
	if _, fake := testSchemas[b.Kind][b.Type]; !fake {
		if comp, ok := sdk.Lookup(b.Kind, b.Type); ok {
			return sdk.ValidateComponent(comp, sdk.NewConfig(b.Config))
		}
	}
	return fakeValidate(b.Config)
}

// fakeValidate plays a plugin's Validate: it rejects every string value
// containing BAD and warns about WARN, naming the path down to the map key
// or list index, so the golden files show where such errors land.
func fakeValidate(cfg map[string]any) sdk.Diagnostics {
	var ds sdk.Diagnostics
	var walk func(path []string, v any)
	walk = func(path []string, v any) {
		switch t := v.(type) {
		case string:
			if strings.Contains(t, "BAD") {
				ds.Errorf(path, "Plugin rejects %q", t)
			}
			if strings.Contains(t, "WARN") {
				ds = append(ds, sdk.Diagnostic{Warning: true, Summary: "Plugin warns about " + strconv.Quote(t), Detail: "A warning does not stop the pipeline.", Path: path})
			}
		case []any:
			for i, x := range t {
				walk(append(path[:len(path):len(path)], strconv.Itoa(i)), x)
			}
		case map[string]any:
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(append(path[:len(path):len(path)], k), t[k])
			}
		}
	}
	walk(nil, cfg)
	return ds
}
