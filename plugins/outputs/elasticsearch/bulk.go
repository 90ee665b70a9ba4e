package elasticsearch

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/elastic/go-elasticsearch/v8"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/codecs"
)

// bulkPath asks only for what the outcomes need: a success answers
// {"index":{"status":201}} instead of a dozen fields.
const bulkPath = "/_bulk?filter_path=errors,items.*.status,items.*.error"

// write is one Write call's scratch space, reused through a pool.
type write struct {
	enc     codecs.JSONEncoder
	arena   []byte // every event's action and document lines
	index   []byte // the index name being rendered
	id      []byte // the id from the source being written
	items   []item // by event index
	pending []int  // events to send this round
	retry   []int  // events to send next round
	results []result
	body    bytes.Buffer // the request body (gzipped or not)
	gz      *gzip.Writer
	resp    bytes.Buffer
	parsed  []itemResult // the last answer's items; Error points into resp

	// The start of the action line by UTC day, for an index that
	// renders the same all day (lines.go).
	lines      [dayLines]dayLine
	linesFrom  *sdk.Template // the index they were rendered from
	linesByDay bool          // linesFrom.ByDay()
}

// item is one event's lines in the arena and what became of it.
type item struct {
	start, end int
	action     string
	last       string // why the last attempt failed
}

// result is the engine's answer for one action.
type result struct {
	status  int
	errType string
	reason  string
}

// itemResult is one item of a bulk answer (scanBulkResponse).
type itemResult struct {
	Status int
	Error  []byte // raw JSON; only for an item that is not 2xx
}

