// Package stdin is the stdin input: it reads events from the pipeline's
// standard input, one line each, as Logstash's stdin input does.
package stdin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gostash/gostash/sdk"
)

var spec = sdk.NewSpec("Reads events from standard input, one line each.").
	ReadsStdin().
	Field(sdk.String("codec").Default("line").OneOf("line", "json_lines").
		Doc("How a line becomes an event: `line` (the line is the message) or `json_lines` (the line is a JSON object whose keys become fields).")).
	Field(sdk.Int("max_line_bytes").Default(1 << 20).
		Doc("Longer lines are cut to this many bytes and tagged `_linetoolong`; the rest of the line is skipped.")).
	Field(sdk.String("ecs_compatibility").Default("v8").OneOf("disabled", "v1", "v8").
		Doc("Where the host name goes: `[host][hostname]` (v1, v8) or `host` (disabled). With `line`, v1 and v8 also keep the line in `[event][original]`."))

func init() {
	sdk.RegisterInput("stdin", spec, New).WithValidate(func(c *sdk.Config) sdk.Diagnostics {
		var ds sdk.Diagnostics
		if n := c.Int("max_line_bytes"); n < 1 {
			ds.Errorf([]string{"max_line_bytes"}, "max_line_bytes must be at least 1, not %d", n)
		}
		return ds
	})
}

// Failure tags, as Logstash names them.
const (
	TagJSONParseFailure = "_jsonparsefailure"
	TagLineTooLong      = "_linetoolong"
	TagTimestampFailure = "_timestampparsefailure"
)

// Input is the stdin input.
type Input struct {
	json    bool
	maxLine int
	ecs     bool
	host    string
	batch   int
	logger  sdk.Logger
	warned  bool // about a cut line; read by the reader goroutine only
}

// stdin is what the input reads: the pipeline's standard input. Tests
// swap it.
var stdin = sdk.Stdin

// New builds a stdin input from its settings.
func New(_ context.Context, c *sdk.Config, env sdk.Env) (sdk.Input, error) {
	in := &Input{
		json:    c.String("codec") == "json_lines",
		maxLine: c.Int("max_line_bytes"),
		ecs:     c.String("ecs_compatibility") != "disabled",
		batch:   env.BatchSize,
		logger:  env.Logger,
	}
	if in.maxLine < 1 {
		in.maxLine = 1 << 20
	}
	if in.batch <= 0 {
		in.batch = sdk.DefaultBatchSize
	}
	in.host, _ = os.Hostname()
	return in, nil
}

// Run reads lines until standard input ends (it returns nil then) or ctx
// is cancelled. Lines are published in batches: a batch goes out when it
// is full or when no more input is waiting, so a line typed at a
// terminal is an event at once, and a piped file fills whole batches.
//
// Reading happens in its own goroutine, because a read from a terminal or
// a pipe cannot be interrupted: when ctx is cancelled, Run returns and
// the reader stays blocked until the next line or the end of the process.
func (in *Input) Run(ctx context.Context, p sdk.Publisher) error {
	batches := make(chan []*sdk.Event, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- in.read(ctx, stdin(), batches)
		close(batches)
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case batch, ok := <-batches:
			if !ok {
				return <-errc
			}
			if err := p.Publish(ctx, batch, nil); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		}
	}
}

// read turns lines into events and sends them in batches.
func (in *Input) read(ctx context.Context, r io.Reader, out chan<- []*sdk.Event) error {
	br := bufio.NewReaderSize(r, 64<<10)
	batch := make([]*sdk.Event, 0, in.batch)
	send := func() bool {
		select {
		case out <- batch:
			batch = make([]*sdk.Event, 0, in.batch)
			return true
		case <-ctx.Done():
			return false
		}
	}
	var long []byte // a line longer than the reader's buffer, being joined
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// Keep up to maxLine bytes of the line; skip the rest.
			if room := in.maxLine + 1 - len(long); room > 0 {
				long = append(long, chunk[:min(len(chunk), room)]...)
			}
			continue
		}
		var line []byte
		if long != nil {
			if room := in.maxLine + 1 - len(long); room > 0 {
				long = append(long, chunk[:min(len(chunk), room)]...)
			}
			line, long = long, nil
		} else {
			line = chunk
		}
		if len(line) > 0 {
			// A last line without a newline is a line too.
			batch = append(batch, in.events(line)...)
		}
		if err != nil {
			if len(batch) > 0 && !send() {
				return nil
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read standard input: %w", err)
		}
		if len(batch) >= in.batch || (len(batch) > 0 && br.Buffered() == 0) {
			if !send() {
				return nil
			}
		}
	}
}

