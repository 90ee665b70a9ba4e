// Package stdout is the stdout output: it prints events to the pipeline's
// standard output in one of Logstash's codecs.
package stdout

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/codecs"
)

var spec = sdk.NewSpec("Prints events to standard output.").
	Field(sdk.String("codec").Default("rubydebug").OneOf("rubydebug", "json_lines", "line", "dots").
		Doc("How events are printed: `rubydebug` (Logstash's multi-line look), `json_lines` (one JSON object a line), `line` (the `format` template a line) or `dots` (one `.` an event).")).
	Field(sdk.Bool("metadata").Default(false).
		Doc("Print `@metadata` too (`rubydebug` and `json_lines`).")).
	Field(sdk.String("format").Default("%{message}").
		Doc("The `line` codec's sprintf template. A missing field stays as written (`%{nope}`), as in Logstash.").
		Example("%{[host][name]}: %{message}"))

func init() {
	sdk.RegisterOutput("stdout", spec, New).WithValidate(validate)
}

func validate(c *sdk.Config) sdk.Diagnostics {
	var ds sdk.Diagnostics
	if _, err := sdk.ParseTemplate(c.String("format")); err != nil {
		ds.Errorf([]string{"format"}, "invalid format: %v", err)
	}
	if c.Has("format") && c.String("codec") != "line" && c.String("format") != "%{message}" {
		ds = append(ds, sdk.Diagnostic{Warning: true, Path: []string{"format"},
			Summary: "format is used by the line codec only", Detail: `set codec = "line" to print with it`})
	}
	return ds
}

// writer is where outputs print: the pipeline's standard output (inside a
// plugin process that is not os.Stdout). Tests swap it.
var writer = sdk.Stdout

// Output is the stdout output.
type Output struct {
	json   codecs.JSONEncoder
	encode func(o *Output, dst []byte, e *sdk.Event) []byte
	meta   bool
	format *sdk.Template

	mu         sync.Mutex // Write may be called from several streams
	w          io.Writer
	buf        []byte
	ends       []int  // where each event of the batch ends in buf
	pairs      [][]kv // sorted-fields scratch, one per map depth
	ts         int64  // @timestamp of the event being printed
	lastTS     int64
	lastTSText []byte
}

// New builds a stdout output from its settings.
func New(_ context.Context, c *sdk.Config, _ sdk.Env) (sdk.Output, error) {
	o := &Output{w: writer(), meta: c.Bool("metadata")}
	o.json.Metadata = o.meta
	switch codec := c.String("codec"); codec {
	case "rubydebug", "":
		o.encode = (*Output).appendRubyDebug
	case "json_lines":
		o.encode = (*Output).appendJSONLine
	case "line":
		t, err := sdk.ParseTemplate(c.String("format"))
		if err != nil {
			return nil, fmt.Errorf("format: %w", err)
		}
		o.format = t
		o.encode = func(o *Output, dst []byte, e *sdk.Event) []byte {
			return append(o.format.AppendRender(dst, e), '\n')
		}
	case "dots":
		o.encode = func(_ *Output, dst []byte, _ *sdk.Event) []byte { return append(dst, '.') }
		return dots{o}, nil
	default:
		return nil, fmt.Errorf("unknown codec %q: use rubydebug, json_lines, line or dots", codec)
	}
	return o, nil
}

// Write prints the batch with one write call. When the write fails part
// way, the events printed before the error are accepted and only the rest
// are retried (sdk.WriteError), so none is printed twice. No event is ever
// rejected: any event can be printed.
func (o *Output) Write(_ context.Context, events []*sdk.Event) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	b := o.buf[:0]
	ends := o.ends[:0]
	for _, e := range events {
		b = o.encode(o, b, e)
		ends = append(ends, len(b))
	}
	n, err := o.w.Write(b)
	if cap(b) <= 4<<20 { // keep the buffer, unless one odd batch made it huge
		o.buf = b[:0]
	} else {
		o.buf = nil
	}
	o.ends = ends[:0]
	if err != nil {
		return retryUnwritten(len(events), func(i int) int { return ends[i] }, n, err)
	}
	return nil
}

