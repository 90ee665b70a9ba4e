package pluginhost

import (
	"math"
	"time"

	"github.com/hashicorp/go-hclog"
)

// quietLogger is the logger plugin processes' log lines are re-emitted
// through. It demotes go-plugin's "plugin process exited" from info to
// debug when the exit was clean: every run ends that way for every
// plugin process, and a log that says it on each stop teaches operators
// to ignore the log. Unclean exits stay errors.
//
// It also gives numbers back their type: go-plugin parses a plugin's JSON
// log line into float64s, which hclog prints as "5.24288e+07"; a whole
// number prints as an integer again.
type quietLogger struct{ hclog.Logger }

func quiet(l hclog.Logger) hclog.Logger { return quietLogger{l} }

func (q quietLogger) Info(msg string, args ...any) {
	if msg == "plugin process exited" {
		q.Logger.Debug(msg, logArgs(args)...)
		return
	}
	q.Logger.Info(msg, logArgs(args)...)
}

func (q quietLogger) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Info {
		q.Info(msg, args...)
		return
	}
	q.Logger.Log(level, msg, logArgs(args)...)
}
func (q quietLogger) Trace(msg string, args ...any) { q.Logger.Trace(msg, logArgs(args)...) }
func (q quietLogger) Debug(msg string, args ...any) { q.Logger.Debug(msg, logArgs(args)...) }
func (q quietLogger) Warn(msg string, args ...any)  { q.Logger.Warn(msg, logArgs(args)...) }
func (q quietLogger) Error(msg string, args ...any) { q.Logger.Error(msg, logArgs(args)...) }

func (q quietLogger) Named(name string) hclog.Logger { return quietLogger{q.Logger.Named(name)} }
func (q quietLogger) ResetNamed(name string) hclog.Logger {
	return quietLogger{q.Logger.ResetNamed(name)}
}
func (q quietLogger) With(args ...any) hclog.Logger {
	return quietLogger{q.Logger.With(logArgs(args)...)}
}

// logArgs turns whole float64s into integers, and durations into "2s"
// (hclog's JSON format would write nanoseconds).
func logArgs(args []any) []any {
	copied := false
	set := func(i int, v any) {
		if !copied { // the caller's slice is not ours to change
			args, copied = append([]any(nil), args...), true
		}
		args[i] = v
	}
	for i := 1; i < len(args); i += 2 { // values only: keys are strings
		switch v := args[i].(type) {
		case float64:
			if v == math.Trunc(v) && math.Abs(v) < 1<<63 {
				set(i, int64(v))
			}
		case time.Duration:
			set(i, v.String())
		}
	}
	return args
}
