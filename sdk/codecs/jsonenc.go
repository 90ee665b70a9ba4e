package codecs

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/host"
)

// JSONEncoder writes events as JSON objects, for outputs with the
// `json_lines` codec: keys in order (the same event always gives the same
// text), @timestamp as Logstash prints it, @metadata only when asked for.
// It keeps scratch space between events, so encoding does not allocate
// once warm. Not safe for concurrent use.
type JSONEncoder struct {
	// Metadata includes @metadata.
	Metadata bool
	// Unordered writes keys in no particular order, for outputs where
	// order does not matter (Elasticsearch documents): no sorting, and
	// the fields of an event decoded from a batch that nothing touched
	// are written from their wire bytes without being decoded
	// (rawjson.go). The values are the same as in the sorted mode.
	Unordered bool

	raw []host.RawField // RawView scratch
	// What sync keeps of the last dictionary: a copy, its number, the
	// names' JSON text by number (in keyText), the first number of each
	// name, and the last value of each name.
	dict    []string
	dictGen uint64
	unique  bool // the batch of dictGen says no object holds a name twice
	keys    []keyText
	keyText []byte
	first   map[string]uint32
	memo    []memoField // by name number: top-level fields
	runs    []runMemo   // by name number: runs of top-level fields from it
	secs    [4]tsSecond // @timestamp's text by second (unordered mode)
	inner   []memoField // by name number: fields inside objects
	shape   shapePlan   // the shape of the events of late (rawshape.go)
	seen    [][]uint32  // names met per object depth, by number
	mark    uint32
	slow    int // events written through Fields, for tests
	// values written from the memo, for tests
	memoHits int
	runHits  int // runs of fields written from their run memo, for tests

	pairs      [][]kv // sorted-fields scratch, one per map depth
	ts         int64
	lastTS     int64
	lastTSText []byte
}

type kv struct {
	k string
	v any
}

// timestamp stands for the event's @timestamp among the values to write;
// being empty, it is stored in an interface without allocating.
type timestamp struct{}

// AppendEvent appends e as one JSON object (no newline). In the unordered
// mode it may write scratch bytes into dst's spare capacity, past what
// it returns (short copies are done a few words at a time).
func (enc *JSONEncoder) AppendEvent(dst []byte, e *sdk.Event) []byte {
	if enc.Unordered {
		out, ok := enc.appendUnordered(dst, e)
		if !ok {
			// A raw value the transcoder cannot take: decode the event
			// (Fields) as every other reader would, and write that.
			enc.slow++
			e.Fields()
			out, _ = enc.appendUnordered(dst, e)
		}
		return out
	}
	ps := enc.sorted(0, e.Fields())
	if e.TimestampNano() != 0 {
		enc.ts = e.TimestampNano()
		ps = insertSorted(ps, kv{sdk.FieldTimestamp, timestamp{}})
	}
	if enc.Metadata && len(e.Metadata()) > 0 {
		ps = insertSorted(ps, kv{sdk.FieldMetadata, e.Metadata()})
	}
	enc.pairs[0] = ps
	dst = append(dst, '{')
	for i, p := range ps {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONStringFast(dst, p.k)
		dst = append(dst, ':')
		dst = enc.appendValue(dst, p.v, 1)
	}
	return append(dst, '}')
}

func (enc *JSONEncoder) sorted(depth int, m map[string]any) []kv {
	for len(enc.pairs) <= depth {
		enc.pairs = append(enc.pairs, nil)
	}
	ps := enc.pairs[depth][:0]
	for k, v := range m {
		ps = append(ps, kv{k, v})
	}
	slices.SortFunc(ps, func(a, b kv) int { return strings.Compare(a.k, b.k) })
	enc.pairs[depth] = ps
	return ps
}

func insertSorted(ps []kv, p kv) []kv {
	i, _ := slices.BinarySearchFunc(ps, p.k, func(a kv, k string) int { return strings.Compare(a.k, k) })
	return slices.Insert(ps, i, p)
}

func (enc *JSONEncoder) appendValue(dst []byte, v any, depth int) []byte {
	switch t := v.(type) {
	case string:
		return appendJSONStringFast(dst, t)
	case int64:
		return strconv.AppendInt(dst, t, 10)
	case int:
		return strconv.AppendInt(dst, int64(t), 10)
	case float64:
		return appendJSONFloat(dst, t)
	case bool:
		return strconv.AppendBool(dst, t)
	case nil:
		return append(dst, "null"...)
	case timestamp:
		if enc.ts != enc.lastTS || enc.lastTSText == nil {
			enc.lastTS = enc.ts
			enc.lastTSText = sdk.AppendTimestamp(enc.lastTSText[:0], enc.ts)
		}
		dst = append(dst, '"')
		dst = append(dst, enc.lastTSText...)
		return append(dst, '"')
	case []any:
		dst = append(dst, '[')
		for i, x := range t {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = enc.appendValue(dst, x, depth+1)
		}
		return append(dst, ']')
	case map[string]any:
		dst = append(dst, '{')
		if enc.Unordered {
			first := true
			for k, x := range t {
				if !first {
					dst = append(dst, ',')
				}
				first = false
				dst = appendJSONStringFast(dst, k)
				dst = append(dst, ':')
				dst = enc.appendValue(dst, x, depth+1)
			}
			return append(dst, '}')
		}
		for i, p := range enc.sorted(depth, t) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONStringFast(dst, p.k)
			dst = append(dst, ':')
			dst = enc.appendValue(dst, p.v, depth+1)
		}
		return append(dst, '}')
	}
	if n := sdk.Normalize(v); fmt.Sprintf("%T", n) != fmt.Sprintf("%T", v) {
		return enc.appendValue(dst, n, depth)
	}
	return sdk.AppendJSONString(dst, fmt.Sprint(v))
}

// appendJSONFloat writes f as encoding/json does, except that a whole
// number keeps a ".0", as Logstash writes doubles. NaN and infinities,
// which JSON cannot hold, are written as null.
func appendJSONFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		if n := len(dst); n-start >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
		return dst
	}
	if !slices.Contains(dst[start:], '.') {
		dst = append(dst, '.', '0')
	}
	return dst
}
