//go:build ignore

// gen_legacy vendors the legacy (non-ECS) pattern set from
// github.com/vjeantet/grok: its pattern files as they are, plus the
// pattern map its Go code carries (newer than its files, and unexported,
// so it cannot be imported) as one more file that loads last.
//
//	go run gen_legacy.go
package main

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

const module = "github.com/vjeantet/grok@v1.0.1"

func main() {
	out, err := exec.Command("go", "mod", "download", "-json", module).Output()
	check(err)
	var info struct{ Dir string }
	check(json.Unmarshal(out, &info))
	dst := filepath.Join("patterns", "legacy")
	check(os.MkdirAll(dst, 0o755))
	files, err := filepath.Glob(filepath.Join(info.Dir, "patterns", "*"))
	check(err)
	header := "# Vendored from " + module + " (Apache License 2.0, see LICENSE in this folder)\n# by gen_legacy.go: do not edit.\n"
	for _, f := range files {
		data, err := os.ReadFile(f)
		check(err)
		check(os.WriteFile(filepath.Join(dst, filepath.Base(f)), append([]byte(header), data...), 0o644))
	}
	lic, err := os.ReadFile(filepath.Join(info.Dir, "LICENSE"))
	check(err)
	check(os.WriteFile(filepath.Join(dst, "LICENSE"), lic, 0o644))

	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(info.Dir, "patterns.go"), nil, 0)
	check(err)
	m := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		kv, ok := n.(*ast.KeyValueExpr)
		if !ok {
			return true
		}
		k, ok1 := kv.Key.(*ast.BasicLit)
		v, ok2 := kv.Value.(*ast.BasicLit)
		if ok1 && ok2 {
			ks, err1 := strconv.Unquote(k.Value)
			vs, err2 := strconv.Unquote(v.Value)
			check(err1)
			check(err2)
			m[ks] = vs
		}
		return false
	})
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(header)
	b.WriteString("# The pattern map of patterns.go, which the library uses instead of its\n# grok-patterns file; it loads after the files, so it wins.\n")
	for _, k := range names {
		fmt.Fprintf(&b, "%s %s\n", k, m[k])
	}
	check(os.WriteFile(filepath.Join(dst, "zz-patterns-go-map"), []byte(b.String()), 0o644))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
