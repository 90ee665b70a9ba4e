package deadletter

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Scan gives each complete line with its offsets, marks a line that is no
// entry, and stops before a last line without its newline (still being
// written): the offset it returns is where to read on from.
func TestScan(t *testing.T) {
	file := filepath.Join(t.TempDir(), "out.jsonl")
	a := `{"output":"o","reason":"r","event":{"message":"a"}}` + "\n"
	torn := `{"output":"o","rea` + "\n"
	noEvent := `{"output":"o","reason":"r"}` + "\n"
	partial := `{"output":"o","reason":"r","ev`
	if err := os.WriteFile(file, []byte(a+torn+noEvent+partial), 0o644); err != nil {
		t.Fatal(err)
	}
	var lines []Line
	end, err := Scan(file, 0, func(l Line) bool { lines = append(lines, l); return true })
	if err != nil || len(lines) != 3 {
		t.Fatalf("%d lines, %v", len(lines), err)
	}
	if lines[0].Err != nil || lines[0].Entry.Reason != "r" || lines[0].Next != int64(len(a)) {
		t.Errorf("first line %+v", lines[0])
	}
	if lines[1].Err == nil || lines[2].Err == nil {
		t.Errorf("a torn line and an entry without event should be marked: %v, %v", lines[1].Err, lines[2].Err)
	}
	if want := int64(len(a + torn + noEvent)); end != want {
		t.Errorf("stopped at %d, want %d (before the partial line)", end, want)
	}
	var again []Line
	if _, err := Scan(file, lines[1].Offset, func(l Line) bool { again = append(again, l); return false }); err != nil || len(again) != 1 || again[0].Offset != lines[1].Offset {
		t.Errorf("from an offset, stopping after one: %+v %v", again, err)
	}
}

// A rewritten file starts with a header: Scan skips it and speaks in
// logical offsets, where the dropped entries still count; an offset
// inside the dropped part reads from the first entry kept.
func TestScanRewrittenFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "out.jsonl")
	a := `{"output":"o","reason":"a","event":{"message":"a"}}` + "\n"
	b := `{"output":"o","reason":"b","event":{"message":"b"}}` + "\n"
	if err := os.WriteFile(file, append(Header(1000), a+b...), 0o644); err != nil {
		t.Fatal(err)
	}
	span, err := SpanOf(file)
	if err != nil || span.Dropped != 1000 || span.End != 1000+int64(len(a+b)) {
		t.Fatalf("span %+v %v", span, err)
	}
	var reasons []string
	var offsets []int64
	end, err := Scan(file, 10, func(l Line) bool {
		reasons = append(reasons, l.Entry.Reason)
		offsets = append(offsets, l.Offset)
		return l.Err == nil
	})
	if err != nil || strings.Join(reasons, "") != "ab" || offsets[0] != 1000 || offsets[1] != 1000+int64(len(a)) || end != span.End {
		t.Fatalf("reasons %v offsets %v end %d %v", reasons, offsets, end, err)
	}
	reasons = nil
	if _, err := Scan(file, 1000+int64(len(a)), func(l Line) bool { reasons = append(reasons, l.Entry.Reason); return true }); err != nil || strings.Join(reasons, "") != "b" {
		t.Fatalf("from the second entry: %v %v", reasons, err)
	}
	if err := os.WriteFile(file, []byte(`{"dropped_bytes":12`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := SpanOf(file); err == nil {
		t.Error("a header cut short should be an error, not an empty file")
	}
}
