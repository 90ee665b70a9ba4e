package file

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/codecs"
)

// open is how files are opened; tests make it fail.
var open = os.Open

// watched is a file the input knows about in this run.
type watched struct {
	id      fileID
	path    string
	pathVal any            // path, boxed once for all its events
	logVal  map[string]any // {"file": {"path": path}}, shared by its events when safe
	f       *os.File       // nil while closed
	sp      *codecs.Splitter
	dec     *codecs.Decoder

	initialized bool  // its start position is decided
	initial     bool  // found by the first discovery: start_position applies
	lastSize    int64 // size at the last look before it was initialized
	defers      int
	size        int64 // at the last look
	mtime       int64
	lastRead    int64 // ns: when bytes last came, or when it was opened
	want        bool  // open it at the next look
	ready       bool  // may have bytes to read
	matched     bool  // found by the last discovery
	seen        uint64
	links       uint64
	openErr     string // the last open failure, logged once
	cutLogged   bool

	// read mode
	draining  bool  // read to its end; waiting for the last acks
	endPos    int64 // where it ended
	completed bool
	wasDone   bool // already fully delivered when first opened this run

	// the current batch
	inBatch  bool
	batchEnd int64

	// commit state, guarded by Input.mu
	gen       uint64
	seq       uint64
	pending   []pend
	committed int64
	e         *entry
}

// pend is a published batch's position in one file, until it is acked.
type pend struct {
	seq  uint64
	end  int64
	done bool
}

type runner struct {
	in     *Input
	set    *settings
	p      sdk.Publisher
	run    uint64
	files  map[fileID]*watched
	order  []*watched
	open   int
	round  uint64
	now    int64
	vals   sdk.Values
	recs   []codecs.Record
	batch  []*sdk.Event
	marked []*watched

	hostVal     any
	hostMap     map[string]any
	openLimited bool
	ghosts      []ghost
	out         chan sealed // to the publisher goroutine
	// free brings published batches back from the publisher goroutine:
	// Publish encoded their events, so a decoder fills them again
	// instead of making an event and maps per line, and writes its lines
	// again where theirs were (room enough that few are let go: an arena
	// is only written again once all its events are back).
	free   chan []*sdk.Event
	unsent *sealed // sealed when a stop interrupted its hand-over
}

// ghost is the content a truncated file had: a copy of it that shows up
// (copytruncate rotation) is read from where the original was left.
type ghost struct {
	fpLen int
	fpSum uint64
	pos   int64
	at    int64
}

// minCopyPrefix is how many first bytes two files must share before one
// is taken for a copy of the other.
const minCopyPrefix = 64

// ghostTTL is how long a truncated file's content is looked for in new
// files.
const ghostTTL = int64(10 * time.Minute)

func newRunner(in *Input, p sdk.Publisher, run uint64) *runner {
	r := &runner{in: in, set: in.set, p: p, run: run, files: map[fileID]*watched{}, out: make(chan sealed, 1), free: make(chan []*sdk.Event, 8)}
	r.hostVal = in.host
	r.hostMap = map[string]any{"name": r.hostVal}
	r.batch = make([]*sdk.Event, 0, in.batch)
	return r
}

var errStopped = errors.New("stopped")

func (r *runner) loop(ctx context.Context) error {
	var nextDiscover, nextStat time.Time
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if ctx.Err() != nil {
			return nil
		}
		now := time.Now()
		r.now = now.UnixNano()
		if !now.Before(nextDiscover) {
			r.discover()
			nextDiscover = now.Add(r.set.discover)
		}
		if !now.Before(nextStat) {
			if err := r.check(ctx); err != nil {
				return nil
			}
			nextStat = now.Add(r.set.stat)
		}
		progress, err := r.readRound(ctx)
		if err == nil {
			err = r.flushDue(ctx)
		}
		if err != nil {
			return nil // stopping
		}
		if progress {
			continue
		}
		if err := r.publish(ctx); err != nil {
			return nil
		}
		if r.set.read {
			r.complete()
			if r.set.exitAfterRead && r.allDone() {
				return nil
			}
		}
		wake := nextStat
		if nextDiscover.Before(wake) {
			wake = nextDiscover
		}
		if due, ok := r.nextDue(); ok && due.Before(wake) {
			wake = due
		}
		timer.Reset(max(time.Until(wake), time.Millisecond))
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-r.in.acked:
		}
	}
}

