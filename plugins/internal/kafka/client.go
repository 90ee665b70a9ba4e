// Package kafka holds what the kafka input and output share: the client
// settings of Logstash's kafka plugins (servers, client id, security),
// checked without connecting anywhere and turned into a sarama.Config,
// and the ZooKeeper-era settings Logstash removed, which get an error
// that says what replaced them.
package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/IBM/sarama"

	"github.com/gostash/gostash/plugins/internal/lsonly"
	"github.com/gostash/gostash/sdk"
)

// Version is the protocol version gostash speaks: Kafka 2.8's, which
// every broker from 2.1 (Kafka 4 dropped older protocols) to 4.x accepts
// and which has everything the plugins use (headers, idempotence,
// cooperative rebalancing, static membership).
var Version = sarama.V2_8_0_0

// ClientFields adds the settings every Kafka client has, with Logstash's
// names and defaults.
func ClientFields(s *sdk.Spec) *sdk.Spec {
	return s.
		Field(sdk.StringList("bootstrap_servers").Default([]any{"localhost:9092"}).
			Doc("Brokers to start from, as `host:port`: Logstash's comma-separated string (`\"kafka1:9092,kafka2:9092\"`) or a list; the client discovers the rest of the cluster.")).
		Field(sdk.String("client_id").Default("logstash").
			Doc("The id the brokers see in their logs and quotas.")).
		Field(sdk.Int("request_timeout_ms").Default(40000).
			Doc("How long a request to a broker may take before it is tried again.")).
		Field(sdk.Int("reconnect_backoff_ms").Default(50).
			Doc("How long to wait before connecting again to a broker that failed.")).
		Field(sdk.Int("metadata_max_age_ms").Default(300000).
			Doc("How often the cluster's metadata (leaders, partitions) is refreshed even without an error.")).
		Field(sdk.String("security_protocol").Default("PLAINTEXT").OneOf("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL").
			Doc("How to talk to the brokers: in the clear, over TLS, with SASL authentication, or both.")).
		Field(sdk.String("sasl_mechanism").Default("PLAIN").OneOf("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512").
			Doc("The SASL mechanism, with `security_protocol` SASL_PLAINTEXT or SASL_SSL. Logstash's default is GSSAPI (Kerberos), which gostash does not speak: say which one the cluster uses.")).
		Field(sdk.String("sasl_jaas_config").
			Doc("The credentials in the JAAS form Kafka's clients take: `org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"p\";` (only username and password are read).")).
		Field(sdk.String("sasl_username").
			Doc("The SASL user name, instead of `sasl_jaas_config` (a gostash setting; use `${env.NAME}` for secrets).")).
		Field(sdk.String("sasl_password").
			Doc("The SASL password, with `sasl_username`.")).
		Field(sdk.String("ssl_truststore_location").
			Doc("A PEM file of the certificate authorities to trust (the system's by default). Java keystores (JKS, PKCS12) are not read: export them with `keytool -exportcert -rfc`.")).
		Field(sdk.String("ssl_truststore_type").Default("PEM").OneOf("PEM").
			Doc("The trust store's format: only PEM.")).
		Field(sdk.String("ssl_keystore_location").
			Doc("A PEM file with this client's certificate and private key, for brokers that authenticate clients by certificate.")).
		Field(sdk.String("ssl_keystore_type").Default("PEM").OneOf("PEM").
			Doc("The key store's format: only PEM.")).
		Field(sdk.String("ssl_key_password").
			Doc("Not supported: give an unencrypted key in `ssl_keystore_location`.")).
		Field(sdk.String("ssl_endpoint_identification_algorithm").Default("https").
			Doc("`https` checks that the broker's certificate names the host connected to; \"\" turns the check off (the certificate is still verified against the trust store).")).
		Field(sdk.Int("connections_max_idle_ms").Default(540000).
			Doc("Connections idle this long are closed."))
}

var listenerPrefix = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.\-_]*://`)

