package codecs

import (
	"bytes"
	"io"
	"unicode/utf8"
)

// Line is one line of a stream, delimiter removed.
type Line struct {
	// Data is the line's bytes. A Splitter never writes over memory it
	// has handed out, so Data (and strings aliasing it) stays valid.
	Data []byte
	// Start is the stream offset of the line's first byte; End is the
	// offset just past its delimiter: where to resume once the line is
	// delivered.
	Start, End int64
	// Cut is set when the line was longer than the Splitter's maximum:
	// Data holds its first bytes, the rest was skipped.
	Cut bool
}

// DefaultChunkSize is how much a Splitter reads at once.
const DefaultChunkSize = 256 << 10

// Splitter cuts a byte stream into lines: read with Fill, take lines with
// Next. It reads in large chunks and splits with bytes.IndexByte, and it
// never reuses a buffer it handed lines out of, so a line's bytes can be
// kept (as an event's message) without a copy.
//
// A line longer than the maximum is cut: Next returns its first bytes,
// tagged Cut, once the line's end is found, and the rest is skipped
// without being buffered, so a 10 GiB line costs no more memory than a
// 1 MiB one.
type Splitter struct {
	delim []byte
	max   int
	crlf  bool // delimiter "\n": a trailing "\r" is dropped too
	// ChunkSize is how much Fill reads at most; it defaults to
	// DefaultChunkSize.
	ChunkSize int

	buf []byte // buf[r:] holds bytes read and not yet handed out
	r   int
	off int64 // stream offset of buf[r]

	// An overlong line being skipped: its first max bytes and where it
	// started.
	skipping  bool
	long      []byte
	longStart int64
}

// NewSplitter returns a Splitter for lines ending with delim ("\n" when
// empty), cutting lines longer than max bytes (1 MiB when max < 1).
func NewSplitter(delim string, max int) *Splitter {
	if delim == "" {
		delim = "\n"
	}
	if max < 1 {
		max = DefaultMaxLineBytes
	}
	return &Splitter{delim: []byte(delim), max: max, crlf: delim == "\n", ChunkSize: DefaultChunkSize}
}

// Reset drops what is buffered: the next bytes read are at stream offset
// off (after a seek, or when a file was truncated).
func (s *Splitter) Reset(off int64) {
	s.buf, s.r, s.off = nil, 0, off
	s.skipping, s.long = false, nil
}

// Offset is the stream offset of the first byte not yet handed out in a
// line: where a reader would resume if everything buffered were lost.
func (s *Splitter) Offset() int64 {
	if s.skipping {
		return s.longStart
	}
	return s.off
}

// ReadOffset is the stream offset of the next byte Fill reads.
func (s *Splitter) ReadOffset() int64 { return s.off + int64(len(s.buf)-s.r) }

// Buffered reports how many bytes are read and not yet handed out.
func (s *Splitter) Buffered() int { return len(s.buf) - s.r }

// Fill reads once from r, keeping the bytes not yet handed out. want hints
// how many bytes are waiting (a file's size minus the read offset); 0
// means unknown. It returns what r.Read returned.
func (s *Splitter) Fill(r io.Reader, want int) (int, error) {
	chunk := s.ChunkSize
	if chunk <= 0 {
		chunk = DefaultChunkSize
	}
	size := chunk
	if want > 0 && want < chunk {
		size = max(want+1, 4096) // +1 so a read at the end sees EOF at once
	}
	pending := s.buf[s.r:]
	nb := make([]byte, len(pending)+size)
	copy(nb, pending)
	n, err := r.Read(nb[len(pending):])
	if n < 0 {
		n = 0
	}
	s.buf, s.r = nb[:len(pending)+n], 0
	return n, err
}

// Next returns the next whole line, or false when the buffer holds no
// more (Fill, then try again).
func (s *Splitter) Next() (Line, bool) {
	for {
		data := s.buf[s.r:]
		if s.skipping {
			i := bytes.Index(data, s.delim)
			if i < 0 {
				// Skip all but what could be the start of a delimiter.
				drop := max(len(data)-(len(s.delim)-1), 0)
				s.advance(drop)
				s.release()
				return Line{}, false
			}
			end := s.off + int64(i+len(s.delim))
			l := Line{Data: s.long, Start: s.longStart, End: end, Cut: true}
			s.advance(i + len(s.delim))
			s.skipping, s.long = false, nil
			return l, true
		}
		window := data
		if limit := s.max + len(s.delim); len(window) > limit {
			window = window[:limit]
		}
		var i int
		if len(s.delim) == 1 {
			i = bytes.IndexByte(window, s.delim[0])
		} else {
			i = bytes.Index(window, s.delim)
		}
		if i >= 0 {
			line := data[:i:i]
			if s.crlf && i > 0 && line[i-1] == '\r' {
				line = line[: i-1 : i-1]
			}
			l := Line{Data: line, Start: s.off, End: s.off + int64(i+len(s.delim))}
			s.advance(i + len(s.delim))
			return l, true
		}
		if len(data) < s.max+len(s.delim) {
			s.release()
			return Line{}, false
		}
		// No delimiter starts within the first max bytes: keep those,
		// skip to the end of the line.
		s.long = cutAtRune(data[:s.max:s.max])
		s.longStart = s.off
		s.skipping = true
		s.advance(s.max)
	}
}

// Flush returns the bytes after the last delimiter as a line: the last
// line of a stream that ended without one. It returns false when there
// are none.
func (s *Splitter) Flush() (Line, bool) {
	if s.skipping {
		end := s.ReadOffset()
		l := Line{Data: s.long, Start: s.longStart, End: end, Cut: true}
		s.Reset(end)
		return l, true
	}
	data := s.buf[s.r:]
	if len(data) == 0 {
		return Line{}, false
	}
	line := data[:len(data):len(data)]
	if s.crlf && line[len(line)-1] == '\r' {
		line = line[: len(line)-1 : len(line)-1]
	}
	l := Line{Data: line, Start: s.off, End: s.off + int64(len(data))}
	s.Reset(l.End)
	return l, true
}

func (s *Splitter) advance(n int) {
	s.r += n
	s.off += int64(n)
}

// release lets go of a buffer whose lines are all handed out, and moves a
// short partial line out of a large buffer, so an idle stream does not
// pin a whole chunk.
func (s *Splitter) release() {
	pending := len(s.buf) - s.r
	switch {
	case pending == 0:
		s.buf, s.r = nil, 0
	case cap(s.buf) > 4*pending+4096:
		s.buf, s.r = append([]byte(nil), s.buf[s.r:]...), 0
	}
}

// cutAtRune drops an incomplete UTF-8 sequence at the end of b, so a cut
// does not leave half a character.
func cutAtRune(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i:i]
			}
			break
		}
	}
	return b
}