// discover expands the globs: new files are added, renamed ones followed,
// and files no longer found are marked so they are closed once read.
func (r *runner) discover() {
	r.round++
	first := !r.in.seenBefore
	r.in.seenBefore = true
	for _, pattern := range r.set.paths {
		for _, path := range glob(pattern) {
			if r.excluded(path) {
				continue
			}
			fi, err := os.Stat(path)
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			id, links, _ := identify(fi)
			w := r.files[id]
			if w != nil && w.seen == r.round {
				continue // another path to the same file (a link)
			}
			if w == nil {
				w = r.addFile(id, path, fi, first)
			} else if w.path != path {
				r.in.logger.Debug("file renamed", "from", w.path, "to", path)
				r.setPath(w, path)
			}
			w.seen, w.matched, w.links = r.round, true, links
			size, mtime := fi.Size(), fi.ModTime().UnixNano()
			if w.f == nil && !w.want {
				grew := size > w.sp.ReadOffset() || size < w.sp.ReadOffset() || mtime != w.mtime
				if w.completed && size > w.endPos {
					w.completed, w.draining = false, false // read mode: more was appended
					grew = true
				}
				w.want = grew && !w.completed
			}
			if w.f == nil {
				w.size, w.mtime = size, mtime
			}
		}
	}
	for _, w := range r.order {
		if w.seen != r.round {
			w.matched = false
		}
	}
	r.clean()
}

func (r *runner) excluded(path string) bool {
	base := filepath.Base(path)
	for _, ex := range r.set.exclude {
		if ok, _ := filepath.Match(ex, base); ok {
			return true
		}
	}
	return false
}

// addFile starts watching a file found by discovery.
func (r *runner) addFile(id fileID, path string, fi os.FileInfo, first bool) *watched {
	w := &watched{id: id, initial: first, sp: r.set.codec.NewSplitter(), dec: r.set.codec.NewDecoder(), want: true}
	r.setPath(w, path)
	w.mtime = fi.ModTime().UnixNano()
	w.size, w.lastSize = fi.Size(), fi.Size()
	r.files[id] = w
	r.order = append(r.order, w)
	// A file last changed long ago is not read, unless it was read before.
	if r.set.ignoreOlder > 0 && time.Duration(r.now-w.mtime) > r.set.ignoreOlder {
		r.in.mu.Lock()
		_, known := r.in.db[id]
		r.in.mu.Unlock()
		if !known {
			r.startAt(w, fi.Size(), 0, 0)
			w.want = false
		}
	}
	return w
}

func (r *runner) setPath(w *watched, path string) {
	w.path = path
	w.pathVal = r.vals.String(path)
	w.logVal = map[string]any{"file": map[string]any{"path": w.pathVal}}
	r.in.mu.Lock()
	if w.e != nil {
		w.e.path = path
	}
	r.in.mu.Unlock()
}

// startAt decides where reading a file starts and records it in the
// sincedb at once, so a file found with start_position "end" is not read
// from its beginning after a crash.
func (r *runner) startAt(w *watched, pos int64, fpLen int, fpSum uint64) {
	in := r.in
	in.mu.Lock()
	e := in.db[w.id]
	if e == nil {
		e = &entry{}
		in.db[w.id] = e
	}
	e.pos, e.path, e.lastActive, e.fpLen, e.fpSum = pos, w.path, r.now, fpLen, fpSum
	w.e, w.committed, w.pending = e, pos, nil
	w.gen++
	if in.dbPath != "" {
		in.changed()
	}
	in.mu.Unlock()
	w.sp.Reset(pos)
	w.dec.Reset()
	w.initialized = true
}

