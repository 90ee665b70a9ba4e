package config

import (
	"bytes"
	"sort"

	"github.com/hashicorp/hcl/v2"
)

// Logstash writes sprintf references as %{...} ("%{[host][name]}",
// "logs-%{+YYYY.MM.dd}", "%{COMBINEDAPACHELOG}"), which HCL reads as a
// template directive and rejects. Before HCL parses a file, escapeTemplates
// turns every %{ inside a quoted string or heredoc into HCL's escape %%{, so
// HCL hands the plugin the literal %{...} the user wrote. Comments and code
// are left alone, as is an existing %%{ (HCL's own escape) and ${...}
// (interpolation keeps HCL's meaning).
//
// The scan is our own rather than HCL's lexer on purpose: after an escaped
// %{ the text is literal string content, while HCL's lexer would read an
// expression up to the next }. With an unbalanced "100%{" the lexer loses
// track of where strings end; this scanner does not.
//
// Each insertion shifts later bytes by one, and later columns on the same
// line. Lines never change. The returned shifts map positions in the
// escaped text back to the original, so every diagnostic and range the
// package hands out is in the user's coordinates (see source.fixPos).

// escapeTemplates returns src with %{ escaped in string literals and
// heredocs, and the offsets in the original src where a % was inserted
// (ascending). It returns src itself when there is nothing to escape.
func escapeTemplates(src []byte) ([]byte, []int) {
	if !bytes.Contains(src, []byte("%{")) {
		return src, nil
	}
	s := scanner{src: src}
	s.code(false)
	if len(s.at) == 0 {
		return src, nil
	}
	out := make([]byte, 0, len(src)+len(s.at))
	prev := 0
	for _, at := range s.at {
		out = append(out, src[prev:at]...)
		out = append(out, '%')
		prev = at
	}
	out = append(out, src[prev:]...)
	return out, s.at
}

// scanner walks HCL source just far enough to know whether a byte is in
// code, a comment, a quoted string or a heredoc. Invalid input is never an
// error here: HCL reports it after the scan, with better messages.
type scanner struct {
	src []byte
	i   int
	at  []int // offsets of %{ in templates
}

func (s *scanner) peek(prefix string) bool {
	return bytes.HasPrefix(s.src[s.i:], []byte(prefix))
}

// code scans expressions and structure. Inside an interpolation it stops
// after the } that closes it.
func (s *scanner) code(interp bool) {
	depth := 0
	for s.i < len(s.src) {
		switch c := s.src[s.i]; {
		case c == '#' || s.peek("//"):
			s.skipLine()
		case s.peek("/*"):
			if end := bytes.Index(s.src[s.i+2:], []byte("*/")); end >= 0 {
				s.i += 2 + end + 2
			} else {
				s.i = len(s.src)
			}
		case c == '"':
			s.i++
			s.quoted()
		case s.peek("<<"):
			s.heredoc()
		case c == '{':
			depth++
			s.i++
		case c == '}':
			s.i++
			if interp {
				if depth == 0 {
					return
				}
			}
			depth--
		case c == '\n' && interp:
			// HCL does not let an interpolation in a quoted string span
			// lines; give up on it so a typo cannot swallow the file.
			return
		default:
			s.i++
		}
	}
}

func (s *scanner) skipLine() {
	if nl := bytes.IndexByte(s.src[s.i:], '\n'); nl >= 0 {
		s.i += nl
	} else {
		s.i = len(s.src)
	}
}

// template handles what quoted strings and heredocs share, at s.i. It
// reports whether it consumed anything.
func (s *scanner) template() bool {
	switch {
	case s.peek("$${"), s.peek("%%{"):
		s.i += 3 // HCL's escapes: already literal
	case s.peek("${"):
		s.i += 2
		s.code(true)
	case s.peek("%{"):
		s.at = append(s.at, s.i)
		s.i += 2
	default:
		return false
	}
	return true
}

// quoted scans a "..." string after its opening quote.
func (s *scanner) quoted() {
	for s.i < len(s.src) {
		if s.template() {
			continue
		}
		switch s.src[s.i] {
		case '\\':
			s.i += 2
		case '"':
			s.i++
			return
		case '\n':
			return // HCL reports the unterminated string
		default:
			s.i++
		}
	}
}

// heredoc scans <<EOT or <<-EOT up to its closing marker. Anything else
// starting with << is left to HCL.
func (s *scanner) heredoc() {
	j := s.i + 2
	if j < len(s.src) && s.src[j] == '-' {
		j++
	}
	start := j
	for j < len(s.src) && isIdentByte(s.src[j]) {
		j++
	}
	marker := s.src[start:j]
	if j < len(s.src) && s.src[j] == '\r' {
		j++
	}
	if len(marker) == 0 || j >= len(s.src) || s.src[j] != '\n' {
		s.i += 2
		return
	}
	s.i = j + 1
	for s.i < len(s.src) {
		// At the start of a line: is it the closing marker?
		line := s.src[s.i:]
		if nl := bytes.IndexByte(line, '\n'); nl >= 0 {
			line = line[:nl]
		}
		if bytes.Equal(bytes.TrimSpace(line), marker) {
			s.i += len(line)
			return
		}
		for s.i < len(s.src) && s.src[s.i] != '\n' {
			if !s.template() {
				s.i++
			}
		}
		s.i++
	}
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// source is one configuration file or the inline text: its original bytes
// for snippets, and where escaping inserted bytes.
type source struct {
	name string
	orig []byte
	// ins are the offsets in the escaped text of the inserted %, and
	// insLine their lines; both ascending.
	ins     []int
	insLine []int
}

func newSource(name string, orig []byte, at []int) *source {
	src := &source{name: name, orig: orig}
	line, prev := 1, 0
	for n, o := range at {
		line += bytes.Count(orig[prev:o], []byte{'\n'})
		prev = o
		src.ins = append(src.ins, o+n) // the n earlier insertions moved it
		src.insLine = append(src.insLine, line)
	}
	return src
}

// fixPos maps a position in the escaped text to the original text.
func (s *source) fixPos(p hcl.Pos) hcl.Pos {
	// Insertions strictly before p.Byte moved p; one at p.Byte is the
	// inserted % itself, which maps to the original % that follows it.
	k := sort.SearchInts(s.ins, p.Byte)
	p.Byte -= k
	for j := k - 1; j >= 0 && s.insLine[j] == p.Line; j-- {
		p.Column--
	}
	return p
}

func (s *source) fixRange(r hcl.Range) hcl.Range {
	if len(s.ins) == 0 || r.Filename != s.name {
		return r
	}
	r.Start = s.fixPos(r.Start)
	r.End = s.fixPos(r.End)
	return r
}
