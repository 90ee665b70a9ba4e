package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/gostash/gostash/core/api"
)

// apiOptions are the monitoring API's flags, spelled as Logstash's
// settings are.
type apiOptions struct {
	enabled     bool
	host        string
	ports       string // "9600" or "9600-9700"
	allowRemote bool
}

// serveAPI starts the monitoring API over the pipelines list returns;
// the returned func stops it.
func serveAPI(ctx context.Context, o *options, dataDir string, ls []*loaded, log *slog.Logger, list func() []api.Pipeline) (func(), error) {
	ln, err := api.Listen(o.api.host, o.api.ports, o.api.allowRemote)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	node := api.Node{
		ID: nodeID(dataDir, log), EphemeralID: newUUID(), Name: host, Host: host,
		Version: version, Plugins: pluginList(ls),
	}
	srv := api.NewLive(node, list)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ctx, ln); err != nil {
			log.Error("monitoring API stopped", "error", err)
		}
	}()
	log.Info("monitoring API listening", "address", "http://"+ln.Addr().String())
	return func() { cancel(); <-done }, nil
}

// nodeID is this installation's id, kept in <path.data>/uuid as Logstash
// keeps it, so a restart reports the same node.
func nodeID(dataDir string, log *slog.Logger) string {
	path := filepath.Join(dataDir, "uuid")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b))
	}
	id := newUUID()
	if err := os.WriteFile(path, []byte(id), 0o644); err != nil {
		log.Warn("cannot keep the node id; the API reports a new one each run", "path", path, "error", err)
	}
	return id
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// pluginList is every component this process can run, for /_node/plugins:
// the built-ins and each pipeline's third-party plugins.
func pluginList(ls []*loaded) []api.Plugin {
	var out []api.Plugin
	seen := map[api.Plugin]bool{}
	for _, l := range ls {
		for _, e := range l.registry.All() {
			src := "builtin"
			if !e.Source.Builtin {
				src = e.Source.Name
			}
			p := api.Plugin{Name: e.Component.Name, Type: strings.ToLower(e.Component.Kind.String()), Version: e.Component.Version, Source: src}
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}
