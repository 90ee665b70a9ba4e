package elasticsearch

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
)

// TestLogstashOnlySettings: a Logstash setting this plugin does not
// implement is never silently ignored: --configtest names it and says
// what to do, as an error when ignoring it would change what the
// pipeline does, else as a warning.
func TestLogstashOnlySettings(t *testing.T) {
	comp := sdktest.Lookup(t, sdk.KindOutput, "elasticsearch")
	for _, c := range []struct {
		name, value string
		warning     bool // else an error
		want        string
	}{
		{"flush_size", "500", false, "pipeline.batch.size"},
		{"idle_flush_time", "1", false, "pipeline.batch.delay"},
		{"ssl", "true", false, "use ssl_enabled"},
		{"cacert", "/ca.pem", false, "ssl_certificate_authorities"},
		{"ssl_certificate_verification", "false", false, "ssl_verification_mode"},
		{"truststore", "/ts.jks", false, "PEM"},
		{"document_type", "doc", true, "mapping types"},
		{"sniffing", "false", true, "does anyway"},
		{"sniffing", "true", true, "list every node"},
		{"pool_max", "1000", true, "workers"},
		{"http_compression", "true", true, "compression_level"},
		{"template_api", "composable", true, "does anyway"},
		{"template_api", "legacy", false, "only composable"},
		{"cloud_id", "x:eHl6", false, "hosts"},
		{"proxy", "http://proxy:3128", false, "not supported"},
		{"ssl_certificate", "/c.pem", false, "client certificates are not supported"},
		{"script", "ctx._source.n += 1", false, "scripted updates"},
		{"version_type", "external", false, "versioning"},
		{"drop_error_types", "x", false, "dead-lettered"},
	} {
		t.Run(fmt.Sprintf("%s=%s", c.name, c.value), func(t *testing.T) {
			var v any = c.value
			if c.value == "true" || c.value == "false" {
				v = c.value == "true"
			}
			ds := sdktest.Validate(comp, map[string]any{c.name: v})
			if len(ds) != 1 {
				t.Fatalf("want one diagnostic, got %v", ds)
			}
			if ds[0].Warning != c.warning || ds[0].Path[0] != c.name || !strings.Contains(ds[0].Error(), c.want) {
				t.Fatalf("got %+v, want warning=%v on %s with %q", ds[0], c.warning, c.name, c.want)
			}
		})
	}
}
