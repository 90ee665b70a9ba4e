package kafka

import (
	"regexp"
	"strings"
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
	lsonlytest.Run(t, sdktest.Lookup(t, sdk.KindInput, "kafka"), nil, []lsonlytest.Case{
		{Name: "check_crcs", Value: "true", Warning: true, Want: "always checked"},
		{Name: "auto_create_topics", Value: "true", Warning: true, Want: "never creates a topic"},
		{Name: "receive_buffer_bytes", Value: "65536", Warning: true, Want: "operating system's buffer sizes"},
		{Name: "client_dns_lookup", Value: "use_all_dns_ips", Warning: true, Want: "does anyway"},
		{Name: "retry_backoff_ms", Value: "100", Warning: true, Want: "reconnect_backoff_ms"},
		{Name: "group_protocol", Value: "classic", Warning: true, Want: "does anyway"},
		{Name: "group_protocol", Value: "consumer", Warning: false, Want: "only the classic group protocol"},
		{Name: "value_deserializer_class", Value: "org.apache.kafka.common.serialization.StringDeserializer", Warning: true, Want: "does anyway"},
		{Name: "value_deserializer_class", Value: "io.confluent.kafka.serializers.KafkaAvroDeserializer", Warning: false, Want: "codec"},
		{Name: "schema_registry_url", Value: "http://registry:8081", Warning: false, Want: "Avro with a schema registry is not supported"},
		{Name: "schema_registry_secret", Value: "s", Warning: false, Want: "not supported"},
		{Name: "ssl_truststore_password", Value: "changeit", Warning: false, Want: "keytool -exportcert -rfc"},
		{Name: "kerberos_config", Value: "/etc/krb5.conf", Warning: false, Want: "SCRAM-SHA-512"},
		{Name: "jaas_path", Value: "/etc/jaas.conf", Warning: false, Want: "sasl_jaas_config"},
		{Name: "sasl_oauthbearer_token_endpoint_url", Value: "https://idp", Warning: false, Want: "OAUTHBEARER is not supported"},
		{Name: "key_decoder_class", Value: "kafka.serializer.DefaultDecoder", Warning: false, Want: "removed with Kafka's ZooKeeper-based clients"},
		{Name: "black_list", Value: "__.*", Warning: false, Want: "topics_pattern"},
	})
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
