package grok

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
)

// Logstash's own pattern tests (logstash-patterns-core's
// spec/patterns/*.rb), ported example by example into
// testdata/patterns-spec/spec.jsonl (see its README): each run is the
// grok filter with the spec's settings on an event holding only the
// message, checked as the spec checks it.

type specExample struct {
	Family  string    `json:"family"` // the spec file: httpd for httpd_spec.rb
	Mode    string    `json:"mode"`   // legacy or ecs-v1
	Example string    `json:"example"`
	Line    int       `json:"line"`
	Pending string    `json:"pending"` // RSpec's pending: Logstash fails it too
	Vacuous bool      `json:"vacuous"` // checks nothing in this mode
	Runs    []specRun `json:"runs"`
}

type specRun struct {
	Settings map[string]any `json:"settings"`
	Input    string         `json:"input"`
	Checks   []specCheck    `json:"checks"`
}

type specCheck struct {
	Op     string `json:"op"`
	Path   []any  `json:"path"` // keys, or indexes into a list (-1 is the last)
	Conv   string `json:"conv"` // keys, to_i, to_s: applied to the value at path
	Not    bool   `json:"not"`
	Values []any  `json:"values"`
	Value  any    `json:"value"`
}

// specExceptions are the examples gostash fails on purpose, each with
// the reason; the grok README lists them too. An exception that passes
// fails the test, so the list cannot go stale.
var specExceptions = map[string]string{}

