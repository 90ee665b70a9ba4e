// Package codecs turns the bytes an input reads into events, for the
// built-in inputs and third-party ones alike: a Splitter cuts a stream
// into lines (large reads, bounded line length, no copies), and a Decoder
// makes events of the lines with one of Logstash's codecs: `line`,
// `json_lines`, `json` or `multiline`. It also holds the JSON encoder
// outputs use for `json_lines`.
//
// An input declares the settings with InputFields, reads them with
// ParseSettings at config time, and keeps one Decoder per stream (per
// file), since a multiline event must not mix lines of two files:
//
//	spec := codecs.InputFields(sdk.NewSpec("..."), codecs.CodecLine, codecs.CodecJSONLines, codecs.CodecMultiline)
//	...
//	set, ds := codecs.ParseSettings(c)           // in New and in Validate
//	sp, dec := set.NewSplitter(), set.NewDecoder()
//	for { sp.Fill(r, 0); for l, ok := sp.Next(); ok; l, ok = sp.Next() { recs = dec.Decode(l, now, recs) } }
//
// Each Record says which bytes of the stream its event came from: an
// input that commits positions (a file's offset) commits a Record's End
// once the event is delivered, and never the end of a line still held in
// a multiline buffer.
//
// JSON numbers become int64 when whole and in range, float64 when they
// have a fraction or an exponent, and a string of their digits when whole
// but beyond int64 (an unsigned 64-bit id): events have no bigger integer
// type, and a float64 would silently round it.
package codecs

import (
	"context"
	"time"

	"github.com/gostash/gostash/sdk"
)

// Codec names, as in Logstash.
const (
	CodecLine      = "line"
	CodecJSONLines = "json_lines"
	CodecJSON      = "json"
	CodecMultiline = "multiline"
)

// Tags codecs add, as Logstash names them.
const (
	TagJSONParseFailure      = "_jsonparsefailure"
	TagTimestampParseFailure = "_timestampparsefailure"
	TagLineTooLong           = "_linetoolong"
	TagMaxLinesReached       = "multiline_codec_max_lines_reached"
	TagMaxBytesReached       = "multiline_codec_max_bytes_reached"
)

// DefaultMaxLineBytes bounds a line unless max_line_bytes says otherwise.
const DefaultMaxLineBytes = 1 << 20

var codecDocs = map[string]string{
	CodecLine:      "`line` (the line is the message)",
	CodecJSONLines: "`json_lines` (the line is a JSON object whose keys become fields)",
	CodecJSON:      "`json` (the same, per line)",
	CodecMultiline: "`multiline` (lines joined by the `multiline` rules, such as a stack trace)",
}

// InputFields adds the codec settings to an input's spec: `codec` (one of
// names, the first being the default), `delimiter`, `max_line_bytes` and,
// when `multiline` is among the names, `multiline`.
func InputFields(s *sdk.Spec, names ...string) *sdk.Spec {
	if len(names) == 0 {
		names = []string{CodecLine, CodecJSONLines, CodecJSON, CodecMultiline}
	}
	doc := "How lines become events: "
	hasMultiline := false
	for i, n := range names {
		if i > 0 {
			doc += ", "
		}
		doc += codecDocs[n]
		hasMultiline = hasMultiline || n == CodecMultiline
	}
	s.Field(sdk.String("codec").Default(names[0]).OneOf(names...).Doc(doc + ". A line that is not valid JSON becomes an event with the line as its message, tagged `_jsonparsefailure`."))
	s.Field(sdk.String("delimiter").Default("\n").
		Doc("What ends a line. With the default \"\\n\", a \"\\r\" before it is dropped too."))
	s.Field(sdk.Int("max_line_bytes").Default(DefaultMaxLineBytes).
		Doc("Longer lines are cut to this many bytes and tagged `_linetoolong`; the rest of the line is skipped."))
	if hasMultiline {
		s.Field(sdk.Any("multiline").
			Doc("The multiline codec's rules: `{ pattern = \"^\\\\s\", what = \"previous\" }`, plus `negate` (false), `max_lines` (500), `max_bytes` (\"10 MiB\"), `auto_flush_interval` (\"5s\": an event whose lines stopped coming is emitted after this; \"0s\" waits for the next event's first line, as Logstash's default) and `multiline_tag` (\"multiline\")."))
	}
	return s
}

