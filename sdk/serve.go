package sdk

import (
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/gostash/gostash/sdk/internal/wire"
)

// pluginLogger writes hclog JSON to stderr, which the core parses and
// re-emits under the plugin's name.
var pluginLogger = hclog.New(&hclog.LoggerOptions{
	Name:       "plugin",
	Level:      hclog.LevelFromString(envOr(wire.EnvLogLevel, "info")),
	Output:     os.Stderr,
	JSONFormat: true,
})

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// handshakeOut is the process's real stdout, kept for go-plugin's
// handshake line. Until Serve runs, fd 1 points at stderr, so a plugin
// (or a library it uses) that prints to stdout during init cannot break
// the handshake.
var handshakeOut *os.File

func init() {
	if os.Getenv(wire.Handshake.MagicCookieKey) != wire.Handshake.MagicCookieValue {
		return // not started by the core: leave stdio alone
	}
	fd, err := syscall.Dup(1)
	if err != nil {
		return
	}
	handshakeOut = os.NewFile(uintptr(fd), "handshake")
	_ = syscall.Dup2(2, 1)
}

// Serve serves every registered component over the plugin protocol. A
// plugin binary's main calls it, after its components registered in init:
//
//	func main() { sdk.Serve() }
func Serve() {
	if handshakeOut != nil {
		os.Stdout = handshakeOut
	}
	// A stop signal sent to the whole process group (Ctrl-C in a terminal,
	// systemd stopping the unit, `timeout`) must not kill plugins before
	// the core has drained them: the core stops them itself, after its
	// outputs have flushed. SIGHUP (a closed terminal) stops the core the
	// same way.
	signal.Ignore(os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go watchParent()
	stopProfile := wire.StartCPUProfile("plugin")
	defer stopProfile()
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  wire.Handshake,
		VersionedPlugins: wire.PluginSets(newServer(pluginLogger)),
		Logger:           pluginLogger,
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(append(opts,
				grpc.MaxRecvMsgSize(wire.MaxMessageBytes),
				grpc.MaxSendMsgSize(wire.MaxMessageBytes),
				grpc.InitialWindowSize(16<<20),
				grpc.InitialConnWindowSize(64<<20),
				grpc.ReadBufferSize(1<<20),
				grpc.WriteBufferSize(1<<20),
			), wire.GRPCServerOptions()...)...)
		},
	})
}

// Stdout is the pipeline's standard output: what the stdout output writes
// to. Inside a plugin process it is the core's stdout, not the process's.
func Stdout() io.Writer { return wire.Stdout() }

// Stdin is the pipeline's standard input. Only a component whose spec says
// ReadsStdin gets the core's stdin; for the others it is empty.
func Stdin() io.Reader { return wire.Stdin() }

// watchParent ends the process when the core is gone. The core also sets
// a parent-death signal, but that cannot cover every way a process can be
// started (a plugin run under a debugger, another OS).
func watchParent() {
	parent := os.Getppid()
	for range time.Tick(500 * time.Millisecond) {
		if os.Getppid() != parent {
			pluginLogger.Error("gostash core is gone; exiting")
			os.Exit(3)
		}
	}
}
