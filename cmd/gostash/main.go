// Command gostash runs pipelines: `gostash -f pipeline.hcl`.
//
// The same binary serves the built-in plugins: the core re-executes it as
// `gostash plugin serve` for each plugin process it needs.
package main

import (
	"context"
	"os"

	"github.com/gostash/gostash/core/pluginhost"
	_ "github.com/gostash/gostash/plugins/all" // the built-in plugins
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "0.1.0-dev"

func main() {
	code := run(os.Args[1:], os.Stdout, os.Stderr)
	pluginhost.RemoveRunDir() // its plugin processes are stopped by now
	os.Exit(code)
}

// signalContext is cancelled on the first SIGINT/SIGTERM
// (graceful stop); the second one exits at once.
func signalContext(log interface{ Warn(string, ...any) }) (context.Context, context.CancelFunc) {
	return notifyTwice(log)
}