// openFile opens a file and, the first time, decides where to start: the
// sincedb position if the file is the one it describes, else
// start_position.
func (r *runner) openFile(w *watched) bool {
	if r.open >= r.set.maxOpen {
		if !r.openLimited {
			r.in.logger.Warn("max_open_files reached: other files wait until one closes (lower close_older or raise max_open_files)", "max_open_files", r.set.maxOpen)
			r.openLimited = true
		}
		return false
	}
	f, err := open(w.path)
	if err == nil {
		var fi os.FileInfo
		if fi, err = f.Stat(); err == nil {
			if id, _, _ := identify(fi); id != w.id {
				f.Close()
				w.want = false // the path is another file now; discovery sorts it out
				return false
			}
			w.size, w.mtime = fi.Size(), fi.ModTime().UnixNano()
		}
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		if msg := err.Error(); msg != w.openErr {
			r.in.logger.Warn("cannot read file; trying again", "path", w.path, "error", err, "retry_in", r.set.stat)
			w.openErr = msg
		}
		return false
	}
	if w.openErr != "" {
		r.in.logger.Info("file readable again", "path", w.path)
		w.openErr = ""
	}
	if !w.initialized && !w.initial && (w.size == 0 || (w.size != w.lastSize && w.defers < 3)) {
		// A file that appeared since the start and is empty or still
		// growing fast may be a copy being made: look again later, when
		// its first bytes tell what it is. (Nothing is lost: it is read
		// from its start, or from the copied position.)
		f.Close()
		w.lastSize = w.size
		w.defers++
		return false
	}
	w.f = f
	r.open++
	w.want = false
	w.lastRead = r.now
	if !w.initialized {
		r.initialize(w)
	} else if err := r.verify(w); err != nil {
		r.truncated(w, err.Error())
	}
	if _, err := f.Seek(w.sp.ReadOffset(), io.SeekStart); err != nil {
		r.closeFile(w)
		return false
	}
	w.ready = true
	return true
}

// initialize decides where to start reading an opened file.
func (r *runner) initialize(w *watched) {
	in := r.in
	head := make([]byte, min(w.size, fingerprintMax))
	n, _ := w.f.ReadAt(head, 0)
	head = head[:n]
	in.mu.Lock()
	e := in.db[w.id]
	var known bool
	var pos int64
	if e != nil {
		switch {
		case e.fpLen > 0 && (len(head) < e.fpLen || fingerprint(head[:e.fpLen]) != e.fpSum):
			// Same inode, other content: a new file (the inode was reused).
		case e.pos > w.size:
			known, pos = true, 0 // truncated while we were away
		default:
			known, pos = true, e.pos
		}
	}
	in.mu.Unlock()
	if !known {
		pos = 0
		if !r.set.read && r.set.startEnd && w.initial {
			pos = w.size
		}
		if from, ok := r.copyOf(w, head); ok {
			pos = from
		}
	}
	w.wasDone = known && pos == w.size
	r.startAt(w, pos, len(head), fingerprint(head))
}

// copyOf recognizes a new file that is a copy of one being read, as
// copytruncate makes: it begins with the bytes the original's fingerprint
// covers (at least minCopyPrefix of them). The copy is read from where the
// original was left, so lines written to the original after the last read
// and before the truncation are not lost, and none is read twice.
func (r *runner) copyOf(w *watched, head []byte) (int64, bool) {
	same := func(fpLen int, fpSum uint64) bool {
		return fpLen >= minCopyPrefix && fpLen <= len(head) && fingerprint(head[:fpLen]) == fpSum
	}
	for i, g := range r.ghosts {
		if same(g.fpLen, g.fpSum) && g.pos <= w.size && r.now-g.at < ghostTTL {
			r.ghosts = append(r.ghosts[:i], r.ghosts[i+1:]...)
			r.in.logger.Info("new file is a copy of a truncated one (copytruncate rotation): reading it from where the original was left", "path", w.path, "offset", g.pos)
			return g.pos, true
		}
	}
	for _, o := range r.order {
		if o == w || o.e == nil || !o.initialized {
			continue
		}
		r.in.mu.Lock()
		fpLen, fpSum := o.e.fpLen, o.e.fpSum
		r.in.mu.Unlock()
		if same(fpLen, fpSum) && o.sp.Offset() <= w.size {
			r.in.logger.Info("new file is a copy of one being read (copytruncate rotation): reading it from where the original is", "path", w.path, "original", o.path, "offset", o.sp.Offset())
			return o.sp.Offset(), true
		}
	}
	return 0, false
}