// parseBrokers reads bootstrap_servers: Logstash's "h1:9092,h2:9092", a
// list, or a list of such strings, each a host:port as Kafka's client
// takes it.
func parseBrokers(list []string, ds sdk.Diagnostics) ([]string, sdk.Diagnostics) {
	var brokers []string
	bad := false
	for _, item := range list {
		for _, b := range strings.Split(item, ",") {
			b = strings.TrimSpace(b)
			if b == "" {
				continue
			}
			// Kafka's client drops a listener prefix such as PLAINTEXT://
			// (copied from advertised.listeners).
			if m := listenerPrefix.FindString(b); m != "" {
				b = b[len(m):]
			}
			i := strings.LastIndexByte(b, ':')
			if i <= 0 || i == len(b)-1 {
				ds.Errorf([]string{"bootstrap_servers"}, "bootstrap server %q has no port: write host:port, such as \"localhost:9092\"", b)
				bad = true
				continue
			}
			if p, err := strconv.Atoi(b[i+1:]); err != nil || p < 1 || p > 65535 {
				ds.Errorf([]string{"bootstrap_servers"}, "bootstrap server %q: the port %q is not a number from 1 to 65535", b, b[i+1:])
				bad = true
				continue
			}
			brokers = append(brokers, b)
		}
	}
	if len(brokers) == 0 && !bad {
		ds.Errorf([]string{"bootstrap_servers"}, "bootstrap_servers is empty: give at least one broker, such as \"localhost:9092\"")
	}
	return brokers, ds
}

// Client is the parsed client settings.
type Client struct {
	Brokers  []string
	ClientID string

	requestTimeout, reconnectBackoff, metadataMaxAge, maxIdle time.Duration

	tls            bool
	sasl           bool
	mechanism      string
	user, password string
	trustStore     string
	keyStore       string
	verifyHostname bool
}

// ParseClient reads and checks the client settings without connecting.
func ParseClient(c *sdk.Config) (*Client, sdk.Diagnostics) {
	var ds sdk.Diagnostics
	cl := &Client{
		ClientID:         c.String("client_id"),
		requestTimeout:   ms(c, "request_timeout_ms", &ds),
		reconnectBackoff: ms(c, "reconnect_backoff_ms", &ds),
		metadataMaxAge:   ms(c, "metadata_max_age_ms", &ds),
		maxIdle:          ms(c, "connections_max_idle_ms", &ds),
		trustStore:       c.String("ssl_truststore_location"),
		keyStore:         c.String("ssl_keystore_location"),
		verifyHostname:   c.String("ssl_endpoint_identification_algorithm") != "",
		mechanism:        c.String("sasl_mechanism"),
	}
	cl.Brokers, ds = parseBrokers(c.StringList("bootstrap_servers"), ds)
	if a := c.String("ssl_endpoint_identification_algorithm"); a != "" && !strings.EqualFold(a, "https") {
		ds.Errorf([]string{"ssl_endpoint_identification_algorithm"}, "ssl_endpoint_identification_algorithm is \"https\" or \"\" (no host name check), not %q", a)
	}
	proto := c.String("security_protocol")
	cl.tls = proto == "SSL" || proto == "SASL_SSL"
	cl.sasl = strings.HasPrefix(proto, "SASL_")
	if c.String("ssl_key_password") != "" {
		ds.Errorf([]string{"ssl_key_password"}, "encrypted private keys are not supported: decrypt it (openssl pkey -in key.pem -out plain.pem) and leave ssl_key_password unset")
	}
	if !cl.tls {
		for _, name := range []string{"ssl_truststore_location", "ssl_keystore_location"} {
			if c.String(name) != "" {
				ds = append(ds, sdk.Diagnostic{Warning: true, Path: []string{name},
					Summary: name + " is not used with security_protocol " + proto, Detail: "set security_protocol = \"SSL\" or \"SASL_SSL\" to use TLS"})
			}
		}
	}
	if cl.tls {
		// A file that is missing or not PEM is seen without connecting.
		if _, err := cl.tlsConfig(); err != nil {
			name := "ssl_truststore_location"
			if strings.HasPrefix(err.Error(), "ssl_keystore_location") {
				name = "ssl_keystore_location"
			}
			ds.Errorf([]string{name}, "%v", err)
		}
	}
	if !cl.sasl {
		for _, name := range []string{"sasl_jaas_config", "sasl_username"} {
			if c.String(name) != "" {
				ds = append(ds, sdk.Diagnostic{Warning: true, Path: []string{name},
					Summary: name + " is not used with security_protocol " + proto, Detail: "set security_protocol = \"SASL_PLAINTEXT\" or \"SASL_SSL\" to authenticate with it"})
			}
		}
	}
	if cl.sasl {
		jaas := c.String("sasl_jaas_config")
		cl.user, cl.password = c.String("sasl_username"), c.String("sasl_password")
		switch {
		case jaas != "" && cl.user != "":
			ds.Errorf([]string{"sasl_username"}, "give the credentials once: sasl_jaas_config or sasl_username/sasl_password, not both")
		case jaas != "":
			u, p, err := parseJAAS(jaas)
			if err != nil {
				ds.Errorf([]string{"sasl_jaas_config"}, "%v", err)
			}
			cl.user, cl.password = u, p
		case cl.user == "":
			ds.Errorf([]string{"security_protocol"}, "security_protocol %s needs credentials: set sasl_jaas_config, or sasl_username and sasl_password", proto)
		}
	}
	return cl, ds
}

