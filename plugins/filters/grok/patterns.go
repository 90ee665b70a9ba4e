package grok

import (
	"bufio"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	ecs "github.com/elastic/go-grok/patterns"
)

// The two standard pattern sets, as Logstash's ecs_compatibility picks
// them: "disabled" gives the legacy set (clientip, verb, response...),
// "v1" and "v8" the ECS set ([source][address], [http][request][method]...).
//
// Both come from libraries that already adapted Logstash's patterns to Go:
// the legacy set is vendored from github.com/vjeantet/grok (its pattern
// map is unexported, so gen_legacy.go copies it), the ECS set is imported
// from github.com/elastic/go-grok. Where their field names or matches
// differ from Logstash's, overrides.go puts Logstash's back.

//go:embed patterns/legacy
var legacyFiles embed.FS

var (
	legacyOnce, ecsOnce sync.Once
	legacySet, ecsSet   map[string]string
)

// standardPatterns returns the built-in set for an ecs_compatibility
// value. The map is shared: copy it before adding to it.
func standardPatterns(ecsMode string) map[string]string {
	if ecsMode == "disabled" {
		legacyOnce.Do(func() {
			legacySet = map[string]string{}
			entries, _ := fs.ReadDir(legacyFiles, "patterns/legacy")
			for _, e := range entries { // lexical order: the map file loads last
				if e.Name() == "LICENSE" {
					continue
				}
				f, _ := legacyFiles.Open(path.Join("patterns/legacy", e.Name()))
				_ = readPatterns(f, legacySet)
				f.Close()
			}
			if err := applyLegacyEdits(legacySet); err != nil {
				panic("grok: " + err.Error()) // the vendored data changed: TestStandardPatternsCompile says where
			}
		})
		return legacySet
	}
	ecsOnce.Do(func() {
		ecsSet = map[string]string{}
		for _, m := range []map[string]string{
			ecs.Default, ecs.AWS, ecs.Bind9, ecs.Bro, ecs.Exim, ecs.Firewalls, ecs.HAProxy,
			ecs.Httpd, ecs.Java, ecs.Junos, ecs.Maven, ecs.MCollective, ecs.MongoDB,
			ecs.PostgreSQL, ecs.Rails, ecs.Redis, ecs.Ruby, ecs.Squid, ecs.Syslog,
		} {
			for k, v := range m {
				ecsSet[k] = fromGoGrok(v)
			}
		}
		for k, v := range ecsOverrides {
			ecsSet[k] = v
		}
	})
	return ecsSet
}

var (
	goGrokRef   = regexp.MustCompile(`%\{(\w+):([\w.@]+)(?::(\w+))?\}`)
	goGrokGroup = regexp.MustCompile(`\(\?P?<(\w+)>`)
)

// fromGoGrok rewrites go-grok's conventions into Logstash's: go-grok
// writes ECS paths with dots (source.address, or source___address in
// group names) where Logstash writes [source][address], and types long
// and double where Logstash has int and float.
func fromGoGrok(def string) string {
	def = goGrokRef.ReplaceAllStringFunc(def, func(s string) string {
		m := goGrokRef.FindStringSubmatch(s)
		out := "%{" + m[1] + ":" + dotsToRef(m[2])
		switch m[3] {
		case "":
		case "int", "long":
			out += ":int"
		case "float", "double":
			out += ":float"
		}
		return out + "}"
	})
	return goGrokGroup.ReplaceAllStringFunc(def, func(s string) string {
		name := goGrokGroup.FindStringSubmatch(s)[1]
		return "(?<" + dotsToRef(strings.ReplaceAll(name, "___", ".")) + ">"
	})
}

func dotsToRef(name string) string {
	if !strings.Contains(name, ".") {
		return name
	}
	return "[" + strings.ReplaceAll(name, ".", "][") + "]"
}

// readPatterns reads a pattern file: one "NAME regex" a line, # comments.
// Later definitions of a name win, as in Logstash.
func readPatterns(r io.Reader, into map[string]string) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		i := strings.IndexAny(text, " \t")
		if i < 0 {
			return fmt.Errorf("line %d: %q has a name but no pattern: write NAME REGEX", line, text)
		}
		into[text[:i]] = strings.TrimLeft(text[i+1:], " \t")
	}
	return sc.Err()
}

// loadPatternsDirs reads patterns_dir as Logstash does: each entry is a
// directory (its files matching glob are read) or a file, in lexical
// order.
func loadPatternsDirs(dirs []string, glob string, into map[string]string) error {
	if glob == "" {
		glob = "*"
	}
	for _, d := range dirs {
		st, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("patterns_dir %q: %w", d, err)
		}
		files := []string{d}
		if st.IsDir() {
			if files, err = filepath.Glob(filepath.Join(d, glob)); err != nil {
				return fmt.Errorf("patterns_files_glob %q: %w", glob, err)
			}
			sort.Strings(files)
		}
		for _, f := range files {
			if fi, err := os.Stat(f); err != nil || fi.IsDir() {
				continue
			}
			fh, err := os.Open(f)
			if err != nil {
				return fmt.Errorf("patterns_dir: %w", err)
			}
			err = readPatterns(fh, into)
			fh.Close()
			if err != nil {
				return fmt.Errorf("pattern file %s: %w", f, err)
			}
		}
	}
	return nil
}
