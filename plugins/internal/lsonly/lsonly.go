// Package lsonly declares the settings of Logstash's plugins that gostash
// does not implement, so that a configuration copied from Logstash that
// uses one is told what to do, by --configtest, instead of "unknown
// setting", and never has it silently ignored.
package lsonly

import (
	"fmt"

	"github.com/gostash/gostash/sdk"
)

// Kind says how gostash treats a setting it does not implement.
type Kind int

const (
	// Unsupported: a feature gostash lacks; ignoring it would change what
	// the pipeline does, so it is an error.
	Unsupported Kind = iota
	// Ignored: a tuning knob gostash has no use for (what it tunes is done
	// otherwise here); a warning, and the pipeline runs.
	Ignored
	// Removed: Logstash itself removed it; an error naming what replaced it.
	Removed
)

// Setting is one Logstash setting gostash does not implement.
type Setting struct {
	Name string
	Kind Kind
	// Instead says what to do: "use X", "remove it: ...".
	Instead string
	// Harmless are values that ask for what gostash does anyway (the
	// setting's Logstash default, typically): a warning, not an error.
	Harmless []string
}

var docPrefix = map[Kind]string{
	Unsupported: "Not supported (an error): ",
	Ignored:     "Ignored (a warning): ",
	Removed:     "Removed from Logstash (an error): ",
}

// Fields declares the settings, so that they are known to the schema and
// listed, with what to do, in the plugin's settings table.
func Fields(s *sdk.Spec, list []Setting) *sdk.Spec {
	for _, x := range list {
		s.Field(sdk.Any(x.Name).Doc(docPrefix[x.Kind] + x.Instead))
	}
	return s
}

// Check reports each of the settings that is set. plugin names the
// plugin in the messages ("kafka input").
func Check(c *sdk.Config, plugin string, list []Setting) sdk.Diagnostics {
	var ds sdk.Diagnostics
	for _, x := range list {
		v := c.Raw(x.Name)
		if v == nil {
			continue
		}
		d := sdk.Diagnostic{Path: []string{x.Name}, Detail: x.Instead}
		switch {
		case harmless(v, x.Harmless):
			d.Warning = true
			d.Summary = fmt.Sprintf("%s = %v is what gostash's %s does anyway; the setting is ignored", x.Name, v, plugin)
		case x.Kind == Ignored:
			d.Warning = true
			d.Summary = fmt.Sprintf("%s has no effect in gostash's %s and is ignored", x.Name, plugin)
		case x.Kind == Removed:
			d.Summary = fmt.Sprintf("%s was removed from Logstash's %s", x.Name, plugin)
		default:
			d.Summary = fmt.Sprintf("%s is a setting of Logstash's %s that gostash does not support", x.Name, plugin)
		}
		ds = append(ds, d)
	}
	return ds
}

func harmless(v any, values []string) bool {
	s := fmt.Sprint(v)
	for _, h := range values {
		if s == h {
			return true
		}
	}
	return false
}
