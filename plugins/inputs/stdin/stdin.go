// Package stdin is the stdin input: it reads events from the pipeline's
// standard input, with the same codecs as the file input (line,
// json_lines, json, multiline), as Logstash's stdin input does.
package stdin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/codecs"
)

var spec = codecs.InputFields(sdk.NewSpec("Reads events from standard input, one line each (or one per multiline event).").
	ReadsStdin().
	Field(sdk.String("ecs_compatibility").Default("v8").OneOf("disabled", "v1", "v8").
		Doc("Where the host name goes: `[host][hostname]` (v1, v8) or `host` (disabled). With `line` and `multiline`, v1 and v8 also keep the text in `[event][original]`.")),
	codecs.CodecLine, codecs.CodecJSONLines, codecs.CodecJSON, codecs.CodecMultiline)

func init() {
	sdk.RegisterInput("stdin", spec, New).WithValidate(func(c *sdk.Config) sdk.Diagnostics {
		_, ds := codecs.ParseSettings(c)
		return ds
	})
}

// Input is the stdin input.
type Input struct {
	codec    *codecs.Settings
	original bool // set [event][original]: a text codec in an ECS mode
	ecs      bool
	host     string
	batch    int
	logger   sdk.Logger
	warned   bool           // about a cut line
	coords   bool           // attach source coordinates (a decorate_events filter asks)
	hostMap  map[string]any // shared [host] (ECS, no add_field); nil: one per event
	// [event] objects of the batch being filled (lent) and of published
	// batches, to fill again (spare): one per line otherwise.
	lent, spare []map[string]any
}

// stdin is what the input reads: the pipeline's standard input. Tests
// swap it.
var stdin = sdk.Stdin

// New builds a stdin input from its settings.
func New(_ context.Context, c *sdk.Config, env sdk.Env) (sdk.Input, error) {
	set, ds := codecs.ParseSettings(c)
	if err := ds.Err(); err != nil {
		return nil, err
	}
	in := &Input{
		codec:  set,
		ecs:    c.String("ecs_compatibility") != "disabled",
		batch:  env.BatchSize,
		logger: env.Logger,
		coords: env.SourceCoordinates,
	}
	in.original = in.ecs && (set.Codec == codecs.CodecLine || set.Codec == codecs.CodecMultiline)
	in.host, _ = os.Hostname()
	if in.ecs && len(c.StringMap("add_field")) == 0 {
		// One [host] object for every event: nothing in this process
		// changes it (add_field could, so it gets its own), and the
		// batch encoder writes an object it has met once by copying.
		in.hostMap = map[string]any{"hostname": in.host}
	}
	return in, nil
}

// chunk is the lines of one read, and how the read ended: err is io.EOF
// (or a read error) on the last chunk, whose lines then include a last
// line without a delimiter.
type chunk struct {
	lines []codecs.Line
	now   int64 // when they were read (ns): the events' time
	err   error
}

