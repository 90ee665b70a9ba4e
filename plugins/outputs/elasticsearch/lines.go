package elasticsearch

import (
	"fmt"

	"github.com/gostash/gostash/sdk"
)

// dayLine is the start of the action lines of one UTC day, for an index
// that renders the same all day ("logs-%{+YYYY.MM.dd}", or a fixed name)
// and a fixed action: `{"index":{"_index":"logs-2026.12.05"` (or why that
// name cannot be sent). Rendering the date and checking the name was a
// fifth of building a document's lines.
type dayLine struct {
	day    int64
	action string
	set    bool
	text   []byte
	reason string
}

const nsPerDay = 86400 * 1e9

// dayLines is how many days are kept: a batch's events span a few days,
// or a month or two of backfill; consecutive days never share a slot.
const dayLines = 64

// dayLine returns the action line start for e, or nil when it is
// rendered per event (an index naming fields, a time finer than the day,
// an event without @timestamp for a dated index, an action per event).
func (w *write) dayLine(s *settings, action string, e *sdk.Event) *dayLine {
	if s.staticAction == "" || s.index == nil {
		return nil
	}
	if w.linesFrom != s.index {
		// The first event, or a new index (ilm_enabled "auto" chose
		// plain indices).
		clear(w.lines[:])
		w.linesFrom, w.linesByDay = s.index, s.index.ByDay()
	}
	if !w.linesByDay {
		return nil
	}
	ts := e.TimestampNano()
	if ts == 0 && !s.index.IsStatic() {
		return nil
	}
	day := ts / nsPerDay
	if ts%nsPerDay < 0 {
		day--
	}
	l := &w.lines[day&(dayLines-1)]
	if l.set && l.day == day && l.action == action {
		return l
	}
	index, ok := s.index.AppendRenderStrict(w.index[:0], e)
	w.index = index
	*l = dayLine{day: day, action: action, set: true, text: l.text[:0]}
	switch {
	case !ok:
		l.reason = fmt.Sprintf("index %q gave %q for this event: a field it names is missing (or the event has no @timestamp)", s.index.String(), index)
	case invalidIndex(string(index)) != "":
		l.reason = fmt.Sprintf("index %q gave %q for this event: %s", s.index.String(), index, invalidIndex(string(index)))
	default:
		l.text = appendActionStart(l.text, action, string(index))
	}
	return l
}

// appendActionStart writes an action line up to its index name:
// {"ACTION":{"_index":"INDEX"
func appendActionStart(a []byte, action, index string) []byte {
	a = append(a, `{"`...)
	a = append(a, action...)
	a = append(a, `":{"_index":`...)
	return sdk.AppendJSONString(a, index)
}
