// Command gostash-shout is the shout filter's plugin binary. Build it and
// point a pipeline's plugin block at it:
//
//	go build -o gostash-shout ./cmd/gostash-shout
//
//	plugin "shout" { path = "./gostash-shout" }
package main

import (
	"github.com/gostash/gostash/sdk"

	_ "github.com/gostash/gostash/sdk/examples/shout" // registers the filter
)

func main() { sdk.Serve() }
