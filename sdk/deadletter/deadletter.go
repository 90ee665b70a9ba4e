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
	"strconv"
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

// A file whose oldest entries the size bound dropped (drop_older) is
// rewritten without them and starts with a header line saying how many
// bytes of entries went before it: {"dropped_bytes":N}. Offsets in this
// package are logical, counted from the first entry ever written to the
// file, so a position a reader saved still points at the same entry after
// a rewrite.
const headerPrefix = `{"dropped_bytes":`

// Header is the first line of a rewritten file whose dropped entries took
// dropped bytes.
func Header(dropped int64) []byte {
	return append(strconv.AppendInt([]byte(headerPrefix), dropped, 10), '}', '\n')
}

// ReadHeader reads the header at the start of r: the bytes of entries
// dropped before the file's first one, and the header's own length; both
// 0 for a file that has none.
func ReadHeader(r io.Reader) (dropped, length int64, err error) {
	buf := make([]byte, len(headerPrefix)+21)
	n, err := io.ReadFull(r, buf)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil
	}
	if err != nil {
		return 0, 0, err
	}
	return parseHeader(buf[:n])
}

func parseHeader(b []byte) (dropped, length int64, err error) {
	if !bytes.HasPrefix(b, []byte(headerPrefix)) {
		return 0, 0, nil
	}
	end := bytes.IndexByte(b, '\n')
	if end < 0 || end < len(headerPrefix)+2 || b[end-1] != '}' {
		return 0, 0, errors.New("the dead letter file's header line is cut short")
	}
	n, err := strconv.ParseInt(string(b[len(headerPrefix):end-1]), 10, 64)
	if err != nil || n < 0 {
		return 0, 0, errors.New("the dead letter file's header line holds no byte count")
	}
	return n, int64(end + 1), nil
}

// Span says where a dead letter file's entries are, in logical offsets:
// Dropped is where its first kept entry starts (the bytes drop_older
// removed before it), End where the file ends.
type Span struct{ Dropped, End int64 }

// SpanOf measures file.
func SpanOf(file string) (Span, error) {
	f, err := os.Open(file)
	if err != nil {
		return Span{}, err
	}
	defer f.Close()
	return spanOf(f)
}

func spanOf(f *os.File) (Span, error) {
	fi, err := f.Stat()
	if err != nil {
		return Span{}, err
	}
	dropped, hdr, err := ReadHeader(io.NewSectionReader(f, 0, fi.Size()))
	if err != nil {
		return Span{}, err
	}
	return Span{Dropped: dropped, End: dropped + fi.Size() - hdr}, nil
}

// Line is one line of a dead letter file: the entry, or Err when the line
// is not an entry (a write torn by a crash). Offset is where the line
// starts, Next where the next one does (logical offsets).
type Line struct {
	Offset, Next int64
	Entry        Entry
	Err          error
}

// Scan reads the complete lines of file from the logical offset on and
// calls fn with each until fn returns false. An offset before the file's
// first kept entry (drop_older removed what was there) reads from that
// entry. A last line without its newline is still being written (or was
// torn): it is not read, and the returned offset, where reading stopped,
// points at it.
func Scan(file string, offset int64, fn func(Line) bool) (int64, error) {
	f, err := os.Open(file)
	if err != nil {
		return offset, err
	}
	defer f.Close()
	dropped, hdr, err := ReadHeader(f)
	if err != nil {
		return offset, err
	}
	offset = max(offset, dropped)
	if _, err := f.Seek(offset-dropped+hdr, io.SeekStart); err != nil {
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
