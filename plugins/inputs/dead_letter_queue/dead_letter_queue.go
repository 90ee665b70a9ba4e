// Package dead_letter_queue is the dead_letter_queue input: it reads the
// events a pipeline's outputs rejected back from its dead letter queue, as
// Logstash's input of that name does, so they can be fixed and sent again.
package dead_letter_queue

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/codecs"
	"github.com/gostash/gostash/sdk/deadletter"
)

var spec = sdk.NewSpec("Reads the events a pipeline's outputs rejected back from its dead letter queue, with why under [@metadata][dead_letter_queue].").
	Field(sdk.String("path").Required().
		Doc("The dead letter queue directory: `<path.data>/dead_letter_queue` of the gostash that wrote it.").
		Example("/var/lib/gostash/dead_letter_queue")).
	Field(sdk.String("pipeline_id").Default(sdk.DefaultPipelineID).
		Doc("The pipeline whose dead letters to read: the subdirectory of `path`.")).
	Field(sdk.Bool("commit_offsets").Default(true).
		Doc("Save how far the input has read once every output has the events, so a restart (or the next replay) does not read an entry twice. Set it to false to look at the entries again and again.")).
	Field(sdk.Bool("clean_consumed").Default(false).
		Doc("Remove a dead letter file once every entry in it is read and delivered (and nothing was added since). Needs `commit_offsets`.")).
	Field(sdk.String("sincedb_path").
		Doc("The file of saved positions; by default `sincedb` in the instance's directory under `--path.data`.")).
	Field(sdk.String("start_timestamp").
		Doc("Read only entries dead-lettered at this time or later (ISO 8601, such as `2017-04-04T23:40:37`).")).
	Field(sdk.String("mode").Default("tail").OneOf("tail", "read").
		Doc("`tail` waits for new entries, as Logstash's input does; `read` reads the entries there are when it starts and then ends, so the pipeline stops once every output has them (what `gostash dlq replay` uses)."))

func init() {
	sdk.RegisterInput("dead_letter_queue", spec, New).WithValidate(validate)
}

func validate(c *sdk.Config) sdk.Diagnostics {
	var ds sdk.Diagnostics
	if c.Bool("clean_consumed") && !c.Bool("commit_offsets") {
		ds.Errorf([]string{"clean_consumed"}, "clean_consumed needs commit_offsets = true: without saved positions the input cannot know what was delivered")
	}
	if c.Bool("clean_consumed") && !deadletter.CanClean {
		ds.Errorf([]string{"clean_consumed"}, "clean_consumed needs flock(2), which this system lacks")
	}
	if s := c.String("start_timestamp"); s != "" {
		if _, err := parseTime(s); err != nil {
			ds.Errorf([]string{"start_timestamp"}, "start_timestamp %q is not an ISO 8601 time such as 2017-04-04T23:40:37", s)
		}
	}
	return ds
}

// Input is the dead_letter_queue input.
type Input struct {
	dir     string
	commit  bool
	clean   bool // clean_consumed
	sincedb string
	start   time.Time
	read    bool // mode read: end at the end
	batch   int
	log     sdk.Logger

	mu      sync.Mutex
	pos     map[string]int64 // committed offset of each file (by name)
	readTo  map[string]int64 // published offset of each file: pos or beyond
	pending []*pend          // published batches, oldest first
	settled chan struct{}    // signalled on each ack
}

// pend is a published batch: where its file is read to once it is acked.
type pend struct {
	file  string
	next  int64
	acked bool
}

// New builds the input from its settings.
func New(_ context.Context, c *sdk.Config, env sdk.Env) (sdk.Input, error) {
	in := &Input{
		dir:     filepath.Join(c.String("path"), c.String("pipeline_id")),
		commit:  c.Bool("commit_offsets"),
		clean:   c.Bool("clean_consumed"),
		sincedb: c.String("sincedb_path"),
		read:    c.String("mode") == "read",
		batch:   max(env.BatchSize, 1),
		log:     env.Logger,
		pos:     map[string]int64{},
		settled: make(chan struct{}, 1),
	}
	if s := c.String("start_timestamp"); s != "" {
		in.start, _ = parseTime(s)
	}
	if in.sincedb == "" && env.DataDir != "" {
		in.sincedb = filepath.Join(env.DataDir, "sincedb")
	}
	if in.commit && in.sincedb != "" {
		pos, err := ReadSincedb(in.sincedb)
		if err != nil {
			return nil, err
		}
		in.pos = pos
	}
	in.readTo = maps.Clone(in.pos)
	return in, nil
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("not an ISO 8601 time")
}