// StopGrace bounds how long an input, once asked to stop, may take to
// publish what it already read: the core's own drain deadline (30 s by
// default) is the one that usually ends a stop.
const StopGrace = 30 * time.Second

// StopContext returns the context an input publishes with once ctx is
// cancelled (the core asks it to drain): events it holds, such as a
// pending multiline event (Decoder.Flush) or lines read and not yet
// published, must still reach the pipeline, which keeps taking and acking
// batches while it drains. The context is not cancelled with ctx, only
// grace after it, so a stop stays bounded if nothing takes the batch.
func StopContext(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(grace, cancel)
		context.AfterFunc(c, func() { t.Stop() })
	})
	return c, func() { stop(); cancel() }
}

// Settings are an input's codec settings, parsed once.
type Settings struct {
	Codec        string
	Delimiter    string
	MaxLineBytes int
	Multiline    *MultilineConfig
}

// ParseSettings reads the settings InputFields declared. Problems come as
// diagnostics on the setting they concern, for Validate to return.
func ParseSettings(c *sdk.Config) (*Settings, sdk.Diagnostics) {
	var ds sdk.Diagnostics
	s := &Settings{Codec: c.String("codec"), Delimiter: c.String("delimiter"), MaxLineBytes: c.Int("max_line_bytes")}
	if s.Codec == "" {
		s.Codec = CodecLine
	}
	if !c.Has("delimiter") {
		s.Delimiter = "\n"
	}
	if s.Delimiter == "" {
		ds.Errorf([]string{"delimiter"}, "delimiter is empty: give the text that ends a line, such as \"\\n\"")
	}
	if !c.Has("max_line_bytes") {
		s.MaxLineBytes = DefaultMaxLineBytes
	} else if s.MaxLineBytes < 1 {
		ds.Errorf([]string{"max_line_bytes"}, "max_line_bytes must be at least 1, not %d", s.MaxLineBytes)
	}
	switch {
	case s.Codec == CodecMultiline && !c.Has("multiline"):
		ds.Errorf([]string{"codec"}, "codec = \"multiline\" needs its rules: add multiline = { pattern = \"^\\\\s\", what = \"previous\" }")
	case s.Codec == CodecMultiline:
		ml, mds := ParseMultiline("multiline", c.Raw("multiline"))
		ds = append(ds, mds...)
		s.Multiline = ml
	case c.Has("multiline"):
		ds = append(ds, sdk.Diagnostic{Warning: true, Path: []string{"multiline"},
			Summary: "multiline is used by the multiline codec only", Detail: `set codec = "multiline" to join lines`})
	}
	return s, ds
}

// NewSplitter returns a Splitter for these settings.
func (s *Settings) NewSplitter() *Splitter { return NewSplitter(s.Delimiter, s.MaxLineBytes) }

// NewDecoder returns a Decoder for one stream.
func (s *Settings) NewDecoder() *Decoder {
	d := &Decoder{json: s.Codec == CodecJSON || s.Codec == CodecJSONLines}
	if s.Codec == CodecMultiline && s.Multiline != nil {
		d.ml = NewJoiner(s.Multiline)
	}
	return d
}

// Record is an event and the stream bytes it came from.
type Record struct {
	Event      *sdk.Event
	Start, End int64
}

// Decoder makes events of one stream's lines. Not safe for concurrent
// use.
type Decoder struct {
	json  bool
	ml    *Joiner
	vals  sdk.Values
	free  []*sdk.Event // handed back by Reuse
	raw   *rawJSON     // the json codecs' fast path
	plain rawText      // the plain and line codecs'
}

// Reuse hands events back once Publish is done with them (it encodes a
// batch before it returns): the decoder fills them again for later
// lines instead of making an event and a map per line. The caller must
// not touch them afterwards. JSON decoders make their events elsewhere
// and keep none.
func (d *Decoder) Reuse(events []*sdk.Event) {
	if d.json {
		return
	}
	d.free = append(d.free, events...)
	d.plain.back(events)
}

