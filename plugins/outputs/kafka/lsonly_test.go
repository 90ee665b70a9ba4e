package kafka

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
	comp := sdktest.Lookup(t, sdk.KindOutput, "kafka")
	for _, c := range []struct {
		name, value string
		warning     bool // else an error
		want        string
	}{
		{"buffer_memory", "33554432", true, "bounded by the pipeline's batches"},
		{"send_buffer_bytes", "131072", true, "operating system's buffer sizes"},
		{"metadata_fetch_timeout_ms", "60000", true, "request_timeout_ms"},
		{"key_serializer", "org.apache.kafka.common.serialization.StringSerializer", true, "does anyway"},
		{"value_serializer", "io.confluent.kafka.serializers.KafkaAvroSerializer", false, "codec"},
		{"ssl_keystore_password", "changeit", false, "ssl_keystore_location"},
		{"sasl_kerberos_service_name", "kafka", false, "Kerberos (GSSAPI) is not supported"},
		{"timeout_ms", "30000", false, "use request_timeout_ms"},
		{"block_on_buffer_full", "true", false, "backpressure"},
		{"broker_list", "k:9092", false, "use bootstrap_servers"},
	} {
		t.Run(fmt.Sprintf("%s=%s", c.name, c.value), func(t *testing.T) {
			var v any = c.value
			if c.value == "true" || c.value == "false" {
				v = c.value == "true"
			}
			ds := sdktest.Validate(comp, map[string]any{"topic_id": "t", c.name: v})
			if len(ds) != 1 {
				t.Fatalf("want one diagnostic, got %v", ds)
			}
			if ds[0].Warning != c.warning || ds[0].Path[0] != c.name || !strings.Contains(ds[0].Error(), c.want) {
				t.Fatalf("got %+v, want warning=%v on %s with %q", ds[0], c.warning, c.name, c.want)
			}
		})
	}
}
