package codecs

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// splitAll runs a Splitter over r to the end and returns what it made of
// it, the last partial line included.
func splitAll(t *testing.T, s *Splitter, r io.Reader) []Line {
	t.Helper()
	var lines []Line
	for {
		_, err := s.Fill(r, 0)
		for l, ok := s.Next(); ok; l, ok = s.Next() {
			lines = append(lines, l)
		}
		if err == io.EOF {
			if l, ok := s.Flush(); ok {
				lines = append(lines, l)
			}
			return lines
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestSplitter(t *testing.T) {
	type want struct {
		text       string
		start, end int64
		cut        bool
	}
	tests := []struct {
		name  string
		delim string
		max   int
		chunk int
		in    string
		want  []want
	}{
		{"lines and offsets", "\n", 100, 0, "a\nbb\n\nccc\n", []want{{"a", 0, 2, false}, {"bb", 2, 5, false}, {"", 5, 6, false}, {"ccc", 6, 10, false}}},
		{"last line without newline", "\n", 100, 0, "a\nb", []want{{"a", 0, 2, false}, {"b", 2, 3, false}}},
		{"crlf", "\n", 100, 0, "a\r\nb\r\n", []want{{"a", 0, 3, false}, {"b", 3, 6, false}}},
		{"other delimiter keeps cr", "|", 100, 0, "a\r|b|", []want{{"a\r", 0, 3, false}, {"b", 3, 5, false}}},
		{"two-byte delimiter across reads", "||", 100, 3, "ab||cd||e", []want{{"ab", 0, 4, false}, {"cd", 4, 8, false}, {"e", 8, 9, false}}},
		{"exactly max is not cut", "\n", 3, 0, "abc\nabcd\n", []want{{"abc", 0, 4, false}, {"abc", 4, 9, true}}},
		{"long line cut, next line whole", "\n", 4, 2, "0123456789\nok\n", []want{{"0123", 0, 11, true}, {"ok", 11, 14, false}}},
		{"cut long last line without newline", "\n", 4, 0, "0123456789", []want{{"0123", 0, 10, true}}},
		{"cut keeps whole characters", "\n", 4, 0, "abcé\n", []want{{"abc", 0, 6, true}}},
		{"small reads", "\n", 100, 1, "one\ntwo\n", []want{{"one", 0, 4, false}, {"two", 4, 8, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSplitter(tt.delim, tt.max)
			if tt.chunk > 0 {
				s.ChunkSize = tt.chunk
			}
			got := splitAll(t, s, strings.NewReader(tt.in))
			if len(got) != len(tt.want) {
				t.Fatalf("got %d lines %+v, want %d", len(got), got, len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if string(g.Data) != w.text || g.Start != w.start || g.End != w.end || g.Cut != w.cut {
					t.Errorf("line %d = {%q %d %d cut=%v}, want {%q %d %d cut=%v}", i, g.Data, g.Start, g.End, g.Cut, w.text, w.start, w.end, w.cut)
				}
			}
		})
	}
}

// A 10 MiB line is cut to the maximum without the Splitter ever holding
// much more than that, and the lines around it arrive whole.
func TestSplitterHugeLine(t *testing.T) {
	huge := bytes.Repeat([]byte("x"), 10<<20)
	in := io.MultiReader(strings.NewReader("before\n"), bytes.NewReader(huge), strings.NewReader("\nafter\n"))
	s := NewSplitter("\n", 1<<20)
	var lines []Line
	maxBuffered := 0
	for {
		_, err := s.Fill(in, 0)
		maxBuffered = max(maxBuffered, s.Buffered())
		for l, ok := s.Next(); ok; l, ok = s.Next() {
			lines = append(lines, l)
		}
		if err == io.EOF {
			break
		}
	}
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3", len(lines))
	}
	if string(lines[0].Data) != "before" || string(lines[2].Data) != "after" {
		t.Errorf("neighbours of the long line: %q, %q", lines[0].Data, lines[2].Data)
	}
	if l := lines[1]; len(l.Data) != 1<<20 || !l.Cut || l.Start != 7 || l.End != 7+10<<20+1 {
		t.Errorf("long line: %d bytes, cut=%v, [%d,%d)", len(l.Data), l.Cut, l.Start, l.End)
	}
	if maxBuffered > 1<<20+DefaultChunkSize {
		t.Errorf("buffered up to %d bytes for a 10 MiB line", maxBuffered)
	}
}

// Lines handed out stay intact while the Splitter goes on reading: events
// alias them.
func TestSplitterLinesStayValid(t *testing.T) {
	s := NewSplitter("\n", 100)
	s.ChunkSize = 8
	var lines []Line
	r := iotest.HalfReader(strings.NewReader("alpha\nbravo\ncharlie\ndelta\n"))
	lines = splitAll(t, s, r)
	var got []string
	for _, l := range lines {
		got = append(got, string(l.Data))
	}
	if strings.Join(got, ",") != "alpha,bravo,charlie,delta" {
		t.Errorf("got %q", got)
	}
}

// In a tailed file a line can be half written: it stays buffered until
// its end arrives, and Offset says where to resume if it is lost.
func TestSplitterPartialLine(t *testing.T) {
	s := NewSplitter("\n", 100)
	s.Fill(strings.NewReader("done\nhal"), 0)
	l, ok := s.Next()
	if !ok || string(l.Data) != "done" {
		t.Fatalf("first line: %q %v", l.Data, ok)
	}
	if _, ok := s.Next(); ok {
		t.Fatal("a half-written line came out")
	}
	if s.Offset() != 5 || s.ReadOffset() != 8 {
		t.Errorf("offset %d, read offset %d; want 5, 8", s.Offset(), s.ReadOffset())
	}
	s.Fill(strings.NewReader("f\n"), 0)
	l, ok = s.Next()
	if !ok || string(l.Data) != "half" || l.Start != 5 || l.End != 10 {
		t.Errorf("completed line: %q [%d,%d) %v", l.Data, l.Start, l.End, ok)
	}
}

func TestText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"caf\xc3\xa9", "café"},
		{"bad \xff byte", "bad \uFFFD byte"},
		{"cut \xc3", "cut \uFFFD"},
		{"two bad \xff\xfe", "two bad \uFFFD\uFFFD"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Text([]byte(tt.in)); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func BenchmarkSplitter(b *testing.B) {
	line := `83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /presentations/logstash-monitorama-2013/images/kibana-search.png HTTP/1.1" 200 203023 "http://semicomplete.com/presentations/logstash-monitorama-2013/" "Mozilla/5.0"` + "\n"
	data := []byte(strings.Repeat(line, 10000))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		s := NewSplitter("\n", 1<<20)
		r := bytes.NewReader(data)
		for {
			_, err := s.Fill(r, 0)
			for _, ok := s.Next(); ok; _, ok = s.Next() {
			}
			if err == io.EOF {
				break
			}
		}
	}
}
