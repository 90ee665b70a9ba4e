// Package decorate_events is the decorate_events filter: it writes where
// each event came from (Kafka topic, partition, offset, key, timestamp,
// consumer group, headers; file path and byte offset; the host of stdin
// and generator) into the event, with Logstash's names.
//
// Inputs attach those coordinates only when the pipeline has this filter
// (the core tells them when it opens them), so a pipeline without it pays
// nothing for them.
package decorate_events

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/gostash/gostash/sdk"
)

var spec = sdk.NewSpec("Writes where each event came from (Kafka topic, partition, offset, key, ...; file path and offset; host) into the event.").
	Field(sdk.String("target").
		Doc("Where the coordinates go: by default `[@metadata][<input type>]`, such as `[@metadata][kafka]` (Logstash's kafka input's place; outputs do not write @metadata); `\"[kafka]\"` makes them a visible field that reaches the outputs, as Logstash 2.x's `decorate_events => true` did.")).
	Field(sdk.StringList("fields").
		Doc("Only these coordinates (such as `[\"topic\", \"partition\", \"offset\"]`); all of them by default, headers aside.")).
	Field(sdk.Bool("headers").Default(false).
		Doc("Also Kafka's record headers, as `headers` (UTF-8 values only; a repeated name keeps its last value), as Logstash's `decorate_events => \"extended\"`."))

func init() {
	sdk.RegisterFilter("decorate_events", spec, New).WithValidate(func(c *sdk.Config) sdk.Diagnostics {
		_, ds := parse(c)
		return ds
	})
}

// known are the coordinates inputs attach, by input type; a name in
// `fields` that no input has is a configtest error.
var known = map[string][]string{
	"kafka":     {"topic", "consumer_group", "partition", "offset", "key", "timestamp", "msg_size"},
	"file":      {"path", "offset"},
	"stdin":     {"host"},
	"generator": {"host", "sequence"},
}

// Filter is the decorate_events filter.
type Filter struct {
	target  *sdk.FieldRef // nil: [@metadata][<type>]
	fields  []string      // nil: all
	headers bool
}

func parse(c *sdk.Config) (*Filter, sdk.Diagnostics) {
	var ds sdk.Diagnostics
	f := &Filter{headers: c.Bool("headers")}
	if t := c.String("target"); t != "" {
		ref, err := sdk.ParseFieldRef(t)
		if err != nil {
			ds.Errorf([]string{"target"}, "target is not a field reference: %v", err)
		} else {
			f.target = &ref
		}
	}
	if c.Has("fields") {
		f.fields = c.StringList("fields")
		for i, name := range f.fields {
			found := false
			for _, names := range known {
				found = found || slices.Contains(names, name)
			}
			if !found && name != "headers" {
				var all []string
				for _, names := range known {
					all = append(all, names...)
				}
				slices.Sort(all)
				all = slices.Compact(all)
				ds.Errorf([]string{"fields", strconv.Itoa(i)}, "no input has a coordinate %q: choose among %s", name, strings.Join(all, ", "))
			}
		}
	}
	return f, ds
}

// New builds the filter.
func New(_ context.Context, c *sdk.Config, _ sdk.Env) (sdk.Filter, error) {
	f, ds := parse(c)
	return f, ds.Err()
}

// Transient: nothing is kept past Filter.
func (*Filter) Transient() {}

// Filter copies the event's source coordinates to the target. An event
// without any (from an input that attaches none) is left as it is.
func (f *Filter) Apply(_ context.Context, e *sdk.Event, _ func(*sdk.Event)) sdk.Result {
	src, _ := e.Metadata()[sdk.MetadataInput].(map[string]any)
	if src == nil {
		return sdk.Matched
	}
	typ, _ := src[sdk.SourceType].(string)
	out := make(map[string]any, len(src))
	for k, v := range src {
		if k == sdk.SourceType || k == sdk.SourceSeq || k == sdk.SourceHeaders && !f.headers {
			continue
		}
		if f.fields != nil && !slices.Contains(f.fields, k) && !(k == sdk.SourceHeaders && f.headers) {
			continue
		}
		out[k] = v
	}
	if f.target == nil {
		if typ == "" {
			typ = "source"
		}
		e.Metadata()[typ] = out
		return sdk.Matched
	}
	if err := f.target.Set(e, out); err != nil {
		e.AddTag("_decorate_events_failure")
		return sdk.Failed
	}
	return sdk.Matched
}
