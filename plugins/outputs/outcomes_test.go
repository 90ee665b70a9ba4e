//go:build unix

// Package outputs_test checks what every built-in output must do with a
// batch holding an event it cannot write: reject that event alone (the
// core dead-letters it) and write the others once. Returning one error
// for the whole batch made the core retry all of it for ever, rewriting
// the events before the bad one at every retry.
package outputs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gostash/gostash/sdk/sdktest/testenv"

	_ "github.com/gostash/gostash/plugins/all"
	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
)

// names are the batch's [n] fields: 1 to 3 cannot name a file.
var names = []string{"a", "", "nul\x00byte", strings.Repeat("z", 300), "b"}

type outcomeCase struct {
	settings func(t *testing.T, dir string) map[string]any
	// bad are the events this output cannot write (none: it can write any
	// event, and a failed write is retried for the unwritten ones only).
	bad []int
	// capture points the output somewhere the test reads; written returns
	// the lines written, nil when the output keeps nothing.
	capture func(t *testing.T, dir string) (written func() []string)
}

var outcomeCases = map[string]outcomeCase{
	"file": {
		settings: func(_ *testing.T, dir string) map[string]any {
			return map[string]any{"path": dir + "/%{n}", "codec": "line", "format": "%{n}"}
		},
		bad: []int{1, 2, 3},
		capture: func(t *testing.T, dir string) func() []string {
			return func() []string {
				var lines []string
				for _, n := range []string{"a", "b"} {
					b, _ := os.ReadFile(filepath.Join(dir, n))
					lines = append(lines, strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")...)
				}
				return lines
			}
		},
	},
	"stdout": {
		settings: func(*testing.T, string) map[string]any { return map[string]any{"codec": "line", "format": "%{n}"} },
		capture:  captureStdout,
	},
	"null": {
		settings: func(*testing.T, string) map[string]any { return map[string]any{} },
	},
	// Against the real broker: a topic name Kafka refuses (a NUL byte,
	// over 249 characters) is the bad event.
	"kafka": {
		settings: func(t *testing.T, dir string) map[string]any {
			return map[string]any{"bootstrap_servers": testenv.Kafka(t), "topic_id": kafkaPrefix(dir) + "%{n}", "codec": "plain", "format": "%{n}"}
		},
		bad: []int{2, 3},
		capture: func(t *testing.T, dir string) func() []string {
			return func() []string {
				var got []string
				for _, n := range []string{"", "a", "b"} {
					out := testenv.Kcat(t, "", "-b", testenv.Kafka(t), "-C", "-t", kafkaPrefix(dir)+n, "-o", "beginning", "-c", "1", "-e", "-q", "-f", "%s\n")
					got = append(got, strings.TrimSuffix(out, "\n"))
				}
				return got
			}
		},
	},
	// Against the real Elasticsearch node: an index name the engines
	// refuse (a control character, over 255 bytes) is the bad event.
	"elasticsearch": {
		settings: func(t *testing.T, dir string) map[string]any {
			return map[string]any{"hosts": []any{testenv.Elasticsearch(t)}, "index": esPrefix(dir) + "%{n}"}
		},
		bad: []int{2, 3},
		capture: func(t *testing.T, dir string) func() []string {
			base := testenv.Elasticsearch(t)
			t.Cleanup(func() { esCall(t, "DELETE", base+"/"+esPrefix(dir)+"*") })
			return func() []string {
				esCall(t, "POST", base+"/"+esPrefix(dir)+"*/_refresh")
				var r struct {
					Hits struct {
						Hits []struct {
							Source struct {
								N string `json:"n"`
							} `json:"_source"`
						} `json:"hits"`
					} `json:"hits"`
				}
				if err := json.Unmarshal(esCall(t, "GET", base+"/"+esPrefix(dir)+"*/_search?size=100"), &r); err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, h := range r.Hits.Hits {
					got = append(got, h.Source.N)
				}
				return got
			}
		},
	},
}

// esPrefix is an index prefix of this test run's own.
func esPrefix(dir string) string {
	return fmt.Sprintf("outcomes-es-%x-", crc32.ChecksumIEEE([]byte(dir)))
}

func esCall(t *testing.T, method, url string) []byte {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return b
}

// kafkaPrefix is a topic prefix of this test run's own.
func kafkaPrefix(dir string) string {
	return fmt.Sprintf("outcomes-%x-", crc32.ChecksumIEEE([]byte(dir)))
}

func TestEveryOutputRejectsABadEventAlone(t *testing.T) {
	for _, comp := range sdk.Components() {
		if comp.Kind != sdk.KindOutput {
			continue
		}
		t.Run(comp.Name, func(t *testing.T) {
			c, ok := outcomeCases[comp.Name]
			if !ok {
				t.Fatalf("output %q has no case here: add one showing that an event it cannot write is rejected alone (sdk.WriteError) and the others are written once", comp.Name)
			}
			dir := t.TempDir()
			var written func() []string
			if c.capture != nil {
				written = c.capture(t, dir)
			}
			out, err := comp.NewOutput(context.Background(), sdktest.Config(t, comp, c.settings(t, dir)), sdktest.Env(t, comp.Name))
			if err != nil {
				t.Fatal(err)
			}
			events := make([]*sdk.Event, len(names))
			for i, n := range names {
				events[i] = sdktest.Event(map[string]any{"n": n})
			}
			werr := out.Write(context.Background(), events)
			if cl, ok := out.(sdk.Closer); ok {
				_ = cl.Close(context.Background())
			}
			var rejected []int
			if werr != nil {
				var we *sdk.WriteError
				if !errors.As(werr, &we) {
					t.Fatalf("Write returned %v for the whole batch; want per-event outcomes (*sdk.WriteError)", werr)
				}
				for _, it := range we.Items {
					if !it.Reject {
						t.Errorf("event %d (%q) retried: %s; want it written or rejected", it.Index, names[it.Index], it.Reason)
					} else if it.Reason == "" {
						t.Errorf("event %d rejected without a reason", it.Index)
					}
					rejected = append(rejected, it.Index)
				}
			}
			slices.Sort(rejected)
			if !slices.Equal(rejected, c.bad) {
				t.Errorf("rejected %v, want %v", rejected, c.bad)
			}
			if written == nil {
				return
			}
			var want []string
			for i, n := range names {
				if !slices.Contains(c.bad, i) {
					want = append(want, n)
				}
			}
			got := written()
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("written %q, want each of %q once", got, want)
			}
		})
	}
}

// captureStdout points file descriptor 1, where the stdout output writes
// in a test, at a file until the test ends.
func captureStdout(t *testing.T, dir string) func() []string {
	path := filepath.Join(dir, "stdout")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := unix.Dup(1)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Dup2(int(f.Fd()), 1); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = unix.Dup2(saved, 1)
		_ = unix.Close(saved)
		f.Close()
	})
	return func() []string {
		b, _ := os.ReadFile(path)
		return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	}
}
