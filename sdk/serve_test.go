package sdk

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// A component's log line crosses to the core as hclog JSON; a duration
// must cross as "200ms", not as its nanoseconds (which the core can only
// print as "2e+08").
func TestComponentLogWritesDurationsAsDurations(t *testing.T) {
	var buf bytes.Buffer
	l := hcLogger{hclog.New(&hclog.LoggerOptions{Output: &buf, JSONFormat: true})}
	args := []any{"retry_in", 200 * time.Millisecond, "bytes", int64(52428800)}
	l.Warn("cannot read file; trying again", args...)

	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON line: %q: %v", buf.String(), err)
	}
	if line["retry_in"] != "200ms" {
		t.Errorf("retry_in = %#v, want \"200ms\"", line["retry_in"])
	}
	if line["bytes"] != float64(52428800) {
		t.Errorf("bytes = %#v, want the number 52428800", line["bytes"])
	}
	if _, ok := args[1].(time.Duration); !ok {
		t.Errorf("the caller's arguments were changed: %#v", args)
	}
}
