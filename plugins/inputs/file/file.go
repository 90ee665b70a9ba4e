// Package file is the file input: it tails files as they grow (or reads
// them whole), as Logstash's file input does, and remembers in a sincedb
// how far each file has been delivered, so a restart neither loses nor
// repeats lines.
package file

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/codecs"
)

var spec = codecs.InputFields(sdk.NewSpec("Reads lines from files: tails them as they grow, or reads them whole.").
	Field(sdk.StringList("path").Required().
		Doc("Files to read, as absolute paths or globs: `*`, `?`, `[...]`, `{a,b}` and `**` (any number of directories), such as \"/var/log/**/*.log\". Files that appear later are picked up; a directory that does not exist yet is not an error.")).
	Field(sdk.StringList("exclude").
		Doc("Globs matched against file names (not paths) to leave out, such as \"*.gz\".")).
	Field(sdk.String("mode").Default("tail").OneOf("tail", "read").
		Doc("`tail` follows files as they grow and rotate; `read` reads each file to its end, then applies `file_completed_action`.")).
	Field(sdk.String("start_position").Default("end").OneOf("beginning", "end").
		Doc("Where to start in a file never seen before, among those found when the input starts (tail mode). Files that appear later are read from the beginning, so the first lines of a rotated log are not lost.")).
	Field(sdk.Duration("discover_interval").Default("15s").
		Doc("How often the globs are expanded again to find new files.")).
	Field(sdk.Duration("stat_interval").Default("1s").
		Doc("How often open files are checked for new lines, truncation and deletion.")).
	Field(sdk.Duration("close_older").Default("1h").
		Doc("A file that has not grown for this long is closed (its position kept); it is opened again when it grows. \"0s\" never closes.")).
	Field(sdk.Duration("ignore_older").Default("0s").
		Doc("Files last changed longer ago than this are not read when found (only lines added later are). \"0s\" reads every file.")).
	Field(sdk.Int("max_open_files").Default(4095).
		Doc("Files open at once at most; others wait until one closes (see `close_older`).")).
	Field(sdk.String("file_completed_action").Default("delete").OneOf("delete", "log", "log_and_delete").
		Doc("Read mode: what to do with a file once every line of it has been delivered.")).
	Field(sdk.String("file_completed_log_path").
		Doc("Read mode: the file that `log` and `log_and_delete` append completed files' paths to.")).
	Field(sdk.Bool("exit_after_read").Default(false).
		Doc("Read mode: end the input once every file found is read and delivered.")).
	Field(sdk.String("sincedb_path").
		Doc("Where positions are kept; by default `sincedb` in this block's directory under --path.data (plugins/inputs/file/NAME). \"/dev/null\" keeps none.")).
	Field(sdk.Duration("sincedb_clean_after").Default("336h").
		Doc("A position not updated for this long, of a file no longer found, is forgotten.")).
	Field(sdk.Duration("sincedb_write_interval").Default("0s").
		Doc("How often positions are written. \"0s\" writes them as soon as outputs acknowledge lines, so a crash repeats only what was in flight; a longer interval writes less and repeats more.")).
	Field(sdk.String("ecs_compatibility").Default("v8").OneOf("disabled", "v1", "v8").
		Doc("Where the path and host go: `[log][file][path]` and `[host][name]` (v1, v8) or `path` and `host` (disabled).")),
	codecs.CodecLine, codecs.CodecJSONLines, codecs.CodecJSON, codecs.CodecMultiline)

func init() {
	sdk.RegisterInput("file", spec, New).WithValidate(validate)
}

// settings are the input's parsed settings.
type settings struct {
	paths, exclude  []string
	read            bool
	startEnd        bool
	discover, stat  time.Duration
	closeOlder      time.Duration
	ignoreOlder     time.Duration
	maxOpen         int
	completedAction string
	completedLog    string
	exitAfterRead   bool
	sincedbPath     string
	cleanAfter      time.Duration
	writeInterval   time.Duration
	ecs             bool
	shareNested     bool // events may share the [log] and [host] maps
	codec           *codecs.Settings
	orphanIdle      time.Duration
}

