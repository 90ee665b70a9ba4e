package elasticsearch

import (
	"testing"

	"github.com/gostash/gostash/plugins/internal/lsonly/lsonlytest"
	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
)

// TestLogstashOnlySettings: a Logstash setting this plugin does not
// implement is never silently ignored: --configtest names it and says
// what to do, as an error when ignoring it would change what the
// pipeline does, else as a warning.
func TestLogstashOnlySettings(t *testing.T) {
	lsonlytest.Run(t, sdktest.Lookup(t, sdk.KindOutput, "elasticsearch"), nil, []lsonlytest.Case{
		{Name: "flush_size", Value: "500", Warning: false, Want: "pipeline.batch.size"},
		{Name: "idle_flush_time", Value: "1", Warning: false, Want: "pipeline.batch.delay"},
		{Name: "ssl", Value: "true", Warning: false, Want: "use ssl_enabled"},
		{Name: "cacert", Value: "/ca.pem", Warning: false, Want: "ssl_certificate_authorities"},
		{Name: "ssl_certificate_verification", Value: "false", Warning: false, Want: "ssl_verification_mode"},
		{Name: "truststore", Value: "/ts.jks", Warning: false, Want: "PEM"},
		{Name: "document_type", Value: "doc", Warning: true, Want: "mapping types"},
		{Name: "sniffing", Value: "false", Warning: true, Want: "does anyway"},
		{Name: "sniffing", Value: "true", Warning: true, Want: "list every node"},
		{Name: "healthcheck_path", Value: "/", Warning: true, Want: "resurrect_delay"},
		{Name: "http_compression", Value: "true", Warning: true, Want: "compression_level"},
		{Name: "template_api", Value: "composable", Warning: true, Want: "does anyway"},
		{Name: "template_api", Value: "legacy", Warning: false, Want: "only composable"},
		{Name: "bulk_path", Value: "/_bulk", Warning: false, Want: "path prefix"},
		{Name: "ssl_keystore_path", Value: "/ks.p12", Warning: false, Want: "PEM files in ssl_certificate and ssl_key"},
		{Name: "script", Value: "ctx._source.n += 1", Warning: false, Want: "scripted updates"},
		{Name: "version_type", Value: "external", Warning: false, Want: "versioning"},
		{Name: "drop_error_types", Value: "x", Warning: false, Want: "dead-lettered"},
	})
}
