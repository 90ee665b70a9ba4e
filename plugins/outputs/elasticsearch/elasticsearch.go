// Package elasticsearch is the elasticsearch output: it sends events to
// Elasticsearch or OpenSearch with the _bulk API, with Logstash's settings,
// and acks an event to the core only once the engine has answered for it.
// Each document's outcome is read from the bulk response, matched item by
// item to the actions sent: 429s and 5xx are retried alone with backoff,
// documents the engine will never take (mapping errors, 400, 404, 413) are
// dead-lettered with its reason, and max_retries bounds the retries.
package elasticsearch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"golang.org/x/net/http/httpguts"

	"github.com/gostash/gostash/plugins/internal/lsonly"
	"github.com/gostash/gostash/sdk"
)

var spec = lsonly.Fields(sdk.NewSpec("Writes events to Elasticsearch or OpenSearch with the _bulk API.").
	Field(sdk.StringList("hosts").Default([]any{"//127.0.0.1"}).
		Doc("The nodes to send to, round-robin: `\"es1\"`, `\"es1:9200\"`, `\"https://es1:9243/prefix\"`, `\"https://user:pass@es1\"` (basic auth for that node, before `user`/`password`; %-escape special characters). Without a scheme http (https with `ssl_enabled`), without a port 9200. A node whose connection fails is left out for `resurrect_delay`.")).
	Field(sdk.String("index").
		Doc("The index, a sprintf template: `\"logs-%{+YYYY.MM.dd}\"` takes the date from the event's @timestamp in UTC. An event whose index still holds an unresolved %{...} is dead-lettered without being sent. Default: a data stream (`data_stream`), else the ILM alias (`ilm_enabled`), else `\"ecs-logstash-%{+yyyy.MM.dd}\"`, or `\"logstash-%{+yyyy.MM.dd}\"` with `ecs_compatibility = \"disabled\"`.")).
	Field(sdk.String("action").
		Doc("`index`, `create`, `update` or `delete`; a sprintf template (\"%{[@metadata][action]}\") is resolved per event, and an event whose action is none of these is dead-lettered. Default: `index`, `create` for a data stream.")).
	Field(sdk.String("document_id").
		Doc("The document id, a sprintf template (`\"%{[@metadata][kafka][topic]}-%{[@metadata][kafka][partition]}-%{[@metadata][kafka][offset]}\"` makes a retransmit overwrite instead of duplicate). Unset: the engine chooses. An event whose id still holds an unresolved %{...} is dead-lettered.")).
	Field(sdk.Bool("document_id_must_not_exist").Default(false).
		Doc("With `action = \"create\"` and a `document_id`: the ids are new by design, so a 409 (a document with that id is there already) dead-letters the event with the engine's reason instead of counting as done, as it does by default (Logstash's: the document is there).")).
	Field(sdk.Bool("document_id_from_source").Default(false).
		Doc("Give each document an id made of where its event came from, so that an event sent again (after a crash, or a topic read again by another group) overwrites its document instead of adding a copy: `TOPIC-PARTITION-OFFSET` from the kafka input (the id the `document_id` example above makes; `-N` added for the Nth event of a record that gave several), `HOST:PATH:OFFSET` from the file input (a SHA-256 when over 512 bytes). Events of an input that has no such place (stdin, generator) get the engine's id. Not with `document_id`.")).
	Field(sdk.String("routing").
		Doc("The routing key, a sprintf template.")).
	Field(sdk.String("pipeline").
		Doc("The ingest pipeline, a sprintf template; one that renders empty sends none.")).
	Field(sdk.Bool("doc_as_upsert").Default(false).
		Doc("With `action = \"update\"`: create the document when it does not exist.")).
	Field(sdk.Int("retry_on_conflict").Default(1).
		Doc("With `action = \"update\"`: how often the engine retries an update that conflicts with a concurrent one.")).
	Field(sdk.String("path").
		Doc("A path prefix for the hosts written without one, for Elasticsearch behind a proxy that maps it (`\"/es\"`: bulk requests go to /es/_bulk). A host with a path of its own that differs is an error, as in Logstash.")).
	Field(sdk.String("proxy").
		Doc("A forward HTTP proxy to reach the nodes through: `\"http://proxy:3128\"`. Unset or empty (`${env.X}` of an empty variable): the HTTP_PROXY, HTTPS_PROXY and NO_PROXY variables decide.")).
	Field(sdk.StringMap("parameters").
		Doc("Query parameters sent with every request to the nodes: `{ \"routing_key\" = \"x\" }`. A host's own query (`\"https://es1:9200/?a=b\"`) is sent too, these winning over it, as in Logstash.")).
	Field(sdk.StringMap("custom_headers").
		Doc("Headers sent with every request to the nodes (bulk, flavor check, templates): `{ \"X-Tenant\" = \"ops\" }`. An `Authorization` header is for when no credentials are given (user/password, api_key, a host's); with them it is an error, as are `Content-Type`, `Content-Encoding` and `Content-Length`, which the output sets.")).
	Field(sdk.String("cloud_id").
		Doc("An Elastic Cloud deployment's Cloud ID, from its console (`\"label:BASE64\"`, the label optional): the Elasticsearch endpoint it encodes, over https, instead of `hosts`.")).
	Field(sdk.String("cloud_auth").
		Doc("`\"user:password\"` for an Elastic Cloud deployment, instead of `user` and `password` (use `${env.NAME}`).")).
	Field(sdk.String("user").
		Doc("The user for HTTP basic authentication.")).
	Field(sdk.String("password").
		Doc("The password for HTTP basic authentication (use `${env.NAME}`).")).
	Field(sdk.String("api_key").
		Doc("An API key, as Logstash takes it: `\"id:api_key\"` (the output encodes it), or already base64-encoded. As in Logstash, only over TLS: https:// hosts or `ssl_enabled = true`.")).
	Field(sdk.Bool("ssl_enabled").
		Doc("Use https (true) or http (false) for every host. Unset: https when a host is written with https://, else http. As in Logstash, hosts written with a scheme must agree with each other and with this setting (an error otherwise).")).
	Field(sdk.StringList("ssl_certificate_authorities").
		Doc("PEM files of the certificate authorities to trust, instead of the system's.")).
	Field(sdk.String("ssl_certificate").
		Doc("A PEM file with the client certificate (and its chain) to present to nodes that ask for one (mutual TLS), with `ssl_key`.")).
	Field(sdk.String("ssl_key").
		Doc("The PEM file with `ssl_certificate`'s private key (PKCS#8, PKCS#1 or EC).")).
	Field(sdk.String("ssl_verification_mode").Default("full").OneOf("full", "none").
		Doc("`full` checks the engine's certificate and that it names the host; `none` checks nothing (tests only).")).
	Field(sdk.Int("compression_level").Default(1).
		Doc("gzip level of the bulk requests, 1 (fastest) to 9; 0 sends them uncompressed.")).
	Field(sdk.Int("timeout").Default(60).
		Doc("Seconds a bulk request may take before it counts as failed (and is retried).")).
	Field(sdk.Int("retry_initial_interval").Default(2).
		Doc("Seconds to wait before the first retry of documents the engine did not take (429, 5xx); the wait doubles at each retry, with jitter.")).
	Field(sdk.Int("retry_max_interval").Default(64).
		Doc("The longest wait between retries, in seconds.")).
	Field(sdk.Int("max_retries").
		Doc("How often a document the engine did not take (429, 5xx) is sent again before it is dead-lettered (\"gave up after N retries\"). Unset (the default, as Logstash): retried until it is taken; the batch waits (backpressure) and a stop still ends it.")).
	Field(sdk.StringList("dlq_custom_codes").
		Doc("More per-document statuses to dead-letter instead of retrying, beside 400, 404, 405 and 413 (as Logstash's, which adds them to 400 and 404): `[403]` dead-letters documents a role may not write. Not 200, 201 or 409, which count as written; 405 and 413, which Logstash users list to dead-letter them, are taken with a warning.")).
	Field(sdk.Int("pool_max").Default(1000).
		Doc("The most bulk requests in flight at once, over all hosts (Logstash's HTTP connection pool, 1000 by default). The core's streams bound them too: 2 × `pipeline.workers` + 2, so the default never limits; a smaller value spares a small cluster.")).
	Field(sdk.Int("pool_max_per_route").Default(100).
		Doc("The most connections to one host (Logstash's default, 100).")).
	Field(sdk.Int("resurrect_delay").Default(5).
		Doc("Seconds a host whose connection failed is left out before it is tried again.")).
	Field(sdk.String("flavor").Default("auto").OneOf("auto", "elasticsearch", "opensearch").
		Doc("The engine: `auto` asks `GET /` at the first connection (Elasticsearch sends the X-Elastic-Product header, OpenSearch names itself in the body); `opensearch` talks to OpenSearch, which the Elasticsearch client otherwise refuses.")).
	Field(sdk.String("ecs_compatibility").Default("v8").OneOf("disabled", "v1", "v8").
		Doc("Only chooses the default `index` and `template_name`: `ecs-logstash` with v1 and v8, `logstash` when disabled.")).
	Field(sdk.Bool("manage_template").Default(true).
		Doc("Install the index template in `template` at the first connection (gostash ships no default template: without `template` nothing is installed).")).
	Field(sdk.String("template").
		Doc("A JSON file holding a composable index template (the body of `PUT _index_template/NAME`: `index_patterns`, `template`, ...).")).
	Field(sdk.String("template_name").
		Doc("The index template's name. Default: `ecs-logstash`, or `logstash` with `ecs_compatibility = \"disabled\"`.")).
	Field(sdk.Bool("template_overwrite").Default(false).
		Doc("Replace a template of that name already in the engine; by default an existing one is kept.")).
	Field(sdk.String("data_stream").OneOf("false", "auto", "true").
		Doc("`true` writes to the data stream `TYPE-DATASET-NAMESPACE` (the settings below) with `action = \"create\"`; only with connection settings, `routing`, `pipeline` and `action = \"create\"`. Unset or `auto` (Logstash 8's default): a data stream when ECS is on and no other setting is given (`index`, `document_id`, `manage_template`, `template*`, `ilm_*`, `doc_as_upsert`, `retry_on_conflict`, `document_id_from_source`, another `action`), else plain indices; `data_stream_*` settings then are an error, as in Logstash.")).
	Field(sdk.String("data_stream_type").Default("logs").OneOf("logs", "metrics", "synthetics", "traces").
		Doc("The data stream's type.")).
	Field(sdk.String("data_stream_dataset").Default("generic").
		Doc("The data stream's dataset.")).
	Field(sdk.String("data_stream_namespace").Default("default").
		Doc("The data stream's namespace.")).
	Field(sdk.Bool("data_stream_auto_routing").Default(true).
		Doc("An event's own `[data_stream][type]`, `[dataset]` and `[namespace]` choose its data stream (the settings above for those it lacks).")).
	Field(sdk.Bool("data_stream_sync_fields").Default(true).
		Doc("Set the event's `[data_stream]` fields to the data stream it is written to.")).
	Field(sdk.String("ilm_enabled").Default("auto").OneOf("auto", "false", "true").
		Doc("`true` writes to the rollover alias `ilm_rollover_alias` managed by the policy `ilm_policy`: at the first connection the default `logstash-policy` is created when missing (rollover at 50gb or 30d), and the first index `ALIAS-PATTERN` with the alias as its write index. `auto` (Logstash's default): ILM when no data stream is written and `index` is not set (or `ilm_rollover_alias` is); unlike Logstash, plain indices when the engine has no ILM (OpenSearch, or Elasticsearch without x-pack's ILM), said once in the log. Not with `index` or data streams.")).
	Field(sdk.String("ilm_rollover_alias").
		Doc("The write alias. Default: `ecs-logstash`, or `logstash` with `ecs_compatibility = \"disabled\"`.")).
	Field(sdk.String("ilm_pattern").Default("{now/d}-000001").
		Doc("The first index's suffix, date math allowed: the first index is `<ALIAS-PATTERN>`.")).
	Field(sdk.String("ilm_policy").Default("logstash-policy").
		Doc("The ILM policy; one other than `logstash-policy` must exist already. Indices after the first take it, and the alias, from the index template (`template`: `index.lifecycle.name`, `index.lifecycle.rollover_alias`).")), unsupported)

