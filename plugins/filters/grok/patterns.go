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
	"sort"
	"strings"
	"sync"
)

// The two standard pattern sets, as Logstash's ecs_compatibility picks
// them: "disabled" gives the legacy set (clientip, verb, response...),
// "v1" and "v8" the ECS set ([source][address], [http][request][method]...).
//
// Both are Logstash's own files, vendored unchanged from
// logstash-patterns-core (see patterns/logstash/README.md for the
// release), so a pattern matches and names its fields as in Logstash.

//go:embed patterns/logstash/legacy patterns/logstash/ecs-v1
var logstashFiles embed.FS

var (
	legacyOnce, ecsOnce sync.Once
	legacySet, ecsSet   map[string]string
)

// standardPatterns returns the built-in set for an ecs_compatibility
// value. The map is shared: copy it before adding to it.
func standardPatterns(ecsMode string) map[string]string {
	if ecsMode == "disabled" {
		legacyOnce.Do(func() { legacySet = loadEmbedded("patterns/logstash/legacy") })
		return legacySet
	}
	ecsOnce.Do(func() { ecsSet = loadEmbedded("patterns/logstash/ecs-v1") })
	return ecsSet
}

// loadEmbedded reads a vendored pattern directory in lexical order, as
// Logstash reads its patterns directory.
func loadEmbedded(dir string) map[string]string {
	set := map[string]string{}
	entries, err := fs.ReadDir(logstashFiles, dir)
	if err != nil {
		panic("grok: " + err.Error())
	}
	for _, e := range entries {
		f, err := logstashFiles.Open(path.Join(dir, e.Name()))
		if err != nil {
			panic("grok: " + err.Error())
		}
		if err := readPatterns(f, set); err != nil {
			panic(fmt.Sprintf("grok: %s/%s: %v", dir, e.Name(), err)) // TestStandardPatternsCompile says where
		}
		f.Close()
	}
	return set
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
