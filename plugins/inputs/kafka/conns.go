package kafka

import (
	"net"
	"sync"

	"github.com/IBM/sarama"
)

// connTracker dials a member's connections to the brokers and remembers
// them, so that a stopping member can close them under sarama: a fetch
// holds its broker's lock until the broker answers, which for a caught-up
// partition is fetch_max_wait_ms later, and sarama's own Close waits for
// that lock (see handler.claimEnded).
type connTracker struct {
	dial interface {
		Dial(network, addr string) (net.Conn, error)
	}
	mu   sync.Mutex
	open map[*trackedConn]struct{}
}

// trackConns makes cfg dial through a connTracker, with the dialer sarama
// would have used.
func trackConns(cfg *sarama.Config) {
	t := &connTracker{open: map[*trackedConn]struct{}{}}
	if cfg.Net.Proxy.Enable {
		t.dial = cfg.Net.Proxy.Dialer
	} else {
		t.dial = &net.Dialer{Timeout: cfg.Net.DialTimeout, KeepAlive: cfg.Net.KeepAlive, LocalAddr: cfg.Net.LocalAddr}
	}
	cfg.Net.Proxy.Enable = true
	cfg.Net.Proxy.Dialer = t
}

func (t *connTracker) Dial(network, addr string) (net.Conn, error) {
	c, err := t.dial.Dial(network, addr)
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, t: t}
	t.mu.Lock()
	t.open[tc] = struct{}{}
	t.mu.Unlock()
	return tc, nil
}

// closeAll closes every connection open now; requests waiting on them
// fail at once, and sarama dials again for the next one.
func (t *connTracker) closeAll() {
	t.mu.Lock()
	open := make([]*trackedConn, 0, len(t.open))
	for c := range t.open {
		open = append(open, c)
	}
	t.mu.Unlock()
	for _, c := range open {
		_ = c.Close()
	}
}

type trackedConn struct {
	net.Conn
	t *connTracker
}

func (c *trackedConn) Close() error {
	c.t.mu.Lock()
	delete(c.t.open, c)
	c.t.mu.Unlock()
	return c.Conn.Close()
}
