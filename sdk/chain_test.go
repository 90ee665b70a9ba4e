package sdk

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

type cloneFilter struct{ n int }

func (c cloneFilter) Filter(_ context.Context, e *Event, emit func(*Event)) Result {
	for k := 1; k < c.n; k++ {
		x := e.Clone()
		_ = x.Set("message", fmt.Sprintf("%s.%d", e.Message(), k))
		emit(x)
	}
	return Matched
}

type dropOdd struct{}

func (dropOdd) Filter(_ context.Context, e *Event, _ func(*Event)) Result {
	if strings.HasSuffix(e.Message(), "1") || strings.HasSuffix(e.Message(), "3") {
		return Dropped
	}
	return Matched
}

// In pieces, a chain gives the events RunChain gives, in the same order,
// never more than max at a time.
func TestRunChainPiecesMatchesRunChain(t *testing.T) {
	chain := []*FilterInstance{{Filter: cloneFilter{4}}, {Filter: dropOdd{}}, {Filter: cloneFilter{3}}}
	events := func() []*Event {
		var out []*Event
		for i := range 10 {
			out = append(out, NewEvent(fmt.Sprint("e", i)))
		}
		return out
	}
	var want []string
	for _, e := range RunChain(t.Context(), chain, events()) {
		want = append(want, e.Message())
	}
	var got []string
	last, err := RunChainPieces(t.Context(), chain, events(), 7, func(piece []*Event) error {
		if len(piece) != 7 {
			t.Errorf("a piece of %d events, want 7", len(piece))
		}
		for _, e := range piece {
			got = append(got, e.Message())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range last {
		got = append(got, e.Message())
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("pieces give\n%v\nRunChain gives\n%v", got, want)
	}
}

// Each filter's counts are what it ran on and what it passed on: 10 in,
// 4 each out (40); dropOdd drops what ends in 1 or 3 (two of each four,
// three of e1's and e3's: 22) and keeps 18; the last triples them.
func TestRunChainPiecesCountsPerFilter(t *testing.T) {
	chain := []*FilterInstance{{Filter: cloneFilter{4}}, {Filter: dropOdd{}}, {Filter: cloneFilter{3}}}
	var events []*Event
	for i := range 10 {
		events = append(events, NewEvent(fmt.Sprint("e", i)))
	}
	_, counts, err := runChainPieces(t.Context(), chain, events, 7, func([]*Event) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	want := []filterCount{{in: 10, out: 40}, {in: 40, out: 18, dropped: 22}, {in: 18, out: 54}}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Fatalf("counts %v; want %v", counts, want)
	}
}
