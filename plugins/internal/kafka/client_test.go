package kafka

import (
	"strings"
	"testing"
)

// Kafka's JaasConfig tokenizes option values in double or single quotes
// (with backslash escapes) or as bare words; Logstash passes the line to
// it as is.
func TestParseJAAS(t *testing.T) {
	for _, c := range []struct{ line, user, password string }{
		{`org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p\"q";`, "u", `p"q`},
		{`org.apache.kafka.common.security.scram.ScramLoginModule required username='u' password='it\'s';`, "u", "it's"},
		{`org.apache.kafka.common.security.plain.PlainLoginModule required username=alice password=s3cret;`, "alice", "s3cret"},
	} {
		u, p, err := parseJAAS(c.line)
		if err != nil || u != c.user || p != c.password {
			t.Errorf("parseJAAS(%s) = %q, %q, %v; want %q, %q", c.line, u, p, err, c.user, c.password)
		}
	}
}

// bootstrap_servers as Kafka's client reads it: a listener prefix copied
// from advertised.listeners is dropped, spaces around commas too.
func TestParseBrokers(t *testing.T) {
	got, ds := parseBrokers([]string{"PLAINTEXT://kafka1:9092, SASL_SSL://kafka2:9093", "[::1]:9094"}, nil)
	if ds.HasErrors() || strings.Join(got, " ") != "kafka1:9092 kafka2:9093 [::1]:9094" {
		t.Fatalf("brokers %q, %v", got, ds)
	}
}
