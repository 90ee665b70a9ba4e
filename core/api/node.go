package api

import (
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/gostash/gostash/core/pipeline"
)

// The JSON documents follow Logstash's monitoring API: same paths, same
// names where gostash counts the same thing. What Logstash reports of its
// JVM is reported of the Go runtime under "go".

// header is the part every Logstash document starts with.
func (s *Server) header(status string) map[string]any {
	h := map[string]any{
		"host":         s.node.Host,
		"version":      s.node.Version,
		"http_address": s.addr,
		"id":           s.node.ID,
		"name":         s.node.Name,
		"ephemeral_id": s.node.EphemeralID,
		"status":       status,
		"snapshot":     false,
	}
	if len(s.pipelines) > 0 {
		snap := s.pipelines[0].Snapshot()
		h["pipeline"] = map[string]any{
			"workers":     snap.Workers,
			"batch_size":  snap.BatchSize,
			"batch_delay": snap.BatchDelay.Milliseconds(),
		}
	}
	return h
}

func (s *Server) root(w http.ResponseWriter, r *http.Request) {
	h := s.header(s.report().Status)
	h["build_date"] = ""
	h["go_version"] = runtime.Version()
	writeJSON(w, r, http.StatusOK, h)
}

func (s *Server) nodeStats(w http.ResponseWriter, r *http.Request) {
	h := s.header(s.report().Status)
	var in, filtered, out, inflight int64
	var dur time.Duration
	pipes := map[string]any{}
	for _, p := range s.pipelines {
		snap := p.Snapshot()
		in, filtered, out, inflight = in+snap.In, filtered+snap.Filtered, out+snap.Out, inflight+snap.InFlightEvents
		dur += snap.Duration
		pipes[snap.ID] = pipelineDoc(snap)
	}
	h["events"] = map[string]any{
		"in": in, "filtered": filtered, "out": out,
		"duration_in_millis": dur.Milliseconds(), "queue_push_duration_in_millis": 0,
	}
	h["pipelines"] = pipes
	h["process"] = processDoc()
	h["go"] = goDoc()
	h["reloads"] = map[string]any{"successes": 0, "failures": 0}
	h["queue"] = map[string]any{"events_count": inflight}
	writeJSON(w, r, http.StatusOK, h)
}

func (s *Server) pipelineStats(w http.ResponseWriter, r *http.Request) {
	h := s.header(s.report().Status)
	pipes := map[string]any{}
	want := r.PathValue("id")
	for _, p := range s.pipelines {
		snap := p.Snapshot()
		if want == "" || want == snap.ID {
			pipes[snap.ID] = pipelineDoc(snap)
		}
	}
	if want != "" && len(pipes) == 0 {
		writeJSON(w, r, http.StatusNotFound, map[string]any{"status": 404, "error": "no pipeline " + want})
		return
	}
	h["pipelines"] = pipes
	writeJSON(w, r, http.StatusOK, h)
}

func (s *Server) plugins(w http.ResponseWriter, r *http.Request) {
	h := s.header(s.report().Status)
	h["total"] = len(s.node.Plugins)
	h["plugins"] = s.node.Plugins
	writeJSON(w, r, http.StatusOK, h)
}

// pipelineDoc is one pipeline under "pipelines" in /_node/stats.
func pipelineDoc(s pipeline.Snapshot) map[string]any {
	inputs, filters, outputs := []any{}, []any{}, []any{}
	for _, p := range s.Inputs {
		d := pluginDoc(p)
		d["events"] = map[string]any{"out": p.Out, "queue_push_duration_in_millis": 0}
		if len(p.Gauges) > 0 {
			d["gauges"] = p.Gauges
		}
		inputs = append(inputs, d)
	}
	for _, p := range s.Filters {
		d := pluginDoc(p)
		d["events"] = map[string]any{"in": p.In, "out": p.Out, "dropped": p.Dropped, "duration_in_millis": p.Duration.Milliseconds()}
		if len(p.Chain) > 0 {
			// One process runs these filters as one chain: duration is
			// the filter's own, chain_duration the whole chain's with
			// the crossings to and from the process.
			d["chain"] = p.Chain
			d["chain_duration_in_millis"] = p.ChainDuration.Milliseconds()
		}
		filters = append(filters, d)
	}
	for _, p := range s.Outputs {
		d := pluginDoc(p)
		d["events"] = map[string]any{"in": p.In, "out": p.Out, "duration_in_millis": p.Duration.Milliseconds()}
		d["retried_events"] = p.Retried
		d["backoffs"] = p.Backoffs
		d["dead_lettered_events"] = p.DeadLettered
		d["skipped_events"] = p.Skipped
		if !p.LastRetry.IsZero() {
			d["last_retry"] = map[string]any{"time": p.LastRetry.UTC().Format(time.RFC3339Nano), "reason": p.RetryReason}
		}
		if len(p.Gauges) > 0 {
			d["gauges"] = p.Gauges
		}
		outputs = append(outputs, d)
	}
	return map[string]any{
		"events": map[string]any{
			"in": s.In, "filtered": s.Filtered, "out": s.Out,
			"duration_in_millis": s.Duration.Milliseconds(), "queue_push_duration_in_millis": 0,
		},
		"plugins":  map[string]any{"inputs": inputs, "filters": filters, "outputs": outputs, "codecs": []any{}},
		"reloads":  map[string]any{"successes": 0, "failures": 0, "last_error": nil},
		"restarts": s.Restarts,
		// gostash's queue is the batches in flight, in memory and
		// bounded by credits: what is not acked is read again after a
		// crash, so there is nothing on disk to count.
		"queue": map[string]any{"type": "memory", "events_count": s.InFlightEvents, "batches_count": s.InFlightBatches},
		"dead_letter_queue": map[string]any{
			"events":              s.DeadLettered,
			"queue_size_in_bytes": dirSize(s.DeadLetterDir),
			"path":                s.DeadLetterDir,
			// Logstash's names for the size bound and what it dropped.
			"dropped_events":          s.DeadLetterDropped,
			"max_queue_size_in_bytes": s.DeadLetterMaxBytes,
			"storage_policy":          s.DeadLetterPolicy,
		},
		"uptime_in_millis": time.Since(s.Started).Milliseconds(),
	}
}

func pluginDoc(p pipeline.PluginStats) map[string]any {
	d := map[string]any{"id": p.ID, "name": p.Type, "process": p.Process, "restarts": p.Restarts}
	if !p.LastRestart.IsZero() {
		d["last_restart"] = p.LastRestart.UTC().Format(time.RFC3339Nano)
	}
	if p.RestartError != "" {
		d["restart_error"] = p.RestartError
	}
	return d
}

func dirSize(dir string) int64 {
	var n int64
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if info, err := os.Stat(filepath.Join(dir, e.Name())); err == nil && !info.IsDir() {
			n += info.Size()
		}
	}
	return n
}

func processDoc() map[string]any {
	fds, _ := os.ReadDir("/proc/self/fd")
	return map[string]any{
		"pid":                   os.Getpid(),
		"open_file_descriptors": len(fds),
	}
}

func goDoc() map[string]any {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return map[string]any{
		"version":    runtime.Version(),
		"goroutines": runtime.NumGoroutine(),
		"mem": map[string]any{
			"heap_alloc_in_bytes": m.HeapAlloc,
			"sys_in_bytes":        m.Sys,
		},
		"gc": map[string]any{"collection_count": m.NumGC, "pause_total_in_millis": m.PauseTotalNs / 1e6},
	}
}