func parse(c *sdk.Config) (*settings, sdk.Diagnostics) {
	s := &settings{
		paths:           c.StringList("path"),
		exclude:         c.StringList("exclude"),
		read:            c.String("mode") == "read",
		startEnd:        c.String("start_position") != "beginning",
		discover:        c.Duration("discover_interval"),
		stat:            c.Duration("stat_interval"),
		closeOlder:      c.Duration("close_older"),
		ignoreOlder:     c.Duration("ignore_older"),
		maxOpen:         c.Int("max_open_files"),
		completedAction: c.String("file_completed_action"),
		completedLog:    c.String("file_completed_log_path"),
		exitAfterRead:   c.Bool("exit_after_read"),
		sincedbPath:     c.String("sincedb_path"),
		cleanAfter:      c.Duration("sincedb_clean_after"),
		writeInterval:   c.Duration("sincedb_write_interval"),
		ecs:             c.String("ecs_compatibility") != "disabled",
		shareNested:     len(c.StringMap("add_field")) == 0,
	}
	var ds sdk.Diagnostics
	if len(s.paths) == 0 {
		ds.Errorf([]string{"path"}, "path is empty: give at least one file or glob, such as \"/var/log/*.log\"")
	}
	for i, p := range s.paths {
		if !filepath.IsAbs(p) {
			abs, _ := filepath.Abs(p)
			ds.Errorf([]string{"path", fmt.Sprint(i)}, "path %q is relative: file paths must be absolute (such as %q), as the working directory of a service is not one you choose", p, abs)
		}
	}
	for i, p := range s.exclude {
		if _, err := filepath.Match(p, ""); err != nil {
			ds.Errorf([]string{"exclude", fmt.Sprint(i)}, "exclude %q is not a valid glob: %v", p, err)
		}
	}
	positive := func(name string, d time.Duration, zeroOK bool) {
		if d < 0 || (d == 0 && !zeroOK) {
			ds.Errorf([]string{name}, "%s must be more than 0, not %s", name, d)
		}
	}
	positive("discover_interval", s.discover, false)
	positive("stat_interval", s.stat, false)
	positive("close_older", s.closeOlder, true)
	positive("ignore_older", s.ignoreOlder, true)
	positive("sincedb_clean_after", s.cleanAfter, true)
	positive("sincedb_write_interval", s.writeInterval, true)
	if s.maxOpen < 1 {
		ds.Errorf([]string{"max_open_files"}, "max_open_files must be at least 1, not %d", s.maxOpen)
	}
	if s.read && strings.HasPrefix(s.completedAction, "log") && s.completedLog == "" {
		ds.Errorf([]string{"file_completed_action"}, "file_completed_action = %q needs file_completed_log_path: the file to append completed paths to", s.completedAction)
	}
	if !s.read && c.Has("exit_after_read") && s.exitAfterRead {
		ds = append(ds, sdk.Diagnostic{Warning: true, Path: []string{"exit_after_read"}, Summary: "exit_after_read applies to read mode only", Detail: `set mode = "read" to read files once and end`})
	}
	set, cds := codecs.ParseSettings(c)
	ds = append(ds, cds...)
	s.codec = set
	s.orphanIdle = max(5*s.stat, 100*time.Millisecond)
	return s, ds
}

func validate(c *sdk.Config) sdk.Diagnostics {
	_, ds := parse(c)
	return ds
}

