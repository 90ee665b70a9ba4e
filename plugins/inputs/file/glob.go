package file

import (
	"io/fs"
	"path/filepath"
	"strings"
)

// expandBraces turns "a/{b,c}/*.log" into "a/b/*.log" and "a/c/*.log", as
// Ruby's Dir.glob (and so Logstash) reads braces.
func expandBraces(p string) []string {
	open := strings.IndexByte(p, '{')
	if open < 0 {
		return []string{p}
	}
	depth, end := 0, -1
	var commas []int
	for i := open; i < len(p) && end < 0; i++ {
		switch p[i] {
		case '{':
			depth++
		case '}':
			if depth--; depth == 0 {
				end = i
			}
		case ',':
			if depth == 1 {
				commas = append(commas, i)
			}
		}
	}
	if end < 0 {
		return []string{p} // unbalanced: taken literally
	}
	var out []string
	prev := open + 1
	for _, c := range append(commas, end) {
		for _, rest := range expandBraces(p[:open] + p[prev:c] + p[end+1:]) {
			out = append(out, rest)
		}
		prev = c + 1
	}
	return out
}

// glob returns the files pattern names. Besides filepath.Glob's *, ? and
// [...], a "**" path element matches any number of directories. A
// directory that does not exist or cannot be read matches nothing: a log
// directory may appear later.
func glob(pattern string) []string {
	var out []string
	for _, p := range expandBraces(pattern) {
		if !strings.Contains(p, "**") {
			m, _ := filepath.Glob(p)
			out = append(out, m...)
			continue
		}
		out = append(out, globStars(p)...)
	}
	return out
}

func globStars(pattern string) []string {
	segs := strings.Split(filepath.ToSlash(pattern), "/")
	// The walk starts at the longest prefix without wildcards.
	fixed := 0
	for fixed < len(segs) && !hasMeta(segs[fixed]) {
		fixed++
	}
	root := strings.Join(segs[:fixed], "/")
	if root == "" {
		root = "/"
	}
	rest := segs[fixed:]
	var out []string
	_ = filepath.WalkDir(filepath.FromSlash(root), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable: skip it, keep walking
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(filepath.FromSlash(root), path)
		if err != nil {
			return nil
		}
		if matchSegs(rest, strings.Split(filepath.ToSlash(rel), "/")) {
			out = append(out, path)
		}
		return nil
	})
	return out
}

func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[\`) }

// matchSegs matches path elements against pattern elements, "**" standing
// for zero or more elements.
func matchSegs(pat, path []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(path); i++ {
				if matchSegs(pat[1:], path[i:]) {
					return true
				}
			}
			return false
		}
		if len(path) == 0 {
			return false
		}
		if ok, _ := filepath.Match(pat[0], path[0]); !ok {
			return false
		}
		pat, path = pat[1:], path[1:]
	}
	return len(path) == 0
}
