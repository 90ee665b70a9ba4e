//go:build !unix

package main

import "os"

// lockDataDir does not lock where flock(2) is missing.
func lockDataDir(string) (*os.File, error) { return nil, nil }
