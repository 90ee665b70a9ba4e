package codecs

import (
	"unsafe"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/host"
)

// rawText is the plain and line codecs' fast path, as rawJSON is the json
// codecs': a line's event is written straight in the form its fields
// cross to the next process (@version "1" and message, Field messages of
// plugin.proto), instead of two stores into the event's map that Publish
// then reads back and encodes. The batch encoder copies both fields in
// one piece; a filter that reads message decodes it then.
//
// The lines are copied into arenas, which are written again once every
// event pointing into them is handed back (Decoder.Reuse, after Publish
// encoded its batch): an input that hands back what it published makes
// no garbage per line.
type rawText struct {
	b       host.RawBuilder
	version []byte // @version's Field message, under the builder's numbers
	message uint32 // message's number
	gen     uint64 // the builder's dictionary: tells the events it made
	cur     *textArena
	// out are earlier arenas with events not yet handed back (at most
	// maxOutArenas: an input that never hands events back leaves them to
	// the garbage collector); spare are arenas free to write again.
	out, spare []*textArena
}

// textArena is room for lines, and how many events point into it.
type textArena struct {
	buf    []byte
	events int
}

const (
	// textArenaSize fits a batch of 500 lines of 250 bytes.
	textArenaSize = 128 << 10
	maxOutArenas  = 8
)

// event makes the event of one line's text (valid UTF-8), read at now,
// in reuse when it is not nil: an event handed back (Decoder.Reuse).
func (r *rawText) event(reuse *sdk.Event, text string, now int64) *sdk.Event {
	if r.b.Rotate() || r.version == nil {
		// Two names never fill a dictionary: this numbers them once.
		r.gen = 0
		v, _ := r.b.Key(sdk.FieldVersion)
		r.message, _ = r.b.Key(sdk.FieldMessage)
		r.version = stringField(nil, wEventField, v, "1")
	}
	a := r.room(len(r.version) + len(text) + 16) // the message's tags and lengths
	start := len(a.buf)
	b := append(a.buf, r.version...)
	b = stringField(b, wEventField, r.message, text)
	a.buf = b
	a.events++
	fields := b[start:len(b):len(b)]
	e := reuse
	if e != nil {
		r.b.Refill(e, now, fields, 2)
	} else {
		e = r.b.Event(now, fields, 2)
	}
	if r.gen == 0 {
		_, r.gen = host.RawDict(e)
	}
	return e
}

// room returns the arena to write need bytes into.
func (r *rawText) room(need int) *textArena {
	if a := r.cur; a != nil && cap(a.buf)-len(a.buf) >= need {
		return a
	}
	if a := r.cur; a != nil {
		if a.events == 0 {
			a.buf = a.buf[:0]
			if cap(a.buf) >= need {
				return a
			}
		} else {
			if len(r.out) == maxOutArenas {
				r.out = append(r.out[:0], r.out[1:]...) // forgotten: its events were never handed back
			}
			r.out = append(r.out, a)
		}
	}
	r.cur = nil
	for i, a := range r.spare {
		if cap(a.buf) >= need {
			r.spare = append(r.spare[:i], r.spare[i+1:]...)
			r.cur = a
			return a
		}
	}
	r.cur = &textArena{buf: make([]byte, 0, max(textArenaSize, need))}
	return r.cur
}

// back counts the events handed back that point into the arenas. An
// event it cannot place (one whose fields were read or replaced, or
// another decoder's: the file input hands a batch of several files'
// events to one of them) is not counted, so an arena is only written
// again once every event in it is surely back.
func (r *rawText) back(events []*sdk.Event) {
	if r.cur == nil {
		return
	}
	for _, e := range events {
		if _, g := host.RawDict(e); g != r.gen {
			continue
		}
		span, _ := host.RawSpan(e)
		if len(span) == 0 {
			continue
		}
		p := uintptr(unsafe.Pointer(unsafe.SliceData(span)))
		if a := r.cur; a.holds(p) {
			a.release()
			continue
		}
		for i, a := range r.out {
			if a.holds(p) {
				if a.release() {
					r.out = append(r.out[:i], r.out[i+1:]...)
					r.spare = append(r.spare, a)
				}
				break
			}
		}
	}
}

// release counts one of a's events back; when it was the last, a is
// empty again and release says so.
func (a *textArena) release() bool {
	if a.events--; a.events > 0 {
		return false
	}
	a.buf = a.buf[:0]
	return true
}

// holds says whether p points into a's room.
func (a *textArena) holds(p uintptr) bool {
	base := uintptr(unsafe.Pointer(unsafe.SliceData(a.buf)))
	return p >= base && p < base+uintptr(cap(a.buf))
}