// verify checks that an open file is still the content it was: not
// truncated below the read position, and its first bytes unchanged (a
// copytruncate followed by new lines past the old position looks like
// plain growth otherwise).
func (r *runner) verify(w *watched) error {
	if w.size < w.sp.ReadOffset() {
		return errors.New("file shrank")
	}
	in := r.in
	in.mu.Lock()
	fpLen, fpSum := w.e.fpLen, w.e.fpSum
	in.mu.Unlock()
	want := min(w.size, fingerprintMax)
	if int64(fpLen) >= want {
		if fpLen == 0 {
			return nil
		}
		head := make([]byte, fpLen)
		if n, _ := w.f.ReadAt(head, 0); n < fpLen || fingerprint(head) != fpSum {
			return errors.New("first bytes changed")
		}
		return nil
	}
	// The file grew past the fingerprint: check the old part, extend it.
	head := make([]byte, want)
	n, _ := w.f.ReadAt(head, 0)
	head = head[:n]
	if len(head) < fpLen || (fpLen > 0 && fingerprint(head[:fpLen]) != fpSum) {
		return errors.New("first bytes changed")
	}
	in.mu.Lock()
	w.e.fpLen, w.e.fpSum = len(head), fingerprint(head)
	in.mu.Unlock()
	return nil
}

// truncated starts a file over from its beginning: lines of the old
// content still in flight no longer move its position.
func (r *runner) truncated(w *watched, why string) {
	r.in.logger.Info("file truncated or replaced; reading it from the start", "path", w.path, "reason", why)
	head := make([]byte, min(w.size, fingerprintMax))
	if w.f != nil {
		n, _ := w.f.ReadAt(head, 0)
		head = head[:n]
	}
	if w.inBatch {
		w.inBatch = false // its lines in the current batch go out, uncommitted
	}
	r.in.mu.Lock()
	if w.e != nil && w.e.fpLen >= minCopyPrefix {
		r.ghosts = append(r.ghosts, ghost{fpLen: w.e.fpLen, fpSum: w.e.fpSum, pos: w.sp.Offset(), at: r.now})
		if len(r.ghosts) > 64 {
			r.ghosts = r.ghosts[1:]
		}
	}
	r.in.mu.Unlock()
	r.startAt(w, 0, len(head), fingerprint(head))
	if w.f != nil {
		_, _ = w.f.Seek(0, io.SeekStart)
	}
	w.ready = true
}

// check looks at every file: opens those waiting, notices growth,
// truncation and deletion, and closes idle ones.
func (r *runner) check(ctx context.Context) error {
	keep := r.order[:0]
	for _, w := range r.order {
		if w.f == nil {
			if w.want && !w.completed {
				r.openFile(w)
			}
		} else if fi, err := w.f.Stat(); err == nil {
			size, mtime := fi.Size(), fi.ModTime().UnixNano()
			_, links, _ := identify(fi)
			w.links = links
			changed := size != w.size || mtime != w.mtime
			w.size, w.mtime = size, mtime
			if changed || size < w.sp.ReadOffset() {
				if err := r.verify(w); err != nil {
					if w.inBatch {
						if err := r.publish(ctx); err != nil {
							return err
						}
					}
					r.truncated(w, err.Error())
				}
			}
			if size > w.sp.ReadOffset() {
				w.ready = true
			}
		}
		if r.forget(ctx, w) {
			continue
		}
		keep = append(keep, w)
	}
	clear(r.order[len(keep):])
	r.order = keep
	return ctx.Err()
}