// unsupported are Logstash's settings this output does not implement.
var unsupported = []lsonly.Setting{
	// Logstash 2.x-6.x settings, removed since.
	{Name: "flush_size", Kind: lsonly.Removed, Instead: "a bulk request is a pipeline batch: use pipeline.batch.size (-b) in pipelines.yml or on the command line"},
	{Name: "idle_flush_time", Kind: lsonly.Removed, Instead: "use pipeline.batch.delay (-u), in milliseconds"},
	{Name: "retry_max_items", Kind: lsonly.Removed, Instead: "remove it; max_retries bounds how often a document is sent again"},
	{Name: "ssl", Kind: lsonly.Removed, Instead: "use ssl_enabled"},
	{Name: "cacert", Kind: lsonly.Removed, Instead: "use ssl_certificate_authorities = [\"ca.pem\"]"},
	{Name: "ssl_certificate_verification", Kind: lsonly.Removed, Instead: "use ssl_verification_mode = \"full\" or \"none\""},
	{Name: "keystore", Kind: lsonly.Removed, Instead: "give the client certificate and key as PEM files in ssl_certificate and ssl_key"},
	{Name: "keystore_password", Kind: lsonly.Removed, Instead: "give the client certificate and key as PEM files in ssl_certificate and ssl_key, which have no password"},
	{Name: "truststore", Kind: lsonly.Removed, Instead: "use ssl_certificate_authorities with a PEM file (`keytool -exportcert -rfc` exports a Java keystore's)"},
	{Name: "truststore_password", Kind: lsonly.Removed, Instead: "use ssl_certificate_authorities with a PEM file, which has no password"},
	{Name: "document_type", Kind: lsonly.Ignored, Instead: "mapping types are gone since Elasticsearch 7 (Logstash ignores it against 8 too); remove it"},
	// Current settings gostash does without.
	{Name: "sniffing", Kind: lsonly.Ignored, Harmless: []string{"false"}, Instead: "the output sends to the nodes in hosts only: list every node there"},
	{Name: "sniffing_delay", Kind: lsonly.Ignored, Instead: "sniffing is not done: list every node in hosts; remove it"},
	{Name: "sniffing_path", Kind: lsonly.Ignored, Instead: "sniffing is not done: list every node in hosts; remove it"},
	{Name: "healthcheck_path", Kind: lsonly.Ignored, Instead: "a node left out is tried again by the next request after resurrect_delay, not by a health check; remove it"},
	{Name: "validate_after_inactivity", Kind: lsonly.Ignored, Instead: "a request on a connection the server closed is retried; remove it"},
	{Name: "http_compression", Kind: lsonly.Ignored, Harmless: []string{"true"}, Instead: "use compression_level (1 by default; 0 sends uncompressed)"},
	{Name: "dlq_on_failed_indexname_interpolation", Kind: lsonly.Ignored, Harmless: []string{"true"},
		Instead: "an event whose index holds an unresolved %{...} is always dead-lettered; remove it"},
	{Name: "silence_errors_in_log", Kind: lsonly.Ignored, Instead: "refused documents are logged once per batch with counts, not one line each; remove it"},
	{Name: "failure_type_logging_whitelist", Kind: lsonly.Ignored, Instead: "refused documents are logged once per batch with counts, not one line each; remove it"},
	{Name: "ssl_cipher_suites", Kind: lsonly.Ignored, Instead: "Go's TLS defaults apply (TLS 1.2 and later, modern cipher suites); remove it"},
	{Name: "ssl_supported_protocols", Kind: lsonly.Ignored, Instead: "Go's TLS defaults apply (TLS 1.2 and later); remove it"},
	{Name: "ca_trusted_fingerprint", Kind: lsonly.Unsupported, Instead: "use ssl_certificate_authorities with the CA's PEM file"},
	{Name: "ssl_keystore_path", Kind: lsonly.Unsupported, Instead: "give the client certificate and key as PEM files in ssl_certificate and ssl_key (`openssl pkcs12 -in ks.p12 -nodes` prints both from a PKCS#12 keystore)"},
	{Name: "ssl_keystore_password", Kind: lsonly.Unsupported, Instead: "give the client certificate and key as PEM files in ssl_certificate and ssl_key"},
	{Name: "ssl_keystore_type", Kind: lsonly.Unsupported, Instead: "give the client certificate and key as PEM files in ssl_certificate and ssl_key"},
	{Name: "ssl_truststore_path", Kind: lsonly.Unsupported, Instead: "use ssl_certificate_authorities with a PEM file (`keytool -exportcert -rfc` exports a Java keystore's)"},
	{Name: "ssl_truststore_password", Kind: lsonly.Unsupported, Instead: "use ssl_certificate_authorities with a PEM file, which has no password"},
	{Name: "ssl_truststore_type", Kind: lsonly.Unsupported, Instead: "use ssl_certificate_authorities with a PEM file"},
	{Name: "bulk_path", Kind: lsonly.Unsupported, Instead: "write a path prefix in each host (hosts = [\"https://es1:9200/prefix\"]); the bulk endpoint is PREFIX/_bulk"},
	{Name: "drop_error_types", Kind: lsonly.Unsupported, Instead: "not supported: documents the engine refuses are dead-lettered with its reason, never dropped"},
	{Name: "template_api", Kind: lsonly.Unsupported, Harmless: []string{"auto", "composable"}, Instead: "only composable index templates are installed: remove it"},
	{Name: "upsert", Kind: lsonly.Unsupported, Instead: "not supported yet: use action = \"update\" with doc_as_upsert = true"},
	{Name: "script", Kind: lsonly.Unsupported, Instead: "scripted updates are not supported yet: use action = \"update\" with doc_as_upsert, or an ingest pipeline"},
	{Name: "script_lang", Kind: lsonly.Unsupported, Instead: "scripted updates are not supported yet: remove it"},
	{Name: "script_type", Kind: lsonly.Unsupported, Instead: "scripted updates are not supported yet: remove it"},
	{Name: "script_var_name", Kind: lsonly.Unsupported, Instead: "scripted updates are not supported yet: remove it"},
	{Name: "scripted_upsert", Kind: lsonly.Unsupported, Instead: "scripted updates are not supported yet: remove it"},
	{Name: "parent", Kind: lsonly.Unsupported, Instead: "use routing = \"%{...}\" with the parent's id (join fields route by it)"},
	{Name: "version", Kind: lsonly.Unsupported, Instead: "external versioning is not supported yet: remove it"},
	{Name: "version_type", Kind: lsonly.Unsupported, Instead: "external versioning is not supported yet: remove it"},
}

