// Command otherproto is a plugin built without the SDK, as a plugin made
// for another gostash release would be: it speaks the protocol version
// given in OTHERPROTO_VERSION ("2.0", "1.99", "1.0"), so tests can show
// what the core does with a protocol it does or does not know.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

func main() {
	var major, minor int
	if _, err := fmt.Sscanf(os.Getenv("OTHERPROTO_VERSION"), "%d.%d", &major, &minor); err != nil {
		fmt.Fprintln(os.Stderr, "set OTHERPROTO_VERSION to MAJOR.MINOR, such as 2.0")
		os.Exit(1)
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			ProtocolVersion:  uint(major),
			MagicCookieKey:   "GOSTASH_PLUGIN",
			MagicCookieValue: "7b0c2e4a-gostash-plugin",
		},
		VersionedPlugins: map[int]plugin.PluginSet{major: {"gostash": grpcPlugin{minor: uint32(minor)}}},
		GRPCServer:       plugin.DefaultGRPCServer,
	})
}

type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	minor uint32
}

func (p grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pluginv1.RegisterPluginServer(s, server{minor: p.minor})
	return nil
}

func (grpcPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, fmt.Errorf("this plugin is never a client")
}

// server answers the control plane only: enough for --configtest.
type server struct {
	pluginv1.UnimplementedPluginServer
	minor uint32
}

func (s server) Describe(context.Context, *pluginv1.DescribeRequest) (*pluginv1.Catalog, error) {
	return &pluginv1.Catalog{
		ProtocolMinor: s.minor,
		SdkVersion:    "other",
		Components: []*pluginv1.Component{{
			Name: "other", Kind: pluginv1.Kind_FILTER, Version: "1.0.0", Summary: "Does nothing.",
		}},
	}, nil
}

func (server) Validate(context.Context, *pluginv1.ValidateRequest) (*pluginv1.ValidateResponse, error) {
	return &pluginv1.ValidateResponse{}, nil
}
