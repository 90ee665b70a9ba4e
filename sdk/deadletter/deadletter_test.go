package deadletter

import (
	"os"
	"path/filepath"
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
