package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk/sdktest/testenv"
)

// The kafka plugins' security settings against the shared broker's
// SASL_PLAINTEXT, SSL and SASL_SSL listeners (testenv.sh makes them, with
// a test CA): what a user writes in a pipeline, through the real binary.

// kafkaSecure is the settings block of one way to connect.
type kafkaSecure struct {
	name      string
	bootstrap string
	settings  string // HCL lines: security_protocol, sasl_*, ssl_*
}

func secureWays(sec *testenv.KafkaSecurity) []kafkaSecure {
	user := fmt.Sprintf("sasl_username = %q\n  sasl_password = %q", sec.User, sec.Password)
	jaas := fmt.Sprintf(`org.apache.kafka.common.security.plain.PlainLoginModule required username="%s" password="%s";`, sec.User, sec.Password)
	return []kafkaSecure{
		{"SASL_PLAINTEXT+PLAIN+jaas", sec.SASLBootstrap, fmt.Sprintf("security_protocol = \"SASL_PLAINTEXT\"\n  sasl_mechanism = \"PLAIN\"\n  sasl_jaas_config = %q", jaas)},
		{"SASL_PLAINTEXT+SCRAM-SHA-256", sec.SASLBootstrap, "security_protocol = \"SASL_PLAINTEXT\"\n  sasl_mechanism = \"SCRAM-SHA-256\"\n  " + user},
		{"SASL_PLAINTEXT+SCRAM-SHA-512", sec.SASLBootstrap, "security_protocol = \"SASL_PLAINTEXT\"\n  sasl_mechanism = \"SCRAM-SHA-512\"\n  " + user},
		// Host name verification is on by default (ssl_endpoint_identification_algorithm "https").
		{"SSL", sec.SSLBootstrap, fmt.Sprintf("security_protocol = \"SSL\"\n  ssl_truststore_location = %q", sec.CAFile)},
		{"SASL_SSL+SCRAM-SHA-512", sec.SASLSSLBootstrap, fmt.Sprintf("security_protocol = \"SASL_SSL\"\n  sasl_mechanism = \"SCRAM-SHA-512\"\n  ssl_truststore_location = %q\n  %s", sec.CAFile, user)},
	}
}

const secureProducer = `
input "generator" "gen" {
  message = "x"
  count   = %d
}
output "kafka" "out" {
  bootstrap_servers = "%s"
  topic_id          = "%s"
  codec             = "plain"
  format            = "%%{[event][sequence]}"
  %s
}
`

const secureConsumer = `
input "kafka" "in" {
  bootstrap_servers = "%s"
  topics            = ["%s"]
  group_id          = "%s"
  auto_offset_reset = "earliest"
  %s
}
output "file" "out" {
  path   = "%s"
  codec  = "line"
  format = "%%{message}"
}
`

// Each way in: a kafka output writes records through the secure listener,
// the broker holds them (counted over PLAINTEXT), and a kafka input reads
// them all back through the same listener and commits on a clean stop.
func TestKafkaSecurityRoundTrip(t *testing.T) {
	sec := testenv.KafkaSecure(t)
	plain := strings.Split(sec.Plaintext, ",")
	const n = 300
	for _, w := range secureWays(sec) {
		t.Run(w.name, func(t *testing.T) {
			t.Parallel()
			topic, group := kafkaName("sec"), kafkaName("sec-g")
			dir := t.TempDir()
			start := time.Now()
			cfg := writeFile(t, "out.hcl", fmt.Sprintf(secureProducer, n, w.bootstrap, topic, w.settings))
			stdout, stderr, code := gostash(t, "", "-f", cfg, "--path.data", filepath.Join(dir, "data-out"))
			if code != 0 {
				t.Fatalf("the producing run: exit %d\n%s%s", code, stdout, stderr)
			}
			if got := stored(t, plain, topic); got != n {
				t.Fatalf("the topic holds %d records, want %d:\n%s", got, n, stderr)
			}
			out := filepath.Join(dir, "got.log")
			cfg = writeFile(t, "in.hcl", fmt.Sprintf(secureConsumer, w.bootstrap, topic, group, w.settings, out))
			cmd, _, errb := startGostash(t, "-f", cfg, "--path.data", filepath.Join(dir, "data-in"))
			if !waitFor(30*time.Second, func() bool { return shippedLines(out) >= n }) {
				t.Fatalf("the input read %d of %d records in 30 s:\n%s", shippedLines(out), n, errb)
			}
			cmd.Process.Signal(syscall.SIGTERM)
			if err := waitExit(cmd, 15*time.Second); err != nil {
				t.Fatalf("stop: %v\n%s", err, errb)
			}
			data, _ := os.ReadFile(out)
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			sort.Strings(lines)
			distinct := 0
			for i, l := range lines {
				if i == 0 || l != lines[i-1] {
					distinct++
				}
			}
			if distinct != n {
				t.Fatalf("the input read %d distinct records of %d (%d lines)", distinct, n, len(lines))
			}
			if strings.Contains(errb.String(), "level=WARN") || strings.Contains(errb.String(), "level=ERROR") {
				t.Errorf("the consuming run logged a problem:\n%s", errb)
			}
			t.Logf("%d records out and back in %v", n, time.Since(start).Round(time.Millisecond))
		})
	}
}