var isUnsupported = func() map[string]bool {
	m := map[string]bool{}
	for _, x := range unsupported {
		m[x.Name] = true
	}
	return m
}()

func init() {
	sdk.RegisterOutput("elasticsearch", spec, New).WithValidate(validate)
}

// maxBulkBytes is Logstash's cap on a bulk request's (uncompressed) body;
// a document larger than it goes alone.
const maxBulkBytes = 20 << 20

var actions = []string{"index", "create", "update", "delete"}

type settings struct {
	hosts          []*url.URL
	index          *sdk.Template
	action         *sdk.Template
	staticAction   string // "" when action is a template
	documentID     *sdk.Template
	idFromSource   bool
	routing        *sdk.Template
	pipeline       *sdk.Template
	docAsUpsert    bool
	retryConflict  int
	user, password string
	apiKey         string // base64, as the Authorization header takes it
	caPool         *x509.CertPool
	clientCert     *tls.Certificate // ssl_certificate and ssl_key
	insecure       bool
	compression    int
	timeout        time.Duration
	retryInitial   time.Duration
	retryMax       time.Duration
	maxRetries     int  // -1: for ever
	mustNotExist   bool // document_id_must_not_exist: a 409 on create is a failure
	poolMax        int  // bulk requests in flight at most
	poolPerRoute   int  // connections to one host at most
	resurrectDelay time.Duration
	flavor         string
	template       []byte // nil: none to install
	templateName   string
	templateOver   bool
	maxBulk        int
	dlqCodes       map[int]bool // dlq_custom_codes
	proxy          *url.URL     // nil: from the environment
	headers        http.Header  // custom_headers
	parameters     map[string]string

	dataStream                      bool
	dsType, dsDataset, dsNamespace  string
	dsRouting, dsSync               bool
	ilm                             bool
	ilmAuto                         bool          // ilm_enabled = "auto": plain indices if the engine has no ILM
	plainIndex                      *sdk.Template // the index without ILM
	ilmAlias, ilmPattern, ilmPolicy string
}

