package grok

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
)

// vector is one line of the shared conformance vectors (see their README).
type vector struct {
	Name               string              `json:"name"`
	ECS                string              `json:"ecs_compatibility"`
	Match              map[string][]string `json:"match"`
	Overwrite          []string            `json:"overwrite"`
	PatternDefinitions map[string]string   `json:"pattern_definitions"`
	TagOnFailure       []string            `json:"tag_on_failure"`
	Input              string              `json:"input"`
	Expect             map[string]any      `json:"expect"`
	Absent             []string            `json:"absent"`
}

func loadVectors(t *testing.T) []vector {
	// A copy of the team's shared vectors (shared/testdata/grok), kept in
	// the repository: tests read nothing outside it.
	return readJSONL[vector](t, filepath.Join("testdata", "conformance", "vectors.jsonl"))
}

// readJSONL reads a file of one JSON object a line (blank lines
// skipped); the test fails if it holds none.
func readJSONL[T any](t *testing.T, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil || len(out) == 0 {
		t.Fatalf("%s: %d objects read, %v", path, len(out), err)
	}
	return out
}

func TestConformanceVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			match := map[string]any{}
			for k, ps := range v.Match {
				l := make([]any, len(ps))
				for i, p := range ps {
					l[i] = p
				}
				match[k] = l
			}
			settings := map[string]any{"match": match, "ecs_compatibility": v.ECS}
			if v.Overwrite != nil {
				settings["overwrite"] = toAny(v.Overwrite)
			}
			if v.TagOnFailure != nil {
				settings["tag_on_failure"] = toAny(v.TagOnFailure)
			}
			if v.PatternDefinitions != nil {
				m := map[string]any{}
				for k, d := range v.PatternDefinitions {
					m[k] = d
				}
				settings["pattern_definitions"] = m
			}
			out := sdktest.RunFilters(t, context.Background(),
				[]sdktest.FilterSpec{{Name: "grok", Settings: settings}},
				[]*sdk.Event{sdktest.Event(map[string]any{"message": v.Input})})
			if len(out) != 1 {
				t.Fatalf("%d events came out, want 1", len(out))
			}
			checkEvent(t, out[0], v.Expect, v.Absent)
		})
	}
}

// checkEvent compares the event with the expected fields: same JSON
// values (so 200 and "200" differ), nested maps field by field, tags as a
// subset.
func checkEvent(t *testing.T, e *sdk.Event, expect map[string]any, absent []string) {
	t.Helper()
	var walk func(prefix []string, want map[string]any)
	walk = func(prefix []string, want map[string]any) {
		for k, w := range want {
			path := append(append([]string(nil), prefix...), k)
			ref := "[" + joinPath(path) + "]"
			got, ok := e.Get(ref)
			if k == "tags" && len(prefix) == 0 {
				for _, tag := range w.([]any) {
					if !e.HasTag(tag.(string)) {
						t.Errorf("tags %v lack %q", e.Tags(), tag)
					}
				}
				continue
			}
			if !ok {
				t.Errorf("%s is missing, want %s", ref, js(w))
				continue
			}
			if wm, isMap := w.(map[string]any); isMap {
				if _, gotMap := got.(map[string]any); !gotMap {
					t.Errorf("%s = %s, want a map %s", ref, js(got), js(w))
					continue
				}
				walk(path, wm)
				continue
			}
			if js(got) != js(w) {
				t.Errorf("%s = %s, want %s", ref, js(got), js(w))
			}
		}
	}
	walk(nil, expect)
	for _, ref := range absent {
		if v, ok := e.Get(ref); ok {
			t.Errorf("%s = %s, want it absent", ref, js(v))
		}
	}
}

func joinPath(p []string) string {
	out := p[0]
	for _, s := range p[1:] {
		out += "][" + s
	}
	return out
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
