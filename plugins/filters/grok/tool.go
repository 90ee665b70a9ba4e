package grok

import (
	"fmt"
	"maps"
	"time"

	"github.com/gostash/gostash/sdk"
)

// Options are the settings of Compile, for tools that run a pattern
// outside a pipeline (gostash grok).
type Options struct {
	// ECS is ecs_compatibility: "disabled" for the legacy patterns, "v1"
	// or "v8" (the default) for the ECS ones.
	ECS string
	// Definitions are extra patterns (pattern_definitions).
	Definitions map[string]string
	// PatternsDirs are read as patterns_dir (all files).
	PatternsDirs []string
	// AllCaptures is named_captures_only = false.
	AllCaptures bool
}

// Compile compiles a pattern as the filter does.
func Compile(pattern string, o Options) (*Pattern, error) {
	if o.ECS == "" {
		o.ECS = "v8"
	}
	defs := maps.Clone(standardPatterns(o.ECS))
	if err := loadPatternsDirs(o.PatternsDirs, "*", defs); err != nil {
		return nil, err
	}
	maps.Copy(defs, o.Definitions)
	return compile(pattern, compileOptions{defs: defs, namedCapturesOnly: !o.AllCaptures})
}

// Fields runs the pattern on line and returns the fields the filter
// would set on an event that has none (types converted, repeated names
// as lists), or ok false when it does not match.
func (p *Pattern) Fields(line string, timeout time.Duration) (fields map[string]any, ok bool, err error) {
	caps, m, ok, err := p.exec(line, timeout)
	if m != nil {
		defer m.Release()
	}
	if err != nil {
		return nil, false, fmt.Errorf("timed out after %v", timeout)
	}
	if !ok {
		return nil, false, nil
	}
	e := sdk.NewEmptyEvent()
	f := &filter{keepEmpty: false}
	for i := range p.caps {
		if a := caps[2*i]; a >= 0 {
			f.handle(e, &p.caps[i], line[a:caps[2*i+1]])
		}
	}
	return e.Fields(), true, nil
}
