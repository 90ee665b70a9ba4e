package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/gostash/gostash/core/pluginhost"
)

// lockFile is what `gostash plugin lock` writes: the plugin binaries a
// pipeline uses, pinned to their sha256. Later runs start no other.
type lockFile struct {
	Comment string       `json:"comment"`
	Plugins []lockedPlug `json:"plugins"`
}

type lockedPlug struct {
	Name   string `json:"name"`
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

const lockComment = "Written by `gostash plugin lock`: gostash starts only these plugin binaries, and only while their sha256 matches. Run it again after updating a plugin."

// readLock reads the lock file of o. A missing default lock file means no
// lock; a missing one named with --plugin.lock is an error.
func readLock(o *options) (pluginhost.Lock, error) {
	data, err := os.ReadFile(o.lockFile)
	if errors.Is(err, fs.ErrNotExist) && !o.lockFileSet {
		return pluginhost.Lock{}, nil
	}
	if err != nil {
		return pluginhost.Lock{}, fmt.Errorf("--plugin.lock: %w: write it with `gostash plugin lock -f PIPELINE --plugin.lock %s`", err, o.lockFile)
	}
	var lf lockFile
	if err := json.Unmarshal(data, &lf); err != nil {
		return pluginhost.Lock{}, fmt.Errorf("lock file %s: %v: write it again with `gostash plugin lock`", o.lockFile, err)
	}
	l := pluginhost.Lock{File: o.lockFile, SHA256: map[string]string{}}
	for _, p := range lf.Plugins {
		l.SHA256[p.Path] = p.SHA256
	}
	return l, nil
}

// lockCmd is `gostash plugin lock -f PIPELINE`: it checks the pipeline as
// --configtest does, ignoring any lock in force, and writes the lock file.
func lockCmd(o *options, stdout, stderr io.Writer) int {
	if len(o.paths) == 0 && o.inline == "" {
		fmt.Fprintln(stderr, "usage: gostash plugin lock -f PIPELINE [--plugin.lock FILE]: give the pipeline whose plugins to lock")
		return 2
	}
	o.noLock = true // the old lock would refuse the plugins being relocked
	_, hl := loggers(o, stderr)
	l, ok := load(context.Background(), o, hl, stderr)
	if !ok {
		fmt.Fprintln(stderr, "the pipeline has errors: nothing locked")
		return 1
	}
	// What a run starts: every plugin block's binary, and the discovered
	// binaries that serve the pipeline's blocks (the built-ins are
	// gostash itself).
	binaries := map[string]string{} // path -> name
	for _, decl := range l.cfg.Plugins {
		if abs, err := filepath.Abs(decl.Path); err == nil {
			binaries[abs] = decl.Name
		}
	}
	for _, b := range l.cfg.Blocks() {
		if e, ok := l.registry.Get(b.Kind, b.Type); ok && !e.Source.Builtin {
			binaries[e.Source.Path] = e.Source.Name
		}
	}
	lf := lockFile{Comment: lockComment, Plugins: []lockedPlug{}}
	for path, name := range binaries {
		sum, err := pluginhost.FileSHA256(path)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		lf.Plugins = append(lf.Plugins, lockedPlug{Name: name, Path: path, SHA256: sum})
	}
	sort.Slice(lf.Plugins, func(i, j int) bool { return lf.Plugins[i].Path < lf.Plugins[j].Path })
	data, _ := json.MarshalIndent(lf, "", "  ")
	if err := os.WriteFile(o.lockFile, append(data, '\n'), 0o644); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "locked %d plugin binaries in %s\n", len(lf.Plugins), o.lockFile)
	return 0
}