var hostname = sdk.MustParseFieldRef("[host][hostname]")

// events makes the event of one line, newline included (or not, for a
// last line or a cut one); a JSON array makes one event per element.
func (in *Input) events(line []byte) []*sdk.Event {
	line = bytes.TrimSuffix(line, []byte{'\n'})
	line = bytes.TrimSuffix(line, []byte{'\r'})
	tooLong := len(line) > in.maxLine
	if tooLong {
		line = line[:in.maxLine]
		// Do not leave half a character at the cut.
		for i := len(line) - 1; i >= 0 && i >= len(line)-utf8.UTFMax; i-- {
			if utf8.RuneStart(line[i]) {
				if !utf8.FullRune(line[i:]) {
					line = line[:i]
				}
				break
			}
		}
	}
	text := toValidUTF8(line)
	var events []*sdk.Event
	if in.json {
		events = jsonEvents(text)
	} else {
		e := sdk.NewEvent(text)
		if in.ecs {
			e.Fields()["event"] = map[string]any{"original": text}
		}
		events = []*sdk.Event{e}
	}
	if tooLong && in.logger != nil {
		if !in.warned {
			in.warned = true
			in.logger.Warn("line longer than max_line_bytes: cut and tagged "+TagLineTooLong+"; further ones are logged at debug level", "max_line_bytes", in.maxLine)
		} else {
			in.logger.Debug("line cut", "max_line_bytes", in.maxLine)
		}
	}
	for _, e := range events {
		if tooLong {
			e.AddTag(TagLineTooLong)
		}
		// The host goes where the event has none, as in Logstash.
		if in.ecs {
			if _, ok := hostname.Get(e); !ok {
				_ = hostname.Set(e, in.host) // fails only when [host] is not a map: keep it
			}
		} else if _, ok := e.Fields()["host"]; !ok {
			e.Fields()["host"] = in.host
		}
	}
	return events
}

// toValidUTF8 keeps the line, replacing each invalid byte sequence with
// U+FFFD, as Logstash's UTF-8 charset handling does.
func toValidUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// jsonEvents makes the events of a JSON line: an object's keys become
// fields, and an array of objects makes one event for each. Anything else
// (not JSON, trailing text, a number) becomes one event whose message is
// the line, tagged _jsonparsefailure, so nothing read is lost.
func jsonEvents(text string) []*sdk.Event {
	d := json.NewDecoder(strings.NewReader(text))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	if err == nil && strings.TrimSpace(text[d.InputOffset():]) != "" {
		err = errors.New("text after the JSON value")
	}
	var objects []map[string]any
	switch t := v.(type) {
	case map[string]any:
		objects = append(objects, t)
	case []any:
		for _, x := range t {
			m, ok := x.(map[string]any)
			if !ok {
				err = errors.New("an array element is not an object")
				break
			}
			objects = append(objects, m)
		}
	default:
		err = errors.New("not an object")
	}
	if err != nil {
		e := sdk.NewEvent(text)
		e.AddTag(TagJSONParseFailure)
		return []*sdk.Event{e}
	}
	events := make([]*sdk.Event, len(objects))
	for i, m := range objects {
		events[i] = objectEvent(m)
	}
	return events
}

func objectEvent(m map[string]any) *sdk.Event {
	e := sdk.NewEvent("")
	for k, v := range m {
		v = jsonValue(v)
		switch k {
		case sdk.FieldTimestamp:
			s, _ := v.(string)
			ts, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				// As Logstash: keep the value aside and say so.
				e.Fields()["_@timestamp"] = v
				e.AddTag(TagTimestampFailure)
				continue
			}
			e.SetTimestamp(ts)
		case sdk.FieldMetadata:
			if mm, ok := v.(map[string]any); ok {
				for mk, mv := range mm {
					e.Metadata()[mk] = mv
				}
			}
		default:
			e.Fields()[k] = v
		}
	}
	return e
}

// jsonValue converts decoded JSON to event values: whole numbers to
// int64, other numbers to float64.
func jsonValue(v any) any {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	case []any:
		for i, x := range t {
			t[i] = jsonValue(x)
		}
	case map[string]any:
		for k, x := range t {
			t[k] = jsonValue(x)
		}
	}
	return v
}