// forget closes idle files and drops those no glob finds any more once
// they are read; it reports whether w is gone.
func (r *runner) forget(ctx context.Context, w *watched) bool {
	idle := time.Duration(r.now - w.lastRead)
	if w.f != nil && !w.ready && !r.set.read && r.set.closeOlder > 0 && idle >= r.set.closeOlder && w.matched {
		r.in.logger.Debug("closing idle file", "path", w.path, "idle", idle)
		r.closeFile(w)
	}
	if w.matched || w.ready || idle < r.set.orphanIdle || w.draining {
		return false
	}
	// Renamed out of the globs or deleted, and read to its end: its last
	// lines (an unfinished multiline event, a line without a newline) are
	// final now.
	if w.f != nil && !r.set.read {
		r.finish(w)
		if err := r.publish(ctx); err != nil {
			return false
		}
	}
	r.closeFile(w)
	delete(r.files, w.id)
	if w.links == 0 {
		// Deleted: its inode may be reused by a new file.
		r.in.mu.Lock()
		if r.in.db[w.id] == w.e {
			delete(r.in.db, w.id)
			r.in.changed()
		}
		r.in.mu.Unlock()
	}
	r.in.logger.Debug("file no longer watched", "path", w.path, "deleted", w.links == 0)
	return true
}

func (r *runner) closeFile(w *watched) {
	if w.f != nil {
		w.f.Close()
		w.f = nil
		r.open--
		r.openLimited = false
	}
	w.ready = false
}

func (r *runner) closeAll() {
	for _, w := range r.order {
		r.closeFile(w)
	}
}

// clean forgets sincedb positions of files not seen for sincedb_clean_after.
func (r *runner) clean() {
	if r.set.cleanAfter <= 0 {
		return
	}
	in := r.in
	in.mu.Lock()
	defer in.mu.Unlock()
	for id, e := range in.db {
		if _, watching := r.files[id]; !watching && time.Duration(r.now-e.lastActive) > r.set.cleanAfter {
			delete(in.db, id)
			in.changed()
		}
	}
}

// readRound reads every file that may have bytes, up to a budget per file
// so that one busy file does not starve the others. It reports whether
// anything was read.
func (r *runner) readRound(ctx context.Context) (bool, error) {
	const budget = 16 << 20
	progress := false
	for _, w := range r.order {
		if !w.ready || w.f == nil {
			continue
		}
		read := 0
		for read < budget {
			want := int(max(w.size-w.sp.ReadOffset(), 0))
			n, err := w.sp.Fill(w.f, want)
			read += n
			if n > 0 {
				progress = true
				r.now = time.Now().UnixNano() // events are stamped when read
				w.lastRead = r.now
				if perr := r.lines(ctx, w); perr != nil {
					return progress, perr
				}
			}
			if err == io.EOF || (err == nil && n == 0) {
				w.ready = false
				if r.set.read {
					r.finish(w)
					w.draining, w.endPos = true, w.sp.ReadOffset()
					r.closeFile(w)
				}
				break
			}
			if err != nil {
				r.in.logger.Warn("cannot read file; trying again", "path", w.path, "error", err)
				r.closeFile(w)
				w.want = true
				break
			}
		}
		if len(r.batch) > 0 && read >= budget {
			progress = true
		}
	}
	return progress, nil
}

// lines decodes the whole lines a file's buffer holds.
func (r *runner) lines(ctx context.Context, w *watched) error {
	for more := true; more; {
		select {
		case events := <-r.free:
			w.dec.Reuse(events)
		default:
			more = false
		}
	}
	for l, ok := w.sp.Next(); ok; l, ok = w.sp.Next() {
		if l.Cut {
			r.cut(w)
		}
		r.recs = w.dec.Decode(l, r.now, r.recs[:0])
		if err := r.add(ctx, w); err != nil {
			return err
		}
	}
	return nil
}

