package sdk

import "fmt"

// Diagnostic is a problem with a block's settings. Path names the setting
// (then map keys or list indexes) so the core can point at its source.
type Diagnostic struct {
	Warning bool
	Summary string
	Detail  string
	Path    []string
}

func (d Diagnostic) Error() string {
	if d.Detail != "" {
		return d.Summary + ": " + d.Detail
	}
	return d.Summary
}

// Diagnostics is a list of problems.
type Diagnostics []Diagnostic

// Errorf adds an error at path.
func (ds *Diagnostics) Errorf(path []string, format string, args ...any) {
	*ds = append(*ds, Diagnostic{Summary: fmt.Sprintf(format, args...), Path: path})
}

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if !d.Warning {
			return true
		}
	}
	return false
}

// Err returns the first error as an error, or nil.
func (ds Diagnostics) Err() error {
	for _, d := range ds {
		if !d.Warning {
			return d
		}
	}
	return nil
}
