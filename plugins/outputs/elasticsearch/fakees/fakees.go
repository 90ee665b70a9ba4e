// Package fakees is an HTTP server that answers like Elasticsearch (with
// the X-Elastic-Product header the Go client checks) for the faults a
// real engine will not produce on demand: per-item 429/400/409/503 mixes,
// whole-request 429/503, bulk answers with fewer items than actions, slow
// answers, connections reset mid-request, the engine down for a while. It
// keeps the documents it accepted, so a test can check that each arrived
// exactly once, and counts the bulk requests in flight at once. It is a
// test helper (the output's tests and cmd/gostash's end-to-end tests),
// not part of the plugin.
package fakees

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Action is one action of a bulk request as the server read it.
type Action struct {
	Name  string          // index, create, update, delete
	Meta  json.RawMessage // the action line's object (_index, _id, ...)
	Doc   json.RawMessage // the document line; nil for delete
	Index string
	ID    string
}

// Fault says how to answer one bulk request.
type Fault struct {
	// Status answers the whole request with this status (429, 503, ...)
	// and accepts nothing; 0 answers per item.
	Status int
	// Item returns each action's status (0 or 2xx: accepted).
	Item func(i int, a Action) int
	// Drop leaves this many items out of the end of the answer (the
	// actions are still accepted: the engine took them, the answer lies).
	Drop int
	// Delay answers this much later (the actions are accepted at once, as
	// a slow engine that indexed them but answers late).
	Delay time.Duration
	// Reset closes the connection (a TCP reset) once the request is read,
	// without an answer, accepting nothing.
	Reset bool
}

// Server is the fake engine.
type Server struct {
	*httptest.Server
	// Discard counts the documents taken instead of keeping them
	// (Accepted is then empty): a benchmark's server stays small.
	Discard bool

	mu       sync.Mutex
	taken    int
	plan     func(n int, actions []Action) Fault
	requests int
	docs     []Action // accepted, in order
	gzipped  int
	inflight int
	maxIn    int
	calls    []Call
	known    map[string]bool // paths a PUT created
}

// MaxInFlight returns the most bulk requests that were being answered at
// once.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxIn
}

// Down closes the listener and every open connection: the engine is gone
// (connections are refused) until Up.
func (s *Server) Down() {
	s.Listener.Close()
	s.CloseClientConnections()
}

// Up listens again on the same address.
func (s *Server) Up() error {
	l, err := net.Listen("tcp", s.Listener.Addr().String())
	if err != nil {
		return err
	}
	s.Listener = l
	go s.Config.Serve(l)
	return nil
}

// Distinct returns how many accepted actions have distinct ids (actions
// without an id count one each).
func (s *Server) Distinct() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := map[string]bool{}
	n := 0
	for _, a := range s.docs {
		if a.ID == "" {
			n++
		} else if !ids[a.Index+"/"+a.ID] {
			ids[a.Index+"/"+a.ID] = true
			n++
		}
	}
	return n
}

// New starts a server that answers each bulk request (counted from 1) as
// plan says; a nil plan accepts everything.
func New(plan func(n int, actions []Action) Fault) *Server {
	s := &Server{plan: plan}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// NewTLS is New over https with config (its certificate is httptest's
// when config has none: Certificate() gives it to trust).
func NewTLS(plan func(n int, actions []Action) Fault, config *tls.Config) *Server {
	s := &Server{plan: plan}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Server.TLS = config
	s.Server.StartTLS()
	return s
}

// Requests returns how many bulk requests came.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Gzipped returns how many bulk requests came gzipped.
func (s *Server) Gzipped() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gzipped
}

// Taken returns how many documents were accepted so far.
func (s *Server) Taken() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.taken
}

