package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gostash/gostash/core/pipeline"
)

// How recent a retry or a restart must be to make a pipeline yellow: long
// enough that a scrape every 15-30 s sees it, short enough that the
// pipeline is green again soon after it recovered.
const (
	retryRecent   = 30 * time.Second
	restartRecent = 60 * time.Second
)

// Health is the shape of /_health_report, as Logstash 8.16+ answers it:
// the worst indicator's status on top, one indicator per pipeline below.
type Health struct {
	Status     string             `json:"status"`
	Symptom    string             `json:"symptom,omitempty"`
	Details    map[string]any     `json:"details,omitempty"`
	Diagnosis  []Diagnosis        `json:"diagnosis,omitempty"`
	Impacts    []Impact           `json:"impacts,omitempty"`
	Indicators map[string]*Health `json:"indicators,omitempty"`
	rank       int                // green 0, yellow 1, red 2
}

// Diagnosis says what went wrong and what to do about it.
type Diagnosis struct {
	Cause  string `json:"cause"`
	Action string `json:"action"`
}

// Impact says what the problem costs.
type Impact struct {
	Severity    int      `json:"severity"` // 1 (worst) to 5, as Logstash ranks them
	Description string   `json:"description"`
	Areas       []string `json:"impact_areas"`
}

var statusNames = []string{"green", "yellow", "red"}

func (h *Health) worse(rank int) {
	if rank > h.rank {
		h.rank = rank
		h.Status = statusNames[rank]
	}
}

// report evaluates every pipeline.
func (s *Server) report() *Health {
	top := &Health{Status: "green", Indicators: map[string]*Health{}}
	pipes := &Health{Status: "green", Indicators: map[string]*Health{}}
	top.Indicators["pipelines"] = pipes
	var unhealthy []string
	list := s.list()
	for _, p := range list {
		snap := p.Snapshot()
		h := pipelineHealth(snap, time.Now())
		pipes.Indicators[snap.ID] = h
		pipes.worse(h.rank)
		if h.rank > 0 {
			unhealthy = append(unhealthy, "`"+snap.ID+"`")
		}
	}
	if len(unhealthy) == 0 {
		pipes.Symptom = fmt.Sprintf("all %d pipelines are healthy", len(list))
		if len(list) == 1 {
			pipes.Symptom = "the pipeline is healthy"
		}
	} else {
		pipes.Symptom = fmt.Sprintf("%d indicators are unhealthy (%s)", len(unhealthy), strings.Join(unhealthy, ", "))
	}
	top.worse(pipes.rank)
	return top
}

// pipelineHealth is red when a plugin process cannot be restarted (its
// events cannot move), yellow while an output retries or a plugin process
// restarted lately, green otherwise.
func pipelineHealth(s pipeline.Snapshot, now time.Time) *Health {
	h := &Health{Status: "green", Details: map[string]any{"status": map[string]any{"state": "RUNNING"}}}
	var symptoms []string
	add := func(rank int, symptom string, d Diagnosis, im Impact) {
		h.worse(rank)
		symptoms = append(symptoms, symptom)
		h.Diagnosis = append(h.Diagnosis, d)
		h.Impacts = append(h.Impacts, im)
	}
	if s.StartError != "" {
		h.Details = map[string]any{"status": map[string]any{"state": "TERMINATED"}}
		add(2, "the pipeline could not start: "+s.StartError,
			Diagnosis{Cause: "a plugin of the pipeline did not open: " + s.StartError,
				Action: "read gostash's log for the pipeline's errors; fix its configuration or what its plugins need, then reload (SIGHUP) or restart gostash"},
			Impact{Severity: 1, Description: "the pipeline moves no events", Areas: []string{"pipeline_execution"}})
	}
	all := append(append(append([]pipeline.PluginStats(nil), s.Inputs...), s.Filters...), s.Outputs...)
	restarted := map[string]bool{} // one line per process, not per filter of its chain
	for _, p := range all {
		switch {
		case p.RestartError != "":
			add(2, fmt.Sprintf("the %s %q cannot be restarted", p.Kind, p.ID),
				Diagnosis{Cause: fmt.Sprintf("its plugin process %s crashed and starting it again fails: %s", p.Process, p.RestartError),
					Action: "read gostash's log for the plugin's last lines; fix what it needs (a binary, a file, a permission), then restart gostash"},
				Impact{Severity: 1, Description: "events do not move through the pipeline", Areas: []string{"pipeline_execution"}})
		case !p.LastRestart.IsZero() && now.Sub(p.LastRestart) < restartRecent && !restarted[p.Process]:
			restarted[p.Process] = true
			add(1, fmt.Sprintf("the %s %q restarted %s ago (%d restarts so far)", p.Kind, p.ID, now.Sub(p.LastRestart).Round(time.Second), p.Restarts),
				Diagnosis{Cause: fmt.Sprintf("its plugin process %s crashed; the batches it held are sent again", p.Process),
					Action: "read gostash's log around the restart for the plugin's last lines"},
				Impact{Severity: 3, Description: "events are delayed, and may be delivered twice", Areas: []string{"pipeline_execution"}})
		}
	}
	for _, o := range s.Outputs {
		if !o.LastRetry.IsZero() && now.Sub(o.LastRetry) < retryRecent {
			add(1, fmt.Sprintf("the output %q is retrying events (%d retried so far): %s", o.ID, o.Retried, o.RetryReason),
				Diagnosis{Cause: "the output's destination does not take the events: " + o.RetryReason,
					Action: "check that the destination is up and reachable; the events are kept and retried, none is lost"},
				Impact{Severity: 2, Description: "events wait in the pipeline; when it is full, inputs stop reading", Areas: []string{"pipeline_execution"}})
		}
	}
	for _, in := range s.Inputs {
		if in.Lagging != "" {
			add(1, fmt.Sprintf("the input %q is lagging: %s", in.ID, in.Lagging),
				Diagnosis{Cause: "the pipeline reads more slowly than its source grows",
					Action: "look at /_node/stats/pipelines for the slowest filter or output; add workers (-w) or gostash processes in the consumer group"},
				Impact{Severity: 3, Description: "events reach the outputs later and later", Areas: []string{"pipeline_execution"}})
		}
	}
	if len(symptoms) == 0 {
		h.Symptom = "the pipeline is healthy"
	} else {
		h.Symptom = strings.Join(symptoms, "; ")
	}
	return h
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	rep := s.report()
	h := s.header(rep.Status)
	h["indicators"] = rep.Indicators
	writeJSON(w, r, http.StatusOK, h)
}