// dsSettings are the settings a data stream goes with (Logstash 8's
// check, which decides data_stream's default): connection settings,
// routing, pipeline, and action when it is "create".
var dsSettings = map[string]bool{
	"hosts": true, "user": true, "password": true, "api_key": true, "ssl_enabled": true,
	"ssl_certificate_authorities": true, "ssl_verification_mode": true, "compression_level": true,
	"timeout": true, "retry_initial_interval": true, "retry_max_interval": true, "max_retries": true,
	"resurrect_delay": true, "flavor": true, "ecs_compatibility": true, "routing": true, "pipeline": true,
	"data_stream": true, "cloud_id": true, "cloud_auth": true, "pool_max": true, "pool_max_per_route": true, "path": true, "proxy": true, "custom_headers": true, "parameters": true, "dlq_custom_codes": true,
}

// given reports whether the user set a setting: Logstash looks at the
// settings written, and the core fills in defaults, so a value equal to
// the default counts as not given.
func given(c *sdk.Config, name string) bool {
	if !c.Has(name) {
		return false
	}
	f, _ := spec.Lookup(name)
	return f.Default == nil || fmt.Sprint(f.Default) != fmt.Sprint(c.Raw(name))
}

// schemeSource says what set the scheme the hosts must share.
func schemeSource(c *sdk.Config, scheme string) string {
	if c.Has("ssl_enabled") {
		return fmt.Sprintf("ssl_enabled = %v", c.Bool("ssl_enabled"))
	}
	return "another host is " + scheme
}

