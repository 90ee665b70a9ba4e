package elasticsearch

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gostash/gostash/plugins/outputs/elasticsearch/fakees"
	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
	"github.com/gostash/gostash/sdk/sdktest/testenv"
)

func comp(t *testing.T) *sdk.Component { return sdktest.Lookup(t, sdk.KindOutput, "elasticsearch") }

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "t.json")
	os.WriteFile(good, []byte(`{"index_patterns":["x-*"],"template":{"mappings":{"properties":{"n":{"type":"long"}}}}}`), 0o644)
	legacy := filepath.Join(dir, "legacy.json")
	os.WriteFile(legacy, []byte(`{"mappings":{}}`), 0o644)
	for _, c := range []struct {
		name     string
		settings map[string]any
		want     string // in the errors; "" for none
	}{
		{"defaults", map[string]any{}, ""},
		{"full", map[string]any{"hosts": []any{"es1", "es2:9201", "https://es3:9243/p", "//127.0.0.1"}, "index": "logs-%{[service][name]}-%{+YYYY.MM.dd}",
			"action": "update", "document_id": "%{id}", "doc_as_upsert": true, "routing": "%{tenant}", "pipeline": "p", "compression_level": 9,
			"max_retries": 3, "flavor": "opensearch", "api_key": "id:key", "ssl_enabled": true, "template": good, "template_name": "x"}, ""},
		{"no hosts", map[string]any{"hosts": []any{}}, "hosts is empty"},
		{"bad scheme", map[string]any{"hosts": []any{"ftp://es1"}}, "scheme must be http or https"},
		// Logstash takes basic auth in the host URL.
		{"credentials in URL", map[string]any{"hosts": []any{"https://u:secret@es1", "https://u:p%23ss@es2:9243/p"}}, ""},
		{"credentials in a bad URL", map[string]any{"hosts": []any{"http://u:secret@es1:92x0"}}, `host "http://u:xxxxx@es1:92x0" is not a URL`},
		// Logstash: one scheme for all hosts, in line with ssl_enabled.
		{"ssl_enabled with an http host", map[string]any{"hosts": []any{"es1", "http://es2"}, "ssl_enabled": true}, "host http://es2:9200 is http, but ssl_enabled = true"},
		{"ssl off with an https host", map[string]any{"hosts": []any{"https://es1"}, "ssl_enabled": false}, "is https, but ssl_enabled = false"},
		{"mixed schemes", map[string]any{"hosts": []any{"https://es1", "http://es2"}}, "is http, but another host is https"},
		// Logstash: api_key "requires SSL/TLS".
		{"api_key over http", map[string]any{"hosts": []any{"es1"}, "api_key": "id:key"}, "api_key needs TLS"},
		{"api_key over https hosts", map[string]any{"hosts": []any{"https://es1", "https://es2:9243"}, "api_key": "id:key"}, ""},
		{"api_key with ssl_enabled", map[string]any{"hosts": []any{"es1"}, "ssl_enabled": true, "api_key": "essu_abc"}, ""},
		{"api_key and URL credentials", map[string]any{"hosts": []any{"https://u:secret@es1"}, "api_key": "id:key"}, "either api_key or credentials in the host"},
		{"uppercase index", map[string]any{"index": "Logs"}, "must be lowercase"},
		// Seen without an event: the text and what the dates become.
		{"uppercase in a daily index", map[string]any{"index": "Logs-%{+YYYY.MM.dd}"}, `must be lowercase, so every event would be refused (its text and dates give "Logs-2026.12.07")`},
		{"month names", map[string]any{"index": "logs-%{+YYYY.MMM}"}, `"logs-2026.Dec"`},
		{"day names", map[string]any{"index": "logs-%{+EEE}"}, "must be lowercase"},
		{"whole timestamp", map[string]any{"index": "logs-%{@timestamp}"}, "must be lowercase"},
		{"space beside a field", map[string]any{"index": "my logs-%{[type]}"}, "cannot hold ' '"},
		{"fields decide per event", map[string]any{"index": "%{[type]}-%{[service][name]}-%{+xxxx.ww}"}, ""},
		{"bad action", map[string]any{"action": "upsert"}, `action "upsert" is not one of`},
		{"update without id", map[string]any{"action": "update"}, "needs a document_id"},
		{"bad template ref", map[string]any{"index": "logs-%{[a}"}, "invalid index"},
		{"bad date", map[string]any{"index": "logs-%{+YYYY.QQ}"}, "invalid index"},
		{"compression", map[string]any{"compression_level": 10}, "compression_level must be"},
		{"negative retries", map[string]any{"max_retries": -1}, "max_retries must be 0 or more"},
		{"user without password", map[string]any{"user": "u"}, "user and password go together"},
		{"path", map[string]any{"hosts": []any{"es1", "https://es2/es"}, "path": "es", "ssl_enabled": true}, ""},
		{"two paths", map[string]any{"hosts": []any{"es1/other"}, "path": "/es"}, `path is "/es" but host http://es1:9200/other has the path "/other"`},
		{"proxy", map[string]any{"proxy": "http://proxy:3128"}, ""},
		{"empty proxy", map[string]any{"proxy": ""}, ""},
		{"bad proxy", map[string]any{"proxy": "proxy:3128"}, "is not an http:// or https:// URL"},
		{"custom_headers", map[string]any{"custom_headers": map[string]any{"X-Tenant": "ops"}}, ""},
		{"custom Authorization alone", map[string]any{"custom_headers": map[string]any{"authorization": "Bearer secret"}}, ""},
		{"custom Authorization and a password", map[string]any{"user": "u", "password": "p", "custom_headers": map[string]any{"Authorization": "Bearer secret"}}, "Authorization would replace user/password"},
		{"custom Authorization and a host's credentials", map[string]any{"hosts": []any{"http://u:secret@es1"}, "custom_headers": map[string]any{"Authorization": "Bearer x"}}, "Authorization would replace"},
		{"custom Content-Encoding", map[string]any{"compression_level": 0, "custom_headers": map[string]any{"Content-Encoding": "gzip"}}, "Content-Encoding is set by the output"},
		{"header name with a space", map[string]any{"custom_headers": map[string]any{"X Tenant": "ops"}}, `"X Tenant" is not an HTTP header name`},
		{"header value with a line break", map[string]any{"custom_headers": map[string]any{"X-Tenant": "ops\r\nX-Token: secret"}}, "holds a line break or another control character"},
		{"dlq_custom_codes", map[string]any{"dlq_custom_codes": []any{"403", "429"}}, ""},
		{"dlq_custom_codes success", map[string]any{"dlq_custom_codes": []any{"403", "201"}}, "201 counts as written"},
		{"dlq_custom_codes conflict", map[string]any{"dlq_custom_codes": []any{"409"}}, "409 counts as written"},
		{"dlq_custom_codes standard", map[string]any{"dlq_custom_codes": []any{"404"}}, "404 is dead-lettered already"},
		// Logstash retries 413; its users list it to dead-letter it.
		{"dlq_custom_codes 413", map[string]any{"dlq_custom_codes": []any{"413", "403"}}, ""},
		{"dlq_custom_codes not a status", map[string]any{"dlq_custom_codes": []any{"forbidden"}}, `"forbidden" is not an HTTP status`},
		{"both credentials", map[string]any{"user": "u", "password": "secret", "api_key": "a:b"}, "either api_key or user"},
		{"missing CA", map[string]any{"ssl_certificate_authorities": []any{filepath.Join(dir, "nope.pem")}}, "cannot read the certificate authorities"},
		{"CA not PEM", map[string]any{"ssl_certificate_authorities": []any{good}}, "holds no PEM certificate"},
		{"missing template", map[string]any{"template": filepath.Join(dir, "nope.json")}, "cannot read the index template"},
		{"legacy template", map[string]any{"template": legacy}, "has no index_patterns"},
		{"intervals", map[string]any{"retry_initial_interval": 10, "retry_max_interval": 5}, "retry_max_interval must be at least"},
		{"id from source", map[string]any{"document_id_from_source": true}, ""},
		{"two ids", map[string]any{"document_id_from_source": true, "document_id": "%{id}"}, "either document_id or document_id_from_source"},
		{"delete by source id", map[string]any{"document_id_from_source": true, "action": "delete"}, "needs a document_id"},
		{"must-not-exist ids", map[string]any{"action": "create", "document_id": "%{id}", "document_id_must_not_exist": true}, ""},
		{"must-not-exist ids per event", map[string]any{"action": "%{[@metadata][action]}", "document_id": "%{id}", "document_id_must_not_exist": true}, ""},
		{"must-not-exist without an id", map[string]any{"action": "create", "document_id_must_not_exist": true}, "needs a document_id"},
		{"must-not-exist with index", map[string]any{"document_id": "%{id}", "document_id_must_not_exist": true}, `goes with action = "create"`},
		{"pool_max", map[string]any{"pool_max": 4, "pool_max_per_route": 2}, ""},
		{"pool_max zero", map[string]any{"pool_max": 0}, "pool_max and pool_max_per_route must be 1 or more"},
		// The errors about a host with credentials hide the password.
		{"credentials, wrong scheme", map[string]any{"hosts": []any{"ftp://u:secret@es1"}}, "the scheme must be http or https"},
		{"credentials, no host", map[string]any{"hosts": []any{"http://u:secret@:9200"}}, "names no host"},
		{"credentials, not a URL", map[string]any{"hosts": []any{"http://u:se#cret@es1"}}, "is not a URL"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := sdktest.Errors(sdktest.Validate(comp(t), c.settings))
			if c.want == "" && got != "" || !strings.Contains(got, c.want) {
				t.Fatalf("errors:\n%s\nwant one with %q", got, c.want)
			}
			if strings.Contains(got, "secret") {
				t.Fatalf("an error shows the password:\n%s", got)
			}
		})
	}
}

