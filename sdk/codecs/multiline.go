package codecs

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gostash/gostash/sdk"
)

// Multiline settings, as Logstash's multiline codec names them.
type MultilineConfig struct {
	// Pattern is matched against each line; Negate inverts the match.
	Pattern *regexp.Regexp
	Negate  bool
	// Next is what = "next": a matching line belongs with the line after
	// it. Otherwise (what = "previous") it belongs with the line before.
	Next bool
	// An event holds at most MaxLines lines and about MaxBytes bytes; one
	// cut short is tagged multiline_codec_max_lines_reached or
	// multiline_codec_max_bytes_reached.
	MaxLines, MaxBytes int
	// AutoFlush emits a pending event after this long without a new line
	// (0: never, as Logstash's default).
	AutoFlush time.Duration
	// Tag is added to events made of more than one line.
	Tag string
}

// Multiline defaults.
const (
	DefaultMultilineMaxLines  = 500
	DefaultMultilineMaxBytes  = 10 << 20
	DefaultMultilineAutoFlush = 5 * time.Second
)

// ParseMultiline reads the `multiline` setting: a map with pattern, what,
// negate, max_lines, max_bytes, auto_flush_interval and multiline_tag.
// Diagnostics point at the setting's keys under name.
func ParseMultiline(name string, v any) (*MultilineConfig, sdk.Diagnostics) {
	var ds sdk.Diagnostics
	m, ok := v.(map[string]any)
	if !ok {
		ds.Errorf([]string{name}, "%s must be a map, such as { pattern = \"^\\\\s\", what = \"previous\" }", name)
		return nil, ds
	}
	cfg := &MultilineConfig{MaxLines: DefaultMultilineMaxLines, MaxBytes: DefaultMultilineMaxBytes, AutoFlush: DefaultMultilineAutoFlush, Tag: "multiline"}
	path := func(k string) []string { return []string{name, k} }
	known := map[string]bool{"pattern": true, "what": true, "negate": true, "max_lines": true, "max_bytes": true, "auto_flush_interval": true, "multiline_tag": true}
	for _, k := range sdk.SortedKeys(m) {
		if !known[k] {
			ds.Errorf(path(k), "unknown %s setting %q: use pattern, what, negate, max_lines, max_bytes, auto_flush_interval or multiline_tag", name, k)
		}
	}
	pattern, _ := m["pattern"].(string)
	switch {
	case pattern == "":
		ds.Errorf(path("pattern"), "%s needs a pattern: the regular expression that tells which lines belong together", name)
	case strings.Contains(pattern, "%{"):
		ds.Errorf(path("pattern"), "grok references such as %%{TIMESTAMP_ISO8601} are not supported here yet: write the regular expression itself")
	default:
		re, err := regexp.Compile(pattern)
		if err != nil {
			ds.Errorf(path("pattern"), "pattern does not compile: %v", err)
		}
		cfg.Pattern = re
	}
	switch what, _ := m["what"].(string); what {
	case "previous":
	case "next":
		cfg.Next = true
	default:
		ds.Errorf(path("what"), "what must be \"previous\" (a matching line belongs with the one before) or \"next\" (with the one after), not %q", what)
	}
	if x, ok := m["negate"]; ok {
		b, isBool := x.(bool)
		if !isBool {
			ds.Errorf(path("negate"), "negate must be true or false")
		}
		cfg.Negate = b
	}
	if x, ok := m["max_lines"]; ok {
		n, isNum := number(x)
		if !isNum || n < 1 {
			ds.Errorf(path("max_lines"), "max_lines must be a whole number of 1 or more")
		}
		cfg.MaxLines = int(n)
	}
	if x, ok := m["max_bytes"]; ok {
		n, err := ParseBytes(x)
		if err != nil || n < 1 {
			ds.Errorf(path("max_bytes"), "max_bytes must be a size such as 10485760 or \"10 MiB\"")
		}
		cfg.MaxBytes = int(n)
	}
	if x, ok := m["auto_flush_interval"]; ok {
		d, err := parseInterval(x)
		if err != nil {
			ds.Errorf(path("auto_flush_interval"), "auto_flush_interval must be a duration such as \"2s\" (or a number of seconds); \"0s\" turns it off")
		}
		cfg.AutoFlush = d
	}
	if x, ok := m["multiline_tag"]; ok {
		s, isStr := x.(string)
		if !isStr {
			ds.Errorf(path("multiline_tag"), "multiline_tag must be a string")
		}
		cfg.Tag = s
	}
	if ds.HasErrors() {
		return nil, ds
	}
	return cfg, ds
}