// checkHeaders refuses the custom_headers a request would fail on, or
// that would override what the output sets: the transport lets a custom
// Authorization win over user/password and api_key, and a custom
// Content-Encoding would claim gzip of a body sent plain. Values are
// never shown: a header may carry a token.
func checkHeaders(s *settings, ds sdk.Diagnostics) sdk.Diagnostics {
	creds := s.user != "" || s.apiKey != ""
	for _, u := range s.hosts {
		creds = creds || u.User != nil
	}
	names := make([]string, 0, len(s.headers))
	for k := range s.headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		path := []string{"custom_headers", k}
		switch {
		case !httpguts.ValidHeaderFieldName(k):
			ds.Errorf(path, "custom_headers: %q is not an HTTP header name (letters, digits and !#$%%&'*+-.^_`|~)", k)
		case !httpguts.ValidHeaderFieldValue(s.headers.Get(k)):
			ds.Errorf(path, "custom_headers: the value of %s holds a line break or another control character, which a header cannot", k)
		case k == "Authorization" && creds:
			ds.Errorf(path, "custom_headers: Authorization would replace user/password, api_key or a host's credentials: give the credentials one way")
		case k == "Content-Type" || k == "Content-Encoding" || k == "Content-Length":
			ds.Errorf(path, "custom_headers: %s is set by the output for each request (compression_level decides the encoding); remove it", k)
		}
	}
	return ds
}

// notForDataStreams lists the settings given that a data stream does not
// go with.
func notForDataStreams(c *sdk.Config) []string {
	var out []string
	for _, f := range spec.Fields {
		switch {
		case dsSettings[f.Name], isUnsupported[f.Name], strings.HasPrefix(f.Name, "data_stream_"), !given(c, f.Name):
		case f.Name == "action" && c.String("action") == "create":
		default:
			out = append(out, f.Name)
		}
	}
	return out
}

