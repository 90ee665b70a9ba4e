package pluginhost

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// go-plugin parses a plugin's JSON log line into float64s before the core
// re-emits it; sizes and counts must still print as integers.
func TestPluginLogLineKeepsIntegersAndDurations(t *testing.T) {
	var fields map[string]any
	line := `{"@level":"warn","@message":"cannot read file; trying again","retry_in":"200ms","bytes":52428800,"ratio":0.5}`
	if err := json.Unmarshal([]byte(line), &fields); err != nil {
		t.Fatal(err)
	}
	var args []any
	for _, k := range []string{"retry_in", "bytes", "ratio"} { // as go-plugin flattens them
		args = append(args, k, fields[k])
	}

	var buf bytes.Buffer
	l := quiet(hclog.New(&hclog.LoggerOptions{Output: &buf})).Named("builtin")
	l.Warn("cannot read file; trying again", args...)
	out := buf.String()
	for _, want := range []string{"retry_in=200ms", "bytes=52428800", "ratio=0.5"} {
		if !strings.Contains(out, want) {
			t.Errorf("log line lacks %s:\n%s", want, out)
		}
	}

	// The core's own lines in JSON format: a duration is not nanoseconds.
	buf.Reset()
	l = quiet(hclog.New(&hclog.LoggerOptions{Output: &buf, JSONFormat: true}))
	l.Error("plugin restart failed", "retry_in", 2*time.Second)
	if !strings.Contains(buf.String(), `"retry_in":"2s"`) {
		t.Errorf("want retry_in 2s:\n%s", buf.String())
	}
}
