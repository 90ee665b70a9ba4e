package elasticsearch

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/elastic/elastic-transport-go/v8/elastictransport"
	"github.com/elastic/go-elasticsearch/v8"
)

// productTransport is the HTTP transport under the client. go-elasticsearch
// refuses a server whose first successful answer lacks the
// `X-Elastic-Product: Elasticsearch` header, which OpenSearch never sends:
// with the opensearch flavor the transport supplies it.
type productTransport struct {
	base       http.RoundTripper
	opensearch atomic.Bool
	// query holds, by host:port, the parameters sent with every request
	// to a node: its URL's query and the parameters setting (which wins),
	// as Logstash's. Empty when there are none.
	query map[string]url.Values
}

func (t *productTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if extra := t.query[req.URL.Host]; len(extra) > 0 {
		req = req.Clone(req.Context())
		q := req.URL.Query()
		for k, vs := range extra {
			if !q.Has(k) {
				q[k] = vs
			}
		}
		req.URL.RawQuery = q.Encode()
	}
	res, err := t.base.RoundTrip(req)
	if err == nil && t.opensearch.Load() && res.Header.Get("X-Elastic-Product") == "" {
		res.Header.Set("X-Elastic-Product", "Elasticsearch")
	}
	return res, err
}

func (o *Output) httpTransport() *http.Transport {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   min(16, o.set.poolPerRoute),
		MaxConnsPerHost:       o.set.poolPerRoute,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     false,
	}
	if o.set.proxy != nil {
		tr.Proxy = http.ProxyURL(o.set.proxy)
	}
	if o.set.caPool != nil || o.set.insecure || o.set.clientCert != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: o.set.caPool, InsecureSkipVerify: o.set.insecure} //nolint:gosec // ssl_verification_mode = "none" asks for it
		if o.set.clientCert != nil {
			tr.TLSClientConfig.Certificates = []tls.Certificate{*o.set.clientCert}
		}
	}
	return tr
}

// connect returns the client, creating it at the first call: it finds out
// the flavor and installs the index template.
func (o *Output) connect(ctx context.Context) (*elasticsearch.Client, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.client != nil {
		return o.client, nil
	}
	s := o.set
	rt := &productTransport{base: o.httpTransport(), query: map[string]url.Values{}}
	for _, u := range s.hosts {
		q := u.Query()
		for k, v := range s.parameters {
			q.Set(k, v)
		}
		if len(q) > 0 {
			rt.query[u.Host] = q
		}
	}
	cfg := elasticsearch.Config{
		Username:          s.user,
		Password:          s.password,
		APIKey:            s.apiKey,
		Header:            s.headers,
		Transport:         rt,
		DisableMetaHeader: true,
		ConnectionPoolFunc: func([]*elastictransport.Connection, elastictransport.Selector) elastictransport.ConnectionPool {
			return o.pool
		},
	}
	for _, u := range s.hosts {
		cfg.Addresses = append(cfg.Addresses, u.String())
	}
	if len(s.hosts) > 1 {
		// A connection that fails marks its host dead and the request goes
		// to the next one; 502-504 from one node are tried on another.
		cfg.MaxRetries = len(s.hosts) - 1
		cfg.RetryOnStatus = []int{502, 503, 504}
	} else {
		cfg.DisableRetry = true
	}
	client, err := elasticsearch.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	flavor := s.flavor
	if flavor == "auto" {
		if flavor, err = o.detect(ctx, client, rt); err != nil {
			return nil, err
		}
		o.logger.Info("found the engine", "flavor", flavor)
	}
	rt.opensearch.Store(flavor == "opensearch")
	if s.template != nil {
		if err := o.installTemplate(ctx, client); err != nil {
			return nil, err
		}
	}
	if s.ilm && s.ilmAuto && flavor == "opensearch" {
		o.noILM()
	}
	if s.ilm {
		switch err := o.setupILM(ctx, client); {
		case errors.Is(err, errNoILM) && s.ilmAuto:
			o.noILM()
		case err != nil:
			return nil, err
		}
	}
	o.client, o.flavor, o.rt = client, flavor, rt
	return client, nil
}

// errNoILM: the engine answers that it has no ILM API.
var errNoILM = errors.New("the engine has no ILM (OpenSearch, or Elasticsearch without x-pack's ILM)")

// noILM turns ilm_enabled = "auto" off for an engine without ILM: the
// events go to the plain default index. Called under o.mu, before any
// Write encodes an event.
func (o *Output) noILM() {
	o.set.ilm, o.set.index = false, o.set.plainIndex
	o.logger.Info("writing to plain indices: ilm_enabled is auto and "+errNoILM.Error(), "index", o.set.plainIndex.String())
}

// defaultILMPolicy is Logstash's logstash-policy: roll over at 50 GB or
// 30 days.
const defaultILMPolicy = `{"policy":{"phases":{"hot":{"actions":{"rollover":{"max_size":"50gb","max_age":"30d"}}}}}}`