func parse(c *sdk.Config) (*settings, sdk.Diagnostics) {
	ds := lsonly.Check(c, "elasticsearch output", unsupported)
	s := &settings{
		docAsUpsert:    c.Bool("doc_as_upsert"),
		retryConflict:  c.Int("retry_on_conflict"),
		user:           c.String("user"),
		password:       c.String("password"),
		insecure:       c.String("ssl_verification_mode") == "none",
		compression:    c.Int("compression_level"),
		timeout:        time.Duration(c.Int("timeout")) * time.Second,
		retryInitial:   time.Duration(c.Int("retry_initial_interval")) * time.Second,
		retryMax:       time.Duration(c.Int("retry_max_interval")) * time.Second,
		maxRetries:     -1,
		resurrectDelay: time.Duration(c.Int("resurrect_delay")) * time.Second,
		flavor:         c.String("flavor"),
		templateOver:   c.Bool("template_overwrite"),
		maxBulk:        maxBulkBytes,
	}
	tmpl := func(name, src string) *sdk.Template {
		t, err := sdk.ParseTemplate(src)
		if err != nil {
			ds.Errorf([]string{name}, "invalid %s: %v", name, err)
		}
		return t
	}
	ecs := c.String("ecs_compatibility") != "disabled"

	hosts := c.StringList("hosts")
	if id := c.String("cloud_id"); id != "" {
		if given(c, "hosts") {
			ds.Errorf([]string{"cloud_id"}, "give either cloud_id or hosts, not both (as Logstash): the Cloud ID names the endpoint")
		}
		host, err := cloudHost(id)
		if err != nil {
			ds.Errorf([]string{"cloud_id"}, "%v", err)
		}
		hosts = []string{host}
	}
	if auth := c.String("cloud_auth"); auth != "" {
		user, password, ok := strings.Cut(auth, ":")
		if !ok || user == "" || password == "" {
			ds.Errorf([]string{"cloud_auth"}, "cloud_auth is \"user:password\": the colon or one side is missing")
		}
		if s.user != "" || c.String("password") != "" {
			ds.Errorf([]string{"cloud_auth"}, "give either cloud_auth or user and password, not both")
		}
		s.user, s.password = user, password
	}
	if len(hosts) == 0 {
		ds.Errorf([]string{"hosts"}, "hosts is empty: name at least one node")
	}
	scheme := "" // the one written in hosts, or by ssl_enabled
	if c.Has("ssl_enabled") {
		scheme = map[bool]string{true: "https", false: "http"}[c.Bool("ssl_enabled")]
	}
	for i, h := range hosts {
		u, err := parseHost(h, c.Bool("ssl_enabled"))
		if err != nil {
			ds.Errorf([]string{"hosts", fmt.Sprint(i)}, "%v", err)
			continue
		}
		// As Logstash: one scheme for all, so that ssl_enabled = true
		// never leaves a node in the clear.
		if strings.Contains(h, "://") {
			if scheme != "" && u.Scheme != scheme {
				ds.Errorf([]string{"hosts", fmt.Sprint(i)}, "host %s is %s, but %s: write every host with one scheme (or none), in line with ssl_enabled", u.Redacted(), u.Scheme, schemeSource(c, scheme))
			}
			if scheme == "" {
				scheme = u.Scheme
			}
		}
		s.hosts = append(s.hosts, u)
	}
	if scheme == "https" && !c.Has("ssl_enabled") {
		// An https host turns TLS on for the hosts written without one,
		// as in Logstash.
		for _, u := range s.hosts {
			u.Scheme = "https"
		}
	}

	if p := strings.Trim(c.String("path"), "/"); p != "" {
		p = "/" + p
		for i, u := range s.hosts {
			if u.Path != "" && u.Path != p {
				ds.Errorf([]string{"path"}, "path is %q but host %s has the path %q: give the path once, in path or in every host", p, u.Redacted(), u.Path)
				continue
			}
			s.hosts[i].Path = p
		}
	}
	if p := c.String("proxy"); p != "" {
		u, err := url.Parse(p)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			ds.Errorf([]string{"proxy"}, "proxy %q is not an http:// or https:// URL such as \"http://proxy:3128\"", redactRaw(p))
		}
		s.proxy = u
	}
	s.parameters = c.StringMap("parameters")
	if hs := c.StringMap("custom_headers"); len(hs) > 0 {
		s.headers = http.Header{}
		for k, v := range hs {
			s.headers.Set(k, v)
		}
	}

	index := c.String("index")
	if !c.Has("index") {
		index = "logstash-%{+yyyy.MM.dd}"
		if ecs {
			index = "ecs-logstash-%{+yyyy.MM.dd}"
		}
	}
	if index == "" {
		ds.Errorf([]string{"index"}, "index is empty: name the index to write to")
	}
	s.index = tmpl("index", index)
	if s.index != nil && s.index.IsStatic() {
		if reason := invalidIndex(index); reason != "" {
			ds.Errorf([]string{"index"}, "index %q: %s", index, reason)
		}
	} else if s.index != nil {
		// What fields bring is checked per event.
		sample := s.index.RenderSample()
		if reason := invalidIndexBytes(sample); reason != "" {
			ds.Errorf([]string{"index"}, "index %q: %s, so every event would be refused (its text and dates give %q)", index, reason, sample)
		}
	}

	action := c.String("action")
	if action == "" {
		action = "index"
	}
	s.action = tmpl("action", action)
	if s.action != nil && s.action.IsStatic() {
		s.staticAction = action
		if !isAction(s.staticAction) {
			ds.Errorf([]string{"action"}, "action %q is not one of index, create, update, delete", s.staticAction)
		}
	}
	s.idFromSource = c.Bool("document_id_from_source")
	if c.Has("document_id") && c.String("document_id") != "" {
		s.documentID = tmpl("document_id", c.String("document_id"))
		if s.idFromSource {
			ds.Errorf([]string{"document_id_from_source"}, "give either document_id or document_id_from_source, not both")
		}
	} else if s.idFromSource {
		if s.staticAction == "update" || s.staticAction == "delete" {
			ds.Errorf([]string{"document_id_from_source"}, "action %q needs a document_id: an id from the source does not name a document to %s", s.staticAction, s.staticAction)
		}
	} else if s.staticAction == "update" || s.staticAction == "delete" {
		ds.Errorf([]string{"document_id"}, "action %q needs a document_id: which document to %s", s.staticAction, s.staticAction)
	}
	if s.mustNotExist = c.Bool("document_id_must_not_exist"); s.mustNotExist {
		switch {
		case s.documentID == nil:
			ds.Errorf([]string{"document_id_must_not_exist"}, "document_id_must_not_exist needs a document_id: without one the engine picks new ids, which never conflict")
		case s.staticAction != "" && s.staticAction != "create":
			ds.Errorf([]string{"document_id_must_not_exist"}, "document_id_must_not_exist goes with action = \"create\": action %q replaces or changes the document with that id", s.staticAction)
		}
	}
	if c.String("routing") != "" {
		s.routing = tmpl("routing", c.String("routing"))
	}
	if c.String("pipeline") != "" {
		s.pipeline = tmpl("pipeline", c.String("pipeline"))
	}
	if s.retryConflict < 0 {
		ds.Errorf([]string{"retry_on_conflict"}, "retry_on_conflict must be 0 or more")
	}

	if c.String("api_key") != "" {
		key := c.String("api_key")
		if strings.Contains(key, ":") {
			key = base64.StdEncoding.EncodeToString([]byte(key))
		}
		s.apiKey = key
		if s.user != "" {
			ds.Errorf([]string{"api_key"}, "give either api_key or user and password (or cloud_auth), not both")
		}
		secure := len(s.hosts) > 0
		for _, u := range s.hosts {
			secure = secure && u.Scheme == "https"
			if u.User != nil {
				ds.Errorf([]string{"api_key"}, "give either api_key or credentials in the host %s, not both", u.Redacted())
			}
		}
		if !secure {
			// Logstash refuses it too: anyone on the path could read the key.
			ds.Errorf([]string{"api_key"}, "api_key needs TLS, so that the key is not sent in the clear: write the hosts with https://, or set ssl_enabled = true")
		}
	}
	if (s.user == "") != (s.password == "") {
		ds.Errorf([]string{"user"}, "user and password go together: give both or neither")
	}
	ds = checkHeaders(s, ds)
	if cert, key := c.String("ssl_certificate"), c.String("ssl_key"); cert != "" || key != "" {
		switch pair, err := tls.LoadX509KeyPair(cert, key); {
		case cert == "" || key == "":
			ds.Errorf([]string{"ssl_certificate"}, "ssl_certificate and ssl_key go together: give both PEM files or neither")
		case err != nil:
			ds.Errorf([]string{"ssl_certificate"}, "cannot use the client certificate %s with the key %s: %v", cert, key, err)
		default:
			s.clientCert = &pair
		}
		for _, u := range s.hosts {
			if u.Scheme != "https" {
				ds.Errorf([]string{"ssl_certificate"}, "a client certificate needs TLS, but host %s is http: write the hosts with https://, or set ssl_enabled = true", u.Redacted())
				break
			}
		}
	}
	if cas := c.StringList("ssl_certificate_authorities"); len(cas) > 0 {
		s.caPool = x509.NewCertPool()
		for i, path := range cas {
			pem, err := os.ReadFile(path)
			if err != nil {
				ds.Errorf([]string{"ssl_certificate_authorities", fmt.Sprint(i)}, "cannot read the certificate authorities: %v", err)
				continue
			}
			if !s.caPool.AppendCertsFromPEM(pem) {
				ds.Errorf([]string{"ssl_certificate_authorities", fmt.Sprint(i)}, "%s holds no PEM certificate", path)
			}
		}
	}

	if s.compression < 0 || s.compression > 9 {
		ds.Errorf([]string{"compression_level"}, "compression_level must be 0 (none) to 9")
	}
	if s.timeout <= 0 {
		ds.Errorf([]string{"timeout"}, "timeout must be more than 0 seconds")
	}
	if s.retryInitial <= 0 {
		ds.Errorf([]string{"retry_initial_interval"}, "retry_initial_interval must be more than 0 seconds")
	}
	if s.retryMax < s.retryInitial {
		ds.Errorf([]string{"retry_max_interval"}, "retry_max_interval must be at least retry_initial_interval")
	}
	if s.poolMax, s.poolPerRoute = c.Int("pool_max"), c.Int("pool_max_per_route"); s.poolMax < 1 || s.poolPerRoute < 1 {
		ds.Errorf([]string{"pool_max"}, "pool_max and pool_max_per_route must be 1 or more")
	}
	if s.resurrectDelay < 0 {
		ds.Errorf([]string{"resurrect_delay"}, "resurrect_delay must be 0 or more")
	}
	for i, code := range c.StringList("dlq_custom_codes") {
		n, err := strconv.Atoi(strings.TrimSpace(code))
		switch {
		case err != nil || n < 100 || n > 599:
			ds.Errorf([]string{"dlq_custom_codes", fmt.Sprint(i)}, "dlq_custom_codes: %q is not an HTTP status (100 to 599)", code)
		case n == 200 || n == 201 || n == 409:
			ds.Errorf([]string{"dlq_custom_codes", fmt.Sprint(i)}, "dlq_custom_codes: %d counts as written (a success, or a conflict: the document is there); remove it", n)
		case n == http.StatusBadRequest || n == http.StatusNotFound:
			// An error in Logstash too ("already defined as standard DLQ
			// error codes").
			ds.Errorf([]string{"dlq_custom_codes", fmt.Sprint(i)}, "dlq_custom_codes: %d is dead-lettered already; remove it", n)
		case permanent(n):
			// Logstash retries 405 and 413 by default: listing them is
			// how its users dead-letter them, which gostash does anyway.
			ds = append(ds, sdk.Diagnostic{Warning: true, Path: []string{"dlq_custom_codes", fmt.Sprint(i)},
				Summary: fmt.Sprintf("dlq_custom_codes: %d is dead-lettered without it", n), Detail: "gostash dead-letters 400, 404, 405 and 413; you may remove it"})
		default:
			if s.dlqCodes == nil {
				s.dlqCodes = map[int]bool{}
			}
			s.dlqCodes[n] = true
		}
	}
	if c.Has("max_retries") {
		if s.maxRetries = c.Int("max_retries"); s.maxRetries < 0 {
			ds.Errorf([]string{"max_retries"}, "max_retries must be 0 or more, or unset to retry until the engine takes the document")
		}
	}
	switch c.String("data_stream") {
	case "true":
		s.dataStream = true
		if !ecs {
			ds.Errorf([]string{"ecs_compatibility"}, "data_stream = \"true\" needs ECS: data streams map ECS fields; remove ecs_compatibility = \"disabled\"")
		}
	case "false":
		dsOff(c, &ds, "data_stream = \"false\"")
	default: // unset or auto: Logstash 8's rule
		switch not := notForDataStreams(c); {
		case !ecs:
			dsOff(c, &ds, "ecs_compatibility = \"disabled\" (data_stream unset or auto)")
		case len(not) > 0:
			dsOff(c, &ds, strings.Join(not, ", ")+" (data_stream unset or auto)")
		default:
			s.dataStream = true
		}
	}
	switch c.String("ilm_enabled") {
	case "true":
		s.ilm = true
	case "auto":
		s.ilm = !s.dataStream && (!c.Has("index") || c.Has("ilm_rollover_alias"))
		s.ilmAuto, s.plainIndex = s.ilm, s.index
	}
	if s.dataStream {
		s.dsType, s.dsDataset, s.dsNamespace = c.String("data_stream_type"), c.String("data_stream_dataset"), c.String("data_stream_namespace")
		s.dsRouting, s.dsSync = c.Bool("data_stream_auto_routing"), c.Bool("data_stream_sync_fields")
		for _, bad := range []string{"index", "document_id", "ilm_enabled"} {
			if given(c, bad) && c.String(bad) != "" && c.String(bad) != "false" {
				ds.Errorf([]string{bad}, "%s does not go with data_stream: a data stream is named TYPE-DATASET-NAMESPACE and takes documents with create and the engine's ids", bad)
			}
		}
		if c.String("action") != "" && c.String("action") != "create" {
			ds.Errorf([]string{"action"}, "a data stream takes only action = \"create\"")
		}
		if s.idFromSource {
			ds.Errorf([]string{"document_id_from_source"}, "document_id_from_source does not go with data_stream: a data stream takes the engine's ids")
		}
		if reason := invalidIndex(s.dsType + "-" + s.dsDataset + "-" + s.dsNamespace); reason != "" {
			ds.Errorf([]string{"data_stream_dataset"}, "data stream %q: %s", s.dsType+"-"+s.dsDataset+"-"+s.dsNamespace, reason)
		}
		s.index, s.staticAction = nil, "create"
	}
	if s.ilm {
		if c.Has("index") {
			ds.Errorf([]string{"index"}, "index does not go with ilm_enabled: the events go to ilm_rollover_alias")
		}
		s.ilmAlias = c.String("ilm_rollover_alias")
		if s.ilmAlias == "" {
			s.ilmAlias = "logstash"
			if ecs {
				s.ilmAlias = "ecs-logstash"
			}
		}
		if reason := invalidIndex(s.ilmAlias); reason != "" || strings.Contains(s.ilmAlias, "%{") {
			ds.Errorf([]string{"ilm_rollover_alias"}, "ilm_rollover_alias %q: %s", s.ilmAlias, reason+" (a fixed name: no %{...})")
		}
		s.ilmPattern, s.ilmPolicy = c.String("ilm_pattern"), c.String("ilm_policy")
		s.index, _ = sdk.ParseTemplate(s.ilmAlias)
	}

	s.templateName = c.String("template_name")
	if s.templateName == "" {
		s.templateName = "logstash"
		if ecs {
			s.templateName = "ecs-logstash"
		}
	}
	if path := c.String("template"); path != "" && c.Bool("manage_template") {
		b, err := os.ReadFile(path)
		switch {
		case err != nil:
			ds.Errorf([]string{"template"}, "cannot read the index template: %v", err)
		default:
			var v map[string]any
			if err := json.Unmarshal(b, &v); err != nil {
				ds.Errorf([]string{"template"}, "%s is not a JSON object: %v", path, err)
			} else if _, ok := v["index_patterns"]; !ok {
				ds.Errorf([]string{"template"}, "%s has no index_patterns: give a composable index template (the body of PUT _index_template/NAME)", path)
			}
			s.template = b
		}
	}
	return s, ds
}

