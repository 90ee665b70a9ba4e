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

func (d *deadLetters) write(output string, batch []byte, index uint32, reason string) {
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
		if err := os.MkdirAll(d.dir, 0o755); err == nil {
			f, err = os.OpenFile(filepath.Join(d.dir, output+".jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
			if err != nil {
				f = nil
			}
		}
		d.files[output] = f
	}
	if f == nil {
		d.log.Error("rejected event could not be dead-lettered; here it is", "output", output, "reason", reason, "event", string(line))
		return
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		d.log.Error("dead letter write failed", "output", output, "error", err, "event", string(line))
		return
	}
	d.log.Warn("event rejected by output; dead-lettered", "output", output, "reason", reason, "file", f.Name())
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
