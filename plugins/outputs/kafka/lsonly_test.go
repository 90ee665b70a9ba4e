package kafka

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
	lsonlytest.Run(t, sdktest.Lookup(t, sdk.KindOutput, "kafka"), map[string]any{"topic_id": "t"}, []lsonlytest.Case{
		{Name: "buffer_memory", Value: "33554432", Warning: true, Want: "bounded by the pipeline's batches"},
		{Name: "send_buffer_bytes", Value: "131072", Warning: true, Want: "operating system's buffer sizes"},
		{Name: "metadata_fetch_timeout_ms", Value: "60000", Warning: true, Want: "request_timeout_ms"},
		{Name: "key_serializer", Value: "org.apache.kafka.common.serialization.StringSerializer", Warning: true, Want: "does anyway"},
		{Name: "value_serializer", Value: "io.confluent.kafka.serializers.KafkaAvroSerializer", Warning: false, Want: "codec"},
		{Name: "ssl_keystore_password", Value: "changeit", Warning: false, Want: "ssl_keystore_location"},
		{Name: "sasl_kerberos_service_name", Value: "kafka", Warning: false, Want: "Kerberos (GSSAPI) is not supported"},
		{Name: "timeout_ms", Value: "30000", Warning: false, Want: "use request_timeout_ms"},
		{Name: "block_on_buffer_full", Value: "true", Warning: false, Want: "backpressure"},
		{Name: "broker_list", Value: "k:9092", Warning: false, Want: "use bootstrap_servers"},
	})
}