func TestParseHost(t *testing.T) {
	for in, want := range map[string]string{
		"//127.0.0.1":            "http://127.0.0.1:9200",
		"es1":                    "http://es1:9200",
		"es1:9201":               "http://es1:9201",
		"https://es1/prefix/":    "https://es1:9200/prefix",
		"http://[::1]:9200":      "http://[::1]:9200",
		"https://es.example:443": "https://es.example:443",
		"https://u:p%40ss@es1":   "https://u:p%40ss@es1:9200",
	} {
		u, err := parseHost(in, false)
		if err != nil || u.String() != want {
			t.Errorf("parseHost(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
	if u, _ := parseHost("es1", true); u.String() != "https://es1:9200" {
		t.Errorf("with ssl: %v", u)
	}
}

// An https host turns TLS on for the hosts written without a scheme, as
// Logstash's ssl_enabled defaults to true then.
func TestHTTPSHostMakesEveryHostHTTPS(t *testing.T) {
	s, ds := parse(sdktest.Config(t, comp(t), map[string]any{"hosts": []any{"https://es1", "es2:9201"}, "index": "x"}))
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	if got := s.hosts[1].String(); got != "https://es2:9201" {
		t.Fatalf("second host %s, want https://es2:9201", got)
	}
}

func TestHostPoolTakesOutAndResurrects(t *testing.T) {
	a, _ := parseHost("a", false)
	b, _ := parseHost("b", false)
	p := newHostPool([]*url.URL{a, b}, 5*time.Second)
	now := time.Unix(1000, 0)
	p.now = func() time.Time { return now }
	c1, _ := p.Next()
	c2, _ := p.Next()
	if c1.URL.Host == c2.URL.Host {
		t.Fatalf("not round-robin: %s then %s", c1.URL, c2.URL)
	}
	p.OnFailure(c1)
	for range 4 {
		if c, _ := p.Next(); c != c2 {
			t.Fatalf("a dead host was handed out: %s", c.URL)
		}
	}
	now = now.Add(5 * time.Second)
	seen := map[string]bool{}
	for range 2 {
		c, _ := p.Next()
		seen[c.URL.Host] = true
	}
	if !seen[c1.URL.Host] {
		t.Fatalf("the dead host was not tried again after resurrect_delay")
	}
	p.OnFailure(c1)
	p.OnFailure(c2)
	if c, _ := p.Next(); c != c1 {
		t.Fatalf("with every host out, the one out longest is tried; got %s", c.URL)
	}
}

// ---- the fault server ------------------------------------------------------

type logLine struct {
	level, msg string
	args       []any
}

type recLogger struct {
	t     *testing.T
	mu    sync.Mutex
	lines []logLine
}

func (l *recLogger) add(level, msg string, args []any) {
	l.mu.Lock()
	l.lines = append(l.lines, logLine{level, msg, args})
	l.mu.Unlock()
	l.t.Logf("%s %s %v", level, msg, args)
}
func (l *recLogger) Debug(msg string, args ...any) { l.add("DEBUG", msg, args) }
func (l *recLogger) Info(msg string, args ...any)  { l.add("INFO", msg, args) }
func (l *recLogger) Warn(msg string, args ...any)  { l.add("WARN", msg, args) }
func (l *recLogger) Error(msg string, args ...any) { l.add("ERROR", msg, args) }

func (l *recLogger) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, x := range l.lines {
		if strings.Contains(x.msg, substr) {
			n++
		}
	}
	return n
}

// open builds the output with fast retries (the settings take whole
// seconds).
func open(t *testing.T, settings map[string]any) (*Output, *recLogger) {
	t.Helper()
	c := comp(t)
	log := &recLogger{t: t}
	env := sdktest.Env(t, "es")
	env.Logger = log
	out, err := c.NewOutput(context.Background(), sdktest.Config(t, c, settings), env)
	if err != nil {
		t.Fatal(err)
	}
	o := out.(*Output)
	o.set.retryInitial, o.set.retryMax = 10*time.Millisecond, 40*time.Millisecond
	return o, log
}

func numbered(n int) []*sdk.Event {
	events := make([]*sdk.Event, n)
	for i := range events {
		events[i] = sdktest.Event(map[string]any{"n": i, "message": fmt.Sprintf("event %d", i), "[@metadata][secret]": "x"})
	}
	return events
}

// docNumber reads "n" of an accepted document.
func docNumber(t *testing.T, doc json.RawMessage) int {
	var d struct {
		N int `json:"n"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatalf("document %s: %v", doc, err)
	}
	return d.N
}

// record wraps the fake engine's handler: each request is noted as
// note makes it, and the notes so far are returned by the func it gives.
func record(srv *fakees.Server, note func(r *http.Request) string) func() []string {
	var mu sync.Mutex
	var seen []string
	inner := srv.Config.Handler
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, note(r))
		mu.Unlock()
		inner.ServeHTTP(w, r)
	})
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

// Credentials in a host URL are that host's basic auth, as in Logstash
// (%-escaped characters decoded), for the flavor check and the bulk
// requests alike.
func TestCredentialsInTheHostURL(t *testing.T) {
	srv := fakees.New(func(int, []fakees.Action) fakees.Fault { return fakees.Fault{} })
	defer srv.Close()
	requests := record(srv, func(r *http.Request) string {
		u, p, _ := r.BasicAuth()
		return r.Method + " " + r.URL.Path + " " + u + ":" + p
	})
	host := strings.Replace(srv.URL, "http://", "http://elastic:p%40ss@", 1)
	o, _ := open(t, map[string]any{"hosts": []any{host}, "index": "auth", "flavor": "auto"})
	if err := o.Write(context.Background(), numbered(2)); err != nil {
		t.Fatal(err)
	}
	seen := requests()
	if len(seen) < 2 || srv.Taken() != 2 {
		t.Fatalf("requests %q, %d documents taken; want GET / and a bulk request", seen, srv.Taken())
	}
	for _, r := range seen {
		if !strings.HasSuffix(r, " elastic:p@ss") {
			t.Fatalf("request %q, want basic auth elastic:p@ss", r)
		}
	}
}

// path, custom_headers and proxy, as Logstash's: every request (the
// flavor check and the bulk ones) carries the headers, goes under the
// path, and through the proxy.
func TestPathHeadersAndProxy(t *testing.T) {
	srv := fakees.New(func(int, []fakees.Action) fakees.Fault { return fakees.Fault{} })
	defer srv.Close()
	requests := record(srv, func(r *http.Request) string { return r.Method + " " + r.URL.Path + " " + r.Header.Get("X-Tenant") })
	target, _ := url.Parse(srv.URL)
	var proxied atomic.Int32
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Host == "es-behind-proxy:9200" { // a proxy request names the node
			proxied.Add(1)
		}
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	o, _ := open(t, map[string]any{"hosts": []any{"es-behind-proxy"}, "path": "/es/", "proxy": proxy.URL,
		"custom_headers": map[string]any{"X-Tenant": "ops"}, "index": "hdr"})
	if err := o.Write(context.Background(), numbered(2)); err != nil {
		t.Fatal(err)
	}
	seen := requests()
	if srv.Taken() != 2 || len(seen) < 2 || int(proxied.Load()) != len(seen) {
		t.Fatalf("%d taken, requests %q, %d through the proxy; want 2 taken, every request proxied", srv.Taken(), seen, proxied.Load())
	}
	for _, r := range seen {
		if !strings.HasPrefix(r, "GET /es/ ") && !strings.HasPrefix(r, "POST /es/_bulk ") || !strings.HasSuffix(r, " ops") {
			t.Fatalf("request %q, want under /es/ with X-Tenant: ops", r)
		}
	}
}

// parameters and a host's query string go with every request, the
// parameters winning, as Logstash's.
func TestQueryParameters(t *testing.T) {
	srv := fakees.New(func(int, []fakees.Action) fakees.Fault { return fakees.Fault{} })
	defer srv.Close()
	requests := record(srv, func(r *http.Request) string { return r.URL.Path + "?" + r.URL.RawQuery })
	o, _ := open(t, map[string]any{"hosts": []any{srv.URL + "/?a=1&b=2"}, "parameters": map[string]any{"b": "3"}, "index": "q"})
	if err := o.Write(context.Background(), numbered(1)); err != nil {
		t.Fatal(err)
	}
	seen := requests()
	if len(seen) < 2 || srv.Taken() != 1 {
		t.Fatalf("requests %q, %d taken", seen, srv.Taken())
	}
	for _, r := range seen {
		if q, _ := url.ParseQuery(r[strings.IndexByte(r, '?')+1:]); q.Get("a") != "1" || q.Get("b") != "3" {
			t.Fatalf("request %q, want a=1 and b=3", r)
		}
	}
}

func TestFault429StormEndsWithEveryDocumentOnce(t *testing.T) {
	// Every second request is refused whole (429); in the others two
	// documents of three are refused (429, some 503) the first two times
	// they come.
	seen := map[int]int{}
	srv := fakees.New(func(n int, _ []fakees.Action) fakees.Fault {
		if n%2 == 0 {
			return fakees.Fault{Status: 429}
		}
		return fakees.Fault{Item: func(_ int, a fakees.Action) int {
			d := docNumber(t, a.Doc)
			if seen[d]++; d%3 == 2 || seen[d] > 2 {
				return 0
			}
			if d%5 == 0 {
				return 503
			}
			return 429
		}}
	})
	defer srv.Close()
	o, log := open(t, map[string]any{"hosts": []any{srv.URL}, "index": "storm"})
	const n = 300
	// What the core does: a plain error sends the batch again, a
	// WriteError the events it names.
	all := numbered(n)
	batch := all
	for rounds := 0; ; rounds++ {
		err := o.Write(context.Background(), batch)
		if err == nil {
			break
		}
		if rounds > 100 {
			t.Fatalf("still failing after 100 writes: %v", err)
		}
		var werr *sdk.WriteError
		if !errors.As(err, &werr) {
			continue
		}
		var again []*sdk.Event
		for _, it := range werr.Items {
			if it.Reject {
				t.Fatalf("event %d rejected: %s", it.Index, it.Reason)
			}
			again = append(again, batch[it.Index])
		}
		batch = again
	}
	count := map[int]int{}
	for _, a := range srv.Accepted() {
		count[docNumber(t, a.Doc)]++
		if strings.Contains(string(a.Doc), "@metadata") || strings.Contains(string(a.Doc), "secret") {
			t.Fatalf("@metadata was sent: %s", a.Doc)
		}
	}
	for i := range n {
		if count[i] != 1 {
			t.Fatalf("document %d indexed %d times", i, count[i])
		}
	}
	backoffs := log.count("retrying them")
	if backoffs == 0 || backoffs > srv.Requests() {
		t.Fatalf("%d backoff lines for %d requests", backoffs, srv.Requests())
	}
	if srv.Gzipped() != srv.Requests() {
		t.Fatalf("%d of %d requests gzipped (compression_level defaults to 1)", srv.Gzipped(), srv.Requests())
	}
}

func TestFaultPerItemOutcomes(t *testing.T) {
	// Item i answers statuses[i] the first time; a retry is accepted.
	statuses := []int{201, 409, 400, 404, 413, 429, 503, 500, 200}
	srv := fakees.New(func(n int, _ []fakees.Action) fakees.Fault {
		if n > 1 {
			return fakees.Fault{}
		}
		return fakees.Fault{Item: func(i int, _ fakees.Action) int { return statuses[i] }}
	})
	defer srv.Close()
	o, log := open(t, map[string]any{"hosts": []any{srv.URL}, "index": "mix", "compression_level": 0})
	err := o.Write(context.Background(), numbered(len(statuses)))
	var werr *sdk.WriteError
	if !errors.As(err, &werr) {
		t.Fatalf("write: %v", err)
	}
	rejected := map[int]string{}
	for _, it := range werr.Items {
		if !it.Reject {
			t.Fatalf("event %d retried by the core: %s", it.Index, it.Reason)
		}
		rejected[it.Index] = it.Reason
	}
	for i, st := range statuses {
		_, rej := rejected[i]
		if want := st == 400 || st == 404 || st == 413; rej != want {
			t.Errorf("status %d: rejected %v, want %v", st, rej, want)
		}
	}
	if r := rejected[2]; !strings.Contains(r, "status 400, document_parsing_exception: fakees answers 400 for item 2") {
		t.Errorf("reason %q does not carry the engine's status, type and reason", r)
	}
	if srv.Requests() != 2 || srv.Gzipped() != 0 {
		t.Fatalf("%d requests (%d gzipped), want 2 uncompressed: one, then the three retried alone", srv.Requests(), srv.Gzipped())
	}
	if got := len(srv.Accepted()); got != 2+3 {
		t.Fatalf("%d accepted, want the 201, the 200 and the three retried", got)
	}
	if log.count("retrying them") != 1 {
		t.Fatalf("want one backoff line")
	}
}

// cloud_id names the deployment's endpoint as Logstash decodes it, and
// cloud_auth its credentials.
func TestCloudID(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, c := range []struct{ id, want string }{
		// Elastic's documented example, with a label.
		{"staging:dXMtZWFzdC0xLmF3cy5mb3VuZC5pbyRjZWM2ZjI2MWE3NGJmMjRjZTMzYmI4ODExYjg0Mjk0ZiRjNmMyY2E2ZDA0MjI0OWFmMGNjN2Q3YTllOTYyNTc0Mw==",
			"https://cec6f261a74bf24ce33bb8811b84294f.us-east-1.aws.found.io:443"},
		{b64("eu-west-1.aws.found.io:9243$abc$def"), "https://abc.eu-west-1.aws.found.io:9243"},
		{"my:" + b64("eu-west-1.aws.found.io$abc:9400$def"), "https://abc.eu-west-1.aws.found.io:9400"},
		{"x:" + strings.TrimRight(b64("gcp.cloud.es.io$0123abc$"), "="), "https://0123abc.gcp.cloud.es.io:443"},
	} {
		s, ds := parse(sdktest.Config(t, comp(t), map[string]any{"cloud_id": c.id, "cloud_auth": "elastic:s3cret"}))
		if err := ds.Err(); err != nil {
			t.Fatalf("cloud_id %q: %v", c.id, err)
		}
		if len(s.hosts) != 1 || s.hosts[0].String() != c.want {
			t.Errorf("cloud_id %q gave hosts %v, want %s", c.id, s.hosts, c.want)
		}
		if s.user != "elastic" || s.password != "s3cret" {
			t.Errorf("cloud_auth gave user %q password %q", s.user, s.password)
		}
	}
	for _, c := range []struct {
		settings map[string]any
		want     string
	}{
		{map[string]any{"cloud_id": "label:bm90IGEgY2xvdWQgaWQ="}, "is not a Cloud ID"},
		{map[string]any{"cloud_id": "label:%%%"}, "is not a Cloud ID"},
		{map[string]any{"cloud_id": b64("h$undefined$k")}, "is not a Cloud ID"},
		{map[string]any{"cloud_id": b64("h$e$k"), "hosts": []any{"es1"}}, "either cloud_id or hosts"},
		{map[string]any{"cloud_auth": "elastic"}, `cloud_auth is "user:password"`},
		{map[string]any{"cloud_auth": "elastic:x", "user": "u", "password": "p"}, "either cloud_auth or user and password"},
		{map[string]any{"cloud_id": b64("h$e$k"), "cloud_auth": "elastic:x", "api_key": "a:b"}, "either api_key or user and password (or cloud_auth)"},
	} {
		got := sdktest.Errors(sdktest.Validate(comp(t), c.settings))
		if !strings.Contains(got, c.want) {
			t.Errorf("%v: errors\n%s\nwant one with %q", c.settings, got, c.want)
		}
		if strings.Contains(got, "s3cret") {
			t.Errorf("an error shows the password: %s", got)
		}
	}
}

// A node that asks for a client certificate (mutual TLS) takes the one of
// ssl_certificate and ssl_key, and refuses the output without it.
func TestClientCertificate(t *testing.T) {
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test client CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "gostash"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
		ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile, serverCA := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key"), filepath.Join(dir, "server-ca.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)

	clients := x509.NewCertPool()
	clients.AddCert(ca)
	srv := fakees.NewTLS(nil, &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clients})
	defer srv.Close()
	os.WriteFile(serverCA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)

	settings := map[string]any{"hosts": []any{srv.URL}, "index": "mtls", "ssl_certificate_authorities": []any{serverCA}}
	o, _ := open(t, settings)
	if err := o.Write(context.Background(), numbered(3)); err == nil {
		t.Fatal("written without a client certificate")
	}
	settings["ssl_certificate"], settings["ssl_key"] = certFile, keyFile
	o, _ = open(t, settings)
	if err := o.Write(context.Background(), numbered(3)); err != nil {
		t.Fatalf("with the client certificate: %v", err)
	}
	if got := len(srv.Accepted()); got != 3 {
		t.Fatalf("%d documents taken, want 3", got)
	}

	for _, c := range []struct {
		settings map[string]any
		want     string
	}{
		{map[string]any{"hosts": []any{"https://es1"}, "ssl_certificate": certFile}, "ssl_certificate and ssl_key go together"},
		{map[string]any{"hosts": []any{"https://es1"}, "ssl_certificate": certFile, "ssl_key": serverCA}, "cannot use the client certificate"},
		{map[string]any{"hosts": []any{"es1"}, "ssl_certificate": certFile, "ssl_key": keyFile}, "a client certificate needs TLS"},
		{map[string]any{"hosts": []any{"https://es1"}, "ssl_certificate": certFile, "ssl_key": keyFile}, ""},
	} {
		got := sdktest.Errors(sdktest.Validate(comp(t), c.settings))
		if c.want == "" && got != "" || !strings.Contains(got, c.want) {
			t.Errorf("%v: errors\n%s\nwant one with %q", c.settings, got, c.want)
		}
	}
}

// A 409 on create counts as done (the document is there), unless the
// ids were to be new: document_id_must_not_exist dead-letters it with the
// engine's reason. A 409 of another action is done either way.
func TestFaultConflictOnCreate(t *testing.T) {
	for _, mustNotExist := range []bool{false, true} {
		t.Run(fmt.Sprint("must_not_exist=", mustNotExist), func(t *testing.T) {
			// Odd documents are there already: their create conflicts.
			srv := fakees.New(func(int, []fakees.Action) fakees.Fault {
				return fakees.Fault{Item: func(_ int, a fakees.Action) int {
					if docNumber(t, a.Doc)%2 == 1 {
						return 409
					}
					return 0
				}}
			})
			defer srv.Close()
			o, _ := open(t, map[string]any{"hosts": []any{srv.URL}, "index": "ids", "action": "%{[@metadata][action]}",
				"document_id": "id-%{n}", "document_id_must_not_exist": mustNotExist})
			events := numbered(6)
			for i, e := range events {
				// The last two are indexed, not created: their 409 is done.
				e.Set("[@metadata][action]", map[bool]string{true: "index", false: "create"}[i >= 4])
			}
			err := o.Write(context.Background(), events)
			rejected := map[int]string{}
			var werr *sdk.WriteError
			if errors.As(err, &werr) {
				for _, it := range werr.Items {
					if !it.Reject {
						t.Fatalf("event %d retried: %s", it.Index, it.Reason)
					}
					rejected[it.Index] = it.Reason
				}
			} else if err != nil {
				t.Fatalf("write: %v", err)
			}
			for i := range events {
				_, rej := rejected[i]
				if want := mustNotExist && i%2 == 1 && i < 4; rej != want {
					t.Errorf("event %d: dead-lettered %v, want %v (%v)", i, rej, want, rejected)
				}
			}
			if r, ok := rejected[1]; ok && !strings.Contains(r, "status 409, version_conflict_engine_exception") {
				t.Errorf("reason %q does not carry the engine's status and type", r)
			}
			if srv.Requests() != 1 {
				t.Errorf("%d requests: a 409 is never retried", srv.Requests())
			}
		})
	}
}

// pool_max bounds the bulk requests in flight across the output's
// concurrent writes; the default (1000) leaves the core's streams as the
// bound.
func TestFaultPoolMaxBoundsRequestsInFlight(t *testing.T) {
	for _, c := range []struct{ poolMax, want int }{{1, 1}, {2, 2}, {1000, 6}} {
		t.Run(fmt.Sprint("pool_max=", c.poolMax), func(t *testing.T) {
			srv := fakees.New(func(int, []fakees.Action) fakees.Fault { return fakees.Fault{Delay: 100 * time.Millisecond} })
			defer srv.Close()
			o, _ := open(t, map[string]any{"hosts": []any{srv.URL}, "index": "pool", "pool_max": c.poolMax})
			var wg sync.WaitGroup
			for range 6 { // the core's 6 streams with 2 workers
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := o.Write(context.Background(), numbered(10)); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			// The default leaves the six writes' requests overlapping:
			// more than two, however the goroutines were scheduled.
			if got := srv.MaxInFlight(); got > c.poolMax || c.poolMax < 6 && got != c.want || c.poolMax >= 6 && got < 3 {
				t.Fatalf("%d bulk requests in flight at most, want %d", got, c.want)
			}
		})
	}
}

// timeout bounds a bulk request, not the wait for a pool_max slot: with
// one slot, a write queued behind a slow request still has its whole
// timeout once it is sent.
func TestFaultPoolMaxWaitIsNotTheRequestsTimeout(t *testing.T) {
	srv := fakees.New(func(int, []fakees.Action) fakees.Fault { return fakees.Fault{Delay: 1200 * time.Millisecond} })
	defer srv.Close()
	o, _ := open(t, map[string]any{"hosts": []any{srv.URL}, "index": "pool", "pool_max": 1, "timeout": 2})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := o.Write(context.Background(), numbered(3)); err != nil {
				t.Errorf("a request that takes 1.2 s of its 2 s failed: %v", err)
			}
		}()
	}
	wg.Wait()
	if n := srv.Requests(); n != 2 {
		t.Fatalf("%d bulk requests, want 2 (none timed out and was sent again)", n)
	}
}

func TestFaultMaxRetriesDeadLetters(t *testing.T) {
	srv := fakees.New(func(n int, _ []fakees.Action) fakees.Fault {
		return fakees.Fault{Item: func(_ int, a fakees.Action) int {
			if docNumber(t, a.Doc) == 1 {
				return 429
			}
			return 0
		}}
	})
	defer srv.Close()
	o, log := open(t, map[string]any{"hosts": []any{srv.URL}, "index": "cap", "max_retries": 2})
	err := o.Write(context.Background(), numbered(3))
	var werr *sdk.WriteError
	if !errors.As(err, &werr) || len(werr.Items) != 1 || !werr.Items[0].Reject || werr.Items[0].Index != 1 {
		t.Fatalf("write: %v, want event 1 rejected", err)
	}
	if r := werr.Items[0].Reason; !strings.Contains(r, "gave up after 2 retries") || !strings.Contains(r, "429") {
		t.Fatalf("reason %q", r)
	}
	if srv.Requests() != 3 || log.count("retrying them") != 2 {
		t.Fatalf("%d requests, %d backoff lines; want 3 and 2", srv.Requests(), log.count("retrying them"))
	}
}

// dlq_custom_codes: a status listed there is dead-lettered at once, with
// the engine's reason, instead of retried (as Logstash's).
func TestFaultDLQCustomCodes(t *testing.T) {
	srv := fakees.New(func(n int, _ []fakees.Action) fakees.Fault {
		return fakees.Fault{Item: func(_ int, a fakees.Action) int {
			if docNumber(t, a.Doc) == 1 {
				return 403
			}
			return 0
		}}
	})
	defer srv.Close()
	o, log := open(t, map[string]any{"hosts": []any{srv.URL}, "index": "codes", "dlq_custom_codes": []any{"403"}})
	err := o.Write(context.Background(), numbered(3))
	var werr *sdk.WriteError
	if !errors.As(err, &werr) || len(werr.Items) != 1 || !werr.Items[0].Reject || werr.Items[0].Index != 1 {
		t.Fatalf("write: %v, want event 1 rejected", err)
	}
	if r := werr.Items[0].Reason; !strings.Contains(r, "status 403") || strings.Contains(r, "gave up") {
		t.Fatalf("reason %q, want the engine's 403 at the first answer", r)
	}
	if srv.Requests() != 1 || log.count("retrying them") != 0 || srv.Taken() != 2 {
		t.Fatalf("%d requests, %d backoff lines, %d taken; want 1, 0 and 2", srv.Requests(), log.count("retrying them"), srv.Taken())
	}
}

func TestFaultShortResponseIsAnError(t *testing.T) {
	srv := fakees.New(func(int, []fakees.Action) fakees.Fault { return fakees.Fault{Drop: 1} })
	defer srv.Close()
	o, _ := open(t, map[string]any{"hosts": []any{srv.URL}, "index": "short"})
	err := o.Write(context.Background(), numbered(5))
	var werr *sdk.WriteError
	if err == nil || errors.As(err, &werr) {
		t.Fatalf("write: %v, want a plain error (the core retries the batch)", err)
	}
	if !strings.Contains(err.Error(), "answered for 4") {
		t.Fatalf("error %q", err)
	}
}

func TestFaultWholeRequestFailureIsRetriedByTheCore(t *testing.T) {
	for _, status := range []int{429, 503, 401} {
		srv := fakees.New(func(int, []fakees.Action) fakees.Fault { return fakees.Fault{Status: status} })
		o, _ := open(t, map[string]any{"hosts": []any{srv.URL}, "index": "down"})
		err := o.Write(context.Background(), numbered(3))
		var werr *sdk.WriteError
		if err == nil || errors.As(err, &werr) || !strings.Contains(err.Error(), fmt.Sprint(status)) {
			t.Fatalf("status %d: write: %v, want a plain error naming it", status, err)
		}
		srv.Close()
	}
	// Connection refused.
	o, _ := open(t, map[string]any{"hosts": []any{"127.0.0.1:1"}, "index": "down", "flavor": "elasticsearch"})
	err := o.Write(context.Background(), numbered(1))
	var werr *sdk.WriteError
	if err == nil || errors.As(err, &werr) || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("write: %v, want a plain error naming the host", err)
	}
}

func TestFaultBulkSplitAtMaxBytes(t *testing.T) {
	srv := fakees.New(nil)
	defer srv.Close()
	o, _ := open(t, map[string]any{"hosts": []any{srv.URL}, "index": "split"})
	o.set.maxBulk = 1000
	events := numbered(20)
	events[7] = sdktest.Event(map[string]any{"n": 7, "message": strings.Repeat("x", 5000)})
	if err := o.Write(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	if got := len(srv.Accepted()); got != 20 {
		t.Fatalf("%d accepted", got)
	}
	if srv.Requests() < 3 {
		t.Fatalf("%d requests: not split", srv.Requests())
	}
}

func TestFaultActionsAndUnresolvedIndex(t *testing.T) {
	srv := fakees.New(nil)
	defer srv.Close()
	o, _ := open(t, map[string]any{"hosts": []any{srv.URL}, "index": "idx-%{svc}", "action": "%{[@metadata][op]}",
		"document_id": "%{id}", "doc_as_upsert": true, "retry_on_conflict": 3, "routing": "%{svc}"})
	events := []*sdk.Event{
		sdktest.Event(map[string]any{"svc": "a", "id": "1", "[@metadata][op]": "index"}),
		sdktest.Event(map[string]any{"svc": "a", "id": "2", "[@metadata][op]": "update"}),
		sdktest.Event(map[string]any{"svc": "a", "id": "3", "[@metadata][op]": "delete"}),
		sdktest.Event(map[string]any{"svc": "a", "id": "4", "[@metadata][op]": "create"}),
		sdktest.Event(map[string]any{"id": "5", "[@metadata][op]": "index"}),              // no svc: index unresolved
		sdktest.Event(map[string]any{"svc": "a", "id": "6", "[@metadata][op]": "upsert"}), // not an action
		sdktest.Event(map[string]any{"svc": "a", "[@metadata][op]": "index"}),             // no id
	}
	err := o.Write(context.Background(), events)
	var werr *sdk.WriteError
	if !errors.As(err, &werr) || len(werr.Items) != 3 {
		t.Fatalf("write: %v, want three rejected", err)
	}
	for _, it := range werr.Items {
		if !it.Reject || it.Index < 4 {
			t.Fatalf("outcome %+v", it)
		}
	}
	if !strings.Contains(werr.Items[0].Reason, `index "idx-%{svc}" gave "idx-%{svc}"`) {
		t.Fatalf("reason %q", werr.Items[0].Reason)
	}
	got := srv.Accepted()
	if len(got) != 4 {
		t.Fatalf("%d accepted", len(got))
	}
	want := []string{
		`{"_index":"idx-a","_id":"1","routing":"a"}`,
		`{"_index":"idx-a","_id":"2","routing":"a","retry_on_conflict":3}`,
		`{"_index":"idx-a","_id":"3","routing":"a"}`,
		`{"_index":"idx-a","_id":"4","routing":"a"}`,
	}
	for i, a := range got {
		if string(a.Meta) != want[i] || a.Name != []string{"index", "update", "delete", "create"}[i] {
			t.Errorf("action %d: %s %s, want %s", i, a.Name, a.Meta, want[i])
		}
	}
	if d := string(got[1].Doc); !strings.HasPrefix(d, `{"doc":{"@timestamp":"2024-01-02T03:04:05.000Z",`) || !strings.HasSuffix(d, `},"doc_as_upsert":true}`) {
		t.Errorf("update document %s", d)
	}
	if got[2].Doc != nil {
		t.Errorf("delete has a document line: %s", got[2].Doc)
	}
}

// ---- against the real engines ----------------------------------------------

func unique(prefix string) string { return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()) }

func call(t *testing.T, method, url string, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func count(t *testing.T, base, index string) int {
	t.Helper()
	call(t, "POST", base+"/"+index+"/_refresh", "")
	st, b := call(t, "GET", base+"/"+index+"/_count", "")
	var c struct {
		Count int `json:"count"`
	}
	if st != 200 || json.Unmarshal(b, &c) != nil {
		t.Fatalf("count %s: %d %s", index, st, b)
	}
	return c.Count
}

func search(t *testing.T, base, index string) []map[string]any {
	t.Helper()
	_, b := call(t, "GET", base+"/"+index+"/_search?size=1000", "")
	var r struct {
		Hits struct {
			Hits []struct {
				Source map[string]any `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("search %s: %v: %s", index, err, b)
	}
	var out []map[string]any
	for _, h := range r.Hits.Hits {
		out = append(out, h.Source)
	}
	return out
}

// twoMonths are events stamped in January and February 2026.
func twoMonths(n int) []*sdk.Event {
	var events []*sdk.Event
	for i := range n {
		e := sdktest.Event(map[string]any{"n": i, "message": fmt.Sprintf("event %d", i), "[@metadata][kafka][offset]": i})
		month := time.January + time.Month(i%2)
		e.SetTimestamp(time.Date(2026, month, 1+i%28, 12, 0, i%60, 123e6, time.UTC))
		events = append(events, e)
	}
	return events
}

func checkTwoMonths(t *testing.T, base, prefix string, n int) {
	t.Helper()
	jan, feb := prefix+"-2026.01", prefix+"-2026.02"
	if cj, cf := count(t, base, jan), count(t, base, feb); cj != (n+1)/2 || cf != n/2 {
		t.Fatalf("%s holds %d and %s %d, want %d and %d", jan, cj, feb, cf, (n+1)/2, n/2)
	}
	for _, idx := range []string{jan, feb} {
		for _, d := range search(t, base, idx) {
			i := int(d["n"].(float64))
			want := time.Date(2026, time.January+time.Month(i%2), 1+i%28, 12, 0, i%60, 123e6, time.UTC).Format("2006-01-02T15:04:05.000Z")
			if d["@timestamp"] != want {
				t.Fatalf("document %d in %s: @timestamp %v, want %s", i, idx, d["@timestamp"], want)
			}
			if _, ok := d["@metadata"]; ok {
				t.Fatalf("document %d holds @metadata: %v", i, d)
			}
		}
	}
}

func TestRealEnginesTwoMonthsTwoIndices(t *testing.T) {
	for _, engine := range []struct {
		name, flavor string
		url          func(testing.TB) string
	}{
		{"elasticsearch", "auto", testenv.Elasticsearch},
		{"opensearch", "opensearch", testenv.OpenSearch},
		{"opensearch-detected", "auto", testenv.OpenSearch},
	} {
		t.Run(engine.name, func(t *testing.T) {
			base := engine.url(t)
			prefix := unique("gostash-es-months")
			t.Cleanup(func() { call(t, "DELETE", base+"/"+prefix+"-*", "") })
			const n = 200
			err := sdktest.RunOutput(t, context.Background(), sdktest.OutputSpec{Name: "elasticsearch", Settings: map[string]any{
				"hosts": []any{base}, "flavor": engine.flavor, "index": prefix + "-%{+YYYY.MM}",
			}}, twoMonths(n))
			if err != nil {
				t.Fatalf("write: %v", err)
			}
			checkTwoMonths(t, base, prefix, n)
		})
	}
}

func TestRealMappingConflictDeadLettersTheWrongTyped(t *testing.T) {
	for _, engine := range []struct {
		name string
		url  func(testing.TB) string
	}{{"elasticsearch", testenv.Elasticsearch}, {"opensearch", testenv.OpenSearch}} {
		t.Run(engine.name, func(t *testing.T) {
			base := engine.url(t)
			index := unique("gostash-es-mapping")
			t.Cleanup(func() { call(t, "DELETE", base+"/"+index, "") })
			if st, b := call(t, "PUT", base+"/"+index, `{"mappings":{"properties":{"bytes":{"type":"long"}}}}`); st != 200 {
				t.Fatalf("create index: %d %s", st, b)
			}
			var events []*sdk.Event
			for i := range 10 {
				var v any = i * 100
				if i%3 == 1 {
					v = "not a number"
				}
				events = append(events, sdktest.Event(map[string]any{"n": i, "bytes": v}))
			}
			o, log := open(t, map[string]any{"hosts": []any{base}, "index": index})
			err := o.Write(context.Background(), events)
			var werr *sdk.WriteError
			if !errors.As(err, &werr) {
				t.Fatalf("write: %v", err)
			}
			var rejected []int
			for _, it := range werr.Items {
				if !it.Reject {
					t.Fatalf("event %d retried: %s", it.Index, it.Reason)
				}
				if !strings.Contains(it.Reason, "status 400") || !strings.Contains(it.Reason, "bytes") || !strings.Contains(it.Reason, "parsing_exception") {
					t.Fatalf("reason %q lacks the engine's status, type and reason", it.Reason)
				}
				rejected = append(rejected, it.Index)
			}
			if fmt.Sprint(rejected) != "[1 4 7]" {
				t.Fatalf("rejected %v, want [1 4 7]", rejected)
			}
			if c := count(t, base, index); c != 7 {
				t.Fatalf("%d indexed, want 7", c)
			}
			if log.count("retrying") != 0 {
				t.Fatalf("a mapping error was retried")
			}
		})
	}
}

func TestRealTemplateInstalled(t *testing.T) {
	base := testenv.Elasticsearch(t)
	prefix := unique("gostash-es-tmpl")
	path := filepath.Join(t.TempDir(), "t.json")
	os.WriteFile(path, []byte(`{"index_patterns":["`+prefix+`-*"],"template":{"mappings":{"properties":{"code":{"type":"keyword"}}}}}`), 0o644)
	t.Cleanup(func() {
		call(t, "DELETE", base+"/"+prefix+"-*", "")
		call(t, "DELETE", base+"/_index_template/"+prefix, "")
	})
	err := sdktest.RunOutput(t, context.Background(), sdktest.OutputSpec{Name: "elasticsearch", Settings: map[string]any{
		"hosts": []any{base}, "index": prefix + "-x", "template": path, "template_name": prefix,
	}}, []*sdk.Event{sdktest.Event(map[string]any{"code": 42})})
	if err != nil {
		t.Fatal(err)
	}
	_, b := call(t, "GET", base+"/"+prefix+"-x/_mapping", "")
	if !strings.Contains(string(b), `"code":{"type":"keyword"}`) {
		t.Fatalf("mapping %s: the template was not applied", b)
	}
}

func TestFaultDeadHostIsSkipped(t *testing.T) {
	srv := fakees.New(nil)
	defer srv.Close()
	o, _ := open(t, map[string]any{"hosts": []any{"127.0.0.1:1", srv.URL}, "index": "failover", "flavor": "elasticsearch"})
	for range 4 {
		if err := o.Write(context.Background(), numbered(10)); err != nil {
			t.Fatalf("write with one host down: %v", err)
		}
	}
	if got := len(srv.Accepted()); got != 40 {
		t.Fatalf("%d accepted, want 40", got)
	}
	if o.pool.live() != 1 {
		t.Fatalf("%d live hosts, want the dead one left out", o.pool.live())
	}
}

// document_id_from_source: ids from the coordinates inputs attach, the
// Kafka one equal to what the documented document_id template makes.
func TestFaultDocumentIDFromSource(t *testing.T) {
	srv := fakees.New(nil)
	defer srv.Close()
	o, log := open(t, map[string]any{"hosts": []any{srv.URL}, "index": "ids", "document_id_from_source": true})
	src := func(typ string, coords map[string]any) *sdk.Event {
		e := sdktest.Event(map[string]any{"message": "m"})
		sdk.SetSource(e, typ, coords)
		return e
	}
	long := "/var/log/" + strings.Repeat("d/", 300) + "messages"
	events := []*sdk.Event{
		src("kafka", map[string]any{"topic": "logs", "partition": int64(2), "offset": int64(41), "consumer_group": "g"}),
		src("kafka", map[string]any{"topic": "logs", "partition": int64(2), "offset": int64(42), sdk.SourceSeq: int64(1)}),
		src("file", map[string]any{"path": "/var/log/messages", "offset": int64(1234), "host": "web-1"}),
		src("file", map[string]any{"path": long, "offset": int64(0), "host": "web-1"}),
		src("stdin", map[string]any{"host": "web-1"}),
		sdktest.Event(map[string]any{"message": "no coordinates"}),
	}
	if err := o.Write(context.Background(), append(events, events[5])); err != nil {
		t.Fatal(err)
	}
	got := srv.Accepted()
	want := []string{"logs-2-41", "logs-2-42-1", "web-1:/var/log/messages:1234", "", "", "", ""}
	if len(got) != len(want) {
		t.Fatalf("%d accepted, want %d", len(got), len(want))
	}
	for i, a := range got {
		if i == 3 {
			if len(a.ID) != 64 {
				t.Errorf("a long path's id %q, want a SHA-256", a.ID)
			}
			continue
		}
		if a.ID != want[i] {
			t.Errorf("event %d: id %q, want %q", i, a.ID, want[i])
		}
	}
	if n := log.count("document_id_from_source"); n != 1 {
		t.Errorf("%d warnings about events without a source, want 1", n)
	}
	// The same id as the template Logstash users write.
	tmpl, _ := open(t, map[string]any{"hosts": []any{srv.URL}, "index": "ids",
		"document_id": "%{[@metadata][kafka][topic]}-%{[@metadata][kafka][partition]}-%{[@metadata][kafka][offset]}"})
	e := sdktest.Event(map[string]any{"[@metadata][kafka][topic]": "logs", "[@metadata][kafka][partition]": int64(2), "[@metadata][kafka][offset]": int64(41)})
	if err := tmpl.Write(context.Background(), []*sdk.Event{e}); err != nil {
		t.Fatal(err)
	}
	if got := srv.Accepted(); got[len(got)-1].ID != "logs-2-41" {
		t.Errorf("template id %q", got[len(got)-1].ID)
	}
}

// Data streams, against the fault server (the test engines have none):
// create actions to TYPE-DATASET-NAMESPACE, an event's own [data_stream]
// fields routing it, the fields synced into the document.
func TestFaultDataStream(t *testing.T) {
	srv := fakees.New(nil)
	defer srv.Close()
	o, _ := open(t, map[string]any{"hosts": []any{srv.URL}, "data_stream": "true", "data_stream_dataset": "nginx"})
	events := []*sdk.Event{
		sdktest.Event(map[string]any{"message": "a"}),
		sdktest.Event(map[string]any{"message": "b", "[data_stream][dataset]": "syslog", "[data_stream][namespace]": "prod"}),
		sdktest.Event(map[string]any{"message": "c", "[data_stream][namespace]": "Bad"}), // uppercase: refused
	}
	err := o.Write(context.Background(), events)
	var werr *sdk.WriteError
	if !errors.As(err, &werr) || len(werr.Items) != 1 || werr.Items[0].Index != 2 || !strings.Contains(werr.Items[0].Reason, "logs-nginx-Bad") {
		t.Fatalf("write: %v, want the third dead-lettered", err)
	}
	got := srv.Accepted()
	if len(got) != 2 {
		t.Fatalf("%d accepted", len(got))
	}
	for i, want := range []struct{ meta, ds string }{
		{`{"_index":"logs-nginx-default"}`, `{"dataset":"nginx","namespace":"default","type":"logs"}`},
		{`{"_index":"logs-syslog-prod"}`, `{"dataset":"syslog","namespace":"prod","type":"logs"}`},
	} {
		var doc struct {
			DS json.RawMessage `json:"data_stream"`
		}
		json.Unmarshal(got[i].Doc, &doc)
		var ds map[string]string
		json.Unmarshal(doc.DS, &ds)
		b, _ := json.Marshal(ds)
		if got[i].Name != "create" || string(got[i].Meta) != want.meta || string(b) != want.ds {
			t.Errorf("action %d: %s %s %s, want create %s %s", i, got[i].Name, got[i].Meta, b, want.meta, want.ds)
		}
	}
	// Without routing and syncing: the settings only, the document as it is.
	o, _ = open(t, map[string]any{"hosts": []any{srv.URL}, "data_stream": "true", "data_stream_type": "metrics",
		"data_stream_auto_routing": false, "data_stream_sync_fields": false})
	fresh := sdktest.Event(map[string]any{"message": "b", "[data_stream][dataset]": "syslog", "[data_stream][namespace]": "prod"})
	if err := o.Write(context.Background(), []*sdk.Event{fresh}); err != nil {
		t.Fatal(err)
	}
	// Document keys come in no particular order: compare the object.
	a := srv.Accepted()[2]
	var doc struct {
		DS map[string]any `json:"data_stream"`
	}
	json.Unmarshal(a.Doc, &doc)
	if string(a.Meta) != `{"_index":"metrics-generic-default"}` || !reflect.DeepEqual(doc.DS, map[string]any{"dataset": "syslog", "namespace": "prod"}) {
		t.Errorf("%s %s", a.Meta, a.Doc)
	}
	for _, c := range []struct {
		settings map[string]any
		want     string
	}{
		{map[string]any{"data_stream": "true", "index": "x"}, "index does not go with data_stream"},
		{map[string]any{"data_stream": "true", "action": "index"}, "only action = \"create\""},
		{map[string]any{"data_stream": "true", "document_id": "%{id}"}, "document_id does not go with data_stream"},
		{map[string]any{"data_stream": "true", "data_stream_dataset": "a b"}, "cannot hold"},
		{map[string]any{"data_stream": "auto", "index": "x"}, ""},
	} {
		if got := sdktest.Errors(sdktest.Validate(comp(t), c.settings)); c.want == "" && got != "" || !strings.Contains(got, c.want) {
			t.Errorf("%v: errors %q, want %q", c.settings, got, c.want)
		}
	}
	// auto: a data stream when no index is set.
	o, _ = open(t, map[string]any{"hosts": []any{srv.URL}, "data_stream": "auto"})
	if !o.set.dataStream {
		t.Error("data_stream = auto without index: not a data stream")
	}
}

// ILM, against the fault server (the test engines have none): the default
// policy created, the first index created with the alias as write index,
// the documents sent to the alias; a second start finds both.
func TestFaultILM(t *testing.T) {
	srv := fakees.New(nil)
	defer srv.Close()
	o, _ := open(t, map[string]any{"hosts": []any{srv.URL}, "ilm_enabled": "true", "ecs_compatibility": "disabled"})
	if err := o.Write(context.Background(), numbered(2)); err != nil {
		t.Fatal(err)
	}
	var calls []string
	for _, c := range srv.Calls() {
		calls = append(calls, c.Method+" "+c.Path+" "+c.Body)
	}
	want := []string{
		"GET /_ilm/policy/logstash-policy ",
		"PUT /_ilm/policy/logstash-policy " + defaultILMPolicy,
		"HEAD /_alias/logstash ",
		`PUT /%3Clogstash-%7Bnow%2Fd%7D-000001%3E {"aliases":{"logstash":{"is_write_index":true}},"settings":{"index.lifecycle.name":"logstash-policy","index.lifecycle.rollover_alias":"logstash"}}`,
	}
	if strings.Join(calls, "\n") != strings.Join(want, "\n") {
		t.Fatalf("calls:\n%s\nwant:\n%s", strings.Join(calls, "\n"), strings.Join(want, "\n"))
	}
	for _, a := range srv.Accepted() {
		if a.Index != "logstash" {
			t.Fatalf("document to %q, want the alias", a.Index)
		}
	}
	// A custom policy must exist.
	o, _ = open(t, map[string]any{"hosts": []any{srv.URL}, "ilm_enabled": "true", "ilm_policy": "mine", "ilm_rollover_alias": "app"})
	if err := o.Write(context.Background(), numbered(1)); err == nil || !strings.Contains(err.Error(), `ILM policy "mine" does not exist`) {
		t.Fatalf("write: %v", err)
	}
	if got := sdktest.Errors(sdktest.Validate(comp(t), map[string]any{"ilm_enabled": "true", "index": "x"})); !strings.Contains(got, "index does not go with ilm_enabled") {
		t.Errorf("errors %q", got)
	}
}

// Logstash 8's defaults: data_stream unset (or auto) writes a data stream
// when ECS is on and only settings a data stream goes with are given;
// ilm_enabled = auto then manages a rollover alias when no data stream is
// written and index is not set. data_stream_* settings with data streams
// off are an error, as in Logstash.
func TestDefaultsDataStreamAndILMAsLogstash8(t *testing.T) {
	for _, c := range []struct {
		settings map[string]any
		want     string // "ds NAME", "ilm ALIAS", "index TEMPLATE", or an error's text
	}{
		{map[string]any{}, "ds logs-generic-default"},
		{map[string]any{"action": "create", "routing": "%{r}", "pipeline": "p", "timeout": 5, "data_stream_dataset": "nginx"}, "ds logs-nginx-default"},
		{map[string]any{"data_stream": "auto", "data_stream_namespace": "prod"}, "ds logs-generic-prod"},
		{map[string]any{"manage_template": true, "retry_on_conflict": 1}, "ds logs-generic-default"}, // defaults written out: not given
		{map[string]any{"ecs_compatibility": "disabled"}, "ilm logstash"},
		{map[string]any{"document_id": "%{id}"}, "ilm ecs-logstash"},
		{map[string]any{"action": "index"}, "ilm ecs-logstash"},
		{map[string]any{"ilm_rollover_alias": "app"}, "ilm app"},
		{map[string]any{"data_stream": "false"}, "ilm ecs-logstash"},
		{map[string]any{"index": "x-%{+YYYY}"}, "index x-%{+YYYY}"},
		{map[string]any{"index": "x", "ilm_enabled": "false"}, "index x"},
		{map[string]any{"ilm_enabled": "false", "document_id": "%{id}"}, "index ecs-logstash-%{+yyyy.MM.dd}"},
		{map[string]any{"index": "x", "data_stream_dataset": "nginx"}, "data_stream_dataset is set but no data stream is written, because of index"},
		{map[string]any{"data_stream": "false", "data_stream_type": "metrics"}, `data_stream_type is set but no data stream is written, because of data_stream = "false"`},
		{map[string]any{"ecs_compatibility": "disabled", "data_stream_namespace": "prod"}, "because of ecs_compatibility"},
		{map[string]any{"data_stream": "true", "ecs_compatibility": "disabled"}, "needs ECS"},
		{map[string]any{"index": "x", "ilm_rollover_alias": "app"}, "index does not go with ilm_enabled"},
	} {
		settings := map[string]any{"hosts": []any{"127.0.0.1:1"}}
		for k, v := range c.settings {
			settings[k] = v
		}
		if errs := sdktest.Errors(sdktest.Validate(comp(t), settings)); errs != "" || !strings.Contains(c.want, " ") || strings.Contains(c.want, "because") {
			if !strings.Contains(errs, c.want) {
				t.Errorf("%v: errors %q, want %q", c.settings, errs, c.want)
			}
			continue
		}
		o, _ := open(t, settings)
		var got string
		switch s := o.set; {
		case s.dataStream:
			got = "ds " + s.dsType + "-" + s.dsDataset + "-" + s.dsNamespace
		case s.ilm:
			got = "ilm " + s.ilmAlias
		default:
			got = "index " + s.index.String()
		}
		if got != c.want {
			t.Errorf("%v: %s, want %s", c.settings, got, c.want)
		}
	}
}

// ilm_enabled = auto against the real Elasticsearch, whose test zip has no
// ILM (x-pack-ilm is not in it): the output says so once and writes to
// the plain default index, dated from @timestamp; true is an error.
func TestRealILMAutoWithoutILMWritesPlainIndices(t *testing.T) {
	base := testenv.Elasticsearch(t)
	// A day no other test writes: logstash-YYYY.MM.dd from @timestamp.
	day := time.Date(2040+int(time.Now().UnixNano()%50), time.Month(1+time.Now().Nanosecond()%12), 1+time.Now().Nanosecond()%28, 12, 0, 0, 0, time.UTC)
	index := "logstash-" + day.Format("2006.01.02")
	t.Cleanup(func() { call(t, "DELETE", base+"/"+index, "") })
	var events []*sdk.Event
	for i := range 5 {
		e := sdktest.Event(map[string]any{"n": i})
		e.SetTimestamp(day)
		events = append(events, e)
	}
	o, log := open(t, map[string]any{"hosts": []any{base}, "ecs_compatibility": "disabled"})
	if !o.set.ilm {
		t.Fatal("ilm_enabled = auto without index: ILM not asked for")
	}
	if err := o.Write(context.Background(), events); err != nil {
		t.Fatalf("write: %v", err)
	}
	if c := count(t, base, index); c != 5 {
		t.Fatalf("%s holds %d documents, want 5", index, c)
	}
	if log.count("writing to plain indices: ilm_enabled is auto and the engine has no ILM") != 1 {
		t.Fatalf("the fallback is not in the log once: %v", log.lines)
	}
	o, _ = open(t, map[string]any{"hosts": []any{base}, "ecs_compatibility": "disabled", "ilm_enabled": "true"})
	if err := o.Write(context.Background(), events); err == nil || !strings.Contains(err.Error(), "the engine has no ILM") {
		t.Fatalf("ilm_enabled = true without ILM: %v", err)
	}
}

// The default (data_stream unset) against the real Elasticsearch: create
// actions to logs-DATASET-default, which the engine makes a data stream
// (its test zip lacks the stack's built-in logs-*-* template, so the test
// installs one like it), with the [data_stream] fields synced. The test
// zip cannot delete data streams: the dataset is fixed, and this run's
// documents are told apart by a field.
func TestRealDataStreamByDefault(t *testing.T) {
	base := testenv.Elasticsearch(t)
	const stream = "logs-gostashtest-default"
	if st, b := call(t, "PUT", base+"/_index_template/gostash-test-logs",
		`{"index_patterns":["logs-gostashtest-*"],"data_stream":{},"priority":200}`); st != 200 {
		t.Fatalf("template: %d %s", st, b)
	}
	run := time.Now().UnixNano() // a number: a text field would match other runs' words
	var events []*sdk.Event
	for i := range 20 {
		events = append(events, sdktest.Event(map[string]any{"n": i, "run": run}))
	}
	o, _ := open(t, map[string]any{"hosts": []any{base}, "data_stream_dataset": "gostashtest"})
	if err := o.Write(context.Background(), events); err != nil {
		t.Fatalf("write: %v", err)
	}
	call(t, "POST", base+"/"+stream+"/_refresh", "")
	st, b := call(t, "GET", base+"/"+stream+"/_search?size=100&q=run:"+fmt.Sprint(run), "")
	var r struct {
		Hits struct {
			Hits []struct {
				Index  string `json:"_index"`
				Source struct {
					N  int               `json:"n"`
					DS map[string]string `json:"data_stream"`
				} `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(b, &r); st != 200 || err != nil || len(r.Hits.Hits) != 20 {
		t.Fatalf("search %s: %d %v, %d hits: %s", stream, st, err, len(r.Hits.Hits), b)
	}
	for _, h := range r.Hits.Hits {
		if !strings.HasPrefix(h.Index, ".ds-"+stream+"-") {
			t.Fatalf("document %d in %s, not a backing index of data stream %s", h.Source.N, h.Index, stream)
		}
		if fmt.Sprint(h.Source.DS) != "map[dataset:gostashtest namespace:default type:logs]" {
			t.Fatalf("document %d: data_stream %v", h.Source.N, h.Source.DS)
		}
	}
}

// TestFaultDailyIndexNames: an index that renders the same all day is
// rendered once a day (dayLine) and still names each event's own day:
// days that share a cache slot (dayLines apart), days before 1970, an
// invalid name, an event without @timestamp, with an id per event.
func TestFaultDailyIndexNames(t *testing.T) {
	srv := fakees.New(nil)
	defer srv.Close()
	o, _ := open(t, map[string]any{"hosts": []any{srv.URL}, "index": "logs-%{+YYYY.MM.dd}", "document_id": "%{id}"})
	// --configtest refuses this index (TestValidate); the per-event check
	// of the names cached by day is the last line, tested here.
	bad, err := sdk.ParseTemplate("Logs-%{+YYYY.MM.dd}")
	if err != nil {
		t.Fatal(err)
	}
	o.set.index = bad
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var events []*sdk.Event
	var want []string
	for i, at := range []time.Time{
		day, day.Add(dayLines * 24 * time.Hour), day.Add(23*time.Hour + 59*time.Minute), day.Add(-time.Nanosecond),
		day.Add(dayLines*24*time.Hour + time.Hour), time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC), day.Add(24 * time.Hour),
	} {
		e := sdktest.Event(map[string]any{"id": fmt.Sprint(i)})
		e.SetTimestamp(at)
		events = append(events, e)
		want = append(want, fmt.Sprintf(`{"_index":"Logs-%s","_id":"%d"}`, at.Format("2006.01.02"), i))
	}
	err = o.Write(context.Background(), events)
	var werr *sdk.WriteError
	if !errors.As(err, &werr) || len(werr.Items) != len(events) {
		t.Fatalf("write: %v, want every event rejected: an index name must be lowercase", err)
	}
	if r := werr.Items[0].Reason; !strings.Contains(r, `gave "Logs-2026.03.01"`) || !strings.Contains(r, "lowercase") {
		t.Fatalf("reason %q", r)
	}

	o, _ = open(t, map[string]any{"hosts": []any{srv.URL}, "index": "logs-%{+YYYY.MM.dd}", "document_id": "%{id}"})
	noTime := sdk.NewEmptyEvent()
	_ = noTime.Set("id", "x")
	err = o.Write(context.Background(), append(events[:len(events):len(events)], noTime))
	if !errors.As(err, &werr) || len(werr.Items) != 1 || werr.Items[0].Index != len(events) ||
		!strings.Contains(werr.Items[0].Reason, "no @timestamp") {
		t.Fatalf("write: %v, want the event without @timestamp rejected", err)
	}
	got := srv.Accepted()
	if len(got) != len(events) {
		t.Fatalf("%d accepted, want %d", len(got), len(events))
	}
	for i, a := range got {
		if w := strings.Replace(want[i], "Logs", "logs", 1); string(a.Meta) != w {
			t.Errorf("action %d: %s, want %s", i, a.Meta, w)
		}
	}
}
