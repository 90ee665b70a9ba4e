package elasticsearch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// scanBulkResponse appends each item's status, and the raw error of an
// item that is not 2xx, from a bulk answer. It replaces encoding/json
// there, which took a fifth of the output's CPU at 125 documents a
// request; it reads only "items" (the rest of the answer is skipped) and
// refuses what is not well-formed JSON.
func scanBulkResponse(b []byte, out []itemResult) ([]itemResult, error) {
	s := scanner{b: b}
	s.ws()
	if err := s.expect('{'); err != nil {
		return out, err
	}
	for first := true; ; first = false {
		s.ws()
		if s.peek() == '}' {
			s.i++
			break
		}
		if !first {
			if err := s.expect(','); err != nil {
				return out, err
			}
			s.ws()
		}
		key, err := s.key()
		if err != nil {
			return out, err
		}
		if key != "items" {
			if _, err := s.skip(0); err != nil {
				return out, err
			}
			continue
		}
		if out, err = s.items(out); err != nil {
			return out, err
		}
	}
	s.ws()
	if s.i != len(s.b) {
		return out, s.fail("text after the answer")
	}
	return out, nil
}

type scanner struct {
	b []byte
	i int
}

func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\n' || s.b[s.i] == '\r' || s.b[s.i] == '\t') {
		s.i++
	}
}

func (s *scanner) fail(what string) error {
	return fmt.Errorf("%s at byte %d", what, s.i)
}

func (s *scanner) expect(c byte) error {
	if s.peek() != c {
		return s.fail(fmt.Sprintf("want %q", c))
	}
	s.i++
	return nil
}

// key reads `"name":`; the name as written (escapes left in: the keys
// read here have none, and a key with one is skipped as unknown).
func (s *scanner) key() (string, error) {
	start := s.i
	if err := s.str(); err != nil {
		return "", err
	}
	k := s.b[start+1 : s.i-1]
	s.ws()
	if err := s.expect(':'); err != nil {
		return "", err
	}
	s.ws()
	switch string(k) { // no allocation: compared, not kept
	case "items":
		return "items", nil
	case "status":
		return "status", nil
	case "error":
		return "error", nil
	}
	return "", nil
}

// str skips a string.
func (s *scanner) str() error {
	if err := s.expect('"'); err != nil {
		return err
	}
	for s.i < len(s.b) {
		if s.i+8 <= len(s.b) {
			// Eight bytes at a time to the first quote, backslash or
			// control byte (the lowest flagged byte is always a real
			// one; quote and backslash lack the top bit, so one &^w
			// serves all three).
			const lo, hi = 0x0101010101010101, 0x8080808080808080
			w := binary.LittleEndian.Uint64(s.b[s.i:])
			stop := ((w ^ lo*'"' - lo) | (w ^ lo*'\\' - lo) | (w - lo*0x20)) &^ w & hi
			if stop == 0 {
				s.i += 8
				continue
			}
			s.i += bits.TrailingZeros64(stop) >> 3
		}
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return nil
		case c == '\\':
			s.i += 2
		case c < 0x20:
			return s.fail("control character in a string")
		default:
			s.i++
		}
	}
	return s.fail("unterminated string")
}

var errDeep = errors.New("the answer nests too deep")

// skip skips one value and returns where it started.
func (s *scanner) skip(depth int) (int, error) {
	if depth > 64 {
		return 0, errDeep
	}
	start := s.i
	switch c := s.peek(); c {
	case '"':
		return start, s.str()
	case '{', '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		s.i++
		for first := true; ; first = false {
			s.ws()
			if s.peek() == end {
				s.i++
				return start, nil
			}
			if !first {
				if err := s.expect(','); err != nil {
					return start, err
				}
				s.ws()
			}
			if c == '{' {
				if _, err := s.key(); err != nil {
					return start, err
				}
			}
			if _, err := s.skip(depth + 1); err != nil {
				return start, err
			}
		}
	case 't', 'f', 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if end := s.i + len(lit); end <= len(s.b) && string(s.b[s.i:end]) == lit {
				s.i += len(lit)
				return start, nil
			}
		}
		return start, s.fail("want a value")
	default: // a number
		for s.i < len(s.b) {
			switch b := s.b[s.i]; {
			case b >= '0' && b <= '9', b == '-', b == '+', b == '.', b == 'e', b == 'E':
				s.i++
				continue
			}
			break
		}
		if s.i == start {
			return start, s.fail("want a value")
		}
		return start, nil
	}
}

// items reads the items array: [{"ACTION":{..."status":N,"error":...}}, ...].
func (s *scanner) items(out []itemResult) ([]itemResult, error) {
	if err := s.expect('['); err != nil {
		return out, err
	}
	for first := true; ; first = false {
		s.ws()
		if s.peek() == ']' {
			s.i++
			return out, nil
		}
		if !first {
			if err := s.expect(','); err != nil {
				return out, err
			}
			s.ws()
		}
		if err := s.expect('{'); err != nil {
			return out, err
		}
		s.ws()
		if _, err := s.key(); err != nil { // the action's name
			return out, err
		}
		r, err := s.itemResult()
		if err != nil {
			return out, err
		}
		out = append(out, r)
		s.ws()
		if err := s.expect('}'); err != nil {
			return out, s.fail("an item holds more than its action")
		}
	}
}

func (s *scanner) itemResult() (itemResult, error) {
	var r itemResult
	if err := s.expect('{'); err != nil {
		return r, err
	}
	for first := true; ; first = false {
		s.ws()
		if s.peek() == '}' {
			s.i++
			return r, nil
		}
		if !first {
			if err := s.expect(','); err != nil {
				return r, err
			}
			s.ws()
		}
		key, err := s.key()
		if err != nil {
			return r, err
		}
		start, err := s.skip(1)
		if err != nil {
			return r, err
		}
		switch key {
		case "status":
			n := 0
			for _, c := range s.b[start:s.i] {
				if c < '0' || c > '9' || n > 1000 {
					return r, s.fail("status is not a number")
				}
				n = n*10 + int(c-'0')
			}
			r.Status = n
		case "error":
			r.Error = s.b[start:s.i]
		}
	}
}