// errorOf reads an item's error: {"type","reason","caused_by"} (or, from
// old engines, a string).
func errorOf(raw json.RawMessage) (typ, reason string) {
	if len(raw) == 0 {
		return "", ""
	}
	var e struct {
		Type     string `json:"type"`
		Reason   string `json:"reason"`
		CausedBy *struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"caused_by"`
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return "", s
		}
		return "", string(raw)
	}
	reason = e.Reason
	if c := e.CausedBy; c != nil && (c.Type != "" || c.Reason != "") {
		reason += " (caused by " + c.Type + ": " + c.Reason + ")"
	}
	return e.Type, reason
}

func (o *Output) getWrite() *write {
	w, _ := o.bufs.Get().(*write)
	if w == nil {
		// Document fields in any order: Elasticsearch does not care, and
		// sorting them was half of building the body.
		w = &write{enc: codecs.JSONEncoder{Unordered: true}}
		if o.set.compression > 0 {
			w.gz, _ = gzip.NewWriterLevel(nil, o.set.compression)
		}
	}
	return w
}

func (o *Output) putWrite(w *write) {
	if cap(w.arena) > 4*maxBulkBytes {
		return // an outsized batch: let it go
	}
	o.bufs.Put(w)
}

// Write sends the events in bulk requests of at most 20 MiB and answers
// per event from the bulk responses. Documents the engine did not take
// for a reason that passes (429, 5xx) are sent again alone, after a
// backoff, within this call: until taken, until max_retries is used up
// (then dead-lettered), or until the core cancels ctx (a stop).
func (o *Output) Write(ctx context.Context, events []*sdk.Event) error {
	client, err := o.connect(ctx)
	if err != nil {
		o.logger.Warn("elasticsearch is unreachable; the batch waits and is retried", "hosts", o.hostList(), "error", err)
		return err
	}
	w := o.getWrite()
	defer o.putWrite(w)
	var werr sdk.WriteError
	o.buildBody(w, events, &werr)

	resolved := false // the engine has answered for some document
	backoff := o.set.retryInitial
	for attempt := 0; len(w.pending) > 0; attempt++ {
		w.retry = w.retry[:0]
		statuses := map[int]int{}
		for start := 0; start < len(w.pending); {
			end := o.chunkEnd(w, start)
			chunk := w.pending[start:end]
			var err error
			w.results, err = o.bulk(ctx, client, w, chunk, w.results[:0])
			for k, r := range w.results {
				i := chunk[k]
				it := &w.items[i]
				switch {
				case r.status == http.StatusConflict && it.action == "create" && o.set.mustNotExist:
					// The id was to be new (document_id_must_not_exist).
					resolved = true
					werr.RejectItem(i, o.reason(r))
				case r.status/100 == 2, r.status == http.StatusConflict,
					r.status == http.StatusNotFound && it.action == "delete" && r.errType == "":
					// Written; a conflict is done as in Logstash (the document
					// is there, or a newer version is); a delete of a
					// document that is not there is done too.
					resolved = true
				case permanent(r.status), o.set.dlqCodes[r.status]:
					resolved = true
					werr.RejectItem(i, o.reason(r))
				default:
					it.last = o.reason(r)
					statuses[r.status]++
					w.retry = append(w.retry, i)
				}
			}
			if err != nil {
				if !resolved {
					// Nothing of the batch is in the engine: the core
					// retries it whole, with backoff.
					return err
				}
				// Some documents are in: only the others are retried.
				rest := chunk[len(w.results):]
				rest = append(rest, w.pending[end:]...)
				for _, i := range append(w.retry, rest...) {
					werr.Retry(i, backoff, "elasticsearch: "+err.Error())
				}
				o.logger.Warn("elasticsearch bulk request failed; its documents are retried", "documents", len(rest)+len(w.retry), "error", err)
				return &werr
			}
			start = end
		}
		if len(w.retry) == 0 {
			break
		}
		first := w.items[w.retry[0]].last
		if o.set.maxRetries >= 0 && attempt >= o.set.maxRetries {
			for _, i := range w.retry {
				werr.RejectItem(i, fmt.Sprintf("elasticsearch: gave up after %d retries: %s", o.set.maxRetries, w.items[i].last))
			}
			o.logger.Warn("elasticsearch did not take documents within max_retries; they are dead-lettered",
				"documents", len(w.retry), "max_retries", o.set.maxRetries, "statuses", statusCounts(statuses), "error", first)
			break
		}
		wait := jitter(backoff)
		o.logger.Warn("elasticsearch did not take some documents; retrying them",
			"documents", len(w.retry), "of", len(events), "statuses", statusCounts(statuses), "retry", attempt+1, "in", wait.Round(time.Millisecond), "error", first)
		// Seen in /_node/stats and /metrics while they wait (the core adds
		// up the writes in flight, and clears them with the answer): with
		// max_retries unset, a refusing cluster holds them for ever.
		_ = sdk.ReportWriteGauges(ctx, []sdk.Gauge{
			{Name: "elasticsearch_documents_waiting_retry", Value: float64(len(w.retry))},
			{Name: "elasticsearch_batches_waiting_retry", Value: 1},
		})
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			for _, i := range w.retry {
				werr.Retry(i, 0, w.items[i].last)
			}
			return &werr
		}
		if backoff *= 2; backoff > o.set.retryMax {
			backoff = o.set.retryMax
		}
		w.pending = append(w.pending[:0], w.retry...)
	}
	if len(werr.Items) == 0 {
		return nil
	}
	return &werr
}

// buildBody writes every event's action and document lines into
// w.arena, one after the other: the body of a first bulk request. The
// events to send are listed in w.pending; the others are rejected in werr
// with the reason.
func (o *Output) buildBody(w *write, events []*sdk.Event, werr *sdk.WriteError) {
	w.arena, w.pending = w.arena[:0], w.pending[:0]
	if cap(w.items) < len(events) {
		w.items = make([]item, len(events))
	}
	w.items = w.items[:len(events)]
	for i, e := range events {
		if reason := o.encode(w, i, e); reason != "" {
			werr.RejectItem(i, reason)
			continue
		}
		w.pending = append(w.pending, i)
	}
}

// permanent reports whether the engine will never take a document it
// answered status for: retrying would loop for ever (Logstash dead-letters
// 400 and 404; a 413 is a document over http.max_content_length).
func permanent(status int) bool {
	switch status {
	case http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusRequestEntityTooLarge:
		return true
	}
	return false
}

func (o *Output) reason(r result) string {
	var b strings.Builder
	b.WriteString("elasticsearch: status ")
	b.WriteString(strconv.Itoa(r.status))
	if r.errType != "" {
		b.WriteString(", ")
		b.WriteString(r.errType)
	}
	if r.reason != "" {
		b.WriteString(": ")
		b.WriteString(r.reason)
	}
	return b.String()
}

// statusCounts writes {429: 3, 503: 1} as "429×3 503×1".
func statusCounts(m map[int]int) string {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var b strings.Builder
	for _, k := range keys {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d×%d", k, m[k])
	}
	return b.String()
}

// jitter spreads d over [0.75 d, 1.25 d), so that outputs that failed
// together do not retry together.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d*3/4 + rand.N(d/2+1)
}

// chunkEnd returns where the bulk request starting at w.pending[start]
// ends: at most maxBulk bytes, and at least one document.
func (o *Output) chunkEnd(w *write, start int) int {
	size := 0
	end := start
	for end < len(w.pending) {
		it := &w.items[w.pending[end]]
		n := it.end - it.start
		if end > start && size+n > o.set.maxBulk {
			break
		}
		size += n
		end++
	}
	return end
}

// bulk sends the actions of chunk in one request and appends the engine's
// answer for each to out. An error says the answers after those appended
// are not known (nothing of them may be assumed).
func (o *Output) bulk(ctx context.Context, client *elasticsearch.Client, w *write, chunk []int, out []result) ([]result, error) {
	w.body.Reset()
	body := w.arena[w.items[chunk[0]].start:w.items[chunk[len(chunk)-1]].end]
	switch {
	case w.gz != nil:
		w.gz.Reset(&w.body)
		for _, i := range chunk {
			it := &w.items[i]
			_, _ = w.gz.Write(w.arena[it.start:it.end])
		}
		_ = w.gz.Close()
		body = w.body.Bytes()
	case !contiguous(w.items, chunk):
		// Retries, or documents left out: copied together.
		for _, i := range chunk {
			it := &w.items[i]
			w.body.Write(w.arena[it.start:it.end])
		}
		body = w.body.Bytes()
	}
	select { // a slot of pool_max
	case o.inFlight <- struct{}{}:
	case <-ctx.Done():
		return out, ctx.Err()
	}
	// timeout is the request's own: the wait for a slot is not counted.
	rctx, cancel := context.WithTimeout(ctx, o.set.timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(rctx, http.MethodPost, bulkPath, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-ndjson")
	if w.gz != nil {
		req.Header.Set("Content-Encoding", "gzip")
	}
	res, err := client.Perform(req)
	if err != nil {
		<-o.inFlight
		return out, fmt.Errorf("bulk request of %d documents to %s failed: %w", len(chunk), o.hostList(), err)
	}
	w.resp.Reset()
	_, err = w.resp.ReadFrom(res.Body)
	res.Body.Close()
	<-o.inFlight
	if err != nil {
		return out, fmt.Errorf("bulk request of %d documents: reading the answer: %w", len(chunk), err)
	}
	if res.StatusCode == http.StatusRequestEntityTooLarge {
		if len(chunk) > 1 {
			// Over the engine's http.max_content_length: send it in halves.
			half := len(chunk) / 2
			if out, err = o.bulk(ctx, client, w, chunk[:half], out); err != nil {
				return out, err
			}
			return o.bulk(ctx, client, w, chunk[half:], out)
		}
		return append(out, result{status: http.StatusRequestEntityTooLarge, errType: "request_entity_too_large",
			reason: "the document alone is over the engine's http.max_content_length"}), nil
	}
	if res.StatusCode/100 != 2 {
		return out, fmt.Errorf("bulk request of %d documents: the engine answered %d: %.300s", len(chunk), res.StatusCode, bytes.TrimSpace(w.resp.Bytes()))
	}
	var err2 error
	if w.parsed, err2 = scanBulkResponse(w.resp.Bytes(), w.parsed[:0]); err2 != nil {
		return out, fmt.Errorf("bulk request of %d documents: the answer is not a bulk response: %v: %.300s", len(chunk), err2, w.resp.Bytes())
	}
	if len(w.parsed) != len(chunk) {
		// Which answer is whose cannot be known: nothing is assumed.
		return out, fmt.Errorf("bulk request of %d documents: the engine answered for %d: the answers cannot be matched to the documents", len(chunk), len(w.parsed))
	}
	for _, r := range w.parsed {
		res := result{status: r.Status}
		if r.Status/100 != 2 && len(r.Error) > 0 {
			res.errType, res.reason = errorOf(r.Error)
		}
		out = append(out, res)
	}
	return out, nil
}

// contiguous reports whether the chunk's lines lie one after the other in
// the arena (a first attempt): the request then sends them from there.
func contiguous(items []item, chunk []int) bool {
	for k := 1; k < len(chunk); k++ {
		if items[chunk[k]].start != items[chunk[k-1]].end {
			return false
		}
	}
	return true
}

// encode appends event i's action and document lines to the arena; a
// non-empty reason says why it cannot be sent.
func (o *Output) encode(w *write, i int, e *sdk.Event) string {
	s := o.set
	action := s.staticAction
	if action == "" {
		a, ok := s.action.RenderStrict(e)
		if !ok || !isAction(a) {
			return fmt.Sprintf("action %q gave %q for this event: not one of index, create, update, delete", s.action.String(), a)
		}
		action = a
	}
	var line *dayLine
	var index string
	if s.dataStream {
		index = dataStreamOf(s, e)
		if reason := invalidIndex(index); reason != "" {
			return fmt.Sprintf("data stream %q for this event: %s", index, reason)
		}
	} else if line = w.dayLine(s, action, e); line != nil {
		if line.reason != "" {
			return line.reason
		}
	} else {
		// Rendered into scratch space, not a string per event: the name
		// is only checked and copied into the action line.
		var ok bool
		w.index, ok = s.index.AppendRenderStrict(w.index[:0], e)
		if len(w.index) > 0 {
			index = unsafe.String(&w.index[0], len(w.index)) // read before the next render
		}
		if !ok {
			return fmt.Sprintf("index %q gave %q for this event: a field it names is missing (or the event has no @timestamp)", s.index.String(), index)
		}
		if reason := invalidIndex(index); reason != "" {
			return fmt.Sprintf("index %q gave %q for this event: %s", s.index.String(), index, reason)
		}
	}
	var id string
	if s.documentID != nil {
		var ok bool
		if id, ok = s.documentID.RenderStrict(e); !ok {
			return fmt.Sprintf("document_id %q gave %q for this event: a field it names is missing", s.documentID.String(), id)
		}
	}
	if s.idFromSource {
		if w.id = appendSourceID(w.id[:0], e); len(w.id) > 0 {
			id = unsafe.String(&w.id[0], len(w.id)) // copied into the line below
		} else if !o.noSourceWarned.Swap(true) {
			o.logger.Warn("document_id_from_source: an event's input says no place it came from (stdin and generator do not); such events get the engine's id, and a retransmit of one adds a copy")
		}
	}
	if id == "" && (action == "update" || action == "delete") {
		return fmt.Sprintf("action %q needs a document id, and document_id gave none for this event", action)
	}
	start := len(w.arena)
	var a []byte
	if line != nil {
		a = append(w.arena, line.text...)
	} else {
		a = appendActionStart(w.arena, action, index)
	}
	if id != "" {
		a = append(a, `,"_id":`...)
		a = sdk.AppendJSONString(a, id)
	}
	if s.routing != nil {
		if r := s.routing.Render(e); r != "" {
			a = append(a, `,"routing":`...)
			a = sdk.AppendJSONString(a, r)
		}
	}
	if s.pipeline != nil && action != "delete" && action != "update" {
		if p := s.pipeline.Render(e); p != "" {
			a = append(a, `,"pipeline":`...)
			a = sdk.AppendJSONString(a, p)
		}
	}
	if action == "update" && s.retryConflict > 0 {
		a = append(a, `,"retry_on_conflict":`...)
		a = strconv.AppendInt(a, int64(s.retryConflict), 10)
	}
	a = append(a, "}}\n"...)
	switch action {
	case "delete":
	case "update":
		a = append(a, `{"doc":`...)
		a = w.enc.AppendEvent(a, e)
		if s.docAsUpsert {
			a = append(a, `,"doc_as_upsert":true`...)
		}
		a = append(a, "}\n"...)
	default:
		a = w.enc.AppendEvent(a, e)
		a = append(a, '\n')
	}
	w.arena = a
	w.items[i] = item{start: start, end: len(a), action: action}
	return ""
}

// dataStreamOf is the data stream event e goes to, TYPE-DATASET-NAMESPACE:
// the event's own [data_stream] fields with data_stream_auto_routing, the
// settings for those it lacks; with data_stream_sync_fields the event's
// fields are set to what was chosen.
func dataStreamOf(s *settings, e *sdk.Event) string {
	typ, dataset, ns := s.dsType, s.dsDataset, s.dsNamespace
	if s.dsRouting {
		if v, ok := e.GetString("[data_stream][type]"); ok && v != "" {
			typ = v
		}
		if v, ok := e.GetString("[data_stream][dataset]"); ok && v != "" {
			dataset = v
		}
		if v, ok := e.GetString("[data_stream][namespace]"); ok && v != "" {
			ns = v
		}
	}
	if s.dsSync {
		_ = e.Set("[data_stream][type]", typ)
		_ = e.Set("[data_stream][dataset]", dataset)
		_ = e.Set("[data_stream][namespace]", ns)
	}
	return typ + "-" + dataset + "-" + ns
}