// dsOff refuses data_stream_* settings when data streams are off, as
// Logstash does: they would be silently ignored.
func dsOff(c *sdk.Config, ds *sdk.Diagnostics, why string) {
	for _, f := range spec.Fields {
		if strings.HasPrefix(f.Name, "data_stream_") && given(c, f.Name) {
			ds.Errorf([]string{f.Name}, "%s is set but no data stream is written, because of %s: set data_stream = \"true\", or remove %s", f.Name, why, f.Name)
		}
	}
}

func validate(c *sdk.Config) sdk.Diagnostics {
	_, ds := parse(c)
	return ds
}

func isAction(a string) bool {
	for _, x := range actions {
		if a == x {
			return true
		}
	}
	return false
}

// invalidIndex says why the engines refuse an index name ("" when they do
// not): lowercase, at most 255 bytes, none of \ / * ? " < > | , # : space,
// not starting with - _ +, not "." or "..". Control characters are refused
// here too.
// indexNameByte marks the bytes an index name may hold anywhere.
var indexNameByte = func() (t [256]bool) {
	for c := range 256 {
		t[c] = !('A' <= c && c <= 'Z' || c < 0x20 || c == 0x7f || strings.IndexByte("\\/*?\"<>|,#: ", byte(c)) >= 0)
	}
	return t
}()

