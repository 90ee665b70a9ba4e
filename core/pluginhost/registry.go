package pluginhost

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/host"
	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// Source is a binary that serves components: gostash itself for the
// built-ins, or a third-party plugin.
type Source struct {
	Name    string
	Path    string
	Args    []string
	SHA256  string
	Builtin bool
	Catalog *pluginv1.Catalog
}

// Spec returns how to start a process of this source.
func (s *Source) Spec(name string, stdin bool) Spec {
	args := s.Args
	if s.Builtin {
		// Named on the command line so `ps` shows which process is which.
		args = append(append([]string(nil), args...), "--process", name)
	}
	return Spec{Name: name, Path: s.Path, Args: args, SHA256: s.SHA256, Stdin: stdin}
}

// Entry is one component and where it comes from.
type Entry struct {
	Component *pluginv1.Component
	Source    *Source
}

// Registry knows every component the core can run and which binary
// serves it.
type Registry struct {
	entries map[string]Entry // "kind/type"
	lock    Lock
}

// Lock pins third-party plugin binaries, by absolute path, to their
// sha256 (`gostash plugin lock`). File names the lock file in messages.
type Lock struct {
	File   string
	SHA256 map[string]string
}

// SetLock makes the registry start only the plugin binaries the lock
// names, each checked against its sha256 before every start.
func (r *Registry) SetLock(l Lock) { r.lock = l }

// NewRegistry starts with the built-in components, served by the gostash
// binary at self as `self plugin serve`.
func NewRegistry(self string, builtin *pluginv1.Catalog) *Registry {
	r := &Registry{entries: map[string]Entry{}}
	r.add(&Source{Name: "builtin", Path: self, Args: []string{"plugin", "serve"}, Builtin: true, Catalog: builtin})
	return r
}

func entryKey(k sdk.Kind, typ string) string { return k.String() + "/" + typ }

// add registers a source's components; a later source does not replace
// an earlier one (built-ins win, then plugin blocks, then discovery).
func (r *Registry) add(src *Source) []string {
	var clashes []string
	for _, c := range src.Catalog.Components {
		k := entryKey(kindFromProto(c.Kind), c.Name)
		if old, ok := r.entries[k]; ok {
			clashes = append(clashes, fmt.Sprintf("%s (already served by %s)", k, old.Source.Name))
			continue
		}
		r.entries[k] = Entry{Component: c, Source: src}
	}
	return clashes
}

func kindFromProto(k pluginv1.Kind) sdk.Kind {
	switch k {
	case pluginv1.Kind_INPUT:
		return sdk.KindInput
	case pluginv1.Kind_FILTER:
		return sdk.KindFilter
	case pluginv1.Kind_OUTPUT:
		return sdk.KindOutput
	}
	return 0
}

