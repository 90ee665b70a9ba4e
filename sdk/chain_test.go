package sdk

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

type cloneFilter struct{ n int }

func (c cloneFilter) Apply(_ context.Context, e *Event, emit func(*Event)) Result {
	for k := 1; k < c.n; k++ {
		x := e.Clone()
		_ = x.Set("message", fmt.Sprintf("%s.%d", e.Message(), k))
		emit(x)
	}
	return Matched
}

type dropOdd struct{}

func (dropOdd) Apply(_ context.Context, e *Event, _ func(*Event)) Result {
	if strings.HasSuffix(e.Message(), "1") || strings.HasSuffix(e.Message(), "3") {
		return Dropped
	}
	return Matched
}

// In pieces, a chain gives the events runChain gives, in the same order,
// never more than max at a time.
func TestRunChainPiecesMatchesRunChain(t *testing.T) {
	chain := []*filterInstance{{Filter: cloneFilter{4}}, {Filter: dropOdd{}}, {Filter: cloneFilter{3}}}
	events := func() []*Event {
		var out []*Event
		for i := range 10 {
			out = append(out, NewEvent(fmt.Sprint("e", i)))
		}
		return out
	}
	var want []string
	for _, e := range runChain(t.Context(), chain, events()) {
		want = append(want, e.Message())
	}
	var got []string
	last, _, err := runChainPieces(t.Context(), chain, events(), 7, func(piece []*Event) error {
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
	chain := []*filterInstance{{Filter: cloneFilter{4}}, {Filter: dropOdd{}}, {Filter: cloneFilter{3}}}
	var events []*Event
	for i := range 10 {
		events = append(events, NewEvent(fmt.Sprint("e", i)))
	}
	_, counts, err := runChainPieces(t.Context(), chain, events, 7, func([]*Event) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	want := []filterCount{{in: 10, out: 40}, {in: 40, out: 18, dropped: 22}, {in: 18, out: 54}}
	for i := range counts {
		counts[i].nanos = 0 // timed in TestRunChainPiecesTimesPerFilter
	}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Fatalf("counts %v; want %v", counts, want)
	}
}

type sleepFilter struct{ d time.Duration }

func (s sleepFilter) Apply(context.Context, *Event, func(*Event)) Result {
	time.Sleep(s.d)
	return Matched
}

// Each filter's time is its own, not the filters' after it: a slow filter
// between two quick ones gets the chain's time, estimated from a sample
// of its events.
func TestRunChainPiecesTimesPerFilter(t *testing.T) {
	chain := []*filterInstance{{Filter: dropOdd{}}, {Filter: sleepFilter{time.Millisecond}}, {Filter: cloneFilter{1}}}
	var events []*Event
	for i := range 64 {
		events = append(events, NewEvent(fmt.Sprint("e", i*2))) // even: none dropped
	}
	began := time.Now()
	_, counts, err := runChainPieces(t.Context(), chain, events, 1000, func([]*Event) error { return nil })
	took := time.Since(began)
	if err != nil {
		t.Fatal(err)
	}
	slow := time.Duration(counts[1].nanos)
	if slow < 64*time.Millisecond/2 || slow > 2*took {
		t.Errorf("the sleeping filter's time %v; want about its 64 x 1ms (the chain took %v)", slow, took)
	}
	for _, i := range []int{0, 2} {
		if quick := time.Duration(counts[i].nanos); quick > slow/10 {
			t.Errorf("filter %d's time %v: it would be charged with the slow one's (%v)", i, quick, slow)
		}
	}
}