func ms(c *sdk.Config, name string, ds *sdk.Diagnostics) time.Duration {
	n := c.Int(name)
	if n < 0 {
		ds.Errorf([]string{name}, "%s must be 0 or more, not %d", name, n)
	}
	return time.Duration(n) * time.Millisecond
}

// jaasOption is a JAAS option as Kafka's JaasConfig tokenizes it: the
// value in double or single quotes (backslash escapes), or a bare word.
var jaasOption = regexp.MustCompile(`(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([A-Za-z_$][\w$-]*))`)

var jaasUnescape = strings.NewReplacer(`\"`, `"`, `\'`, `'`, `\\`, `\`)

// parseJAAS reads username and password out of a JAAS login module line.
func parseJAAS(s string) (user, password string, err error) {
	if !strings.Contains(s, "LoginModule") {
		return "", "", fmt.Errorf("sasl_jaas_config %q is not a JAAS line: write `org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"p\";`", redact(s))
	}
	for _, m := range jaasOption.FindAllStringSubmatch(s, -1) {
		v := jaasUnescape.Replace(m[2] + m[3] + m[4])
		switch m[1] {
		case "username":
			user = v
		case "password":
			password = v
		}
	}
	if user == "" {
		return "", "", fmt.Errorf("sasl_jaas_config has no username=\"...\"")
	}
	return user, password, nil
}

// redact keeps a JAAS line's shape for an error message, not its secrets.
func redact(s string) string {
	return jaasOption.ReplaceAllString(s, `$1="…"`)
}

// Config makes the sarama configuration these settings describe. It reads
// the TLS files again (ParseClient checked them at configtest), so that a
// renewed certificate is taken when the plugin opens.
func (cl *Client) Config() (*sarama.Config, error) {
	cfg := sarama.NewConfig()
	cfg.Version = Version
	cfg.ClientID = cl.ClientID
	if cfg.ClientID == "" {
		cfg.ClientID = "gostash"
	}
	if cl.requestTimeout > 0 {
		cfg.Net.ReadTimeout = cl.requestTimeout
		cfg.Net.WriteTimeout = cl.requestTimeout
		cfg.Producer.Timeout = cl.requestTimeout
	}
	cfg.Net.DialTimeout = 10 * time.Second
	cfg.Metadata.Retry.Backoff = max(cl.reconnectBackoff, 50*time.Millisecond)
	if cl.metadataMaxAge > 0 {
		cfg.Metadata.RefreshFrequency = cl.metadataMaxAge
	}
	// Only the topics this client uses, not the whole cluster's metadata.
	cfg.Metadata.Full = false
	if cl.tls {
		t, err := cl.tlsConfig()
		if err != nil {
			return nil, err
		}
		cfg.Net.TLS.Enable = true
		cfg.Net.TLS.Config = t
	}
	if cl.sasl {
		cfg.Net.SASL.Enable = true
		cfg.Net.SASL.Handshake = true
		cfg.Net.SASL.User = cl.user
		cfg.Net.SASL.Password = cl.password
		switch cl.mechanism {
		case "SCRAM-SHA-256":
			cfg.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA256
			cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return newSCRAM(sha256Gen) }
		case "SCRAM-SHA-512":
			cfg.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA512
			cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return newSCRAM(sha512Gen) }
		default:
			cfg.Net.SASL.Mechanism = sarama.SASLTypePlaintext
		}
	}
	return cfg, nil
}