// finish takes a file's last, unterminated line and its pending multiline
// event: the file is complete (read mode) or gone.
func (r *runner) finish(w *watched) {
	r.recs = r.recs[:0]
	if l, ok := w.sp.Flush(); ok {
		if l.Cut {
			r.cut(w)
		}
		r.recs = w.dec.Decode(l, r.now, r.recs)
	}
	r.recs = w.dec.Flush(r.recs)
	r.addRecs(w)
}

func (r *runner) cut(w *watched) {
	r.in.mu.Lock()
	r.in.cutLines++
	r.in.mu.Unlock()
	if !w.cutLogged {
		r.in.logger.Warn("line longer than max_line_bytes: cut and tagged "+codecs.TagLineTooLong+" (further ones in this file are counted, not logged)", "path", w.path, "max_line_bytes", r.set.codec.MaxLineBytes)
		w.cutLogged = true
	}
}

// flushDue emits multiline events whose lines stopped coming.
func (r *runner) flushDue(ctx context.Context) error {
	for _, w := range r.order {
		if w.dec.Due(r.now) {
			r.recs = w.dec.Flush(r.recs[:0])
			if err := r.add(ctx, w); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *runner) nextDue() (time.Time, bool) {
	var next int64
	for _, w := range r.order {
		if at, ok := w.dec.DueAt(); ok && (next == 0 || at < next) {
			next = at
		}
	}
	return time.Unix(0, next), next != 0
}

// add puts r.recs into the batch, publishing it when full. A line's
// events all go in the same batch: its position is committed once.
func (r *runner) add(ctx context.Context, w *watched) error {
	r.addRecs(w)
	if len(r.batch) >= r.in.batch {
		return r.publish(ctx)
	}
	return nil
}

var (
	logPath  = sdk.MustParseFieldRef("[log][file][path]")
	hostName = sdk.MustParseFieldRef("[host][name]")
	logRef   = sdk.MustParseFieldRef("log")
	hostRef  = sdk.MustParseFieldRef("host")
	pathRef  = sdk.MustParseFieldRef("path")
)

func (r *runner) addRecs(w *watched) {
	if len(r.recs) == 0 {
		return
	}
	share := r.set.shareNested
	for _, rec := range r.recs {
		e := rec.Event
		// Fields are looked up one by one, not through Fields(): an
		// event of the json codecs keeps the others undecoded.
		if r.set.ecs {
			if _, ok := logRef.Get(e); !ok && share {
				put(e, logRef, w.logVal)
			} else if _, ok := logPath.Get(e); !ok {
				_ = logPath.Set(e, w.pathVal)
			}
			if _, ok := hostRef.Get(e); !ok && share {
				put(e, hostRef, r.hostMap)
			} else if _, ok := hostName.Get(e); !ok {
				_ = hostName.Set(e, r.hostVal)
			}
		} else {
			if _, ok := pathRef.Get(e); !ok {
				_ = pathRef.Set(e, w.pathVal)
			}
			if _, ok := hostRef.Get(e); !ok {
				_ = hostRef.Set(e, r.hostVal)
			}
		}
		m := e.Metadata()
		m["path"] = w.pathVal
		m["host"] = r.hostVal
		m["offset"] = r.vals.Int(rec.Start)
		if r.in.coords {
			sdk.SetSource(e, "file", map[string]any{"path": w.pathVal, "offset": m["offset"], "host": r.hostVal})
		}
		r.batch = append(r.batch, e)
		w.batchEnd = rec.End
	}
	if !w.inBatch {
		w.inBatch = true
		r.marked = append(r.marked, w)
	}
	r.recs = r.recs[:0]
}

// put stores v, built by the input and so already normal, where ref
// holds nothing: Set would walk the shared objects to normalize them,
// for every event.
func put(e *sdk.Event, ref sdk.FieldRef, v any) {
	if m, leaf, err := ref.Container(e); err == nil {
		m[leaf] = v
	}
}

// publish sends the batch; its ack commits each file's position.
func (r *runner) publish(ctx context.Context) error {
	if len(r.batch) == 0 {
		return nil
	}
	in := r.in
	marks := make([]mark, 0, len(r.marked))
	in.mu.Lock()
	for _, w := range r.marked {
		if !w.inBatch {
			continue // truncated since its lines were added
		}
		w.inBatch = false
		marks = append(marks, mark{w: w, gen: w.gen, seq: w.seq})
		w.pending = append(w.pending, pend{seq: w.seq, end: w.batchEnd})
		w.seq++
	}
	in.mu.Unlock()
	clear(r.marked)
	r.marked = r.marked[:0]
	batch := r.batch
	r.batch = make([]*sdk.Event, 0, in.batch)
	run := r.run
	b := sealed{events: batch, ack: func() { in.ack(run, marks) }}
	select {
	case r.out <- b:
		return nil
	case <-ctx.Done():
		r.unsent = &b // its positions are recorded: stop sends it
		return errStopped
	}
}

// stop hands over, once the input is asked to stop, what was read: a
// batch whose hand-over the stop interrupted, the batch being filled, and
// each file's pending multiline event, which a stop must not drop (as
// Logstash's codecs flush at close). Their positions are committed when
// they are acknowledged, as any batch's; a partial last line stays unread.
func (r *runner) stop(ctx context.Context) {
	if r.unsent != nil {
		select {
		case r.out <- *r.unsent:
			r.unsent = nil
		case <-ctx.Done():
			return
		}
	}
	for _, w := range r.order {
		r.recs = w.dec.Flush(r.recs[:0])
		if err := r.add(ctx, w); err != nil {
			return
		}
	}
	_ = r.publish(ctx)
}

// sealed is a batch whose positions are recorded, on its way to Publish.
type sealed struct {
	events []*sdk.Event
	ack    func()
}

// publisher publishes sealed batches in order, in its own goroutine, so
// that reading the next lines and making their events overlaps with the
// SDK encoding and sending this batch: on two cores the input then goes
// about as fast as the slower of the two. It returns when out is closed,
// or with Publish's error (ctx cancelled: nil), after calling fail.
func (r *runner) publisher(ctx context.Context, fail func()) error {
	for b := range r.out {
		if err := r.p.Publish(ctx, b.events, b.ack); err != nil {
			fail()
			for range r.out { // let the reader finish; these are not delivered
			}
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		select {
		case r.free <- b.events:
		default: // the reader has enough: let these go
		}
	}
	return nil
}

// complete applies file_completed_action to read-mode files whose every
// line is delivered.
func (r *runner) complete() {
	for _, w := range r.order {
		if !w.draining {
			continue
		}
		r.in.mu.Lock()
		done := len(w.pending) == 0 && w.committed >= w.endPos
		r.in.mu.Unlock()
		if !done {
			continue
		}
		w.draining, w.completed = false, true
		r.completed(w)
	}
}

func (r *runner) completed(w *watched) {
	action := r.set.completedAction
	if w.wasDone && action == "log" {
		return // logged in an earlier run
	}
	if action == "log" || action == "log_and_delete" {
		if err := appendLine(r.set.completedLog, w.path); err != nil {
			r.in.logger.Error("cannot log a completed file", "path", w.path, "file_completed_log_path", r.set.completedLog, "error", err)
		}
	}
	if action == "delete" || action == "log_and_delete" {
		if err := os.Remove(w.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			r.in.logger.Error("cannot delete a completed file", "path", w.path, "error", err)
			return
		}
		r.in.mu.Lock()
		if r.in.db[w.id] == w.e {
			delete(r.in.db, w.id)
			r.in.changed()
		}
		r.in.mu.Unlock()
	}
	r.in.logger.Debug("file completed", "path", w.path, "action", action)
}

func (r *runner) allDone() bool {
	if len(r.batch) > 0 {
		return false
	}
	for _, w := range r.order {
		if w.matched && !w.completed {
			return false
		}
	}
	return true
}

func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(line + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