// retryUnwritten marks for a retry the events a write of n bytes did not
// finish; end(i) is where event i's bytes end.
func retryUnwritten(count int, end func(int) int, n int, err error) error {
	reason := fmt.Sprintf("write to standard output: %v", err)
	werr := &sdk.WriteError{}
	for i := 0; i < count; i++ {
		if end(i) > n {
			werr.Retry(i, 0, reason)
		}
	}
	if len(werr.Items) == 0 {
		return nil // all of it was written after all
	}
	return werr
}

// dots is the stdout output with the dots codec: it needs only how many
// events there are, so the SDK does not decode them (sdk.CountingOutput).
type dots struct{ *Output }

func (d dots) WriteCount(_ context.Context, n int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	b := d.buf[:0]
	for i := 0; i < n; i++ {
		b = append(b, '.')
	}
	d.buf = b[:0]
	if written, err := d.w.Write(b); err != nil {
		return retryUnwritten(n, func(i int) int { return i + 1 }, written, err)
	}
	return nil
}

// kv is a field and its value.
type kv struct {
	k string
	v any
}

// sorted returns m's fields in key order, in a slice reused at this
// depth: one pass over the map, no lookups afterwards.
func (o *Output) sorted(depth int, m map[string]any) []kv {
	for len(o.pairs) <= depth {
		o.pairs = append(o.pairs, nil)
	}
	ps := o.pairs[depth][:0]
	for k, v := range m {
		ps = append(ps, kv{k, v})
	}
	sortPairs(ps)
	o.pairs[depth] = ps
	return ps
}

// top lists what an event prints: its fields, @timestamp and, when asked
// for and not empty, @metadata, in key order.
func (o *Output) top(e *sdk.Event) []kv {
	ps := o.sorted(0, e.Fields())
	if e.TimestampNano() != 0 {
		o.ts = e.TimestampNano()
		ps = insertSorted(ps, kv{sdk.FieldTimestamp, timestamp{}})
	}
	if o.meta && len(e.Metadata()) > 0 {
		ps = insertSorted(ps, kv{sdk.FieldMetadata, e.Metadata()})
	}
	o.pairs[0] = ps
	return ps
}

// sortPairs sorts by key: insertion sort for the few fields of a typical
// map, which beats a generic sort's set-up.
func sortPairs(ps []kv) {
	if len(ps) > 12 {
		slices.SortFunc(ps, func(a, b kv) int { return strings.Compare(a.k, b.k) })
		return
	}
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].k < ps[j-1].k; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

func insertSorted(ps []kv, p kv) []kv {
	i, _ := slices.BinarySearchFunc(ps, p.k, func(a kv, k string) int { return strings.Compare(a.k, k) })
	return slices.Insert(ps, i, p)
}

// timestamp stands for the event's @timestamp (o.ts) among the values to
// print; being empty, it is stored in an interface without allocating.
type timestamp struct{}

// appendTimestamp formats o.ts, reusing the last result: the events of a
// batch often share one.
func (o *Output) appendTimestamp(dst []byte) []byte {
	if o.ts != o.lastTS || o.lastTSText == nil {
		o.lastTS = o.ts
		o.lastTSText = sdk.AppendTimestamp(o.lastTSText[:0], o.ts)
	}
	return append(dst, o.lastTSText...)
}

// ---- json_lines -------------------------------------------------------

// appendJSONLine writes the event as one JSON object and a newline, with
// the SDK's JSON encoder (keys in order, no allocation once warm), the one
// the file output uses too.
func (o *Output) appendJSONLine(dst []byte, e *sdk.Event) []byte {
	return append(o.json.AppendEvent(dst, e), '\n')
}

// ---- rubydebug ----------------------------------------------------------

// appendRubyDebug writes the event as Logstash's rubydebug codec does
// (awesome_print): a multi-line hash, keys right-aligned, nested hashes
// indented four more, arrays with [index], @timestamp bare. Keys are in
// order, so the output does not change from run to run.
func (o *Output) appendRubyDebug(dst []byte, e *sdk.Event) []byte {
	return append(o.appendRubyHash(dst, o.top(e), 4), '\n')
}

