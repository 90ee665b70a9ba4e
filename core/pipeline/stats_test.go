package pipeline

import (
	"maps"
	"strings"
	"testing"

	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// An input is lagging when the lag it reports grows lagReports times in a
// row; a report where it does not grow ends that.
func TestGaugesCallAGrowingLagLagging(t *testing.T) {
	var g gaugeSet
	report := func(p0, p1 float64) string {
		g.set([]*pluginv1.Gauge{
			{Name: "kafka_consumer_lag", Labels: map[string]string{"partition": "0"}, Value: p0, Lag: true},
			{Name: "kafka_consumer_lag", Labels: map[string]string{"partition": "1"}, Value: p1, Lag: true},
			{Name: "kafka_fetches", Value: 1e6}, // not a lag: ignored
		})
		_, lagging := g.get()
		return lagging
	}
	for i, r := range [][2]float64{{10, 0}, {20, 5}, {30, 5}} {
		if l := report(r[0], r[1]); l != "" {
			t.Fatalf("report %d: lagging %q too soon", i, l)
		}
	}
	l := report(40, 10)
	if !strings.Contains(l, "last 3 reports, from 10 to 50") {
		t.Fatalf("lagging %q", l)
	}
	if l := report(40, 10); l != "" {
		t.Fatalf("a lag that stopped growing: %q", l)
	}
	if gs, _ := g.get(); len(gs) != 3 || gs[0].Value != 40 || gs[0].Labels["partition"] != "0" {
		t.Fatalf("gauges %+v", gs)
	}
}

// TestWriteGaugesAddUp: an output's concurrent writes each report their
// own documents waiting; the snapshot shows their sum per name and labels,
// and a write that answered (nil) no longer counts.
func TestWriteGaugesAddUp(t *testing.T) {
	var w writeGauges
	a, b, c := w.slot(), w.slot(), w.slot()
	g := func(name string, v float64, labels map[string]string) *pluginv1.Gauge {
		return &pluginv1.Gauge{Name: name, Value: v, Labels: labels}
	}
	w.set(a, []*pluginv1.Gauge{g("waiting", 3, nil), g("batches", 1, nil)})
	w.set(b, []*pluginv1.Gauge{g("waiting", 4, nil), g("batches", 1, nil), g("waiting", 5, map[string]string{"host": "x"})})
	w.set(c, []*pluginv1.Gauge{g("waiting", 2, nil)})
	w.set(c, nil)
	got := map[string]float64{}
	for _, x := range w.get() {
		got[x.Name+x.Labels["host"]] += x.Value
	}
	if want := map[string]float64{"waiting": 7, "batches": 2, "waitingx": 5}; !maps.Equal(got, want) || len(w.get()) != 3 {
		t.Fatalf("gauges %v (%d), want %v", got, len(w.get()), want)
	}
	w.set(a, nil)
	w.set(b, nil)
	if gs := w.get(); len(gs) != 0 {
		t.Fatalf("gauges %v after every write answered", gs)
	}
}