// setupILM does what Logstash does at start with ILM on: the default
// policy is created when missing (another must exist), and the first
// index <ALIAS-PATTERN> is created with the alias as its write index,
// unless the alias exists.
func (o *Output) setupILM(ctx context.Context, client *elasticsearch.Client) error {
	s := o.set
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	call := func(method, path, body string) (int, []byte, error) {
		var r io.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		req, _ := http.NewRequestWithContext(ctx, method, path, r)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := client.Perform(req)
		if err != nil {
			return 0, nil, err
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(res.Body, 4<<10))
		return res.StatusCode, bytes.TrimSpace(b), nil
	}
	policy := "/_ilm/policy/" + url.PathEscape(s.ilmPolicy)
	st, body, err := call(http.MethodGet, policy, "")
	switch {
	case err != nil:
		return fmt.Errorf("cannot check ILM policy %q: %w", s.ilmPolicy, err)
	case (st == http.StatusBadRequest || st == http.StatusMethodNotAllowed) &&
		(bytes.Contains(body, []byte("no handler found")) || bytes.Contains(body, []byte("Incorrect HTTP method"))):
		return fmt.Errorf("ILM policy %q: %w", s.ilmPolicy, errNoILM)
	case st == http.StatusNotFound && s.ilmPolicy == "logstash-policy":
		if st, body, err = call(http.MethodPut, policy, defaultILMPolicy); err != nil || st/100 != 2 {
			return fmt.Errorf("cannot create ILM policy %q (status %d): %v %s", s.ilmPolicy, st, err, body)
		}
		o.logger.Info("created the ILM policy", "ilm_policy", s.ilmPolicy)
	case st == http.StatusNotFound:
		return fmt.Errorf("ILM policy %q does not exist: create it, or use logstash-policy, which the output creates", s.ilmPolicy)
	case st/100 != 2:
		return fmt.Errorf("cannot check ILM policy %q (status %d): %s", s.ilmPolicy, st, body)
	}
	st, body, err = call(http.MethodHead, "/_alias/"+url.PathEscape(s.ilmAlias), "")
	switch {
	case err != nil:
		return fmt.Errorf("cannot check rollover alias %q: %w", s.ilmAlias, err)
	case st/100 == 2:
		return nil // bootstrapped already
	case st != http.StatusNotFound:
		return fmt.Errorf("cannot check rollover alias %q (status %d): %s", s.ilmAlias, st, body)
	}
	first := "<" + s.ilmAlias + "-" + s.ilmPattern + ">"
	create := fmt.Sprintf(`{"aliases":{%s:{"is_write_index":true}},"settings":{"index.lifecycle.name":%s,"index.lifecycle.rollover_alias":%s}}`,
		jsonString(s.ilmAlias), jsonString(s.ilmPolicy), jsonString(s.ilmAlias))
	st, body, err = call(http.MethodPut, "/"+url.PathEscape(first), create)
	switch {
	case err != nil:
		return fmt.Errorf("cannot create the first index %s of rollover alias %q: %w", first, s.ilmAlias, err)
	case st/100 == 2, st == http.StatusBadRequest && bytes.Contains(body, []byte("resource_already_exists_exception")):
		o.logger.Info("created the first index of the rollover alias", "index", first, "ilm_rollover_alias", s.ilmAlias)
		return nil
	}
	return fmt.Errorf("cannot create the first index %s of rollover alias %q (status %d): %s", first, s.ilmAlias, st, body)
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// detect asks GET / what the engine is: Elasticsearch answers (even the
// 405 of a node without the rest-root module) with X-Elastic-Product;
// OpenSearch names itself in version.distribution.
func (o *Output) detect(ctx context.Context, client *elasticsearch.Client, rt *productTransport) (string, error) {
	// Let any answer through the client's product check: the header is
	// what is looked at here, before the transport can add it.
	rt.opensearch.Store(false)
	ctx, cancel := context.WithTimeout(ctx, o.set.timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	res, err := client.Transport.Perform(req)
	if err != nil {
		return "", fmt.Errorf("cannot reach %s to find out its flavor: %w", o.hostList(), err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if res.Header.Get("X-Elastic-Product") == "Elasticsearch" {
		return "elasticsearch", nil
	}
	var root struct {
		Version struct {
			Distribution string `json:"distribution"`
		} `json:"version"`
	}
	if json.Unmarshal(body, &root) == nil && root.Version.Distribution == "opensearch" {
		return "opensearch", nil
	}
	if res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden {
		return "", fmt.Errorf("%s refused the credentials (status %d): check user/password or api_key", o.hostList(), res.StatusCode)
	}
	return "", fmt.Errorf("cannot tell what %s is (GET / answered %d without X-Elastic-Product and without an OpenSearch version): set flavor = \"elasticsearch\" or \"opensearch\"", o.hostList(), res.StatusCode)
}

func (o *Output) hostList() string {
	var hs []string
	for _, u := range o.set.hosts {
		hs = append(hs, u.Redacted())
	}
	return strings.Join(hs, ", ")
}

// installTemplate puts the user's index template, keeping one already
// there unless template_overwrite.
func (o *Output) installTemplate(ctx context.Context, client *elasticsearch.Client) error {
	ctx, cancel := context.WithTimeout(ctx, o.set.timeout)
	defer cancel()
	path := "/_index_template/" + o.set.templateName
	if !o.set.templateOver {
		req, _ := http.NewRequestWithContext(ctx, http.MethodHead, path, nil)
		res, err := client.Perform(req)
		if err != nil {
			return fmt.Errorf("cannot check index template %q: %w", o.set.templateName, err)
		}
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			o.logger.Info("index template already there; kept (template_overwrite is false)", "template_name", o.set.templateName)
			return nil
		}
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, path, bytes.NewReader(o.set.template))
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Perform(req)
	if err != nil {
		return fmt.Errorf("cannot install index template %q: %w", o.set.templateName, err)
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		body, _ := io.ReadAll(io.LimitReader(res.Body, 4<<10))
		// The template is the user's: the engine will refuse it at every
		// start, so say it plainly (the batch waits and is retried).
		return fmt.Errorf("the engine refused index template %q (status %d): %s", o.set.templateName, res.StatusCode, bytes.TrimSpace(body))
	}
	o.logger.Info("installed index template", "template_name", o.set.templateName)
	return nil
}
