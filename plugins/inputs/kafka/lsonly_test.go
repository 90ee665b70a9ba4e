package kafka

import (
	"fmt"
	"regexp"
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
	comp := sdktest.Lookup(t, sdk.KindInput, "kafka")
	for _, c := range []struct {
		name, value string
		warning     bool // else an error
		want        string
	}{
		{"check_crcs", "true", true, "always checked"},
		{"auto_create_topics", "true", true, "never creates a topic"},
		{"receive_buffer_bytes", "65536", true, "operating system's buffer sizes"},
		{"client_dns_lookup", "use_all_dns_ips", true, "does anyway"},
		{"retry_backoff_ms", "100", true, "reconnect_backoff_ms"},
		{"group_protocol", "classic", true, "does anyway"},
		{"group_protocol", "consumer", false, "only the classic group protocol"},
		{"value_deserializer_class", "org.apache.kafka.common.serialization.StringDeserializer", true, "does anyway"},
		{"value_deserializer_class", "io.confluent.kafka.serializers.KafkaAvroDeserializer", false, "codec"},
		{"schema_registry_url", "http://registry:8081", false, "Avro with a schema registry is not supported"},
		{"schema_registry_secret", "s", false, "not supported"},
		{"ssl_truststore_password", "changeit", false, "keytool -exportcert -rfc"},
		{"kerberos_config", "/etc/krb5.conf", false, "SCRAM-SHA-512"},
		{"jaas_path", "/etc/jaas.conf", false, "sasl_jaas_config"},
		{"sasl_oauthbearer_token_endpoint_url", "https://idp", false, "OAUTHBEARER is not supported"},
		{"key_decoder_class", "kafka.serializer.DefaultDecoder", false, "removed with Kafka's ZooKeeper-based clients"},
		{"black_list", "__.*", false, "topics_pattern"},
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

// TestMatchTopicsExcludesInternal: topics_pattern = ".*" does not read
// __consumer_offsets unless exclude_internal_topics = false, as Logstash.
func TestMatchTopicsExcludesInternal(t *testing.T) {
	all := []string{"logs", "__consumer_offsets", "__transaction_state", "__mine"}
	re := regexp.MustCompile("^(?:.*)$")
	if got := strings.Join(matchTopics(all, re, true), ","); got != "__mine,logs" {
		t.Fatalf("excluded: got %s", got)
	}
	if got := strings.Join(matchTopics(all, re, false), ","); got != "__consumer_offsets,__mine,__transaction_state,logs" {
		t.Fatalf("included: got %s", got)
	}
}
