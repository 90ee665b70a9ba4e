package pipeline

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/deadletter"
	"github.com/gostash/gostash/sdk/host"
)

// Storage policies of a full dead letter queue, as Logstash names them.
const (
	DropNewer = "drop_newer" // refuse the entry that does not fit
	DropOlder = "drop_older" // make room by dropping the oldest entries
)

// DefaultDeadLetterMaxBytes is Logstash's dead_letter_queue.max_bytes.
const DefaultDeadLetterMaxBytes = 1024 << 20

// deadLetters keeps the events an output rejected for good (a mapping
// conflict, an index name that cannot be resolved), one JSON line each,
// under <path.data>/dead_letter_queue/<pipeline>/<output>.jsonl (format:
// sdk/deadletter), so none is silently dropped: only the size bound drops
// entries, and it counts and logs each.
type deadLetters struct {
	dir, pipeline string
	maxBytes      int64
	policy        string
	log           *slog.Logger
	dropped       *atomic.Int64 // the pipeline's Stats.DeadLetterDropped

	mu     sync.Mutex
	files  map[string]*os.File
	size   int64 // bytes in dir; -1 until measured
	closed bool  // the pipeline ended: a late writer must not reopen files
}

func newDeadLetters(dataDir, pipelineID string, log *slog.Logger, dropped *atomic.Int64) *deadLetters {
	if dataDir == "" {
		dataDir = "data"
	}
	if pipelineID == "" {
		pipelineID = sdk.DefaultPipelineID
	}
	return &deadLetters{dir: deadletter.Dir(dataDir, pipelineID), pipeline: pipelineID, maxBytes: DefaultDeadLetterMaxBytes,
		policy: DropNewer, log: log, dropped: dropped, files: map[string]*os.File{}, size: -1}
}

// write dead-letters event index of batch after attempts refused writes.
// It returns an error when the event is not on disk: the caller must not
// count it as dead-lettered nor let its batch be acked, or the event would
// be lost without a trace. An entry the size bound drops is no error: it
// is counted in Stats.DeadLetterDropped and logged.
func (d *deadLetters) write(output string, batch []byte, index uint32, reason string, attempts int) error {
	entry := deadletter.Entry{
		Time: sdk.FormatTimestamp(time.Now().UnixNano()), Pipeline: d.pipeline, PluginType: "output",
		Output: output, Reason: reason, Attempts: max(attempts, 1),
	}
	var event map[string]any
	if one, err := host.SelectEvents(batch, []uint32{index}); err == nil {
		if evs, err := host.DecodeBatch(one); err == nil && len(evs) == 1 {
			event = evs[0].ToMap(true)
			meta := evs[0].Metadata()
			entry.Source, _ = meta[sdk.MetadataInput].(map[string]any)
			// A replayed event that is refused again keeps its count.
			if prev, ok := meta[deadletter.MetadataKey].(map[string]any); ok {
				entry.Attempts += int(asInt(prev["attempts"]))
				delete(meta, deadletter.MetadataKey)
				event = evs[0].ToMap(true)
			}
		}
	}
	entry.Event, _ = json.Marshal(event)
	line, _ := json.Marshal(entry)
	line = append(line, '\n')

	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		// A write cancelled past the drain deadline: not on disk, so not
		// acked; the event is read again on the next start.
		return errDeadLettersClosed
	}
	if !d.makeRoom(output, int64(len(line))) {
		if n := d.dropped.Add(1); n == 1 || n%1000 == 0 {
			d.log.Error("dead letter queue is full (dead_letter_queue.max_bytes); the rejected event is dropped",
				"output", output, "reason", reason, "max_bytes", d.maxBytes, "storage_policy", d.policy, "dropped_so_far", n)
		}
		return nil
	}
	var (
		f   *os.File
		err error
	)
	// Twice at most: a dead_letter_queue input with clean_consumed may
	// have removed the file since it was opened.
	for try := 0; try < 2; try++ {
		if f = d.files[output]; f == nil {
			// Not kept on failure: the next event tries to open it again.
			if f, err = d.open(output); err != nil {
				d.log.Error("cannot open the dead letter file; the rejected event stays in the pipeline and is tried again", "output", output, "reason", reason, "error", err)
				return err
			}
			d.files[output] = f
		}
		if err = deadletter.Append(f, f.Name(), line); !errors.Is(err, deadletter.ErrRemoved) {
			break
		}
		_ = f.Close()
		delete(d.files, output)
		d.size = -1
	}
	if err != nil {
		// A short write may have left a torn line: start the next entry on
		// a line of its own.
		_ = f.Close()
		delete(d.files, output)
		d.size = -1
		d.log.Error("cannot write to the dead letter file; the rejected event stays in the pipeline and is tried again", "output", output, "file", f.Name(), "reason", reason, "error", err)
		return err
	}
	if d.size >= 0 {
		d.size += int64(len(line))
	}
	d.log.Warn("event rejected by output; dead-lettered", "output", output, "reason", reason, "file", f.Name())
	return nil
}

