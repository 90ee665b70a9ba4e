package pluginhost

import "github.com/hashicorp/go-hclog"

// quietLogger demotes go-plugin's "plugin process exited" from info to
// debug when the exit was clean: every run ends that way for every
// plugin process, and a log that says it on each stop teaches operators
// to ignore the log. Unclean exits stay errors.
type quietLogger struct{ hclog.Logger }

func quiet(l hclog.Logger) hclog.Logger { return quietLogger{l} }

func (q quietLogger) Info(msg string, args ...any) {
	if msg == "plugin process exited" {
		q.Logger.Debug(msg, args...)
		return
	}
	q.Logger.Info(msg, args...)
}

func (q quietLogger) Named(name string) hclog.Logger { return quietLogger{q.Logger.Named(name)} }
func (q quietLogger) ResetNamed(name string) hclog.Logger {
	return quietLogger{q.Logger.ResetNamed(name)}
}
func (q quietLogger) With(args ...any) hclog.Logger { return quietLogger{q.Logger.With(args...)} }
