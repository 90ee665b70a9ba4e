package pipeline

import (
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