// secureProducerEndless keeps events coming, so that a stop finds some
// in flight, as in production.
const secureProducerEndless = `
input "generator" "gen" {
  message = "x"
  rate    = 20
}
output "kafka" "out" {
  bootstrap_servers = "%s"
  topic_id          = "%s"
  %s
}
`

// failsClearly runs a pipeline that cannot connect: gostash must say why
// (every want, in its log) within 15 s rather than hang or stay silent,
// and a SIGTERM must still end it, at once for an input, at the drain
// deadline (2 s here) for an output that holds undelivered events, which
// it then reports (exit 3).
func failsClearly(t *testing.T, pipeline string, wantExit int, want ...string) {
	t.Helper()
	cfg := writeFile(t, "p.hcl", pipeline)
	cmd, _, errb := startGostash(t, "-f", cfg, "--path.data", filepath.Join(t.TempDir(), "data"), "--pipeline.drain_timeout", "2s")
	start0 := time.Now()
	has := func() bool {
		s := errb.String()
		for _, w := range want {
			if !strings.Contains(s, w) {
				return false
			}
		}
		return true
	}
	if !waitFor(15*time.Second, has) {
		cmd.Process.Signal(syscall.SIGKILL)
		t.Fatalf("no log line with %q within 15 s:\n%s", want, errb)
	}
	logged := time.Since(start0)
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	code := exitStatus(t, cmd, 15*time.Second, errb)
	took := time.Since(start)
	if code != wantExit {
		t.Errorf("exit status %d, want %d:\n%s", code, wantExit, errb)
	}
	if took > 6*time.Second {
		t.Errorf("SIGTERM took %v to stop gostash:\n%s", took, errb)
	}
	t.Logf("logged after %v, stopped %v after SIGTERM; the line:\n%s", logged.Round(time.Millisecond), took.Round(time.Millisecond), firstLineWith(errb.String(), want[0]))
}

func firstLineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

// A wrong password, for the output and the input, with each mechanism's
// way of giving it: the broker's refusal is logged, and it is not taken
// for an unreachable cluster.
func TestKafkaSecurityWrongPassword(t *testing.T) {
	sec := testenv.KafkaSecure(t)
	jaas := fmt.Sprintf(`org.apache.kafka.common.security.plain.PlainLoginModule required username="%s" password="wrong";`, sec.User)
	cases := []struct{ name, settings, want string }{
		{"PLAIN+jaas", fmt.Sprintf("security_protocol = \"SASL_PLAINTEXT\"\n  sasl_mechanism = \"PLAIN\"\n  sasl_jaas_config = %q", jaas), "Invalid username or password"},
		{"SCRAM-SHA-256", fmt.Sprintf("security_protocol = \"SASL_PLAINTEXT\"\n  sasl_mechanism = \"SCRAM-SHA-256\"\n  sasl_username = %q\n  sasl_password = \"wrong\"", sec.User), "invalid credentials with SASL mechanism SCRAM-SHA-256"},
	}
	for _, c := range cases {
		t.Run("output/"+c.name, func(t *testing.T) {
			t.Parallel()
			failsClearly(t, fmt.Sprintf(secureProducerEndless, sec.SASLBootstrap, kafkaName("sec-bad"), c.settings), exitNotDrained,
				"SASL Authentication failed", c.want, "refused the credentials: check sasl_mechanism")
		})
		t.Run("input/"+c.name, func(t *testing.T) {
			t.Parallel()
			failsClearly(t, fmt.Sprintf(secureConsumer, sec.SASLBootstrap, kafkaName("sec-bad"), kafkaName("g"), c.settings, filepath.Join(t.TempDir(), "out")), 0,
				"SASL Authentication failed", c.want, "refused the credentials: check sasl_mechanism")
		})
	}
}

