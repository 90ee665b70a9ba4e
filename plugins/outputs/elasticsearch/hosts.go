package elasticsearch

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/elastic/elastic-transport-go/v8/elastictransport"
)

// parseHost turns one of Logstash's host forms into a URL: "es1",
// "es1:9201", "//es1" (Logstash's default is "//127.0.0.1"),
// "https://es1:9243/prefix", "https://user:pass@es1" (basic auth for that
// host, as Logstash; the transport reads it from the URL). Without a port,
// 9200; without a scheme, http (https when ssl is on).
func parseHost(h string, ssl bool) (*url.URL, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return nil, fmt.Errorf("a host is empty")
	}
	scheme := "http"
	if ssl {
		scheme = "https"
	}
	switch {
	case strings.HasPrefix(h, "//"):
		h = scheme + ":" + h
	case !strings.Contains(h, "://"):
		h = scheme + "://" + h
	}
	u, err := url.Parse(h)
	if err != nil {
		// url's errors quote the whole text, password and all.
		return nil, fmt.Errorf("host %q is not a URL (special characters must be %%-escaped, as in Logstash: %%23 for #)", redactRaw(h))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("host %q: the scheme must be http or https", u.Redacted())
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("host %q names no host", u.Redacted())
	}
	if u.Port() == "" {
		u.Host += ":9200"
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.Fragment = "" // the query is kept: sent with every request to the host
	return u, nil
}

// redactRaw hides the password of a host that did not parse.
func redactRaw(h string) string {
	at := strings.LastIndexByte(h, '@')
	start := strings.Index(h, "//") + 2
	if at < start {
		return h
	}
	if colon := strings.IndexByte(h[start:at], ':'); colon >= 0 {
		return h[:start+colon+1] + "xxxxx" + h[at:]
	}
	return h
}

// hostPool hands out the hosts round-robin. A host whose connection failed
// is taken out, and tried again once resurrect_delay has passed (Logstash
// checks it in the background; here the next request that needs a host
// does). When every host is out, the one out longest is tried: a request
// needs somewhere to go, and the core retries the batch with backoff.
type hostPool struct {
	delay time.Duration
	now   func() time.Time

	mu    sync.Mutex
	conns []*elastictransport.Connection
	next  int
}

func newHostPool(urls []*url.URL, delay time.Duration) *hostPool {
	p := &hostPool{delay: delay, now: time.Now}
	for _, u := range urls {
		p.conns = append(p.conns, &elastictransport.Connection{URL: u})
	}
	return p
}

// Next implements elastictransport.ConnectionPool.
func (p *hostPool) Next() (*elastictransport.Connection, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	var oldest *elastictransport.Connection
	for range p.conns {
		c := p.conns[p.next%len(p.conns)]
		p.next++
		if c.IsDead && now.Sub(c.DeadSince) >= p.delay {
			c.IsDead = false // resurrected: try it
		}
		if !c.IsDead {
			return c, nil
		}
		if oldest == nil || c.DeadSince.Before(oldest.DeadSince) {
			oldest = c
		}
	}
	return oldest, nil
}

// OnSuccess implements elastictransport.ConnectionPool.
func (p *hostPool) OnSuccess(c *elastictransport.Connection) error {
	p.mu.Lock()
	c.IsDead, c.Failures = false, 0
	p.mu.Unlock()
	return nil
}

// OnFailure implements elastictransport.ConnectionPool.
func (p *hostPool) OnFailure(c *elastictransport.Connection) error {
	p.mu.Lock()
	c.IsDead, c.DeadSince = true, p.now()
	c.Failures++
	p.mu.Unlock()
	return nil
}

// URLs implements elastictransport.ConnectionPool.
func (p *hostPool) URLs() []*url.URL {
	out := make([]*url.URL, len(p.conns))
	for i, c := range p.conns {
		out[i] = c.URL
	}
	return out
}

// ConcurrentSafe says the pool locks itself.
func (p *hostPool) ConcurrentSafe() {}

// live counts the hosts not taken out.
func (p *hostPool) live() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.conns {
		if !c.IsDead || p.now().Sub(c.DeadSince) >= p.delay {
			n++
		}
	}
	return n
}