// Input is the file input.
type Input struct {
	coords bool // attach source coordinates (a decorate_events filter asks)
	set    *settings
	logger sdk.Logger
	batch  int
	host   string
	dbPath string // "" keeps no positions

	mu         sync.Mutex // guards db, the commit state of files, and the fields below
	written    *sync.Cond // signalled when the sincedb is written
	db         map[fileID]*entry
	started    bool   // Run has started the sincedb writer
	dbGen      uint64 // changes to db so far
	dbWritten  uint64 // changes the sincedb file holds
	run        uint64 // the current Run; acks of an earlier one are ignored
	closing    bool
	seenBefore bool // a discovery has run: later files are not first contact
	cutLines   int64

	dirty      chan struct{} // wakes the sincedb writer
	acked      chan struct{} // wakes Run when a read-mode file may be complete
	writerOnce sync.Once
	stopWriter chan struct{}
	writerDone chan struct{}
}

// New builds a file input from its settings and reads its sincedb; the
// files themselves are opened in Run.
func New(_ context.Context, c *sdk.Config, env sdk.Env) (sdk.Input, error) {
	set, ds := parse(c)
	if err := ds.Err(); err != nil {
		return nil, err
	}
	in := &Input{
		set:        set,
		logger:     env.Logger,
		batch:      env.BatchSize,
		coords:     env.SourceCoordinates,
		dirty:      make(chan struct{}, 1),
		acked:      make(chan struct{}, 1),
		stopWriter: make(chan struct{}),
		writerDone: make(chan struct{}),
	}
	in.written = sync.NewCond(&in.mu)
	in.host, _ = os.Hostname()
	switch {
	case set.sincedbPath == os.DevNull:
	case set.sincedbPath != "":
		in.dbPath = set.sincedbPath
	case env.DataDir != "":
		// The core gives each instance its own directory under
		// --path.data (plugins/inputs/file/<name>).
		in.dbPath = filepath.Join(env.DataDir, "sincedb")
	default:
		return nil, fmt.Errorf("no data directory to keep file positions in: set sincedb_path (or --path.data)")
	}
	// The sincedb is read here, not in Run: one that cannot be read fails
	// the pipeline's start with this message, where an error from Run
	// would only restart the input into the same error, for ever.
	in.db = map[fileID]*entry{}
	if in.dbPath != "" {
		db, err := readSincedb(in.dbPath)
		if err != nil {
			return nil, fmt.Errorf("cannot read the sincedb: %w", err)
		}
		in.db = db
	}
	return in, nil
}

// Run reads until ctx is cancelled or, in read mode with exit_after_read,
// every file is read and delivered.
func (in *Input) Run(ctx context.Context, p sdk.Publisher) error {
	runID, err := in.start()
	if err != nil {
		return err
	}
	r := newRunner(in, p, runID)
	defer r.closeAll()
	// Batches are handed over with a context that outlives a stop, so what
	// was read before it is delivered (the core keeps taking batches while
	// it drains); positions still move only over acknowledged batches.
	pubCtx, cancelPub := codecs.StopContext(ctx, codecs.StopGrace)
	defer cancelPub()
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	published := make(chan error, 1)
	go func() { published <- r.publisher(pubCtx, stopReading) }()
	gaugesCtx, stopGauges := context.WithCancel(ctx)
	gaugesDone := make(chan struct{})
	go func() { defer close(gaugesDone); in.reportGauges(gaugesCtx, p) }()
	defer func() { stopGauges(); <-gaugesDone }()
	err = r.loop(readCtx)
	if ctx.Err() != nil {
		r.stop(pubCtx)
	}
	close(r.out)
	if perr := <-published; perr != nil {
		return perr
	}
	return err
}

// start starts the sincedb's writer (once).
func (in *Input) start() (uint64, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.run++
	in.started = true
	if in.dbPath != "" {
		in.writerOnce.Do(func() { go in.writer() })
	} else {
		in.writerOnce.Do(func() { close(in.writerDone) })
	}
	return in.run, nil
}

// changed notes a change to db (in.mu held) and wakes the writer.
func (in *Input) changed() uint64 {
	in.dbGen++
	select {
	case in.dirty <- struct{}{}:
	default:
	}
	return in.dbGen
}

