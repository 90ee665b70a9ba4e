package main

import (
	"bytes"
	"embed"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"

	"github.com/gostash/gostash/sdk/host"
)

// scaffoldFS holds the files `gostash plugin new` writes, one template
// each; a kind's own files are named KIND.go.tmpl and KIND_test.go.tmpl.
//
//go:embed scaffold/*.tmpl
var scaffoldFS embed.FS

// scaffoldGoVersion is the go directive of a new plugin's go.mod: the
// SDK module's own (a test keeps them equal).
const scaffoldGoVersion = "1.26.8"

// sdkModule is the module path a plugin requires.
const sdkModule = "github.com/gostash/gostash"

var pluginName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// scaffold is what the templates are given.
type scaffold struct {
	Kind, Name, Bin, Module, Summary string
	GoVersion, SDKVersion            string
	// SDKDir, when set, is a gostash checkout the module builds against.
	SDKDir string
}

var kindSummaries = map[string]string{
	"filter": "it sets `[NAME][length]` to the length of a string field.",
	"input":  "it publishes `count` greetings, then ends.",
	"output": "it appends each event's message to a file.",
}

// newPluginCmd is `gostash plugin new KIND NAME DIR`: a ready Go module
// for a third-party plugin.
func newPluginCmd(pos []string, module, sdkDir string, stdout, stderr io.Writer) int {
	s := scaffold{Kind: pos[0], Name: pos[1], Bin: "gostash-" + pos[1], Module: module,
		GoVersion: scaffoldGoVersion, SDKVersion: "v" + host.SDKVersion}
	if _, ok := kindSummaries[s.Kind]; !ok {
		fmt.Fprintf(stderr, "unknown plugin kind %q: give filter, input or output\n", s.Kind)
		return 2
	}
	if !pluginName.MatchString(s.Name) {
		fmt.Fprintf(stderr, "plugin name %q: use lower-case letters, digits and _, starting with a letter (it is the type pipelines name)\n", s.Name)
		return 2
	}
	s.Summary = strings.ReplaceAll(kindSummaries[s.Kind], "NAME", s.Name)
	if s.Module == "" {
		s.Module = s.Bin
	}
	if sdkDir != "" {
		dir, err := checkoutDir(sdkDir)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		s.SDKDir = dir
	}
	dir := pos[2]
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		fmt.Fprintf(stderr, "%s is not empty: give a new directory\n", dir)
		return 1
	}
	if err := writeScaffold(dir, s); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	// go.mod lists what the SDK needs, so that `make` works without a
	// `go mod tidy` first. -e: a checksum missing for a dependency's own
	// tests (offline, with --sdk) does not stop it.
	tidy := exec.Command("go", "mod", "tidy", "-e")
	tidy.Dir = dir
	if out, err := tidy.CombinedOutput(); err != nil {
		fmt.Fprintf(stderr, "warning: go mod tidy in %s failed (%v); run it there once the module proxy is reachable:\n%s", dir, err, out)
	}
	fmt.Fprintf(stdout, "wrote the %s plugin %q in %s; next:\n  cd %s && make test && make build && gostash -f example.hcl\n", s.Kind, s.Name, dir, dir)
	return 0
}

// checkoutDir checks that dir is the root of a gostash checkout and
// returns its absolute path.
func checkoutDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	mod, err := os.ReadFile(filepath.Join(abs, "go.mod"))
	if err != nil || !bytes.HasPrefix(mod, []byte("module "+sdkModule+"\n")) {
		return "", fmt.Errorf("--sdk %s: not the root of a gostash checkout (its go.mod declares %s)", dir, sdkModule)
	}
	return abs, nil
}

func writeScaffold(dir string, s scaffold) error {
	files := map[string]string{ // written name -> template
		"go.mod":            "go.mod.tmpl",
		".gitignore":        "gitignore.tmpl",
		"Makefile":          "Makefile.tmpl",
		"README.md":         "README.md.tmpl",
		"example.hcl":       "example.hcl.tmpl",
		"main.go":           "main.go.tmpl",
		s.Kind + ".go":      s.Kind + ".go.tmpl",
		s.Kind + "_test.go": s.Kind + "_test.go.tmpl",
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, tmpl := range files {
		// << >> delimit actions: Go code has {{ of its own.
		t, err := template.New(tmpl).Delims("<<", ">>").ParseFS(scaffoldFS, "scaffold/"+tmpl)
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := t.Execute(&b, s); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	if s.SDKDir != "" {
		// The checkout's checksums (a superset) let the module build
		// offline from the module cache; go mod tidy trims them.
		sum, err := os.ReadFile(filepath.Join(s.SDKDir, "go.sum"))
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644)
	}
	return nil
}