// SSL against a CA the client does not trust: the certificate error is
// logged, for the output and the input.
func TestKafkaSecurityUntrustedCA(t *testing.T) {
	sec := testenv.KafkaSecure(t)
	other := writeOtherCA(t)
	settings := fmt.Sprintf("security_protocol = \"SSL\"\n  ssl_truststore_location = %q", other)
	t.Run("output", func(t *testing.T) {
		t.Parallel()
		failsClearly(t, fmt.Sprintf(secureProducerEndless, sec.SSLBootstrap, kafkaName("sec-ca"), settings), exitNotDrained,
			"certificate signed by unknown authority", "not signed by a CA of ssl_truststore_location")
	})
	t.Run("input", func(t *testing.T) {
		t.Parallel()
		failsClearly(t, fmt.Sprintf(secureConsumer, sec.SSLBootstrap, kafkaName("sec-ca"), kafkaName("g"), settings, filepath.Join(t.TempDir(), "out")), 0,
			"certificate signed by unknown authority", "not signed by a CA of ssl_truststore_location")
	})
}

// Host name verification: the broker's certificate names 127.0.0.1 and
// localhost; reached as 127.0.0.2 (through a TCP relay), the default
// ("https") refuses it, and ssl_endpoint_identification_algorithm = ""
// accepts it (the chain is still checked against the CA). The relay only
// carries the bootstrap connection: the broker advertises 127.0.0.1.
func TestKafkaSecurityHostnameVerification(t *testing.T) {
	sec := testenv.KafkaSecure(t)
	relay := tcpRelay(t, "127.0.0.2:0", strings.Split(sec.SSLBootstrap, ",")[0])
	base := fmt.Sprintf("security_protocol = \"SSL\"\n  ssl_truststore_location = %q", sec.CAFile)
	t.Run("https", func(t *testing.T) {
		t.Parallel()
		failsClearly(t, fmt.Sprintf(secureProducerEndless, relay, kafkaName("sec-host"), base), exitNotDrained,
			"certificate is valid for 127.0.0.1", "not 127.0.0.2", "ssl_endpoint_identification_algorithm")
	})
	t.Run("off", func(t *testing.T) {
		t.Parallel()
		topic := kafkaName("sec-host")
		cfg := writeFile(t, "p.hcl", fmt.Sprintf(secureProducer, 10, relay, topic, base+"\n  ssl_endpoint_identification_algorithm = \"\""))
		stdout, stderr, code := gostash(t, "", "-f", cfg, "--path.data", filepath.Join(t.TempDir(), "data"))
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		if got := stored(t, strings.Split(sec.Plaintext, ","), topic); got != 10 {
			t.Fatalf("the topic holds %d records, want 10", got)
		}
	})
}

// tcpRelay listens on listen and copies each connection to and from target.
func tcpRelay(t *testing.T, listen, target string) string {
	t.Helper()
	l, err := net.Listen("tcp", listen)
	if err != nil {
		t.Skipf("cannot listen on %s for the relay: %v", listen, err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				b, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer b.Close()
				go func() { io.Copy(b, c); b.(*net.TCPConn).CloseWrite() }()
				io.Copy(c, b)
			}()
		}
	}()
	return l.Addr().String()
}

// writeOtherCA writes a CA certificate that signed nothing the broker has.
func writeOtherCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "not the broker's CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "other-ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
}