// writer writes the sincedb whenever it changed: atomically, coalescing
// changes that come while a write is under way.
func (in *Input) writer() {
	defer close(in.writerDone)
	var buf []byte
	last := time.Time{}
	errLogged := false
	for {
		stop := false
		select {
		case <-in.dirty:
		case <-in.stopWriter:
			stop = true
		}
		if !stop && in.set.writeInterval > 0 {
			if wait := time.Until(last.Add(in.set.writeInterval)); wait > 0 {
				select {
				case <-time.After(wait):
				case <-in.stopWriter:
					stop = true
				}
			}
		}
		in.mu.Lock()
		gen := in.dbGen
		need := gen != in.dbWritten
		if need {
			buf = appendSincedb(buf[:0], in.db)
		}
		in.mu.Unlock()
		if need {
			last = time.Now()
			if err := writeSincedb(in.dbPath, buf); err != nil {
				// Not fatal: positions stay in memory and the next write
				// may succeed; a crash until then repeats more lines.
				if !errLogged {
					in.logger.Error("cannot write the sincedb; positions are kept in memory and written again on the next change", "path", in.dbPath, "error", err)
					errLogged = true
				}
			} else if errLogged {
				in.logger.Info("sincedb written again", "path", in.dbPath)
				errLogged = false
			}
			in.mu.Lock()
			in.dbWritten = gen
			in.written.Broadcast()
			in.mu.Unlock()
		}
		if stop {
			return
		}
	}
}

// Close writes the final positions: those of batches acked after Run
// returned included.
func (in *Input) Close(context.Context) error {
	in.mu.Lock()
	if in.closing {
		in.mu.Unlock()
		return nil
	}
	in.closing = true
	in.written.Broadcast()
	cut := in.cutLines
	started := in.started
	in.mu.Unlock()
	if started {
		close(in.stopWriter)
		<-in.writerDone
	}
	if cut > 0 {
		in.logger.Warn("lines longer than max_line_bytes were cut", "lines", cut, "max_line_bytes", in.set.codec.MaxLineBytes)
	}
	return nil
}

// mark ties a published batch to the position it brings one file to.
type mark struct {
	w   *watched
	gen uint64
	seq uint64
}

// writeSincedb writes the sincedb file; tests slow it down.
var writeSincedb = writeAtomic

// maxUnwritten is how many sincedb changes may wait for the writer
// before an ack waits too. Writing the sincedb (temporary file, rename)
// takes about 0.7 ms on ext4, which flushes a file renamed over another:
// waiting for every write would bound the pipeline at one batch per
// write. A few changes' slack keeps the writes off the pipeline's path,
// and still bounds what a crash repeats.
const maxUnwritten = 4

// ack commits a delivered batch: for each of its files, the position
// advances over every batch delivered in a row from the last committed
// one (acks can come out of order). With sincedb_write_interval 0, it
// waits while more than maxUnwritten changes are not on disk, so what a
// crash can repeat is bounded by the batches in flight (the core's
// credits) plus maxUnwritten + 1.
func (in *Input) ack(run uint64, marks []mark) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if run != in.run {
		return
	}
	now := time.Now().UnixNano()
	moved, draining := false, false
	for _, m := range marks {
		w := m.w
		if m.gen != w.gen || len(w.pending) == 0 {
			continue // the file was truncated since: these lines are gone
		}
		i := int(m.seq - w.pending[0].seq)
		if i < 0 || i >= len(w.pending) {
			continue
		}
		w.pending[i].done = true
		n := 0
		for n < len(w.pending) && w.pending[n].done {
			w.committed = w.pending[n].end
			n++
		}
		if n > 0 {
			w.pending = append(w.pending[:0], w.pending[n:]...)
			w.e.pos, w.e.lastActive = w.committed, now
			moved = true
		}
		draining = draining || w.draining
	}
	if draining {
		select {
		case in.acked <- struct{}{}:
		default:
		}
	}
	if !moved || in.dbPath == "" {
		return
	}
	gen := in.changed()
	if in.set.writeInterval == 0 {
		for gen-in.dbWritten > maxUnwritten && !in.closing {
			in.written.Wait()
		}
	}
}