// ReadSincedb reads the saved positions: file name to the offset read to.
// A missing file means nothing was read yet.
func ReadSincedb(path string) (map[string]int64, error) {
	pos := map[string]int64{}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return pos, nil
	}
	if err == nil {
		err = json.Unmarshal(data, &pos)
	}
	if err != nil {
		return nil, errors.New("cannot read the dead letter positions in " + path + ": " + err.Error() + " (remove the file to read every entry again)")
	}
	return pos, nil
}

// Run reads every file of the pipeline's dead letter queue from its saved
// position; in tail mode it then looks for new entries every second.
func (in *Input) Run(ctx context.Context, p sdk.Publisher) error {
	// ends caps each file at its size when the read started (mode read):
	// entries dead-lettered again during a replay wait for the next one.
	var ends map[string]int64
	if in.read {
		ends = in.sizes()
	}
	for {
		files, err := deadletter.Files(in.dir)
		if err != nil {
			return err
		}
		for _, f := range files {
			if err := in.readFile(ctx, p, f, ends); err != nil {
				return err
			}
		}
		if in.read {
			err := in.waitAcks(ctx)
			in.cleanConsumed()
			return err
		}
		in.cleanConsumed()
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

func (in *Input) sizes() map[string]int64 {
	ends := map[string]int64{}
	files, _ := deadletter.Files(in.dir)
	for _, f := range files {
		if span, err := deadletter.SpanOf(f); err == nil {
			ends[filepath.Base(f)] = span.End
		}
	}
	return ends
}

// readFile publishes the entries of file after its read position.
func (in *Input) readFile(ctx context.Context, p sdk.Publisher, file string, ends map[string]int64) error {
	name := filepath.Base(file)
	in.mu.Lock()
	from := in.readTo[name]
	in.mu.Unlock()
	span, err := deadletter.SpanOf(file)
	if err != nil {
		return nil // gone since it was listed (or cut short: next round)
	}
	switch {
	case span.End < from:
		// Removed and written anew: read it whole; some entries may come
		// again.
		in.log.Warn("dead letter file is shorter than the saved position: reading it from the start", "file", file, "position", from)
		from = 0
	case from < span.Dropped:
		// Positions are logical: a drop_older rewrite keeps them right,
		// but it dropped entries this input had not read yet.
		in.log.Warn("the dead letter queue was full (storage_policy drop_older): entries were dropped before this input read them", "file", file, "bytes_dropped_unread", span.Dropped-from)
		from = span.Dropped
	}
	end, capped := ends[name]
	if ends != nil && !capped {
		return nil // appeared after the replay started
	}
	var (
		batch   []*sdk.Event
		pubErr  error
		scanned = from
	)
	flush := func(next int64) {
		if len(batch) == 0 || pubErr != nil {
			return
		}
		pubErr = in.publish(ctx, p, name, batch, next)
		batch = nil
	}
	_, err = deadletter.Scan(file, from, func(l deadletter.Line) bool {
		if ends != nil && l.Next > end {
			return false
		}
		scanned = l.Next
		if l.Err != nil {
			in.log.Warn("skipping a dead letter line that is no entry (a torn write?); it stays in the file", "file", file, "offset", l.Offset, "error", l.Err)
			return true
		}
		e, ok := in.restore(l.Entry, file, l.Offset)
		if ok {
			batch = append(batch, e)
		}
		if len(batch) >= in.batch {
			flush(l.Next)
		}
		return pubErr == nil
	})
	flush(scanned)
	if pubErr != nil {
		if ctx.Err() != nil {
			return nil
		}
		return pubErr
	}
	if err != nil {
		return err
	}
	// Lines skipped after the last published batch (too early, torn) are
	// read: commit them once what came before is acked.
	in.mu.Lock()
	in.readTo[name] = scanned
	skipped := len(in.pending) == 0 || in.pending[len(in.pending)-1].next != scanned || in.pending[len(in.pending)-1].file != name
	if scanned != from && skipped {
		in.pending = append(in.pending, &pend{file: name, next: scanned, acked: true})
	}
	in.mu.Unlock()
	in.advance()
	return nil
}

// restore turns an entry back into its event, with why it was
// dead-lettered under [@metadata][dead_letter_queue].
func (in *Input) restore(en deadletter.Entry, file string, offset int64) (*sdk.Event, bool) {
	if !in.start.IsZero() {
		if t, err := parseTime(en.Time); err == nil && t.Before(in.start) {
			return nil, false
		}
	}
	evs, err := codecs.JSONEvents(en.Event, time.Now().UnixNano(), nil, nil)
	if err != nil || len(evs) != 1 {
		in.log.Warn("skipping a dead letter entry whose event is no JSON object; it stays in the file", "file", file, "offset", offset)
		return nil, false
	}
	e := evs[0]
	pluginType := en.PluginType
	if pluginType == "" {
		pluginType = "output"
	}
	e.Metadata()[deadletter.MetadataKey] = map[string]any{
		"plugin_type": pluginType, "plugin_id": en.Output, "reason": en.Reason,
		"entry_time": en.Time, "attempts": int64(max(en.Attempts, 1)), "pipeline_id": en.Pipeline,
	}
	return e, true
}

func (in *Input) publish(ctx context.Context, p sdk.Publisher, name string, batch []*sdk.Event, next int64) error {
	pd := &pend{file: name, next: next}
	in.mu.Lock()
	in.pending = append(in.pending, pd)
	in.mu.Unlock()
	return p.Publish(ctx, batch, func() {
		in.mu.Lock()
		pd.acked = true
		in.mu.Unlock()
		in.advance()
	})
}

// advance commits the positions of the acked batches that have no unacked
// batch before them: a crash then reads again only what no output has.
func (in *Input) advance() {
	in.mu.Lock()
	moved := false
	for len(in.pending) > 0 && in.pending[0].acked {
		in.pos[in.pending[0].file] = in.pending[0].next
		in.pending = in.pending[1:]
		moved = true
	}
	// Written under the lock: saves never overtake one another.
	if moved && in.commit && in.sincedb != "" {
		snapshot, _ := json.Marshal(in.pos)
		if err := writeFileAtomic(in.sincedb, snapshot); err != nil {
			in.log.Error("cannot save the dead letter positions; on restart these entries are read again", "sincedb_path", in.sincedb, "error", err)
		}
	}
	in.mu.Unlock()
	select {
	case in.settled <- struct{}{}:
	default:
	}
}

// cleanConsumed removes the files read and delivered to their end
// (clean_consumed), and forgets their positions.
func (in *Input) cleanConsumed() {
	if !in.clean {
		return
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	removed := false
	for name, pos := range in.pos {
		if pos == 0 || in.readTo[name] != pos {
			continue // not read yet, or batches of it in flight
		}
		file := filepath.Join(in.dir, name)
		ok, err := deadletter.RemoveConsumed(file, pos)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			in.log.Warn("cannot remove a consumed dead letter file", "file", file, "error", err)
			continue
		}
		if ok || errors.Is(err, os.ErrNotExist) {
			delete(in.pos, name)
			delete(in.readTo, name)
			removed = true
			if ok {
				in.log.Info("removed a consumed dead letter file (clean_consumed)", "file", file)
			}
		}
	}
	if removed && in.sincedb != "" {
		snapshot, _ := json.Marshal(in.pos)
		if err := writeFileAtomic(in.sincedb, snapshot); err != nil {
			in.log.Error("cannot save the dead letter positions", "sincedb_path", in.sincedb, "error", err)
		}
	}
}

// waitAcks returns once every published batch is acked (mode read).
func (in *Input) waitAcks(ctx context.Context) error {
	for {
		in.mu.Lock()
		n := len(in.pending)
		in.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-in.settled:
		}
	}
}

func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
