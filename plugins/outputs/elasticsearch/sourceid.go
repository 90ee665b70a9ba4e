package elasticsearch

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"github.com/gostash/gostash/sdk"
)

// maxIDBytes is the engines' limit on an _id.
const maxIDBytes = 512

// sourceID is document_id_from_source's id for e: where the event came
// from, as its input attached it ([@metadata][_input], which the core asks
// inputs for when an output sets document_id_from_source). Kafka:
// TOPIC-PARTITION-OFFSET, the id Logstash users write with document_id and
// decorate_events, so both ways give one document; "-N" follows for the
// Nth event of a record that gave several (a json array, json_lines), else
// they would overwrite each other. File: HOST:PATH:OFFSET (the host, so
// that two machines' /var/log/messages do not overwrite each other). ""
// for an input that attaches no such place (stdin, generator): the engine
// chooses.
func sourceID(e *sdk.Event) string { return string(appendSourceID(nil, e)) }

// appendSourceID appends sourceID(e) to b: the output writes it into
// scratch space, not a string per event.
func appendSourceID(b []byte, e *sdk.Event) []byte {
	src, _ := e.Metadata()[sdk.MetadataInput].(map[string]any)
	if src == nil {
		return b
	}
	switch src[sdk.SourceType] {
	case "kafka":
		return appendKafkaID(b, src)
	case "file":
		path, ok1 := src["path"].(string)
		off, ok2 := number(src["offset"])
		if !ok1 || !ok2 {
			return b
		}
		host, _ := src["host"].(string)
		start := len(b)
		b = append(b, host...)
		b = append(b, ':')
		b = append(b, path...)
		b = append(b, ':')
		b = strconv.AppendInt(b, off, 10)
		if len(b)-start > maxIDBytes {
			sum := sha256.Sum256(b[start:])
			return hex.AppendEncode(b[:start], sum[:])
		}
		return b
	}
	return b
}

func appendKafkaID(b []byte, k map[string]any) []byte {
	topic, ok1 := k["topic"].(string)
	part, ok2 := number(k["partition"])
	off, ok3 := number(k["offset"])
	if !ok1 || !ok2 || !ok3 {
		return b
	}
	b = append(b, topic...)
	b = append(b, '-')
	b = strconv.AppendInt(b, part, 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, off, 10)
	if n, ok := number(k[sdk.SourceSeq]); ok && n > 0 {
		b = append(b, '-')
		b = strconv.AppendInt(b, n, 10)
	}
	return b // a topic has at most 249 bytes: well under 512
}

// number reads an integer coordinate in the shapes events hold them.
func number(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case float64:
		return int64(n), n == float64(int64(n))
	case string:
		i, err := strconv.ParseInt(n, 10, 64)
		return i, err == nil
	}
	return 0, false
}
