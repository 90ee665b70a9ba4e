package pipeline

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gostash/gostash/sdk"
	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// Counting: every counter below moves once per batch (or per piece, per
// write), never per event, so it costs an atomic add or two in a path that
// does a gRPC round trip; the monitoring API (core/api) reads them with
// Snapshot and Collect.

// pluginStats counts what went through one plugin instance, as the core
// sees it.
type pluginStats struct {
	in, out, dropped       atomic.Int64
	retried, deadLettered  atomic.Int64
	skipped                atomic.Int64 // an output's `when` left them out
	backoffs               atomic.Int64 // waits before a retry
	durationNanos          atomic.Int64
	restarts               atomic.Int64
	lastRetry, lastRestart atomic.Int64 // unix nanoseconds; 0: never
	retryReason            atomic.Pointer[string]
	restartError           atomic.Pointer[string] // the last restart that failed; nil once one works
}

func (s *pluginStats) restarted(ok bool, err error) {
	if ok {
		s.restarts.Add(1)
		s.lastRestart.Store(time.Now().UnixNano())
	}
	switch {
	case err == nil:
		s.restartError.Store(nil)
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		// stopping: no restart was wanted
	default:
		msg := err.Error()
		s.restartError.Store(&msg)
	}
}

// PluginStats is what one plugin instance did so far.
type PluginStats struct {
	ID   string   // the block's name, unique in the pipeline
	Type string   // the component: "generator", "grok", "elasticsearch"
	Kind sdk.Kind // input, filter or output
	// In: events handed to it; Out: events it passed on (an input's
	// read, a filter's result, an output's accepted writes).
	In, Out, Dropped int64
	// Retried counts events an output asked to retry, each time it asked;
	// Backoffs the waits that followed.
	Retried, Backoffs, DeadLettered, Skipped int64
	// Duration is the time spent in it. Filters run in one process run as
	// one chain (Chain lists them): a filter's Duration is its own as the
	// process measures it, ChainDuration the whole chain's as the core
	// sees it (the crossings included). A plugin that predates per-filter
	// time gives each filter the chain's.
	Duration      time.Duration
	Chain         []string
	ChainDuration time.Duration
	// Process is the plugin process hosting it; Restarts counts the
	// restarts of that process this instance saw.
	Process      string
	Restarts     int64
	LastRestart  time.Time
	RestartError string // set while the process cannot be restarted
	LastRetry    time.Time
	RetryReason  string
	// Gauges are what the plugin reports about itself (an input's lag);
	// Lagging says how, when an input's lag grew between its last reports.
	Gauges  []Gauge
	Lagging string
}

// Gauge is a value a plugin reports about itself, such as a Kafka
// consumer's lag on one partition.
type Gauge struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
	Value  float64           `json:"value"`
	Lag    bool              `json:"lag,omitempty"` // how far behind its source the input is
}

// Snapshot is a pipeline's counters at one moment.
type Snapshot struct {
	ID         string
	Workers    int
	BatchSize  int
	BatchDelay time.Duration
	Started    time.Time
	// In: events read; Filtered: events out of the filters; Out: events
	// every output accepted (per output, so two outputs count twice).
	In, Filtered, Out, DeadLettered, Restarts int64
	// Duration is the time the workers spent in filters and outputs.
	Duration time.Duration
	// InFlight counts what inputs handed over and no output finished yet:
	// the pipeline's in-memory queue.
	InFlightBatches, InFlightEvents int64
	DeadLetterDir                   string
	// DeadLetterDropped counts entries the queue's size bound dropped
	// (DeadLetterPolicy says which: the new ones or the oldest).
	DeadLetterDropped, DeadLetterMaxBytes int64
	DeadLetterPolicy                      string
	Inputs, Filters, Outputs              []PluginStats
}

func (s *pluginStats) snapshot(b Block) PluginStats {
	ps := PluginStats{
		ID: b.Name, Type: b.Type, Kind: b.Kind,
		In: s.in.Load(), Out: s.out.Load(), Dropped: s.dropped.Load(),
		Retried: s.retried.Load(), Backoffs: s.backoffs.Load(),
		DeadLettered: s.deadLettered.Load(), Skipped: s.skipped.Load(),
		Duration: time.Duration(s.durationNanos.Load()),
		Restarts: s.restarts.Load(),
	}
	if b.Proc != nil {
		ps.Process = b.Proc.Name()
	}
	if t := s.lastRestart.Load(); t != 0 {
		ps.LastRestart = time.Unix(0, t)
	}
	if t := s.lastRetry.Load(); t != 0 {
		ps.LastRetry = time.Unix(0, t)
	}
	if r := s.retryReason.Load(); r != nil {
		ps.RetryReason = *r
	}
	if e := s.restartError.Load(); e != nil {
		ps.RestartError = *e
	}
	return ps
}

