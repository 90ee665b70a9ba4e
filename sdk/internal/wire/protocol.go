// Package wire is the plugin protocol's transport, shared by both sides:
// the go-plugin handshake, the gRPC options and the pooled codec that
// reads batches in place, and the process plumbing (stdout, profiles).
// Nothing here knows an event; package sdk encodes and decodes them.
// sdk/host re-exports what the core needs.
package wire

import (
	"context"
	"errors"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// Handshake is what the core and a plugin binary check before they talk.
// The cookie only tells a person who runs a plugin binary by hand what it
// is; it is not security.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "GOSTASH_PLUGIN",
	MagicCookieValue: "7b0c2e4a-gostash-plugin",
}

// PluginName is the go-plugin name under which the protocol is served.
const PluginName = "gostash"

// ProtocolMinor is the revision of protocol v1 this SDK speaks (the
// revisions are listed at Catalog.protocol_minor in plugin.proto).
const ProtocolMinor = 1

// SDKVersion is the SDK's version. 0.2.0: Filter.Filter became Filter.Apply
// and the engine's side moved to sdk/host (the protocol did not change).
const SDKVersion = "0.2.0"

// MaxMessageBytes bounds one gRPC message either way. grpc-go's server
// default of 4 MiB would reject large batches; the core splits batches
// well below this.
const MaxMessageBytes = 256 << 20

// EnvLogLevel carries the core's --log.level to its plugin processes, so
// that a plugin's debug lines are written when the core would show them.
const EnvLogLevel = "GOSTASH_LOG_LEVEL"

// GRPCPlugin binds the protocol to go-plugin on both sides: Server is the
// plugin side's implementation, nil on the core's side.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl pluginv1.PluginServer
}

// GRPCServer registers the plugin side.
func (p GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.Impl == nil {
		return errors.New("gostash: no plugin server to register")
	}
	pluginv1.RegisterPluginServer(s, p.Impl)
	return nil
}

// GRPCClient returns the core side's client.
func (GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return pluginv1.NewPluginClient(c), nil
}

// PluginSets is the versioned plugin map both sides give go-plugin; the
// core passes a nil server.
func PluginSets(server pluginv1.PluginServer) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{1: {PluginName: GRPCPlugin{Impl: server}}}
}