// Run reads until standard input ends (it returns nil then) or ctx is
// cancelled; then what was read and not yet published (a pending
// multiline event too) is published before it returns, since standard
// input cannot be read again. Events are published in batches: a batch
// goes out when it is full or when no more input is waiting, so a line
// typed at a terminal is an event at once, and a piped file fills whole
// batches.
//
// Reading and splitting happen in their own goroutine, because a read
// from a terminal or a pipe cannot be interrupted: when ctx is cancelled,
// Run returns and the reader stays blocked until the next line or the
// end of the process. Decoding happens here, so that a multiline event
// whose lines stopped coming is emitted after its quiet interval while
// the read is still blocked.
func (in *Input) Run(ctx context.Context, p sdk.Publisher) error {
	// Two chunks in flight let the reader read ahead while a batch is
	// published, and bound what is buffered when the pipeline is full.
	chunks := make(chan chunk, 2)
	go in.read(ctx, stdin(), chunks)

	dec := in.codec.NewDecoder()
	batch := make([]*sdk.Event, 0, in.batch)
	var recs []codecs.Record
	pubCtx := ctx // once stopping, a context that outlives the stop
	publish := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := p.Publish(pubCtx, batch, nil)
		// Publish encoded the events: the decoder fills them again
		// instead of making an event and a map per line.
		dec.Reuse(batch)
		clear(batch)
		batch = batch[:0]
		in.spare = append(in.spare, in.lent...)
		clear(in.lent)
		in.lent = in.lent[:0]
		return err
	}
	add := func() error {
		for _, r := range recs {
			in.finish(r.Event)
			batch = append(batch, r.Event)
		}
		// A line's events (a JSON array) stay in one batch.
		if len(batch) >= in.batch {
			return publish()
		}
		return nil
	}

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		var due <-chan time.Time
		if at, ok := dec.DueAt(); ok {
			timer.Reset(time.Until(time.Unix(0, at)))
			due = timer.C
		}
		var err error
		select {
		case <-ctx.Done():
			// Lines already read from standard input cannot be read again:
			// those waiting here and those the codec holds (a multiline
			// event) go out before the input ends.
			stopCtx, cancel := codecs.StopContext(ctx, codecs.StopGrace)
			defer cancel()
			pubCtx = stopCtx
			for more := true; more && err == nil; {
				select {
				case c := <-chunks:
					for _, l := range c.lines {
						recs = dec.Decode(l, c.now, recs[:0])
						if err = add(); err != nil {
							break
						}
					}
				default:
					more = false
				}
			}
			if err == nil {
				recs = dec.Flush(recs[:0])
				if err = add(); err == nil {
					err = publish()
				}
			}
			if err != nil && in.logger != nil {
				in.logger.Error("stopping: events read from standard input could not be handed to the pipeline and are lost", "error", err)
			}
			return nil
		case <-due:
			// The multiline event's lines stopped coming: emit it.
			recs = dec.Flush(recs[:0])
			if err = add(); err == nil {
				err = publish()
			}
		case c := <-chunks:
			for _, l := range c.lines {
				if l.Cut {
					in.cut()
				}
				recs = dec.Decode(l, c.now, recs[:0])
				if err = add(); err != nil {
					break
				}
			}
			if err == nil && c.err != nil {
				// End of input: the pending multiline event is complete.
				recs = dec.Flush(recs[:0])
				if err = add(); err == nil {
					err = publish()
				}
				if err == nil {
					if errors.Is(c.err, io.EOF) {
						return nil
					}
					return c.err
				}
			}
			if err == nil && len(chunks) == 0 {
				err = publish() // nothing more waiting: do not hold events back
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// read cuts standard input into lines and sends them a read at a time,
// ending with a chunk that carries io.EOF or the read error.
func (in *Input) read(ctx context.Context, r io.Reader, out chan<- chunk) {
	sp := in.codec.NewSplitter()
	// Read about as much as the last read brought, doubled: a piped file
	// gets large reads, and a line typed at a terminal does not pin a
	// 256 KiB buffer for as long as its event lives. The first read can
	// take what a pipe holds (64 KiB).
	want := 64 << 10
	for {
		n, err := sp.Fill(r, want)
		want = min(max(2*n, 4096), codecs.DefaultChunkSize)
		c := chunk{now: time.Now().UnixNano()}
		for l, ok := sp.Next(); ok; l, ok = sp.Next() {
			c.lines = append(c.lines, l)
		}
		if err != nil {
			// A last line without a delimiter is a line too.
			if l, ok := sp.Flush(); ok {
				c.lines = append(c.lines, l)
			}
			c.err = err
			if !errors.Is(err, io.EOF) {
				c.err = fmt.Errorf("read standard input: %w", err)
			}
		}
		if len(c.lines) == 0 && c.err == nil {
			continue
		}
		select {
		case out <- c: // first, if there is room: a stop publishes it
		default:
			select {
			case out <- c:
			case <-ctx.Done():
				return
			}
		}
		if c.err != nil {
			return
		}
	}
}

var (
	hostname   = sdk.MustParseFieldRef("[host][hostname]")
	hostRef    = sdk.MustParseFieldRef("host")
	eventRef   = sdk.MustParseFieldRef("event")
	messageRef = sdk.MustParseFieldRef(sdk.FieldMessage)
)

// put stores v, which is already normal (the input's [event] and [host]
// objects), where ref holds nothing: Set would walk it to normalize it,
// for every event.
func put(e *sdk.Event, ref sdk.FieldRef, v any) {
	if m, leaf, err := ref.Container(e); err == nil {
		m[leaf] = v
	}
}

// finish adds what the stdin input adds to a decoded event: the host, and
// the text in [event][original].
func (in *Input) finish(e *sdk.Event) {
	if in.coords {
		sdk.SetSource(e, "stdin", map[string]any{"host": in.host})
	}
	// Fields are looked up one by one, not through Fields(): an event
	// of the json codecs keeps the others undecoded (codecs' fast path).
	if in.original {
		if _, ok := eventRef.Get(e); !ok {
			msg, _ := messageRef.Get(e)
			var m map[string]any
			if n := len(in.spare); n > 0 {
				m, in.spare[n-1] = in.spare[n-1], nil
				in.spare = in.spare[:n-1]
				clear(m)
			} else {
				m = make(map[string]any, 1)
			}
			m["original"] = msg
			in.lent = append(in.lent, m)
			put(e, eventRef, m)
		}
	}
	// The host goes where the event has none, as in Logstash.
	if in.ecs {
		if _, ok := hostRef.Get(e); !ok {
			h := in.hostMap
			if h == nil {
				h = map[string]any{"hostname": in.host}
			}
			put(e, hostRef, h)
		} else if _, ok := hostname.Get(e); !ok {
			_ = hostname.Set(e, in.host) // fails only when [host] is not a map: keep it
		}
	} else if _, ok := hostRef.Get(e); !ok {
		_ = hostRef.Set(e, in.host)
	}
}

func (in *Input) cut() {
	if in.logger == nil {
		return
	}
	if !in.warned {
		in.warned = true
		in.logger.Warn("line longer than max_line_bytes: cut and tagged "+codecs.TagLineTooLong+"; further ones are logged at debug level", "max_line_bytes", in.codec.MaxLineBytes)
		return
	}
	in.logger.Debug("line cut", "max_line_bytes", in.codec.MaxLineBytes)
}