func number(x any) (float64, bool) {
	switch n := x.(type) {
	case float64:
		return n, n == float64(int64(n))
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

func parseInterval(x any) (time.Duration, error) {
	if n, ok := x.(float64); ok { // seconds, as Logstash writes it
		return time.Duration(n * float64(time.Second)), nil
	}
	if n, ok := number(x); ok {
		return time.Duration(n) * time.Second, nil
	}
	s, _ := x.(string)
	d, err := time.ParseDuration(s)
	if err == nil && d < 0 {
		err = fmt.Errorf("negative")
	}
	return d, err
}

// ParseBytes reads a size: a number of bytes, or a string such as
// "10 MiB", "512kb" or "1048576" (units as Logstash's bytes settings:
// k, m, g with b, kib, mib, gib, all powers of 1024).
func ParseBytes(x any) (int64, error) {
	if n, ok := number(x); ok {
		return int64(n), nil
	}
	s, ok := x.(string)
	if !ok {
		return 0, fmt.Errorf("not a size")
	}
	s = strings.TrimSpace(strings.ToLower(s))
	i := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsDigit(r) && r != '.' })
	num, unit := s, ""
	if i >= 0 {
		num, unit = s[:i], strings.TrimSpace(s[i:])
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, err
	}
	mult := map[string]float64{"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("unknown unit %q", unit)
	}
	return int64(f * mult), nil
}

// Joiner joins lines into events. Lines go in with Push; an event comes
// out when a line shows the one before was complete, when Flush is
// called, or, with AutoFlush, once Due says the buffer has been quiet.
type Joiner struct {
	cfg   *MultilineConfig
	lines [][]byte
	size  int
	start int64 // offset of the first buffered line
	end   int64 // offset after the last buffered line
	cut   bool  // a buffered line was cut (max_line_bytes)
	first int64 // when the first buffered line was read (the event's time)
	last  int64 // when the last line was read
}

// NewJoiner returns an empty joiner.
func NewJoiner(cfg *MultilineConfig) *Joiner { return &Joiner{cfg: cfg} }

// Joined is a complete multiline event's text and where it came from.
type Joined struct {
	Text       []byte
	Start, End int64
	Time       int64 // when its first line was read
	Lines      int
	Cut        bool // a line of it was cut (max_line_bytes)
	MaxLines   bool // cut short by max_lines
	MaxBytes   bool // cut short by max_bytes
}

// Push adds a line read at now (ns). It returns the event the line
// completed, if any: with what = "previous", the one before it; with
// "next", the one it ends.
func (m *Joiner) Push(l Line, now int64) (Joined, bool) {
	matched := m.cfg.Pattern.Match(l.Data) != m.cfg.Negate
	var out Joined
	var ok bool
	if m.cfg.Next {
		m.add(l, now)
		if !matched || m.full() {
			out, ok = m.take(matched)
		}
		return out, ok
	}
	if len(m.lines) > 0 && (!matched || m.full()) {
		out, ok = m.take(matched)
	}
	m.add(l, now)
	return out, ok
}

func (m *Joiner) full() bool {
	return len(m.lines) >= m.cfg.MaxLines || m.size >= m.cfg.MaxBytes
}

func (m *Joiner) add(l Line, now int64) {
	if len(m.lines) == 0 {
		m.start, m.first, m.size, m.cut = l.Start, now, 0, false
	} else {
		m.size++ // the "\n" joining it
	}
	m.lines = append(m.lines, l.Data)
	m.size += len(l.Data)
	m.end = l.End
	m.cut = m.cut || l.Cut
	m.last = now
}

// Pending reports whether lines are buffered.
func (m *Joiner) Pending() bool { return len(m.lines) > 0 }

// Due reports whether the buffered lines have waited AutoFlush without a
// new one, at now (ns).
func (m *Joiner) Due(now int64) bool {
	return m.cfg.AutoFlush > 0 && len(m.lines) > 0 && now-m.last >= int64(m.cfg.AutoFlush)
}

// DueAt is when the buffer will be due (ns), and false when it never is.
func (m *Joiner) DueAt() (int64, bool) {
	if m.cfg.AutoFlush <= 0 || len(m.lines) == 0 {
		return 0, false
	}
	return m.last + int64(m.cfg.AutoFlush), true
}

// Flush returns the buffered lines as an event, if any.
func (m *Joiner) Flush() (Joined, bool) {
	if len(m.lines) == 0 {
		return Joined{}, false
	}
	return m.take(false)
}

// Reset drops the buffered lines (their file was truncated).
func (m *Joiner) Reset() { clear(m.lines); m.lines = m.lines[:0] }

// take empties the buffer into an event; short says a limit, not a line,
// ended it.
func (m *Joiner) take(short bool) (Joined, bool) {
	j := Joined{Start: m.start, End: m.end, Time: m.first, Lines: len(m.lines), Cut: m.cut}
	if short {
		j.MaxLines = len(m.lines) >= m.cfg.MaxLines
		j.MaxBytes = m.size >= m.cfg.MaxBytes
	}
	if len(m.lines) == 1 {
		j.Text = m.lines[0]
	} else {
		text := make([]byte, 0, m.size)
		for i, l := range m.lines {
			if i > 0 {
				text = append(text, '\n')
			}
			text = append(text, l...)
		}
		j.Text = text
	}
	m.Reset()
	return j, true
}