// Snapshot reads every counter of the pipeline. It may run while the
// pipeline does: each counter is read atomically, not all of them at
// once.
func (p *Pipeline) Snapshot() Snapshot {
	s := Snapshot{
		ID: p.settings.ID, Workers: p.settings.Workers, BatchSize: p.settings.BatchSize,
		BatchDelay: p.settings.BatchDelay, Started: p.started,
		In: p.stats.In.Load(), Filtered: p.stats.Filtered.Load(), Out: p.stats.Out.Load(),
		DeadLettered: p.stats.DeadLettered.Load(), Restarts: p.stats.Restarts.Load(),
		DeadLetterDir: p.dlq.dir, DeadLetterDropped: p.stats.DeadLetterDropped.Load(),
		DeadLetterMaxBytes: p.dlq.maxBytes, DeadLetterPolicy: p.dlq.policy,
	}
	for _, in := range p.inputs {
		ps := in.stats.snapshot(in.block)
		ps.Gauges, ps.Lagging = in.gauges.get()
		s.Inputs = append(s.Inputs, ps)
		s.InFlightBatches += in.unackedBatches.Load()
		s.InFlightEvents += in.unackedEvents.Load()
	}
	for _, seg := range p.segments {
		var chain []string
		if len(seg.blocks) > 1 {
			for _, b := range seg.blocks {
				chain = append(chain, b.Name)
			}
		}
		d := time.Duration(seg.stats.durationNanos.Load())
		s.Duration += d
		for i, b := range seg.blocks {
			ps := seg.filters[i].snapshot(b)
			// The chain's own view: time and restarts are the process's.
			ps.Chain, ps.ChainDuration = chain, d
			if ps.Duration == 0 {
				ps.Duration = d // no per-filter time from this plugin
			}
			restart := seg.stats.snapshot(b)
			ps.Restarts, ps.LastRestart, ps.RestartError = restart.Restarts, restart.LastRestart, restart.RestartError
			if !seg.perFilter.Load() && len(seg.blocks) == 1 {
				// A plugin that does not count per filter: the core's
				// counts of the chain are the filter's.
				ps.In, ps.Out = seg.stats.in.Load(), seg.stats.out.Load()
			}
			s.Filters = append(s.Filters, ps)
		}
	}
	for _, o := range p.outputs {
		ps := o.stats.snapshot(o.block)
		ps.Gauges = o.gauges.get()
		s.Duration += ps.Duration
		s.Outputs = append(s.Outputs, ps)
	}
	return s
}

// writeGauges holds what an output's running Writes last reported, one
// slot per stream; a snapshot adds up the gauges of the same name and
// labels (documents waiting for a retry in each Write).
type writeGauges struct {
	mu    sync.Mutex
	slots [][]Gauge
}

// slot takes a slot for one stream's reports.
func (w *writeGauges) slot() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.slots = append(w.slots, nil)
	return len(w.slots) - 1
}

func (w *writeGauges) set(slot int, gs []*pluginv1.Gauge) {
	var out []Gauge
	for _, x := range gs {
		out = append(out, Gauge{Name: x.Name, Labels: x.Labels, Value: x.Value})
	}
	w.mu.Lock()
	w.slots[slot] = out
	w.mu.Unlock()
}

func (w *writeGauges) get() []Gauge {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []Gauge
	for _, gs := range w.slots {
	next:
		for _, g := range gs {
			for i := range out {
				if out[i].Name == g.Name && maps.Equal(out[i].Labels, g.Labels) {
					out[i].Value += g.Value
					continue next
				}
			}
			out = append(out, g)
		}
	}
	return out
}

// gaugeSet holds the gauges an input last reported, and whether its lag
// keeps growing.
type gaugeSet struct {
	mu      sync.Mutex
	g       []Gauge
	lag     float64 // the sum of the last report's lag gauges
	growing int     // reports in a row whose lag grew
	from    float64 // the lag when it started growing
	seen    bool    // a report with a lag came
}

// lagReports is how many reports in a row must show a growing lag before
// the input is called lagging: one could be a burst.
const lagReports = 3

func (g *gaugeSet) set(gs []*pluginv1.Gauge) {
	out := make([]Gauge, 0, len(gs))
	var lag float64
	hasLag := false
	for _, x := range gs {
		out = append(out, Gauge{Name: x.Name, Labels: x.Labels, Value: x.Value, Lag: x.Lag})
		if x.Lag {
			lag += x.Value
			hasLag = true
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.g = out
	switch {
	case !hasLag:
	case !g.seen: // the first report only sets where the lag starts
		g.seen = true
	case lag > g.lag:
		if g.growing == 0 {
			g.from = g.lag
		}
		g.growing++
	default:
		g.growing = 0
	}
	if hasLag {
		g.lag = lag
	}
}

func (g *gaugeSet) get() ([]Gauge, string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	lagging := ""
	if g.growing >= lagReports {
		lagging = fmt.Sprintf("its lag grew in each of its last %d reports, from %.0f to %.0f", g.growing, g.from, g.lag)
	}
	return g.g, lagging
}

// latencyBuckets span a batch's life from a few milliseconds (an idle
// pipeline) to a minute (an output retrying through an outage).
var latencyBuckets = prometheus.ExponentialBuckets(0.001, 2.5, 14)

// Histograms are the pipeline's latency histograms, for /metrics: how
// long a batch took from read to ack, and each output's writes. The
// client library counts them (lock-free, one observation per batch).
func (p *Pipeline) Histograms() []prometheus.Collector {
	cs := []prometheus.Collector{p.batchLatency}
	for _, o := range p.outputs {
		cs = append(cs, o.writeLatency)
	}
	return cs
}

func newBatchLatency(pipelineID string) prometheus.Histogram {
	return prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:        "gostash_pipeline_batch_latency_seconds",
		Help:        "Time from an input's batch being read to every output having accepted it (the ack).",
		ConstLabels: prometheus.Labels{"pipeline": pipelineID},
		Buckets:     latencyBuckets,
	})
}

func newWriteLatency(pipelineID string, b Block) prometheus.Histogram {
	return prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:        "gostash_output_write_latency_seconds",
		Help:        "Time an output took to answer one write of a batch (or piece), retries counted apart.",
		ConstLabels: prometheus.Labels{"pipeline": pipelineID, "plugin_type": "output", "plugin": b.Type, "plugin_id": b.Name},
		Buckets:     latencyBuckets,
	})
}