// Accepted returns the actions accepted so far.
func (s *Server) Accepted() []Action {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Action(nil), s.docs...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/" && r.Method == http.MethodGet:
		fmt.Fprint(w, `{"name":"fakees","cluster_name":"fake","version":{"number":"8.19.0","build_flavor":"default"},"tagline":"You Know, for Search"}`)
	case strings.HasSuffix(r.URL.Path, "/_bulk") && r.Method == http.MethodPost:
		s.bulk(w, r)
	default:
		// Anything else (templates, ILM policies, aliases, indices) is
		// recorded; a PUT creates what GET and HEAD then find.
		body, _ := io.ReadAll(r.Body)
		path := r.URL.EscapedPath()
		s.mu.Lock()
		s.calls = append(s.calls, Call{Method: r.Method, Path: path, Body: string(body)})
		if s.known == nil {
			s.known = map[string]bool{}
		}
		known := s.known[path]
		if r.Method == http.MethodPut {
			s.known[path] = true
		}
		s.mu.Unlock()
		switch {
		case r.Method == http.MethodPut:
			fmt.Fprint(w, `{"acknowledged":true}`)
		case known:
			fmt.Fprint(w, `{}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"error":{"type":"resource_not_found_exception","reason":"fakees has no %s"},"status":404}`, path)
		}
	}
}

// Call is a request other than a bulk one.
type Call struct {
	Method, Path, Body string
}

// Calls returns the requests other than bulk ones, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

func (s *Server) bulk(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	gz := r.Header.Get("Content-Encoding") == "gzip"
	if gz {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	actions, err := parseBulk(body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":{"type":"parse_exception","reason":%q},"status":400}`, err.Error())
		return
	}
	s.mu.Lock()
	s.requests++
	if gz {
		s.gzipped++
	}
	if s.inflight++; s.inflight > s.maxIn {
		s.maxIn = s.inflight
	}
	var f Fault
	if s.plan != nil {
		f = s.plan(s.requests, actions)
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inflight--
		s.mu.Unlock()
	}()
	if f.Reset {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // RST, not FIN
			}
			conn.Close()
		}
		return
	}
	out := s.answer(f, actions)
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if f.Status != 0 {
		w.WriteHeader(f.Status)
	}
	w.Write(out)
}

// answer accepts the actions f lets through and writes the answer.
func (s *Server) answer(f Fault, actions []Action) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Status != 0 {
		return fmt.Appendf(nil, `{"error":{"type":"fault","reason":"fakees answers %d"},"status":%d}`, f.Status, f.Status)
	}
	var out bytes.Buffer
	errorsSeen := false
	out.WriteString(`{"took":1,"items":[`)
	n := len(actions) - f.Drop
	for i, a := range actions {
		status := 201
		if f.Item != nil {
			if st := f.Item(i, a); st != 0 {
				status = st
			}
		}
		if status/100 == 2 {
			s.taken++
			if !s.Discard {
				s.docs = append(s.docs, a)
			}
		}
		if i >= n {
			continue
		}
		if i > 0 {
			out.WriteByte(',')
		}
		fmt.Fprintf(&out, `{%q:{"_index":%q,"_id":%q,"status":%d`, a.Name, a.Index, a.ID, status)
		if status/100 != 2 {
			errorsSeen = true
			fmt.Fprintf(&out, `,"error":{"type":"%s","reason":"fakees answers %d for item %d"}`, errType(status), status, i)
		}
		out.WriteString(`}}`)
	}
	fmt.Fprintf(&out, `],"errors":%v}`, errorsSeen)
	return out.Bytes()
}

func errType(status int) string {
	switch status {
	case 429:
		return "es_rejected_execution_exception"
	case 409:
		return "version_conflict_engine_exception"
	case 400:
		return "document_parsing_exception"
	}
	return "fault"
}

func parseBulk(r io.Reader) ([]Action, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var out []Action
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var head map[string]json.RawMessage
		if err := json.Unmarshal(line, &head); err != nil || len(head) != 1 {
			return nil, fmt.Errorf("action line %q: %v", line, err)
		}
		var a Action
		for k, v := range head {
			a.Name, a.Meta = k, v
		}
		var meta struct {
			Index string `json:"_index"`
			ID    string `json:"_id"`
		}
		_ = json.Unmarshal(a.Meta, &meta)
		a.Index, a.ID = meta.Index, meta.ID
		if a.Name != "delete" {
			if !sc.Scan() {
				return nil, fmt.Errorf("action %s has no document line", a.Name)
			}
			a.Doc = append(json.RawMessage(nil), bytes.TrimSpace(sc.Bytes())...)
		}
		out = append(out, a)
	}
	return out, sc.Err()
}
