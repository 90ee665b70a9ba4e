package main

import (
	"context"
	"io"
	"log"
	"log/slog"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
)

// With --log.format json every line on stderr is one JSON object with the
// same keys, the core's and the plugin processes' alike:
//
//	{"time":"…","level":"WARN","message":"…","pipeline":"main","plugin":"es","plugin_kind":"output",…}
//
// The core logs through slog. A plugin process logs hclog JSON, which
// go-plugin parses and logs again through the core's hclog.Logger: in
// JSON that logger is slogHclog, which writes through the core's slog
// handler, so plugin lines get the core's keys and the plugin's id and
// kind instead of hclog's @message and @module.

// jsonHandler is the core's JSON handler: "message" as Logstash's and
// ECS's logs call it, durations written as Go writes them ("1.5s").
func jsonHandler(w io.Writer, level slog.Leveler) slog.Handler {
	return slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		switch {
		case len(groups) == 0 && a.Key == slog.MessageKey:
			a.Key = "message"
		case a.Value.Kind() == slog.KindDuration:
			a.Value = slog.StringValue(a.Value.Duration().String())
		}
		return a
	}})
}

// pipelineLog is the log of pipeline id: in JSON each line names it.
// Plain lines stay as they were (the pipeline's id is in its start line).
func pipelineLog(o *options, l *slog.Logger, id string) *slog.Logger {
	if o.logFormat != "json" {
		return l
	}
	return l.With("pipeline", id)
}

// pipelineHclog is pipelineLog for the plugin processes' lines.
func pipelineHclog(o *options, l hclog.Logger, id string) hclog.Logger {
	if o.logFormat != "json" {
		return l
	}
	return l.With("pipeline", id)
}

// logDiagnostics logs configuration problems one JSON line each, for a
// run with --log.format json (-t prints them for a person).
func logDiagnostics(stderr io.Writer, diags hcl.Diagnostics) {
	log := slog.New(jsonHandler(stderr, slog.LevelDebug))
	for _, d := range diags {
		level, attrs := slog.LevelError, []any{}
		if d.Severity == hcl.DiagWarning {
			level = slog.LevelWarn
		}
		if d.Detail != "" {
			attrs = append(attrs, "detail", d.Detail)
		}
		if d.Subject != nil {
			attrs = append(attrs, "file", d.Subject.Filename, "line", d.Subject.Start.Line, "column", d.Subject.Start.Column)
		}
		log.Log(context.Background(), level, d.Summary, attrs...)
	}
}

// slogHclog is an hclog.Logger that writes through slog.
type slogHclog struct {
	log   *slog.Logger
	name  string
	level hclog.Level
	args  []any
}

var _ hclog.Logger = (*slogHclog)(nil)

func newSlogHclog(l *slog.Logger, name string, level hclog.Level) *slogHclog {
	return &slogHclog{log: l, name: name, level: level}
}

var slogLevels = map[hclog.Level]slog.Level{
	hclog.Trace: slog.LevelDebug - 4, hclog.Debug: slog.LevelDebug, hclog.Info: slog.LevelInfo,
	hclog.Warn: slog.LevelWarn, hclog.Error: slog.LevelError,
}

func (h *slogHclog) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Off || level < h.level {
		return
	}
	sl, ok := slogLevels[level]
	if !ok {
		sl = slog.LevelInfo
	}
	attrs := make([]any, 0, len(h.args)+len(args)+4)
	attrs = append(attrs, h.args...)
	module := ""
	for i := 0; i+1 < len(args); i += 2 {
		k, _ := args[i].(string)
		switch k {
		case "@module": // a plugin's: plugin.KIND.ID
			module, _ = args[i+1].(string)
			continue
		case "timestamp": // the plugin's clock; the line's time is the core's
			continue
		case "plugin": // go-plugin's own lines: the binary's path
			k = "binary"
		}
		attrs = append(attrs, k, args[i+1])
	}
	if kind, id, ok := strings.Cut(strings.TrimPrefix(module, "plugin."), "."); ok {
		attrs = append(attrs, "plugin", id, "plugin_kind", kind)
	} else {
		attrs = append(attrs, "logger", h.name)
	}
	h.log.Log(context.Background(), sl, msg, attrs...)
}

func (h *slogHclog) Trace(msg string, args ...any) { h.Log(hclog.Trace, msg, args...) }
func (h *slogHclog) Debug(msg string, args ...any) { h.Log(hclog.Debug, msg, args...) }
func (h *slogHclog) Info(msg string, args ...any)  { h.Log(hclog.Info, msg, args...) }
func (h *slogHclog) Warn(msg string, args ...any)  { h.Log(hclog.Warn, msg, args...) }
func (h *slogHclog) Error(msg string, args ...any) { h.Log(hclog.Error, msg, args...) }
func (h *slogHclog) IsTrace() bool                 { return h.level <= hclog.Trace }
func (h *slogHclog) IsDebug() bool                 { return h.level <= hclog.Debug }
func (h *slogHclog) IsInfo() bool                  { return h.level <= hclog.Info }
func (h *slogHclog) IsWarn() bool                  { return h.level <= hclog.Warn }
func (h *slogHclog) IsError() bool                 { return h.level <= hclog.Error }
func (h *slogHclog) ImpliedArgs() []any            { return h.args }
func (h *slogHclog) Name() string                  { return h.name }
func (h *slogHclog) SetLevel(l hclog.Level)        { h.level = l }
func (h *slogHclog) GetLevel() hclog.Level         { return h.level }

func (h *slogHclog) With(args ...any) hclog.Logger {
	c := *h
	c.args = append(append([]any(nil), h.args...), args...)
	return &c
}

func (h *slogHclog) Named(name string) hclog.Logger {
	c := *h
	if c.name != "" {
		name = c.name + "." + name
	}
	c.name = name
	return &c
}

func (h *slogHclog) ResetNamed(name string) hclog.Logger {
	c := *h
	c.name = name
	return &c
}

func (h *slogHclog) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(h.StandardWriter(opts), "", 0)
}

// StandardWriter logs each write as a line at opts' level (Info when
// none is forced): a plugin's stray prints, for one.
func (h *slogHclog) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	level := hclog.Info
	if opts != nil && opts.ForceLevel != hclog.NoLevel {
		level = opts.ForceLevel
	}
	return writerFunc(func(p []byte) (int, error) {
		h.Log(level, strings.TrimRight(string(p), " \t\r\n"))
		return len(p), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
