package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"errors"

	"github.com/IBM/sarama"
)

// Hint names the settings to check when connecting failed for a reason
// other than the cluster being down or unreachable: the brokers refused
// the credentials, or TLS failed. It is "" for any other error, whose
// usual cause is the address or the brokers not running.
func Hint(err error) string {
	var unknownCA x509.UnknownAuthorityError
	var badHost x509.HostnameError
	var notTLS tls.RecordHeaderError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, sarama.ErrSASLAuthenticationFailed):
		return "the brokers refused the credentials: check sasl_mechanism and sasl_jaas_config (or sasl_username and sasl_password)"
	case errors.Is(err, sarama.ErrUnsupportedSASLMechanism):
		return "the brokers do not offer this sasl_mechanism on this listener"
	case errors.As(err, &unknownCA):
		return "the broker's certificate is not signed by a CA of ssl_truststore_location (or, without it, of the system)"
	case errors.As(err, &badHost):
		return "the broker's certificate does not name the host connected to: use a name it has in bootstrap_servers, or set ssl_endpoint_identification_algorithm = \"\" to check only its CA"
	case errors.As(err, &notTLS):
		return "the broker does not speak TLS on this port: check security_protocol and the port"
	}
	return ""
}
