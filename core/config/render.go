package config

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	wordwrap "github.com/mitchellh/go-wordwrap"
)

// WriteDiagnostics prints diags for a person:
//
//	pipeline.hcl:7:3: Error: Unknown setting "topicid"
//
//	     7 |   topicid = "logs"
//	       |   ^^^^^^^
//
//	output "kafka" has no setting "topicid". Did you mean "topic_id"?
//
// Diagnostics are printed by file and position, those without a place
// last. Snippets show the source as the user wrote it (before %{
// escaping).
// Color is used only when w is a terminal and NO_COLOR is unset. p may be
// nil; then no source lines are shown.
func WriteDiagnostics(w io.Writer, p *Pipeline, diags hcl.Diagnostics) {
	r := renderer{color: isTerminal(w)}
	if p != nil {
		r.sources = p.sources
	}
	if p != nil {
		diags = p.sorted(diags)
	}
	bw := bufio.NewWriter(w)
	for _, d := range diags {
		r.write(bw, d)
	}
	_ = bw.Flush() // nothing useful to do when stderr is gone
}

const detailWidth = 78

type renderer struct {
	sources map[string]*source
	color   bool
}

func (r *renderer) paint(code, s string) string {
	if !r.color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (r *renderer) write(w *bufio.Writer, d *hcl.Diagnostic) {
	sev, code := "Error", "1;31"
	if d.Severity == hcl.DiagWarning {
		sev, code = "Warning", "1;33"
	}
	// file:line:col first, as compilers print it: editors and grep find it.
	if d.Subject != nil {
		fmt.Fprintf(w, "%s: %s: %s\n\n", posString(*d.Subject), r.paint(code, sev), d.Summary)
		r.snippet(w, "", *d.Subject, code)
	} else {
		fmt.Fprintf(w, "%s: %s\n\n", r.paint(code, sev), d.Summary)
	}
	if d.Detail != "" {
		fmt.Fprintf(w, "%s\n\n", wordwrap.WrapString(d.Detail, detailWidth))
	}
	if rel, ok := d.Extra.(related); ok {
		r.snippet(w, rel.Label, rel.Range, code)
	}
}

// maxSnippetLines bounds a snippet; longer ranges show their first and
// last lines.
const maxSnippetLines = 4

func (r *renderer) snippet(w *bufio.Writer, label string, rng hcl.Range, code string) {
	if label != "" {
		fmt.Fprintf(w, "  %s %s:\n", label, posString(rng))
	}
	src := r.sources[rng.Filename]
	if src == nil {
		w.WriteString("\n")
		return
	}
	lines := bytes.SplitAfter(src.orig, []byte{'\n'})
	first, last := rng.Start.Line, rng.End.Line
	if rng.End.Column == 1 && last > first {
		last-- // a range ending at the start of a line does not cover it
	}
	if first < 1 || first > len(lines) {
		w.WriteString("\n")
		return
	}
	if last > len(lines) {
		last = len(lines)
	}
	gutter := len(fmt.Sprint(last))
	if gutter < 4 {
		gutter = 4
	}
	lineStart := 0
	for i := 1; i < first; i++ {
		lineStart += len(lines[i-1])
	}
	for ln := first; ln <= last; ln++ {
		text := lines[ln-1]
		start, end := lineStart, lineStart+len(text)
		lineStart = end
		if last-first+1 > maxSnippetLines && ln > first+1 && ln < last {
			if ln == first+2 {
				fmt.Fprintf(w, "  %*s |   ...\n", gutter, "")
			}
			continue
		}
		text = bytes.TrimRight(text, "\r\n")
		fmt.Fprintf(w, "  %*d | %s\n", gutter, ln, text)

		// Mark the part of this line inside the range.
		from, to := 0, len(text)
		if ln == first {
			from = clamp(rng.Start.Byte-start, 0, len(text))
		} else {
			from = len(text) - len(bytes.TrimLeft(text, " \t"))
		}
		if ln == rng.End.Line {
			to = clamp(rng.End.Byte-start, 0, len(text))
		}
		if to <= from {
			to = from + 1 // an empty range still gets a mark
		}
		var pad strings.Builder
		for _, c := range string(text[:from]) {
			if c == '\t' {
				pad.WriteByte('\t')
			} else {
				pad.WriteByte(' ')
			}
		}
		n := 1
		if to <= len(text) {
			n = max(1, utf8.RuneCount(text[from:to]))
		}
		fmt.Fprintf(w, "  %*s | %s%s\n", gutter, "", pad.String(), r.paint(code, strings.Repeat("^", n)))
	}
	w.WriteString("\n")
}

func clamp(v, lo, hi int) int { return min(max(v, lo), hi) }

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
