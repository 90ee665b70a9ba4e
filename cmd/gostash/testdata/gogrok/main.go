// Command gogrok is a third-party grok filter built on the SDK and
// github.com/elastic/go-grok, for BenchmarkGrokPipeline: it puts go-grok
// through the same whole pipeline as gostash's grok, doing per event what
// plugins/filters/grok's BenchmarkGoGrokFilter does (ParseTypedString,
// each capture set as a field, _grokparsefailure on a miss).
//
//	plugin "gogrok" { path = "/path/to/gostash-gogrok" }
//	filter "gogrok" "g" { match = { message = "%{COMBINEDAPACHELOG}" } }
package main

import (
	"context"
	"fmt"
	"strings"
	"sync"

	gogrok "github.com/elastic/go-grok"

	"github.com/gostash/gostash/sdk"
)

// go-grok only has the ECS pattern set. For the legacy case its base
// patterns get Logstash's legacy access-log definitions
// (plugins/filters/grok/patterns/logstash/legacy/httpd and the e-mail
// parts of grok-patterns), as BenchmarkGoGrokFilter does.
var legacy = map[string]string{
	"EMAILLOCALPART":    `[a-zA-Z][a-zA-Z0-9_.+-=:]+`,
	"HTTPDUSER":         `%{EMAILADDRESS}|%{USER}`,
	"COMMONAPACHELOG":   `%{IPORHOST:clientip} %{HTTPDUSER:ident} %{HTTPDUSER:auth} \[%{HTTPDATE:timestamp}\] "(?:%{WORD:verb} %{NOTSPACE:request}(?: HTTP/%{NUMBER:httpversion})?|%{DATA:rawrequest})" (?:-|%{NUMBER:response}) (?:-|%{NUMBER:bytes})`,
	"COMBINEDAPACHELOG": `%{COMMONAPACHELOG} %{QS:referrer} %{QS:agent}`,
}

func init() {
	spec := sdk.NewSpec("Parses text into fields with github.com/elastic/go-grok (for benchmarks against the built-in grok).").
		WithVersion("0.3.1").
		Field(sdk.StringOrListMap("match").Required().
			Doc(`Field → pattern or list of patterns, tried in order, e.g. match = { message = "%{COMBINEDAPACHELOG}" }.`)).
		Field(sdk.String("ecs_compatibility").Default("v8").OneOf("disabled", "v8").
			Doc("v8: go-grok's own (ECS) patterns; disabled: Logstash's legacy COMMONAPACHELOG and COMBINEDAPACHELOG on go-grok's base patterns."))
	sdk.RegisterFilter("gogrok", spec, newFilter)
}

type field struct {
	ref   sdk.FieldRef
	groks []*gogrok.Grok
}

type filter struct {
	fields []field
	refs   sync.Map // capture name (go-grok joins ECS names with dots) → sdk.FieldRef
}

func newFilter(_ context.Context, c *sdk.Config, _ sdk.Env) (sdk.Filter, error) {
	var extra []map[string]string
	if c.String("ecs_compatibility") == "disabled" {
		extra = append(extra, legacy)
	}
	f := &filter{}
	keys, patterns := c.StringListMap("match")
	for _, k := range keys {
		ref, err := sdk.ParseFieldRef(k)
		if err != nil {
			return nil, fmt.Errorf("match: %q is not a field reference: %w", k, err)
		}
		fd := field{ref: ref}
		for _, p := range patterns[k] {
			g, err := gogrok.NewComplete(extra...)
			if err != nil {
				return nil, err
			}
			if err := g.Compile(p, true); err != nil {
				return nil, fmt.Errorf("match %s: go-grok cannot compile %q: %w", k, p, err)
			}
			fd.groks = append(fd.groks, g)
		}
		f.fields = append(f.fields, fd)
	}
	return f, nil
}

func (f *filter) Apply(_ context.Context, e *sdk.Event, _ func(*sdk.Event)) sdk.Result {
	for _, fd := range f.fields {
		v, _ := fd.ref.Get(e)
		s, _ := v.(string)
		for _, g := range fd.groks {
			m, err := g.ParseTypedString(s)
			if err != nil || len(m) == 0 {
				continue
			}
			for k, v := range m {
				if i, ok := v.(int); ok {
					v = int64(i)
				}
				_ = f.ref(k).Set(e, v)
			}
			return sdk.Matched
		}
	}
	e.AddTag("_grokparsefailure")
	return sdk.Failed
}

// ref turns go-grok's "http.request.method" into [http][request][method],
// parsed once per name.
func (f *filter) ref(name string) sdk.FieldRef {
	if r, ok := f.refs.Load(name); ok {
		return r.(sdk.FieldRef)
	}
	path := name
	if strings.Contains(name, ".") {
		path = "[" + strings.ReplaceAll(name, ".", "][") + "]"
	}
	r, _ := sdk.ParseFieldRef(path) // go-grok only allows names that parse
	f.refs.Store(name, r)
	return r
}

func main() { sdk.Serve() }
