package pipeline

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gostash/gostash/sdk"
)

// deadLetters keeps the events an output rejected for good (a mapping
// conflict, an index name that cannot be resolved), one JSON line each,
// under <path.data>/dead_letter_queue/<pipeline>/<output>.jsonl, so none
// is silently dropped.
type deadLetters struct {
	dir   string
	log   *slog.Logger
	mu    sync.Mutex
	files map[string]*os.File
}

func newDeadLetters(dataDir, pipelineID string, log *slog.Logger) *deadLetters {
	if dataDir == "" {
		dataDir = "data"
	}
	if pipelineID == "" {
		pipelineID = "main"
	}
	return &deadLetters{dir: filepath.Join(dataDir, "dead_letter_queue", pipelineID), log: log, files: map[string]*os.File{}}
}

// write dead-letters event index of batch. It returns an error when the
// event is not on disk: the caller must not count it as dead-lettered nor
// let its batch be acked, or the event would be lost without a trace.
func (d *deadLetters) write(output string, batch []byte, index uint32, reason string) error {
	one, err := sdk.SelectEvents(batch, []uint32{index})
	var event map[string]any
	if err == nil {
		if evs, err := sdk.DecodeBatch(one); err == nil && len(evs) == 1 {
			event = evs[0].ToMap(true)
		}
	}
	line, _ := json.Marshal(map[string]any{
		"@timestamp": sdk.FormatTimestamp(time.Now().UnixNano()),
		"output":     output,
		"reason":     reason,
		"event":      event,
	})
	d.mu.Lock()
	defer d.mu.Unlock()
	f := d.files[output]
	if f == nil {
		// Not kept on failure: the next event tries to open it again.
		if f, err = d.open(output); err != nil {
			d.log.Error("cannot open the dead letter file; the rejected event stays in the pipeline and is tried again", "output", output, "reason", reason, "error", err)
			return err
		}
		d.files[output] = f
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		// A short write may have left a torn line: start the next entry on
		// a line of its own.
		_ = f.Close()
		delete(d.files, output)
		d.log.Error("cannot write to the dead letter file; the rejected event stays in the pipeline and is tried again", "output", output, "file", f.Name(), "reason", reason, "error", err)
		return err
	}
	d.log.Warn("event rejected by output; dead-lettered", "output", output, "reason", reason, "file", f.Name())
	return nil
}

// open opens output's dead letter file for appending. A file whose last
// line was cut short (a crash or a full disk mid-write) gets a newline
// first, so the next entry is not glued onto the torn one.
func (d *deadLetters) open(output string) (*os.File, error) {
	if err := os.MkdirAll(d.dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(d.dir, output+".jsonl"), os.O_CREATE|os.O_APPEND|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && fi.Size() > 0 {
		last := make([]byte, 1)
		if _, err = f.ReadAt(last, fi.Size()-1); err == nil && last[0] != '\n' {
			_, err = f.Write([]byte{'\n'})
		}
	}
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

func (d *deadLetters) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, f := range d.files {
		if f != nil {
			_ = f.Close()
		}
	}
}
