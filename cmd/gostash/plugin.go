package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/gostash/gostash/core/pluginhost"
	"github.com/gostash/gostash/sdk"
)

const pluginUsage = `usage: gostash plugin COMMAND
  list                                 list built-in and discovered plugins
  describe NAME|PATH [--format text|markdown]
                                       show a plugin's settings (NAME such as generator or output/file,
                                       or the path of a plugin binary)
  new filter|input|output NAME DIR [--module PATH] [--sdk GOSTASH_CHECKOUT]
                                       write a ready Go module for a new plugin
  lock -f PIPELINE [--plugin.lock FILE]
                                       pin the plugin binaries the pipeline uses to their sha256
  serve                                serve the built-in plugins (the core starts this)`

// pluginCmd is `gostash plugin serve|list|describe`.
func pluginCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, pluginUsage)
		return 2
	}
	switch args[0] {
	case "serve":
		// Started by the core as a plugin process: serve the built-ins.
		sdk.Serve()
		return 0
	case "list":
		reg := discoverAll(args[1:], stderr)
		if reg == nil {
			return 2
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KIND\tNAME\tVERSION\tSOURCE\tSUMMARY")
		for _, e := range reg.All() {
			src := "built-in"
			if !e.Source.Builtin {
				src = e.Source.Path
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", kindName(e), e.Component.Name, e.Component.Version, src, e.Component.Summary)
		}
		_ = tw.Flush()
		return 0
	case "describe":
		return describeCmd(args[1:], stdout, stderr)
	case "new":
		return newPluginCmd(args[1:], stdout, stderr)
	case "lock":
		return lockCmd(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "unknown plugin command %q\n%s\n", args[0], pluginUsage)
	return 2
}

func kindName(e pluginhost.Entry) string {
	return strings.ToLower(e.Component.Kind.String())
}

// discoverAll returns the built-ins and every third-party plugin found.
// A lock file in force holds here too: listing a plugin starts it.
func discoverAll(args []string, stderr io.Writer) *pluginhost.Registry {
	o, err := parseFlags(args, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil
	}
	_, hl := loggers(o, stderr)
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil
	}
	reg := pluginhost.NewRegistry(self, sdk.Catalog())
	lock, err := readLock(o)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil
	}
	reg.SetLock(lock)
	for _, err := range reg.Discover(context.Background(), pluginDirs(o), hl) {
		fmt.Fprintln(stderr, "warning:", err)
	}
	return reg
}

// lookupPlugin finds the components called name: "generator", or
// "input/generator" when a name is used by several kinds.
func lookupPlugin(reg *pluginhost.Registry, name string, stderr io.Writer) []pluginhost.Entry {
	kindFilter := ""
	if k, n, ok := strings.Cut(name, "/"); ok {
		kindFilter, name = k, n
	}
	var found []pluginhost.Entry
	for _, e := range reg.All() {
		if e.Component.Name == name && (kindFilter == "" || kindName(e) == kindFilter) {
			found = append(found, e)
		}
	}
	if len(found) == 0 {
		fmt.Fprintf(stderr, "no plugin named %q; `gostash plugin list` shows them all\n", name)
	}
	return found
}

// defaultText is how a setting's default is shown.
func defaultText(f sdk.Field) string {
	switch {
	case f.Required:
		return "(required)"
	case f.Default == nil:
		return "-"
	}
	switch d := f.Default.(type) {
	case string:
		return fmt.Sprintf("%q", d)
	case float64: // JSON numbers: print whole ones as integers
		if d == float64(int64(d)) {
			return fmt.Sprintf("%d", int64(d))
		}
	case []any:
		b, _ := json.Marshal(d)
		return string(b)
	}
	return fmt.Sprintf("%v", f.Default)
}

// describeText prints components' settings for a terminal.
func describeText(found []pluginhost.Entry, stdout io.Writer) {
	for i, e := range found {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		c := e.Component
		fmt.Fprintf(stdout, "%s %q (version %s)\n  %s\n\nSettings:\n", kindName(e), c.Name, c.Version, c.Summary)
		fields := pluginhost.FieldsFromProto(c)
		sort.SliceStable(fields, func(i, j int) bool { return fields[i].Required && !fields[j].Required })
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  NAME\tTYPE\tDEFAULT\tDESCRIPTION")
		for _, f := range fields {
			def := defaultText(f)
			doc := f.Doc
			if len(f.OneOf) > 0 {
				doc += " One of: " + strings.Join(f.OneOf, ", ") + "."
			}
			if ex := examplesText(f, ""); ex != "" {
				doc += " Example: " + ex + "."
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", f.Name, f.Type, def, doc)
		}
		_ = tw.Flush()
	}
}
