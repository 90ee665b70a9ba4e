//go:build !unix

package sdktest

import "time"

var start = time.Now()

// cpuTime falls back to wall-clock time where getrusage is missing.
func cpuTime() time.Duration { return time.Since(start) }
