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

// pluginCmd is `gostash plugin serve|list|describe`.
func pluginCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: gostash plugin list | describe NAME | serve")
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
		args = args[1:]
		markdown := len(args) > 0 && args[0] == "--markdown"
		if markdown {
			args = args[1:]
		}
		if len(args) < 1 {
			fmt.Fprintln(stderr, "usage: gostash plugin describe [--markdown] NAME (e.g. gostash plugin describe generator, or output/stdout)")
			return 2
		}
		reg := discoverAll(args[1:], stderr)
		if reg == nil {
			return 2
		}
		if markdown {
			return describeMarkdown(reg, args[0], stdout, stderr)
		}
		return describe(reg, args[0], stdout, stderr)
	}
	fmt.Fprintf(stderr, "unknown plugin command %q: use list, describe or serve\n", args[0])
	return 2
}

func kindName(e pluginhost.Entry) string {
	return strings.ToLower(e.Component.Kind.String())
}

// discoverAll returns the built-ins and every third-party plugin found.
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

// describeMarkdown prints a component's settings as the Markdown table of
// its README (the plugin's own settings; the common ones are the same
// for every plugin of a kind and documented in docs/pipeline-language.md).
func describeMarkdown(reg *pluginhost.Registry, name string, stdout, stderr io.Writer) int {
	found := lookupPlugin(reg, name, stderr)
	if len(found) != 1 {
		if len(found) > 1 {
			fmt.Fprintf(stderr, "%q names several plugins: say which, such as input/%s\n", name, name)
		}
		return 1
	}
	fmt.Fprint(stdout, settingsMarkdown(found[0]))
	return 0
}

func settingsMarkdown(e pluginhost.Entry) string {
	common := map[string]bool{}
	for _, k := range []sdk.Kind{sdk.KindInput, sdk.KindFilter, sdk.KindOutput} {
		if k.String() == kindName(e) {
			for _, f := range sdk.CommonFields(k) {
				common[f.Name] = true
			}
		}
	}
	var b strings.Builder
	b.WriteString("| Setting | Type | Default | Description |\n|---|---|---|---|\n")
	for _, f := range pluginhost.FieldsFromProto(e.Component) {
		if common[f.Name] {
			continue
		}
		typ := string(f.Type)
		if len(f.OneOf) > 0 {
			typ = "`" + strings.Join(f.OneOf, "`, `") + "`"
		}
		def := defaultText(f)
		if def != "-" && def != "(required)" {
			def = "`" + def + "`"
		}
		doc := strings.ReplaceAll(f.Doc, "|", "\\|")
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", f.Name, typ, def, doc)
	}
	return b.String()
}

// describe prints a component's settings.
func describe(reg *pluginhost.Registry, name string, stdout, stderr io.Writer) int {
	found := lookupPlugin(reg, name, stderr)
	if len(found) == 0 {
		return 1
	}
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
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", f.Name, f.Type, def, doc)
		}
		_ = tw.Flush()
	}
	return 0
}
