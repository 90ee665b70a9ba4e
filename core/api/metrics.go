package api

import (
	"net/http"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gostash/gostash/core/pipeline"
	"github.com/gostash/gostash/sdk"
)

// Prometheus names follow the exposition conventions: a gostash_ prefix,
// _total on counters, base units (seconds), and the labels pipeline,
// plugin_id (the block's name), plugin (its type: grok, kafka) and
// plugin_type (input, filter, output), as Logstash exporters label them.

var pluginLabels = []string{"pipeline", "plugin_type", "plugin", "plugin_id"}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

var (
	pipeIn       = desc("gostash_pipeline_events_in_total", "Events read by the pipeline's inputs.", "pipeline")
	pipeFiltered = desc("gostash_pipeline_events_filtered_total", "Events out of the pipeline's filters.", "pipeline")
	pipeOut      = desc("gostash_pipeline_events_out_total", "Events accepted by an output, counted once per output.", "pipeline")
	pipeDLQ      = desc("gostash_pipeline_events_dead_lettered_total", "Events an output rejected for good, written to the dead letter queue.", "pipeline")
	pipeDLQDrop  = desc("gostash_pipeline_dead_letter_dropped_total", "Dead letter entries the queue's size bound dropped (dead_letter_queue.max_bytes, storage_policy).", "pipeline")
	pipeInflight = desc("gostash_pipeline_inflight_events", "Events read and not yet acked (in filters, queued for or in outputs).", "pipeline")
	pipeRestarts = desc("gostash_pipeline_plugin_restarts_total", "Plugin process restarts after a crash.", "pipeline")

	plugIn       = desc("gostash_plugin_events_in_total", "Events handed to the plugin.", pluginLabels...)
	plugOut      = desc("gostash_plugin_events_out_total", "Events the plugin passed on: read (inputs), kept or emitted (filters), accepted (outputs).", pluginLabels...)
	plugDropped  = desc("gostash_plugin_events_dropped_total", "Events a filter dropped.", pluginLabels...)
	plugDLQ      = desc("gostash_plugin_events_dead_lettered_total", "Events an output rejected for good.", pluginLabels...)
	plugRetried  = desc("gostash_plugin_events_retried_total", "Events an output asked to retry, counted each time.", pluginLabels...)
	plugSkipped  = desc("gostash_plugin_events_skipped_total", "Events an output's `when` left out.", pluginLabels...)
	plugBackoffs = desc("gostash_plugin_backoffs_total", "Waits before an output's retry.", pluginLabels...)
	plugDuration = desc("gostash_plugin_duration_seconds_total", "Time spent in the plugin; a filter's own time in its process (the crossings: see gostash_filter_chain_duration_seconds_total).", pluginLabels...)
	plugRestarts = desc("gostash_plugin_restarts_total", "Restarts of the plugin's process this plugin saw.", pluginLabels...)
	chainDur     = desc("gostash_filter_chain_duration_seconds_total", "Time spent in a chain of filters one process runs together.", "pipeline", "chain")
)

// collector reads the pipelines' snapshots at each scrape: nothing is
// counted twice, and nothing runs between scrapes.
type collector struct{ pipelines []Pipeline }

// Describe sends nothing: plugin gauges have labels only the plugin
// knows, so the collector is unchecked.
func (c collector) Describe(chan<- *prometheus.Desc) {}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	for _, p := range c.pipelines {
		s := p.Snapshot()
		counter(pipeIn, float64(s.In), s.ID)
		counter(pipeFiltered, float64(s.Filtered), s.ID)
		counter(pipeOut, float64(s.Out), s.ID)
		counter(pipeDLQ, float64(s.DeadLettered), s.ID)
		counter(pipeDLQDrop, float64(s.DeadLetterDropped), s.ID)
		counter(pipeRestarts, float64(s.Restarts), s.ID)
		ch <- prometheus.MustNewConstMetric(pipeInflight, prometheus.GaugeValue, float64(s.InFlightEvents), s.ID)
		chains := map[string]float64{}
		for _, group := range [][]pipeline.PluginStats{s.Inputs, s.Filters, s.Outputs} {
			for _, ps := range group {
				l := []string{s.ID, ps.Kind.String(), ps.Type, ps.ID}
				if ps.Kind != sdk.KindInput {
					counter(plugIn, float64(ps.In), l...)
				}
				counter(plugOut, float64(ps.Out), l...)
				counter(plugRestarts, float64(ps.Restarts), l...)
				switch ps.Kind {
				case sdk.KindFilter:
					counter(plugDropped, float64(ps.Dropped), l...)
					counter(plugDuration, ps.Duration.Seconds(), l...)
					if len(ps.Chain) > 0 {
						chains[strings.Join(ps.Chain, ",")] = ps.ChainDuration.Seconds()
					}
				case sdk.KindOutput:
					counter(plugDLQ, float64(ps.DeadLettered), l...)
					counter(plugRetried, float64(ps.Retried), l...)
					counter(plugSkipped, float64(ps.Skipped), l...)
					counter(plugBackoffs, float64(ps.Backoffs), l...)
					counter(plugDuration, ps.Duration.Seconds(), l...)
				}
				for _, g := range ps.Gauges {
					gauge(ch, s.ID, ps, g)
				}
			}
		}
		for chain, secs := range chains {
			counter(chainDur, secs, s.ID, chain)
		}
		for _, h := range p.Histograms() {
			h.Collect(ch)
		}
	}
}

// gauge exposes what a plugin reported about itself as
// gostash_<name>{pipeline, plugin_type, plugin, plugin_id, <its labels>}.
func gauge(ch chan<- prometheus.Metric, pipelineID string, ps pipeline.PluginStats, g pipeline.Gauge) {
	keys := make([]string, 0, len(g.Labels))
	for k := range g.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	names := append(append([]string(nil), pluginLabels...), keys...)
	values := []string{pipelineID, ps.Kind.String(), ps.Type, ps.ID}
	for _, k := range keys {
		values = append(values, g.Labels[k])
	}
	d := prometheus.NewDesc("gostash_"+g.Name, "Reported by the plugin.", names, nil)
	m, err := prometheus.NewConstMetric(d, prometheus.GaugeValue, g.Value, values...)
	if err != nil {
		m = prometheus.NewInvalidMetric(d, err) // a bad name shows in the scrape's error, not as a crash
	}
	ch <- m
}

// metricsHandler serves the pipelines' metrics with the Go runtime's and
// the process's (memory, CPU, file descriptors) on a registry of its own.
func metricsHandler(pipelines []Pipeline) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collector{pipelines},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}
