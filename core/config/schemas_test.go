package config

import (
	"sort"

	"github.com/gostash/gostash/sdk"
)

// fakeSchemas stands in for the plugin catalogs, with the common options
// appended as the real host does.
type fakeSchemas map[sdk.Kind]map[string][]sdk.Field

func (s fakeSchemas) Lookup(kind sdk.Kind, typ string) ([]sdk.Field, bool) {
	f, ok := s[kind][typ]
	if !ok {
		// A real plugin the tests link in (plugins_test.go): its own
		// schema, and its own checks (see pluginValidate).
		comp, found := sdk.Lookup(kind, typ)
		if !found {
			return nil, false
		}
		f = comp.Fields()
	}
	return append(append([]sdk.Field(nil), f...), sdk.CommonFields(kind)...), true
}

func (s fakeSchemas) Types(kind sdk.Kind) []string {
	var out []string
	for name := range s[kind] {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

func (s fakeSchemas) WantsStdin(kind sdk.Kind, typ string) bool {
	return kind == sdk.KindInput && typ == "stdin"
}

var testSchemas = fakeSchemas{
	sdk.KindInput: {
		"generator": {
			sdk.StringList("lines").Doc("Lines to emit, in turn.").Build(),
			sdk.Int("count").Default(0).Doc("Events to emit; 0 means forever.").Build(),
			sdk.String("message").Default("Hello world!").Build(),
			sdk.Float("rate").Build(),
		},
		"stdin": {
			sdk.String("codec").OneOf("line", "json_lines").Default("line").Build(),
		},
	},
	sdk.KindFilter: {
		"expr": {
			sdk.StringMap("set").Build(),
			sdk.String("drop").Build(),
			sdk.StringList("remove").Build(),
		},
		"grok": {
			sdk.StringOrListMap("match").Required().Doc("Field names and the patterns to match them with.").Build(),
			sdk.Bool("break_on_match").Default(true).Build(),
			sdk.Duration("timeout").Default("30s").Build(),
			sdk.Any("options").Build(),
		},
	},
	sdk.KindOutput: {
		"stdout": {
			sdk.String("codec").OneOf("rubydebug", "json_lines", "line", "dots").Default("rubydebug").Build(),
		},
		"kafka": {
			sdk.String("topic_id").Required().Doc("The topic to write to.").Build(),
			sdk.StringList("bootstrap_servers").Default([]string{"localhost:9092"}).Build(),
			sdk.String("compression_type").OneOf("none", "gzip", "snappy", "lz4", "zstd").Default("none").Build(),
			sdk.Duration("retry_backoff").Default("100ms").Build(),
		},
	},
}