func TestLogstashPatternSpecs(t *testing.T) {
	type tally struct{ cases, passed, pending, vacuous, excepted int }
	counts := map[string]*tally{}
	count := func(family, mode string) *tally {
		k := family + "\t" + mode
		if counts[k] == nil {
			counts[k] = &tally{}
		}
		return counts[k]
	}
	for _, ex := range readJSONL[specExample](t, filepath.Join("testdata", "patterns-spec", "spec.jsonl")) {
		c := count(ex.Family, ex.Mode)
		if ex.Vacuous {
			c.vacuous++
			continue
		}
		name := fmt.Sprintf("%s/%s/%s:%d", ex.Family, ex.Mode, ex.Example, ex.Line)
		c.cases++
		var failures []string
		for _, r := range ex.Runs {
			failures = append(failures, runSpec(t, r)...)
		}
		reason, excepted := specExceptions[ex.Example]
		switch {
		case ex.Pending != "":
			c.pending++
			if len(failures) == 0 {
				t.Logf("%s: pending in Logstash (%s), passes here", name, ex.Pending)
			}
		case excepted && len(failures) == 0:
			t.Errorf("%s passes: remove it from specExceptions (and the grok README)", name)
		case excepted:
			c.excepted++
			t.Logf("%s: known difference: %s", name, reason)
		case len(failures) > 0:
			t.Errorf("%s:\n  %s", name, strings.Join(failures, "\n  "))
		default:
			c.passed++
		}
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	var total tally
	fmt.Fprintf(&b, "Logstash's pattern spec suite (logstash-patterns-core 4.3.1):\n%-12s %-7s %6s %6s %8s %8s %9s\n",
		"family", "mode", "cases", "passed", "excepted", "pending", "vacuous")
	for _, k := range keys {
		c := counts[k]
		fam, mode, _ := strings.Cut(k, "\t")
		fmt.Fprintf(&b, "%-12s %-7s %6d %6d %8d %8d %9d\n", fam, mode, c.cases, c.passed, c.excepted, c.pending, c.vacuous)
		total.cases += c.cases
		total.passed += c.passed
		total.excepted += c.excepted
		total.pending += c.pending
		total.vacuous += c.vacuous
	}
	fmt.Fprintf(&b, "%-12s %-7s %6d %6d %8d %8d %9d", "all", "", total.cases, total.passed, total.excepted, total.pending, total.vacuous)
	t.Log(b.String())
}

// runSpec runs one grok run of an example as a pipeline would and
// returns what its checks found wrong.
func runSpec(t *testing.T, r specRun) []string {
	out := sdktest.RunFilters(t, context.Background(),
		[]sdktest.FilterSpec{{Name: "grok", Settings: r.Settings}},
		[]*sdk.Event{sdktest.Event(map[string]any{"message": r.Input})})
	if len(out) != 1 {
		return []string{fmt.Sprintf("%d events came out, want 1", len(out))}
	}
	// as JSON sees it: maps, lists, float64 numbers, like the vectors
	var ev map[string]any
	if err := json.Unmarshal([]byte(js(out[0].ToMap(true))), &ev); err != nil {
		return []string{err.Error()}
	}
	delete(ev, sdk.FieldTimestamp) // Logstash's to_hash has it too; no spec checks it
	var bad []string
	for _, c := range r.Checks {
		if err := specCheckEvent(ev, c); err != "" {
			bad = append(bad, fmt.Sprintf("%s %v: %s (event %s)", c.Op, c.Path, err, js(ev)))
			continue
		}
		// a check that holds must not hold negated too, or it checks nothing
		neg := c
		neg.Not = !c.Not
		if specCheckEvent(ev, neg) == "" {
			t.Errorf("%s %v %s holds both ways on %s: the port checks nothing", c.Op, c.Path, js(c), js(ev))
		}
	}
	return bad
}

// specCheckEvent applies one RSpec expectation to the event; "" when it
// holds.
func specCheckEvent(ev map[string]any, c specCheck) string {
	v, found := lookup(ev, c.Path)
	switch c.Conv {
	case "":
	case "keys":
		// The specs write (grok['a']['b'] || {}).keys: nothing there has
		// no keys.
		m, ok := v.(map[string]any)
		if !ok && v != nil {
			return fmt.Sprintf("no map at the path: %s", js(v))
		}
		keys := make([]any, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		v, found = keys, true
	case "to_i":
		v = toI(v)
	case "to_s":
		if f, ok := v.(float64); ok && f == math.Trunc(f) {
			v = fmt.Sprint(int64(f))
		} else if v == nil {
			v = ""
		} else if s, ok := v.(string); ok {
			v = s
		} else {
			v = fmt.Sprint(v)
		}
	default:
		return "unknown conversion " + c.Conv
	}
	holds, why := false, ""
	switch c.Op {
	case "pass": // RSpec: !event.include?("tags")
		_, tagged := ev["tags"]
		holds, why = !tagged, fmt.Sprintf("tags %s", js(ev["tags"]))
	case "be_nil":
		holds, why = v == nil, "got "+js(v)
	case "eq":
		holds, why = found && valuesMatch(c.Value, v), fmt.Sprintf("got %s, want %s", js(v), js(c.Value))
	case "start_with", "end_with":
		s, _ := v.(string)
		w, _ := c.Value.(string)
		holds = c.Op == "start_with" && strings.HasPrefix(s, w) || c.Op == "end_with" && strings.HasSuffix(s, w)
		why = fmt.Sprintf("%s on %s", js(w), js(v))
	case "be_a":
		_, holds = v.(map[string]any)
		why = "got " + js(v)
	case "have_key":
		m, _ := v.(map[string]any)
		_, holds = m[c.Value.(string)]
		why = fmt.Sprintf("keys of %s", js(v))
	case "namespaces":
		holds = true
		for k := range ev {
			if k != sdk.FieldMetadata && !containsValue(c.Values, k) { // to_hash leaves @metadata out
				holds, why = false, fmt.Sprintf("top-level %q not in %s", k, js(c.Values))
			}
		}
	case "include":
		if !found {
			return "nothing at the path"
		}
		// RSpec's include: all of the values are in it; not: none is.
		holds = true
		for _, want := range c.Values {
			in := included(v, want)
			if in == c.Not {
				why = fmt.Sprintf("%s in %s: %v", js(want), js(v), in)
				if c.Not {
					return why
				}
				holds = false
			}
		}
		if c.Not {
			return ""
		}
	default:
		return "unknown check " + c.Op
	}
	if holds == c.Not {
		if c.Not {
			return "holds, want not: " + why
		}
		return why
	}
	return ""
}

// included is RSpec's include for one expected value: a map's pairs
// (each value matching) or key, a list's element, a string's substring.
func included(actual, want any) bool {
	switch a := actual.(type) {
	case map[string]any:
		if w, ok := want.(map[string]any); ok {
			for k, wv := range w {
				av, ok := a[k]
				if !ok || !valuesMatch(wv, av) {
					return false
				}
			}
			return true
		}
		k, _ := want.(string)
		_, ok := a[k]
		return ok
	case []any:
		return containsValue(a, want)
	case string:
		w, ok := want.(string)
		return ok && strings.Contains(a, w)
	}
	return false
}

func containsValue(list []any, want any) bool {
	for _, x := range list {
		if valuesMatch(want, x) {
			return true
		}
	}
	return false
}

// valuesMatch is RSpec's values_match?: a map matches a map with the
// same keys (each value matching), {"$partial": m} one that has at least
// m's keys (hash_including), anything else by equal JSON.
func valuesMatch(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		if p, partial := w["$partial"].(map[string]any); partial && len(w) == 1 {
			return included(g, p)
		}
		if len(g) != len(w) {
			return false
		}
		return included(g, w)
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !valuesMatch(w[i], g[i]) {
				return false
			}
		}
		return true
	}
	return js(want) == js(got)
}

// lookup follows a path of keys and list indexes.
func lookup(v any, path []any) (any, bool) {
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			k, _ := p.(string)
			var ok bool
			if v, ok = x[k]; !ok {
				return nil, false
			}
		case []any:
			f, ok := p.(float64)
			if !ok {
				return nil, false
			}
			i := int(f)
			if i < 0 {
				i += len(x)
			}
			if i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// toI is Ruby's to_i on what a field may hold.
func toI(v any) any {
	switch x := v.(type) {
	case float64:
		return math.Trunc(x)
	case string:
		var n int64
		fmt.Sscan(x, &n)
		return float64(n)
	}
	return v
}