// makeRoom says whether n more bytes fit under max_bytes; under
// drop_older it first drops the oldest entries of output's file.
func (d *deadLetters) makeRoom(output string, n int64) bool {
	if d.size < 0 || d.size+n > d.maxBytes {
		// Measured again before refusing: a dead_letter_queue input with
		// clean_consumed removes files this count still holds.
		d.size = dirSize(d.dir)
	}
	if d.size+n <= d.maxBytes {
		return true
	}
	if d.policy != DropOlder || n > d.maxBytes {
		return false
	}
	file := filepath.Join(d.dir, output+deadletter.Ext)
	if f := d.files[output]; f != nil {
		_ = f.Close()
		delete(d.files, output)
	}
	// At least an eighth of the bound at a time, as Logstash drops a whole
	// segment: the file is not rewritten for every new entry.
	dropped, err := dropOldest(file, max(d.size+n-d.maxBytes, d.maxBytes/8))
	d.size = dirSize(d.dir)
	if dropped > 0 {
		n := d.dropped.Add(int64(dropped))
		d.log.Error("dead letter queue is full (dead_letter_queue.max_bytes); its oldest entries are dropped",
			"output", output, "entries", dropped, "max_bytes", d.maxBytes, "storage_policy", d.policy, "dropped_so_far", n)
	}
	if err != nil {
		d.log.Error("cannot drop the oldest dead letters", "file", file, "error", err)
	}
	return d.size+n <= d.maxBytes
}

// dropOldest rewrites file without its first entries, at least need bytes
// of them, and returns how many it dropped. The new file starts with a
// header counting the bytes dropped (deadletter.Header), so readers'
// saved positions stay right. The file is copied, not read
// into memory, and replaced whole (write, then rename), so a crash leaves
// the old one or the new one.
func dropOldest(file string, need int64) (int, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	// Under the file's lock until the rename: an Append to the old file
	// would be lost with it, and a reader's RemoveConsumed must not remove
	// the new one (both take the lock; Append then finds the file replaced
	// and writes to the new one).
	unlock, err := deadletter.Lock(f)
	if err != nil {
		return 0, err
	}
	defer unlock()
	// Entries dropped by earlier rewrites count too: the new header says
	// where, in the file's logical offsets, its first entry starts.
	before, hdr, err := deadletter.ReadHeader(f)
	if err != nil {
		return 0, err
	}
	if _, err := f.Seek(hdr, io.SeekStart); err != nil {
		return 0, err
	}
	r := bufio.NewReaderSize(f, 64<<10)
	var cut int64
	dropped := 0
	for cut < need {
		line, err := r.ReadSlice('\n')
		cut += int64(len(line))
		for err == bufio.ErrBufferFull { // a long line: drop all of it
			line, err = r.ReadSlice('\n')
			cut += int64(len(line))
		}
		if cut > 0 && (err == nil || len(line) > 0) {
			dropped++
		}
		if err != nil {
			break
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), filepath.Base(file)+".*.tmp")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name()) // after the rename there is none
	if _, err = tmp.Write(deadletter.Header(before + cut)); err == nil {
		_, err = io.Copy(tmp, r)
	}
	if err == nil {
		err = tmp.Close()
	} else {
		_ = tmp.Close()
	}
	if err == nil {
		err = os.Rename(tmp.Name(), file)
	}
	if err != nil {
		return 0, err
	}
	return dropped, nil
}

func dirSize(dir string) int64 {
	files, _ := deadletter.Files(dir)
	var n int64
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			n += fi.Size()
		}
	}
	return n
}

func asInt(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case float64:
		return int64(n)
	case int:
		return int64(n)
	}
	return 0
}

// open opens output's dead letter file for appending. A file whose last
// line was cut short (a crash or a full disk mid-write) gets a newline
// first, so the next entry is not glued onto the torn one.
func (d *deadLetters) open(output string) (*os.File, error) {
	if err := os.MkdirAll(d.dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(d.dir, output+deadletter.Ext), os.O_CREATE|os.O_APPEND|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && fi.Size() > 0 {
		last := make([]byte, 1)
		if _, err = f.ReadAt(last, fi.Size()-1); err == nil && last[0] != '\n' {
			_, err = f.Write([]byte{'\n'})
			if d.size >= 0 {
				d.size++
			}
		}
	}
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

// errDeadLettersClosed refuses a write after the pipeline closed its queue.
var errDeadLettersClosed = errors.New("the pipeline's dead letter queue is closed")

func (d *deadLetters) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	for _, f := range d.files {
		if f != nil {
			_ = f.Close()
		}
	}
}