// AddBinary starts a third-party plugin binary, asks for its catalog and
// stops it again.
func (r *Registry) AddBinary(ctx context.Context, name, path, sha string, logger hclog.Logger) error {
	// "" means no checksum; anything else must be one, or a typo would
	// start the binary unchecked or never match.
	sha = strings.ToLower(sha)
	if sha != "" && !isSHA256(sha) {
		return fmt.Errorf("plugin %q: sha256 %q is not 64 hex digits: give what `sha256sum %s` prints", name, sha, path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("plugin %q: %w", name, err)
	}
	if r.lock.SHA256 != nil {
		if sha, err = r.locked(name, abs, sha); err != nil {
			return err
		}
	}
	src := &Source{Name: name, Path: abs, SHA256: sha}
	proc, err := Start(ctx, src.Spec(name, false), logger)
	if err != nil {
		return err
	}
	defer proc.Kill()
	cat, err := proc.Describe(ctx)
	if err != nil {
		return fmt.Errorf("plugin %q: describe: %w", name, err)
	}
	if err := checkMinor(name, abs, cat); err != nil {
		return err
	}
	src.Catalog = cat
	if clashes := r.add(src); len(clashes) > 0 {
		logger.Warn("plugin components ignored: names already taken", "plugin", name, "components", strings.Join(clashes, ", "))
	}
	return nil
}

// locked checks the binary at abs against the lock before it is ever
// started and returns the sha256 every later start checks.
func (r *Registry) locked(name, abs, sha string) (string, error) {
	relock := "if the plugin changed on purpose, run `gostash plugin lock` with this pipeline again"
	want, ok := r.lock.SHA256[abs]
	switch {
	case !ok:
		return "", fmt.Errorf("plugin %q (%s) is not in the lock file %s, so it is not started: to use it, run `gostash plugin lock` with this pipeline again", name, abs, r.lock.File)
	case sha != "" && sha != want:
		return "", fmt.Errorf("plugin %q: the plugin block's sha256 %s and the lock file %s's %s differ: fix the one that is wrong", name, sha, r.lock.File, want)
	}
	got, err := FileSHA256(abs)
	if err != nil {
		return "", err
	}
	if got != want {
		return "", fmt.Errorf("plugin %q: %s has sha256 %s, the lock file %s expects %s: refusing to start it; %s", name, abs, got, r.lock.File, want, relock)
	}
	return want, nil
}

// checkMinor refuses a plugin of a newer revision of protocol v1 than
// the core's: revisions only add fields, and a newer plugin may count on
// one this core never sends. Older revisions load.
func checkMinor(name, path string, cat *pluginv1.Catalog) error {
	if cat.ProtocolMinor <= host.ProtocolMinor {
		return nil
	}
	return fmt.Errorf("plugin %q (%s) speaks gostash plugin protocol v1.%d, this gostash speaks v1.%d: "+
		"upgrade gostash, or rebuild the plugin with an SDK that speaks v1.%d (SDK %s)",
		name, path, cat.ProtocolMinor, host.ProtocolMinor, host.ProtocolMinor, host.SDKVersion)
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Discover adds every executable named gostash-* in dirs (missing dirs
// are skipped). It returns the problems it met, which do not stop it.
func (r *Registry) Discover(ctx context.Context, dirs []string, logger hclog.Logger) []error {
	var errs []error
	for _, dir := range dirs {
		matches, _ := filepath.Glob(filepath.Join(dir, "gostash-*"))
		sort.Strings(matches)
		for _, m := range matches {
			fi, err := os.Stat(m)
			if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
				continue
			}
			name := strings.TrimPrefix(filepath.Base(m), "gostash-")
			if err := r.AddBinary(ctx, name, m, "", logger); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}

// Get returns the component of that kind and type.
func (r *Registry) Get(k sdk.Kind, typ string) (Entry, bool) {
	e, ok := r.entries[entryKey(k, typ)]
	return e, ok
}

// Lookup returns a component's settings (config.Schemas).
func (r *Registry) Lookup(k sdk.Kind, typ string) ([]sdk.Field, bool) {
	e, ok := r.Get(k, typ)
	if !ok {
		return nil, false
	}
	return FieldsFromProto(e.Component), true
}

// WantsStdin reports whether a component reads gostash's standard input
// (config.StdinSchemas).
func (r *Registry) WantsStdin(k sdk.Kind, typ string) bool {
	e, ok := r.Get(k, typ)
	return ok && e.Component.WantsStdin
}

// Types lists the components of a kind (config.Schemas).
func (r *Registry) Types(k sdk.Kind) []string {
	var out []string
	for _, e := range r.entries {
		if kindFromProto(e.Component.Kind) == k {
			out = append(out, e.Component.Name)
		}
	}
	sort.Strings(out)
	return out
}

// All returns every component, sorted by kind and name.
func (r *Registry) All() []Entry {
	out := make([]Entry, 0, len(r.entries))
	for _, e := range r.entries {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Component.Kind != out[j].Component.Kind {
			return out[i].Component.Kind < out[j].Component.Kind
		}
		return out[i].Component.Name < out[j].Component.Name
	})
	return out
}

// FieldsFromProto converts a component's attributes to sdk fields.
func FieldsFromProto(c *pluginv1.Component) []sdk.Field {
	out := make([]sdk.Field, 0, len(c.Attributes))
	for _, a := range c.Attributes {
		f := sdk.Field{Name: a.Name, Type: sdk.Type(a.Type), Required: a.Required, Doc: a.Doc, OneOf: a.OneOf}
		if len(a.DefaultJson) > 0 {
			_ = json.Unmarshal(a.DefaultJson, &f.Default)
		}
		for _, b := range a.ExamplesJson {
			var ex any
			if json.Unmarshal(b, &ex) == nil {
				f.Examples = append(f.Examples, ex)
			}
		}
		out = append(out, f)
	}
	return out
}