// Decode makes the events of one line, read at now (ns since the epoch),
// appending them to dst. A line may make none yet (a multiline event
// still open), one, or several (a JSON array).
func (d *Decoder) Decode(l Line, now int64, dst []Record) []Record {
	if d.ml != nil {
		if j, ok := d.ml.Push(l, now); ok {
			dst = append(dst, d.joined(j))
		}
		return dst
	}
	if d.json {
		if isBlank(l.Data) {
			return dst // nothing to decode, nothing lost
		}
		if d.raw == nil {
			d.raw = &rawJSON{}
		}
		if e, ok := d.raw.event(l.Data, now); ok {
			if l.Cut {
				e.AddTag(TagLineTooLong)
			}
			return append(dst, Record{Event: e, Start: l.Start, End: l.End})
		}
		var events [1]*sdk.Event
		evs, err := JSONEvents(l.Data, now, &d.vals, events[:0])
		if err != nil {
			evs = append(evs[:0], FailedJSONEvent(Text(l.Data), now, &d.vals))
		}
		for _, e := range evs {
			if l.Cut {
				e.AddTag(TagLineTooLong)
			}
			dst = append(dst, Record{Event: e, Start: l.Start, End: l.End})
		}
		return dst
	}
	e := d.plain.event(d.reused(), Text(l.Data), now)
	if l.Cut {
		e.AddTag(TagLineTooLong)
	}
	return append(dst, Record{Event: e, Start: l.Start, End: l.End})
}

// Flush emits a pending multiline event: at the end of a stream, and
// when the input stops (its lines were read: dropping them loses them
// where the source cannot give them again, as standard input cannot).
func (d *Decoder) Flush(dst []Record) []Record {
	if d.ml != nil {
		if j, ok := d.ml.Flush(); ok {
			dst = append(dst, d.joined(j))
		}
	}
	return dst
}

// Due reports whether a pending multiline event has waited its
// auto_flush_interval at now (ns); DueAt says when it will.
func (d *Decoder) Due(now int64) bool { return d.ml != nil && d.ml.Due(now) }

// DueAt is when a pending multiline event will be due (ns); false when
// none is pending or it never is.
func (d *Decoder) DueAt() (int64, bool) {
	if d.ml == nil {
		return 0, false
	}
	return d.ml.DueAt()
}

// Pending reports whether lines are held for a multiline event.
func (d *Decoder) Pending() bool { return d.ml != nil && d.ml.Pending() }

// Reset drops held lines (the stream started over).
func (d *Decoder) Reset() {
	if d.ml != nil {
		d.ml.Reset()
	}
}

func (d *Decoder) text(msg string, now int64, cut bool) *sdk.Event {
	e := d.reused()
	if e != nil {
		e.Reset()
	} else {
		e = sdk.NewEmptyEvent()
	}
	e.SetTimestampNano(now)
	f := e.Fields()
	f[sdk.FieldVersion] = "1"
	f[sdk.FieldMessage] = d.vals.String(msg)
	if cut {
		e.AddTag(TagLineTooLong)
	}
	return e
}

func (d *Decoder) joined(j Joined) Record {
	e := d.text(Text(j.Text), j.Time, j.Cut)
	if j.Lines > 1 && d.ml.cfg.Tag != "" {
		e.AddTag(d.ml.cfg.Tag)
	}
	if j.MaxLines {
		e.AddTag(TagMaxLinesReached)
	}
	if j.MaxBytes {
		e.AddTag(TagMaxBytesReached)
	}
	return Record{Event: e, Start: j.Start, End: j.End}
}

// reused returns an event handed back by Reuse, or nil.
func (d *Decoder) reused() *sdk.Event {
	n := len(d.free)
	if n == 0 {
		return nil
	}
	e := d.free[n-1]
	d.free[n-1] = nil
	d.free = d.free[:n-1]
	return e
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}
