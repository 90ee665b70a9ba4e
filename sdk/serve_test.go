package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
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

// envProbe records the Env its last instance was opened with.
var envProbe struct {
	once sync.Once
	env  chan Env
}

// A component gets the pipeline's batch size and delay as the core sends
// them in Open; only when a host sends none does it get the defaults, so
// no plugin needs its own.
func TestOpenHandsTheRequestsBatchSettingsToEnv(t *testing.T) {
	envProbe.once.Do(func() {
		envProbe.env = make(chan Env, 1)
		RegisterOutput("sdk_test_env_probe", NewSpec(""), func(_ context.Context, _ *Config, env Env) (Output, error) {
			envProbe.env <- env
			return nil, nil
		})
	})
	s := newServer(hclog.NewNullLogger())
	for _, c := range []struct {
		size, delayMs uint32
		wantSize      int
		wantDelay     time.Duration
	}{
		{7, 3, 7, 3 * time.Millisecond},
		{0, 0, DefaultBatchSize, DefaultBatchDelay},
	} {
		_, err := s.Open(t.Context(), &pluginv1.OpenRequest{Component: "sdk_test_env_probe", Kind: pluginv1.Kind_OUTPUT,
			Name: "p", PipelineId: "web", ConfigJson: []byte("{}"), BatchSize: c.size, BatchDelayMs: c.delayMs})
		if err != nil {
			t.Fatal(err)
		}
		env := <-envProbe.env
		if env.BatchSize != c.wantSize || env.BatchDelay != c.wantDelay || env.Pipeline != "web" {
			t.Errorf("sent batch_size %d, batch_delay_ms %d: Env has %d, %s, pipeline %q; want %d, %s, \"web\"",
				c.size, c.delayMs, env.BatchSize, env.BatchDelay, env.Pipeline, c.wantSize, c.wantDelay)
		}
	}
}