func (cl *Client) tlsConfig() (*tls.Config, error) {
	t := &tls.Config{MinVersion: tls.VersionTLS12}
	if cl.trustStore != "" {
		pemData, err := os.ReadFile(cl.trustStore)
		if err != nil {
			return nil, fmt.Errorf("ssl_truststore_location: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemData) {
			return nil, fmt.Errorf("ssl_truststore_location %s holds no PEM certificate (a Java keystore? export it with keytool -exportcert -rfc)", cl.trustStore)
		}
		t.RootCAs = pool
	}
	if cl.keyStore != "" {
		data, err := os.ReadFile(cl.keyStore)
		if err != nil {
			return nil, fmt.Errorf("ssl_keystore_location: %w", err)
		}
		var certPEM, keyPEM []byte
		for rest := data; ; {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			if strings.Contains(b.Type, "PRIVATE KEY") {
				keyPEM = append(keyPEM, pem.EncodeToMemory(b)...)
			} else {
				certPEM = append(certPEM, pem.EncodeToMemory(b)...)
			}
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("ssl_keystore_location %s: want a PEM certificate and its unencrypted private key: %w", cl.keyStore, err)
		}
		t.Certificates = []tls.Certificate{cert}
	}
	if !cl.verifyHostname {
		// Verify the chain but not the name, as Kafka's clients do with
		// ssl.endpoint.identification.algorithm="".
		t.InsecureSkipVerify = true
		t.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return fmt.Errorf("the broker sent no certificate")
			}
			opts := x509.VerifyOptions{Roots: t.RootCAs, Intermediates: x509.NewCertPool()}
			for _, c := range cs.PeerCertificates[1:] {
				opts.Intermediates.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(opts)
			return err
		}
	}
	return t, nil
}

// InvalidTopic says why Kafka would refuse a topic name ("" when it would
// not): its rule is 1 to 249 of [a-zA-Z0-9._-], and not "." or "..".
func InvalidTopic(name string) string {
	switch {
	case name == "":
		return "a topic name cannot be empty"
	case len(name) > 249:
		return "a topic name has at most 249 characters"
	case name == "." || name == "..":
		return "a topic name cannot be \".\" or \"..\""
	}
	return InvalidTopicBytes(name)
}

// InvalidTopicBytes says which byte of name a topic name cannot hold.
func InvalidTopicBytes(name string) string {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Sprintf("a topic name holds only letters, digits, '.', '_' and '-', not %q", c)
		}
	}
	return ""
}

// Removed is a setting of Logstash's old (ZooKeeper-era or 2.x) kafka
// plugins and what replaced it. The seeds' configurations still use them.
type Removed struct{ Name, Instead string }

// RemovedFields declares the removed settings, so that a configuration
// that has one is told what replaced it instead of "unknown setting".
func RemovedFields(s *sdk.Spec, removed []Removed) *sdk.Spec {
	for _, r := range removed {
		s.Field(sdk.Any(r.Name).Doc("Removed (Logstash's ZooKeeper-era kafka plugins): " + r.Instead))
	}
	return s
}

