package testenv

import (
	"os"
	"strings"
	"testing"
)

// KafkaSecurity is the shared Kafka cluster's security listeners, which
// testenv.sh adds beside its PLAINTEXT one: SASL_PLAINTEXT and SASL_SSL
// with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 for one user, and SSL. Their
// certificate names 127.0.0.1 and localhost and is signed by the test CA
// in CAFile (PEM). There is no authorizer: the user may do anything, and
// no listener asks for a client certificate.
type KafkaSecurity struct {
	SASLBootstrap    string // SASL_PLAINTEXT, "127.0.0.1:PORT[,...]"
	SSLBootstrap     string // SSL
	SASLSSLBootstrap string // SASL_SSL
	User, Password   string // valid for PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512
	CAFile           string // the test CA, PEM
	Plaintext        string // the PLAINTEXT bootstrap (KAFKA_BOOTSTRAP), for checks and setup
}

// KafkaSecure returns the security listeners of the shared cluster after
// checking that they accept connections. A cluster started by a testenv.sh
// older than these listeners has none: the test is skipped (or fails under
// GOSTASH_REQUIRE_TESTENV) with a hint to run `make testenv-up`, which
// restarts it with them.
func KafkaSecure(t testing.TB) *KafkaSecurity {
	t.Helper()
	env := Get(t)
	if env == nil {
		return nil
	}
	v := env.Vars
	s := &KafkaSecurity{
		SASLBootstrap: v["KAFKA_SASL_BOOTSTRAP"], SSLBootstrap: v["KAFKA_SSL_BOOTSTRAP"], SASLSSLBootstrap: v["KAFKA_SASL_SSL_BOOTSTRAP"],
		User: v["KAFKA_SASL_USER"], Password: v["KAFKA_SASL_PASSWORD"], CAFile: v["KAFKA_CA_FILE"], Plaintext: env.KafkaBootstrap,
	}
	if s.SASLBootstrap == "" || s.SSLBootstrap == "" || s.SASLSSLBootstrap == "" || s.User == "" || s.CAFile == "" || s.Plaintext == "" {
		unavailable(t, "Kafka's SASL/SSL listeners are not up (no KAFKA_SASL_BOOTSTRAP, KAFKA_SSL_BOOTSTRAP or KAFKA_CA_FILE in %s): "+
			"`make testenv-up` restarts a broker started without them", env.Path)
		return nil
	}
	if _, err := os.Stat(s.CAFile); err != nil {
		unavailable(t, "KAFKA_CA_FILE in %s: %v", env.Path, err)
		return nil
	}
	for _, list := range []string{s.Plaintext, s.SASLBootstrap, s.SSLBootstrap, s.SASLSSLBootstrap} {
		for _, b := range strings.Split(list, ",") {
			if !reachable(t, "Kafka", b, env.Path) {
				return nil
			}
		}
	}
	return s
}
