package sdk

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// The instances a plugin process serves: opened and closed by the core.

// server implements the protocol over the registry.
type server struct {
	pluginv1.UnimplementedPluginServer
	logger hclog.Logger

	mu      sync.Mutex
	next    uint64
	inputs  map[uint64]*inputInstance
	filters map[uint64]*filterInstance
	outputs map[uint64]*outputInstance
	closers map[uint64]any

	planeOnce sync.Once
	plane     *pluginv1.DataPlane // nil: the streams are gRPC's only
}

type inputInstance struct {
	input    Input
	decorate *InputDecorator
	logger   hclog.Logger
}

type outputInstance struct {
	output Output
	when   *guard
	logger hclog.Logger
}

func newServer(logger hclog.Logger) *server {
	return &server{
		logger:  logger,
		inputs:  map[uint64]*inputInstance{},
		filters: map[uint64]*filterInstance{},
		outputs: map[uint64]*outputInstance{},
		closers: map[uint64]any{},
	}
}

// hcLogger adapts hclog to the SDK's Logger.
type hcLogger struct{ hclog.Logger }

func (l hcLogger) Debug(msg string, args ...any) { l.Logger.Debug(msg, logArgs(args)...) }
func (l hcLogger) Info(msg string, args ...any)  { l.Logger.Info(msg, logArgs(args)...) }
func (l hcLogger) Warn(msg string, args ...any)  { l.Logger.Warn(msg, logArgs(args)...) }
func (l hcLogger) Error(msg string, args ...any) { l.Logger.Error(msg, logArgs(args)...) }

// logArgs writes durations as "200ms": hclog's JSON would write their
// nanoseconds, which reach the core's log as a float ("2e+08").
func logArgs(args []any) []any {
	copied := false
	for i, a := range args {
		if d, ok := a.(time.Duration); ok {
			if !copied { // the caller's slice is not ours to change
				args, copied = append([]any(nil), args...), true
			}
			args[i] = d.String()
		}
	}
	return args
}

func (s *server) Open(ctx context.Context, req *pluginv1.OpenRequest) (*pluginv1.OpenResponse, error) {
	kind := kindOf(req.Kind)
	comp, ok := Lookup(kind, req.Component)
	if !ok {
		return nil, fmt.Errorf("this plugin has no %s %q", kind, req.Component)
	}
	cfg, err := ParseConfig(req.ConfigJson)
	if err != nil {
		return nil, err
	}
	if ds := validateComponent(comp, cfg); ds.HasErrors() {
		return &pluginv1.OpenResponse{Diagnostics: diagnosticsToProto(ds)}, nil
	}
	// Two pipelines may each have an instance of the same name.
	logger := s.logger.Named(kind.String()+"."+req.Name).With("pipeline", req.PipelineId)
	env := Env{Name: req.Name, Pipeline: req.PipelineId, Logger: hcLogger{logger}, DataDir: req.DataDir,
		BatchSize: int(req.BatchSize), BatchDelay: time.Duration(req.BatchDelayMs) * time.Millisecond,
		SourceCoordinates: req.SourceCoordinates}
	// The core always sends both; only a host that predates them, or
	// another implementation of the protocol, leaves them 0.
	if env.BatchSize <= 0 {
		env.BatchSize = DefaultBatchSize
	}
	if env.BatchDelay <= 0 {
		env.BatchDelay = DefaultBatchDelay
	}
	s.mu.Lock()
	s.next++
	id := s.next
	s.mu.Unlock()
	fail := func(err error) (*pluginv1.OpenResponse, error) {
		return &pluginv1.OpenResponse{Diagnostics: []*pluginv1.Diagnostic{{Summary: err.Error()}}}, nil
	}
	switch kind {
	case KindInput:
		in, err := comp.NewInput(ctx, cfg, env)
		if err != nil {
			return fail(err)
		}
		dec, err := NewInputDecorator(cfg)
		if err != nil {
			return fail(err)
		}
		s.mu.Lock()
		s.inputs[id] = &inputInstance{input: in, decorate: dec, logger: logger}
		s.closers[id] = in
		s.mu.Unlock()
	case KindFilter:
		fi, err := openFilter(ctx, comp, cfg, env)
		if err != nil {
			return fail(err)
		}
		s.mu.Lock()
		s.filters[id] = fi
		s.closers[id] = fi.Filter
		s.mu.Unlock()
	case KindOutput:
		out, err := comp.NewOutput(ctx, cfg, env)
		if err != nil {
			return fail(err)
		}
		co, err := openCommon(KindOutput, cfg, env.Logger)
		if err != nil {
			return fail(err)
		}
		oi := &outputInstance{output: out, when: co.when, logger: logger}
		s.mu.Lock()
		s.outputs[id] = oi
		s.closers[id] = out
		s.mu.Unlock()
	default:
		return nil, fmt.Errorf("unknown component kind %v", req.Kind)
	}
	return &pluginv1.OpenResponse{InstanceId: id, DataPlane: s.dataPlane(req.DataPlaneDir)}, nil
}

func (s *server) Close(ctx context.Context, req *pluginv1.CloseRequest) (*pluginv1.CloseResponse, error) {
	s.mu.Lock()
	c := s.closers[req.InstanceId]
	delete(s.closers, req.InstanceId)
	delete(s.inputs, req.InstanceId)
	delete(s.filters, req.InstanceId)
	delete(s.outputs, req.InstanceId)
	s.mu.Unlock()
	if cl, ok := c.(Closer); ok {
		if err := cl.Close(ctx); err != nil {
			return nil, err
		}
	}
	return &pluginv1.CloseResponse{}, nil
}