// CheckRemoved reports each removed setting that is set.
func CheckRemoved(c *sdk.Config, removed []Removed) sdk.Diagnostics {
	var ds sdk.Diagnostics
	for _, r := range removed {
		if c.Raw(r.Name) != nil {
			ds = append(ds, sdk.Diagnostic{Path: []string{r.Name},
				Summary: r.Name + " was removed with Kafka's ZooKeeper-based clients", Detail: r.Instead})
		}
	}
	return ds
}

// NotImplemented are the settings every client of Logstash's kafka
// integration has and gostash does not implement.
var NotImplemented = []lsonly.Setting{
	{Name: "ssl_truststore_password", Kind: lsonly.Unsupported,
		Instead: "trust stores are PEM files, which have no password: export the Java keystore with `keytool -exportcert -rfc` into ssl_truststore_location and remove it"},
	{Name: "ssl_keystore_password", Kind: lsonly.Unsupported,
		Instead: "key stores are PEM files: export the certificate and an unencrypted key into ssl_keystore_location and remove it"},
	{Name: "jaas_path", Kind: lsonly.Unsupported,
		Instead: "put the credentials in sasl_jaas_config, or in sasl_username and sasl_password"},
	{Name: "kerberos_config", Kind: lsonly.Unsupported,
		Instead: "Kerberos (GSSAPI) is not supported: use sasl_mechanism PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"},
	{Name: "sasl_kerberos_service_name", Kind: lsonly.Unsupported,
		Instead: "Kerberos (GSSAPI) is not supported: use sasl_mechanism PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"},
	{Name: "sasl_client_callback_handler_class", Kind: lsonly.Unsupported,
		Instead: "Java callback handlers (OAUTHBEARER, AWS IAM) are not supported: use sasl_mechanism PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"},
	{Name: "sasl_login_callback_handler_class", Kind: lsonly.Unsupported,
		Instead: "Java callback handlers (OAUTHBEARER, AWS IAM) are not supported: use sasl_mechanism PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"},
	{Name: "sasl_oauthbearer_token_endpoint_url", Kind: lsonly.Unsupported,
		Instead: "OAUTHBEARER is not supported: use sasl_mechanism PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"},
	{Name: "sasl_oauthbearer_scope_claim_name", Kind: lsonly.Unsupported,
		Instead: "OAUTHBEARER is not supported: use sasl_mechanism PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"},
	{Name: "sasl_iam_jar_paths", Kind: lsonly.Unsupported,
		Instead: "AWS MSK IAM authentication is not supported: use SASL/SCRAM on the cluster"},
	{Name: "sasl_login_connect_timeout_ms", Kind: lsonly.Ignored, Instead: "it applies to OAUTHBEARER logins, which gostash does not do; remove it"},
	{Name: "sasl_login_read_timeout_ms", Kind: lsonly.Ignored, Instead: "it applies to OAUTHBEARER logins, which gostash does not do; remove it"},
	{Name: "sasl_login_retry_backoff_ms", Kind: lsonly.Ignored, Instead: "it applies to OAUTHBEARER logins, which gostash does not do; remove it"},
	{Name: "sasl_login_retry_backoff_max_ms", Kind: lsonly.Ignored, Instead: "it applies to OAUTHBEARER logins, which gostash does not do; remove it"},
	{Name: "client_dns_lookup", Kind: lsonly.Ignored, Harmless: []string{"use_all_dns_ips", "default"},
		Instead: "each broker address is resolved by Go's resolver, which tries every IP it returns; remove it"},
	{Name: "receive_buffer_bytes", Kind: lsonly.Ignored, Instead: "sockets use the operating system's buffer sizes; remove it"},
	{Name: "send_buffer_bytes", Kind: lsonly.Ignored, Instead: "sockets use the operating system's buffer sizes; remove it"},
	{Name: "reconnect_backoff_max_ms", Kind: lsonly.Ignored,
		Instead: "an unreachable cluster is retried with a backoff that grows to 30 s; reconnect_backoff_ms sets the wait between connections to a broker; remove it"},
}
