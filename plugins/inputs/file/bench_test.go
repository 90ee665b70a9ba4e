package file

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/host"
	"github.com/gostash/gostash/sdk/sdktest"
)

// benchLog writes n Apache combined lines (about 190 bytes each).
func benchLog(b *testing.B, n int) (string, int64) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "access.log")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, "83.149.%d.%d - - [17/May/2015:10:05:%02d +0000] \"GET /presentations/logstash-monitorama-2013/images/kibana-search.png HTTP/1.1\" 200 %d \"http://semicomplete.com/\" \"Mozilla/5.0\"\n", i%256, i/256%256, i%60, i)
	}
	w.Flush()
	fi, _ := f.Stat()
	f.Close()
	return path, fi.Size()
}

// publisher is the pipeline's side of an input, minus the transport:
// optionally encoding each batch as the SDK does before sending it.
type benchPublisher struct {
	encode bool
	enc    host.Encoder
	events int
}

func (p *benchPublisher) Publish(_ context.Context, events []*sdk.Event, ack func()) error {
	if p.encode {
		p.enc.Encode(events)
	}
	p.events += len(events)
	if ack != nil {
		ack()
	}
	return nil
}

// BenchmarkReadFile reads a 200,000-line Apache log in read mode, as the
// benchmark pipeline does: "events" is the input alone (read, split, make
// events, commit positions), "encoded" adds the SDK's encoding of every
// batch, which a real pipeline does before the batch leaves the process.
func BenchmarkReadFile(b *testing.B) {
	const lines = 200000
	path, size := benchLog(b, lines)
	for _, encode := range []bool{false, true} {
		name := "events"
		if encode {
			name = "encoded"
		}
		b.Run(name, func(b *testing.B) {
			comp, _ := sdk.Lookup(sdk.KindInput, "file")
			cfg := sdktest.Config(b, comp, map[string]any{"path": []any{path}, "mode": "read", "exit_after_read": true,
				"file_completed_action": "log", "file_completed_log_path": filepath.Join(b.TempDir(), "done"), "sincedb_path": os.DevNull})
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				in, err := comp.NewInput(context.Background(), cfg, sdktest.Env(b, "file"))
				if err != nil {
					b.Fatal(err)
				}
				p := &benchPublisher{encode: encode}
				if err := in.Run(context.Background(), p); err != nil {
					b.Fatal(err)
				}
				if p.events != lines {
					b.Fatalf("%d events", p.events)
				}
			}
			b.ReportMetric(float64(lines*b.N)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}
