package sdk

import (
	"sync"
	"time"
)

// whenLogEvery is how often a `when` that keeps failing may log.
var whenLogEvery = 10 * time.Second

// guard is a filter's or an output's compiled `when`. An expression that
// fails on an event (comparing a string with a number, a field of the
// wrong type) counts as false, as a failing condition does in Logstash:
// the filter is skipped and the event goes on unchanged, or the output
// does not write it. Each failure is counted and logged, at most once per
// whenLogEvery per instance with the number left out, so a bad field in
// every event cannot flood the log.
type guard struct {
	cond   *Condition
	logger Logger // nil: count only

	mu         sync.Mutex
	failed     int64 // every failure so far
	suppressed int64 // failures not logged since the last line
	lastLog    time.Time
}

func newGuard(src string, logger Logger) (*guard, error) {
	if src == "" {
		return nil, nil
	}
	c, err := CompileCondition(src)
	if err != nil {
		return nil, err
	}
	return &guard{cond: c, logger: logger}, nil
}

// match reports whether e passes the guard; a nil guard passes everything.
func (g *guard) match(e *Event) bool {
	if g == nil {
		return true
	}
	ok, err := g.cond.Match(e)
	if err == nil {
		return ok
	}
	g.mu.Lock()
	g.failed++
	now := time.Now()
	if !g.lastLog.IsZero() && now.Sub(g.lastLog) < whenLogEvery {
		g.suppressed++
		g.mu.Unlock()
		return false
	}
	failed, suppressed := g.failed, g.suppressed
	g.suppressed, g.lastLog = 0, now
	g.mu.Unlock()
	if g.logger != nil {
		g.logger.Warn("when failed on an event and counts as false; fix the expression or the events' fields",
			"when", g.cond.String(), "error", err, "failed_total", failed, "not_logged", suppressed, "log_every", whenLogEvery)
	}
	return false
}

// Failed returns how many events the guard failed on.
func (g *guard) Failed() int64 {
	if g == nil {
		return 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.failed
}
