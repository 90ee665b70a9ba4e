package file

import (
	"context"
	"os"
	"time"

	"github.com/gostash/gostash/sdk"
)

// gaugeEvery is how often the input reports its files' bytes behind.
var gaugeEvery = 5 * time.Second

// reportGauges tells the core, every gaugeEvery, per file it keeps a
// position for, how many bytes are not delivered yet: the file's size now
// less the acknowledged position. They show at /metrics as
// gostash_file_bytes_behind{path}, and as a lag the health report watches.
// It runs beside the read loop, which a full pipeline blocks: that is when
// the figure matters.
func (in *Input) reportGauges(ctx context.Context, p sdk.Publisher) {
	type known struct {
		id   fileID
		path string
		pos  int64
	}
	t := time.NewTicker(gaugeEvery)
	defer t.Stop()
	for {
		var files []known
		in.mu.Lock()
		for id, e := range in.db {
			if e.path != "" {
				files = append(files, known{id, e.path, e.pos})
			}
		}
		in.mu.Unlock()
		gauges := make([]sdk.Gauge, 0, len(files))
		for _, f := range files {
			fi, err := os.Stat(f.path)
			if err != nil {
				continue // gone
			}
			if id, _, ok := identify(fi); !ok || id != f.id {
				continue // another file has the name now
			}
			gauges = append(gauges, sdk.Gauge{Name: "file_bytes_behind", Value: float64(max(fi.Size()-f.pos, 0)), Lag: true,
				Labels: map[string]string{"path": f.path}})
		}
		if sdk.ReportGauges(p, gauges) != nil {
			return // the stream is gone
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
