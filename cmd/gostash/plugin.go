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
	"github.com/gostash/gostash/sdk/host"
)

// listCmd is `gostash plugin list`.
func listCmd(o *options, stdout, stderr io.Writer) int {
	reg := discoverAll(o, stderr)
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
}

func kindName(e pluginhost.Entry) string {
	return strings.ToLower(e.Component.Kind.String())
}

// discoverAll returns the built-ins and every third-party plugin found.
// A lock file in force holds here too: listing a plugin starts it.
func discoverAll(o *options, stderr io.Writer) *pluginhost.Registry {
	_, hl := loggers(o, stderr)
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil
	}
	reg := pluginhost.NewRegistry(self, host.Catalog())
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
