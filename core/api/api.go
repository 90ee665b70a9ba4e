// Package api is gostash's monitoring HTTP API: Logstash's `:9600`
// documents where the job is the same (`/`, `/_node/stats`,
// `/_node/stats/pipelines`, `/_node/plugins`, `/_health_report`) and a
// Prometheus `/metrics`. It only reads: the counting is the pipeline's
// (core/pipeline, Snapshot), done whether or not anyone asks.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gostash/gostash/core/pipeline"
)

// Pipeline is what the API reads of a running pipeline;
// *pipeline.Pipeline is one.
type Pipeline interface {
	Snapshot() pipeline.Snapshot
	Histograms() []prometheus.Collector
}

// Node describes this gostash process, as Logstash's `GET /` does.
type Node struct {
	ID          string // kept across runs in <path.data>/uuid
	EphemeralID string // new every run
	Name        string // the host name unless set
	Host        string
	Version     string
	Plugins     []Plugin
}

// Plugin is one component the process can run, for /_node/plugins.
type Plugin struct {
	Name    string `json:"name"`
	Type    string `json:"type"` // input, filter, output
	Version string `json:"version"`
	Source  string `json:"source"` // "builtin" or the plugin binary's name
}

// Server serves the API for a set of pipelines.
type Server struct {
	node    Node
	list    func() []Pipeline
	addr    string // where Serve listens
	metrics http.Handler
}

// New builds the API's handlers over the pipelines.
func New(node Node, pipelines ...Pipeline) *Server {
	return NewLive(node, func() []Pipeline { return pipelines })
}

// NewLive builds the API's handlers over the pipelines list returns at
// each request: a reload adds and removes pipelines while it serves.
func NewLive(node Node, list func() []Pipeline) *Server {
	return &Server{node: node, list: list, metrics: metricsHandler(list)}
}

// Handler routes the API's paths; anything else is a 404 in JSON.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.root)
	mux.HandleFunc("GET /_node/stats", s.nodeStats)
	mux.HandleFunc("GET /_node/stats/pipelines", s.pipelineStats)
	mux.HandleFunc("GET /_node/stats/pipelines/{id}", s.pipelineStats)
	mux.HandleFunc("GET /_node/plugins", s.plugins)
	mux.HandleFunc("GET /_health_report", s.health)
	mux.Handle("GET /metrics", s.metrics)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, r, http.StatusNotFound, map[string]any{
			"path": r.URL.Path, "status": 404,
			"error": "not found: try /, /_node/stats, /_node/stats/pipelines, /_node/plugins, /_health_report or /metrics",
		})
	})
	return mux
}

// Serve answers on ln until ctx is cancelled.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.addr = ln.Addr().String()
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Listen binds host on the first free port of ports ("9600", or a range
// "9600-9700" as Logstash takes). A host that is not a loopback address is
// refused unless allowRemote: the API has no authentication, and pipeline
// statistics (plugin names, hosts, error messages) are not for everyone.
func Listen(host, ports string, allowRemote bool) (net.Listener, error) {
	if !allowRemote && !isLoopback(host) {
		return nil, fmt.Errorf("--api.http.host %s is not a loopback address, and the API has no authentication: "+
			"anyone who reaches it reads the pipelines' settings and errors. To bind it anyway (behind a firewall), "+
			"add --api.http.allow_remote; or keep the default 127.0.0.1", host)
	}
	first, last, err := parsePorts(ports)
	if err != nil {
		return nil, err
	}
	var lastErr error
	for port := first; port <= last; port++ {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err == nil {
			return ln, nil
		}
		lastErr = err
	}
	if first == last {
		return nil, fmt.Errorf("monitoring API: %w: give another port with --api.http.port, a range such as 9600-9700, or --api.enabled=false", lastErr)
	}
	return nil, fmt.Errorf("monitoring API: no free port in %d-%d on %s (last: %v): give another range with --api.http.port, or --api.enabled=false", first, last, host, lastErr)
}

// parsePorts reads "9600" or "9600-9700".
func parsePorts(s string) (first, last int, err error) {
	lo, hi, isRange := strings.Cut(s, "-")
	if first, err = strconv.Atoi(strings.TrimSpace(lo)); err != nil {
		return 0, 0, fmt.Errorf("--api.http.port %q: give a port (9600) or a range (9600-9700)", s)
	}
	last = first
	if isRange {
		if last, err = strconv.Atoi(strings.TrimSpace(hi)); err != nil {
			return 0, 0, fmt.Errorf("--api.http.port %q: give a port (9600) or a range (9600-9700)", s)
		}
	}
	if first < 0 || last > 65535 || first > last {
		return 0, 0, fmt.Errorf("--api.http.port %q: ports go from 0 to 65535, the lower first", s)
	}
	return first, last, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// writeJSON answers v; `?pretty` indents it, as Logstash's API does.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	if _, ok := r.URL.Query()["pretty"]; ok {
		enc.SetIndent("", "  ")
	}
	_ = enc.Encode(v)
}
