package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/IBM/sarama"
)

// The errors as sarama wraps them when every broker failed (errors seen
// against testenv's broker, cmd/gostash/kafka_security_e2e_test.go).
func TestHint(t *testing.T) {
	outOf := func(err error) error { return sarama.Wrap(sarama.ErrOutOfBrokers, err) }
	cases := []struct {
		err  error
		want string
	}{
		{outOf(sarama.Wrap(sarama.ErrSASLAuthenticationFailed, errors.New("Authentication failed: Invalid username or password"))), "sasl_username"},
		{fmt.Errorf("x: %w", sarama.ErrSASLAuthenticationFailed), "sasl_jaas_config"},
		{outOf(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), "ssl_truststore_location"},
		{outOf(&tls.CertificateVerificationError{Err: x509.HostnameError{Certificate: &x509.Certificate{}, Host: "127.0.0.2"}}), "ssl_endpoint_identification_algorithm"},
		{outOf(tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), "security_protocol"},
		{outOf(errors.New("dial tcp 127.0.0.1:1: connect: connection refused")), ""},
		{nil, ""},
	}
	for _, c := range cases {
		got := Hint(c.err)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("Hint(%v) = %q, want it to name %q", c.err, got, c.want)
		}
	}
}