// appendRubyHash writes a hash at indentation ind (the column its keys
// end their padding at, as awesome_print counts it).
func (o *Output) appendRubyHash(dst []byte, ps []kv, ind int) []byte {
	if len(ps) == 0 {
		return append(dst, '{', '}')
	}
	width := 0
	for _, p := range ps {
		width = max(width, rubyStringWidth(p.k))
	}
	width += ind
	dst = append(dst, '{', '\n')
	for i, p := range ps {
		if i > 0 {
			dst = append(dst, ',', '\n')
		}
		dst = appendSpaces(dst, width-rubyStringWidth(p.k))
		dst = appendRubyString(dst, p.k)
		dst = append(dst, " => "...)
		dst = o.appendRuby(dst, p.v, ind+4)
	}
	dst = append(dst, '\n')
	dst = appendSpaces(dst, ind-4)
	return append(dst, '}')
}

func (o *Output) appendRuby(dst []byte, v any, ind int) []byte {
	switch t := v.(type) {
	case string:
		return appendRubyString(dst, t)
	case int64:
		return strconv.AppendInt(dst, t, 10)
	case float64:
		return appendRubyFloat(dst, t)
	case bool:
		return strconv.AppendBool(dst, t)
	case nil:
		return append(dst, "nil"...)
	case timestamp:
		return o.appendTimestamp(dst)
	case map[string]any:
		// Depths above 0 never collide: ind grows by 4 at every level.
		return o.appendRubyHash(dst, o.sorted(ind/4, t), ind)
	case []any:
		if len(t) == 0 {
			return append(dst, '[', ']')
		}
		width := len(strconv.Itoa(len(t) - 1))
		dst = append(dst, '[', '\n')
		for i, x := range t {
			if i > 0 {
				dst = append(dst, ',', '\n')
			}
			dst = appendSpaces(dst, ind)
			dst = append(dst, '[')
			n := len(strconv.Itoa(i))
			dst = appendSpaces(dst, width-n)
			dst = strconv.AppendInt(dst, int64(i), 10)
			dst = append(dst, ']', ' ')
			dst = o.appendRuby(dst, x, ind+4)
		}
		dst = append(dst, '\n')
		dst = appendSpaces(dst, ind-4)
		return append(dst, ']')
	}
	if n := sdk.Normalize(v); fmt.Sprintf("%T", n) != fmt.Sprintf("%T", v) {
		return o.appendRuby(dst, n, ind)
	}
	return appendRubyString(dst, fmt.Sprint(v))
}

func appendSpaces(dst []byte, n int) []byte {
	for ; n > 0; n-- {
		dst = append(dst, ' ')
	}
	return dst
}

// rubyStringWidth is the width of s as Ruby inspects it, quotes included.
func rubyStringWidth(s string) int {
	var buf [128]byte
	if len(s) <= 24 { // escapes at most quadruple a byte
		return utf8.RuneCount(appendRubyString(buf[:0], s))
	}
	return utf8.RuneCount(appendRubyString(nil, s))
}

// appendRubyString writes s as Ruby's String#inspect does.
func appendRubyString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, '\\', 'x', upperHex[c>>4], upperHex[c&0xf])
			} else {
				dst = append(dst, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '#' && i+1 < len(s) && (s[i+1] == '{' || s[i+1] == '$' || s[i+1] == '@'):
			dst = append(dst, '\\', '#') // Ruby would read "#{" as interpolation
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\f':
			dst = append(dst, '\\', 'f')
		case c == '\v':
			dst = append(dst, '\\', 'v')
		case c == '\b':
			dst = append(dst, '\\', 'b')
		case c == '\a':
			dst = append(dst, '\\', 'a')
		case c == 0x1b:
			dst = append(dst, '\\', 'e')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', upperHex[c>>4], upperHex[c&0xf])
		case c == 0x7f:
			dst = append(dst, `\x7F`...)
		default:
			dst = append(dst, c)
		}
		i++
	}
	return append(dst, '"')
}

const upperHex = "0123456789ABCDEF"

// appendRubyFloat writes f as Ruby's Float#to_s does: 1.0, 0.5, 1.0e+16,
// 1.0e-05, NaN, Infinity.
func appendRubyFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-4 || abs >= 1e16) {
		start := len(dst)
		dst = strconv.AppendFloat(dst, f, 'e', -1, 64)
		if !slices.Contains(dst[start:], '.') {
			e := start + slices.Index(dst[start:], 'e')
			dst = slices.Insert(dst, e, '.', '0')
		}
		return dst
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
	if !slices.Contains(dst[start:], '.') {
		dst = append(dst, '.', '0')
	}
	return dst
}
