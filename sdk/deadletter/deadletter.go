// Package deadletter is the format of gostash's dead letter queue: the
// events an output rejected for good, one JSON line each, in
// <path.data>/dead_letter_queue/<pipeline>/<output>.jsonl. The core writes
// it; the dead_letter_queue input and `gostash dlq` read it.
package deadletter

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Ext ends the name of every dead letter file.
const Ext = ".jsonl"

// MetadataKey is where a replayed event carries why it was dead-lettered:
// [@metadata][dead_letter_queue], as Logstash's input puts it.
const MetadataKey = "dead_letter_queue"

// Entry is one dead-lettered event. Entries written before a field existed
// lack it: Pipeline, PluginType and Attempts are then empty.
type Entry struct {
	Time       string `json:"@timestamp"`
	Pipeline   string `json:"pipeline,omitempty"`
	PluginType string `json:"plugin_type,omitempty"`
	// Output is the id (block name) of the output that rejected the event.
	Output string `json:"output"`
	Reason string `json:"reason"`
	// Attempts counts the writes of the event that the output refused,
	// over every replay.
	Attempts int `json:"attempts,omitempty"`
	// Source is where the event came from (a Kafka record's topic,
	// partition and offset, a file's path and offset) when the input
	// attached it.
	Source map[string]any `json:"source,omitempty"`
	// Event is the event as Logstash shows it, with @timestamp and
	// @metadata.
	Event json.RawMessage `json:"event"`
}

// Dir is the dead letter directory of a pipeline under a data directory.
func Dir(dataDir, pipeline string) string {
	return filepath.Join(dataDir, "dead_letter_queue", pipeline)
}

// Files lists the dead letter files of dir, sorted by name; a missing dir
// has none.
func Files(dir string) ([]string, error) {
	des, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var files []string
	for _, de := range des {
		if !de.IsDir() && strings.HasSuffix(de.Name(), Ext) {
			files = append(files, filepath.Join(dir, de.Name()))
		}
	}
	sort.Strings(files)
	return files, nil
}

// Line is one line of a dead letter file: the entry, or Err when the line
// is not an entry (a write torn by a crash). Offset is where the line
// starts, Next where the next one does.
type Line struct {
	Offset, Next int64
	Entry        Entry
	Err          error
}

// Scan reads the complete lines of file from offset on and calls fn with
// each until fn returns false. A last line without its newline is still
// being written (or was torn): it is not read, and the returned offset,
// where reading stopped, points at it.
func Scan(file string, offset int64, fn func(Line) bool) (int64, error) {
	f, err := os.Open(file)
	if err != nil {
		return offset, err
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return offset, err
	}
	r := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := r.ReadBytes('\n')
		if err == io.EOF {
			return offset, nil
		}
		if err != nil {
			return offset, err
		}
		l := Line{Offset: offset, Next: offset + int64(len(line))}
		offset = l.Next
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if err := json.Unmarshal(line, &l.Entry); err != nil {
			l.Err = err
		} else if len(l.Entry.Event) == 0 || string(l.Entry.Event) == "null" {
			l.Err = errors.New("the entry has no event")
		}
		if !fn(l) {
			return offset, nil
		}
	}
}