func invalidIndex(name string) string {
	switch {
	case name == "":
		return "an index name cannot be empty"
	case len(name) > 255:
		return fmt.Sprintf("an index name has at most 255 bytes, not %d", len(name))
	case name == "." || name == "..":
		return "an index name cannot be \".\" or \"..\""
	case name[0] == '-' || name[0] == '_' || name[0] == '+':
		return fmt.Sprintf("an index name cannot start with %q", name[0])
	}
	return invalidIndexBytes(name)
}

// invalidIndexBytes says which byte of name an index name cannot hold.
func invalidIndexBytes(name string) string {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if indexNameByte[c] {
			continue // every byte of a valid name, checked per event
		}
		switch {
		case 'A' <= c && c <= 'Z':
			return "an index name must be lowercase"
		case c < 0x20 || c == 0x7f:
			return fmt.Sprintf("an index name cannot hold the control character %q", c)
		case strings.IndexByte("\\/*?\"<>|,#: ", c) >= 0:
			return fmt.Sprintf("an index name cannot hold %q", c)
		}
	}
	return ""
}

// Output is the elasticsearch output.
type Output struct {
	set    *settings
	logger sdk.Logger
	pool   *hostPool

	mu     sync.Mutex // guards client and flavor until connected
	client *elasticsearch.Client
	flavor string
	rt     *productTransport

	bufs sync.Pool // *write

	noSourceWarned atomic.Bool // document_id_from_source met an event without a source place

	inFlight chan struct{} // a slot per bulk request in flight (pool_max)
}

// New builds the output. It connects (flavor, template) at the first
// write, so that an engine down at start is retried like one that goes
// down later.
func New(_ context.Context, c *sdk.Config, env sdk.Env) (sdk.Output, error) {
	s, ds := parse(c)
	if err := ds.Err(); err != nil {
		return nil, err
	}
	return &Output{set: s, logger: env.Logger, pool: newHostPool(s.hosts, s.resurrectDelay), inFlight: make(chan struct{}, s.poolMax)}, nil
}

// Close implements sdk.Closer: every Write has waited for its answers, so
// there is nothing to flush.
func (o *Output) Close(context.Context) error { return nil }

// cloudHost is the Elasticsearch endpoint of an Elastic Cloud ID, read as
// Logstash reads it: an optional "label:" and then base64 of
// "HOST[:PORT]$ES_ID[:PORT]$KIBANA_ID"; https, port 443 unless a segment
// gives one (the Elasticsearch segment's wins).
func cloudHost(id string) (string, error) {
	encoded := id
	if _, after, ok := strings.Cut(id, ":"); ok {
		encoded = after
	}
	var raw []byte
	var err error
	// As Ruby's urlsafe_decode64 (Logstash's): either alphabet, padded or not.
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if raw, err = enc.DecodeString(encoded); err == nil {
			break
		}
	}
	segs := strings.Split(string(raw), "$")
	if err != nil || len(segs) < 2 || segs[0] == "" || segs[1] == "" || segs[1] == "undefined" {
		return "", fmt.Errorf("cloud_id %q is not a Cloud ID: copy it whole from the deployment's page in the Elastic Cloud console (label:BASE64 of HOST$ES_ID$KIBANA_ID)", id)
	}
	base, port := segs[0], "443"
	if h, p, ok := strings.Cut(base, ":"); ok {
		base, port = h, p
	}
	es := segs[1]
	if h, p, ok := strings.Cut(es, ":"); ok {
		es, port = h, p
	}
	return "https://" + es + "." + base + ":" + port, nil
}
