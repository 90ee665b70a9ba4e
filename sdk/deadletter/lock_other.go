//go:build !unix

package deadletter

import "os"

func lock(*os.File) (func(), error) { return func() {}, nil }

// CanClean says whether RemoveConsumed works on this system: without
// flock a writer could append to a file being removed.
const CanClean = false
