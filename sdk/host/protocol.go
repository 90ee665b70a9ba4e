package host

import (
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/internal/wire"
	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// Handshake is what the core and a plugin binary check before they talk.
var Handshake = wire.Handshake

// PluginName is the go-plugin name under which the protocol is served.
const PluginName = wire.PluginName

// ProtocolMinor is the revision of protocol v1 this SDK speaks (the
// revisions are listed at Catalog.protocol_minor in plugin.proto).
const ProtocolMinor = wire.ProtocolMinor

// SDKVersion is the version of the SDK built into this binary, which a
// scaffolded plugin module requires.
const SDKVersion = wire.SDKVersion

// MaxMessageBytes bounds one gRPC message either way.
const MaxMessageBytes = wire.MaxMessageBytes

// The environment the core gives its plugin processes.
const (
	// EnvLogLevel carries the core's --log.level.
	EnvLogLevel = wire.EnvLogLevel
	// EnvStdoutFD names the file descriptor of the core's stdout.
	EnvStdoutFD = wire.EnvStdoutFD
	// EnvCPUProfileDir names a directory where every gostash process
	// (core and plugins) writes a CPU profile, <dir>/<process>-<pid>.pprof.
	EnvCPUProfileDir = wire.EnvCPUProfileDir
	// EnvTraceDir names a directory where every gostash process writes an
	// execution trace, <dir>/<process>-<pid>.trace.
	EnvTraceDir = wire.EnvTraceDir
)

// PluginSets is the versioned plugin map the core gives go-plugin.
func PluginSets() map[int]plugin.PluginSet { return wire.PluginSets(nil) }

// GRPCDialOptions install the pooled buffers and the codec that reads
// batches in place on the core's side of a plugin connection.
func GRPCDialOptions() []grpc.DialOption { return wire.GRPCDialOptions() }

// StartCPUProfile starts a CPU profile when EnvCPUProfileDir is set, and
// an execution trace when EnvTraceDir is, and returns the function that
// stops them.
func StartCPUProfile(name string) (stop func()) { return wire.StartCPUProfile(name) }

// Messages read in place: a batch's events alias the buffer gRPC received
// them in until Release gives it back to the pool. Release only when
// nothing uses the events any more; a message never released is simply
// collected.
type (
	InputMessage    = wire.InputMessage
	ProcessResponse = wire.ProcessResponse
	WriteRequest    = wire.WriteRequest
)

// Catalog describes the components registered in this process as the
// protocol sends them.
func Catalog() *pluginv1.Catalog { return sdkAPI.Catalog() }

// KindToProto converts a Kind to its wire form.
func KindToProto(k sdk.Kind) pluginv1.Kind { return sdkAPI.KindToProto(k) }

// KindFromProto converts a Kind from its wire form (0 if unknown).
func KindFromProto(k pluginv1.Kind) sdk.Kind { return sdkAPI.KindFromProto(k) }

// DiagnosticsToProto converts diagnostics to their wire form.
func DiagnosticsToProto(ds sdk.Diagnostics) []*pluginv1.Diagnostic {
	return sdkAPI.DiagnosticsToProto(ds)
}

// DiagnosticsFromProto converts diagnostics from their wire form.
func DiagnosticsFromProto(pds []*pluginv1.Diagnostic) sdk.Diagnostics {
	return sdkAPI.DiagnosticsFromProto(pds)
}

// ValidateComponent runs the common options' checks and the component's
// own, as a plugin process does for --configtest. It never connects
// anywhere.
func ValidateComponent(comp *sdk.Component, cfg *sdk.Config) sdk.Diagnostics {
	return sdkAPI.ValidateComponent(comp, cfg)
}

// EnvDataPlane chooses how the core carries the streams Read, Process and
// Write: "unix" (the default) over a plugin's data plane socket when it
// offers one, "grpc" always over gRPC.
const EnvDataPlane = "GOSTASH_DATA_PLANE"

// DataPlaneClient is rpc with its streams over the data plane a plugin
// process answered Open with; the unary calls stay on rpc.
func DataPlaneClient(rpc pluginv1.PluginClient, plane *pluginv1.DataPlane) pluginv1.PluginClient {
	return wire.RawPlaneClient{PluginClient: rpc, Plane: &wire.RawPlane{Socket: plane.UnixSocket, Token: plane.Token}}
}
