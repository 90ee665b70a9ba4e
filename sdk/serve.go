package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/gostash/gostash/sdk/internal/wire"
	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// pluginLogger writes hclog JSON to stderr, which the core parses and
// re-emits under the plugin's name.
var pluginLogger = hclog.New(&hclog.LoggerOptions{
	Name:       "plugin",
	Level:      hclog.LevelFromString(envOr(wire.EnvLogLevel, "info")),
	Output:     os.Stderr,
	JSONFormat: true,
})

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// handshakeOut is the process's real stdout, kept for go-plugin's
// handshake line. Until Serve runs, fd 1 points at stderr, so a plugin
// (or a library it uses) that prints to stdout during init cannot break
// the handshake.
var handshakeOut *os.File

func init() {
	if os.Getenv(wire.Handshake.MagicCookieKey) != wire.Handshake.MagicCookieValue {
		return // not started by the core: leave stdio alone
	}
	fd, err := syscall.Dup(1)
	if err != nil {
		return
	}
	handshakeOut = os.NewFile(uintptr(fd), "handshake")
	_ = syscall.Dup2(2, 1)
}

// Serve serves every registered component over the plugin protocol. A
// plugin binary's main calls it, after its components registered in init:
//
//	func main() { sdk.Serve() }
func Serve() {
	if handshakeOut != nil {
		os.Stdout = handshakeOut
	}
	// A stop signal sent to the whole process group (Ctrl-C in a terminal,
	// systemd stopping the unit, `timeout`) must not kill plugins before
	// the core has drained them: the core stops them itself, after its
	// outputs have flushed. SIGHUP (a closed terminal) stops the core the
	// same way.
	signal.Ignore(os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go watchParent()
	stopProfile := wire.StartCPUProfile("plugin")
	defer stopProfile()
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  wire.Handshake,
		VersionedPlugins: wire.PluginSets(newServer(pluginLogger)),
		Logger:           pluginLogger,
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(append(opts,
				grpc.MaxRecvMsgSize(wire.MaxMessageBytes),
				grpc.MaxSendMsgSize(wire.MaxMessageBytes),
				grpc.InitialWindowSize(16<<20),
				grpc.InitialConnWindowSize(64<<20),
				grpc.ReadBufferSize(1<<20),
				grpc.WriteBufferSize(1<<20),
			), wire.GRPCServerOptions()...)...)
		},
	})
}

// Stdout is the pipeline's standard output: what the stdout output writes
// to. Inside a plugin process it is the core's stdout, not the process's.
func Stdout() io.Writer { return wire.Stdout() }

// Stdin is the pipeline's standard input. Only a component whose spec says
// ReadsStdin gets the core's stdin; for the others it is empty.
func Stdin() io.Reader { return wire.Stdin() }

// watchParent ends the process when the core is gone. The core also sets
// a parent-death signal, but that cannot cover every way a process can be
// started (a plugin run under a debugger, another OS).
func watchParent() {
	parent := os.Getppid()
	for range time.Tick(500 * time.Millisecond) {
		if os.Getppid() != parent {
			pluginLogger.Error("gostash core is gone; exiting")
			os.Exit(3)
		}
	}
}

// ---------------------------------------------------------------------------

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

func kindOf(k pluginv1.Kind) Kind {
	switch k {
	case pluginv1.Kind_INPUT:
		return KindInput
	case pluginv1.Kind_FILTER:
		return KindFilter
	case pluginv1.Kind_OUTPUT:
		return KindOutput
	}
	return 0
}

// kindToProto converts a Kind to its wire form.
func kindToProto(k Kind) pluginv1.Kind {
	switch k {
	case KindInput:
		return pluginv1.Kind_INPUT
	case KindFilter:
		return pluginv1.Kind_FILTER
	case KindOutput:
		return pluginv1.Kind_OUTPUT
	}
	return pluginv1.Kind_KIND_UNSPECIFIED
}

// catalog describes the registered components as the protocol sends them.
func catalog() *pluginv1.Catalog {
	cat := &pluginv1.Catalog{ProtocolMinor: wire.ProtocolMinor, SdkVersion: wire.SDKVersion}
	for _, c := range Components() {
		pc := &pluginv1.Component{
			Name:       c.Name,
			Kind:       kindToProto(c.Kind),
			Version:    c.Spec.Version,
			Summary:    c.Spec.Summary,
			WantsStdin: c.Spec.Stdin,
		}
		for _, f := range c.Fields() {
			a := &pluginv1.Attribute{Name: f.Name, Type: string(f.Type), Required: f.Required, Doc: f.Doc, OneOf: f.OneOf}
			if f.Default != nil {
				a.DefaultJson, _ = json.Marshal(f.Default)
			}
			for _, ex := range f.Examples {
				if b, err := json.Marshal(ex); err == nil {
					a.ExamplesJson = append(a.ExamplesJson, b)
				}
			}
			pc.Attributes = append(pc.Attributes, a)
		}
		cat.Components = append(cat.Components, pc)
	}
	return cat
}

func (s *server) Describe(context.Context, *pluginv1.DescribeRequest) (*pluginv1.Catalog, error) {
	return catalog(), nil
}

func (s *server) Validate(_ context.Context, req *pluginv1.ValidateRequest) (*pluginv1.ValidateResponse, error) {
	comp, ok := Lookup(kindOf(req.Kind), req.Component)
	if !ok {
		return nil, fmt.Errorf("this plugin has no %s %q", kindOf(req.Kind), req.Component)
	}
	cfg, err := ParseConfig(req.ConfigJson)
	if err != nil {
		return nil, err
	}
	return &pluginv1.ValidateResponse{Diagnostics: diagnosticsToProto(validateComponent(comp, cfg))}, nil
}

// validateComponent runs the common options' checks and the component's
// own. It never connects anywhere.
func validateComponent(comp *Component, cfg *Config) Diagnostics {
	_, ds := compileCommon(comp.Kind, cfg, nil)
	if comp.Validate != nil {
		ds = append(ds, comp.Validate(cfg)...)
	}
	return ds
}

// diagnosticsToProto converts diagnostics to their wire form.
func diagnosticsToProto(ds Diagnostics) []*pluginv1.Diagnostic {
	out := make([]*pluginv1.Diagnostic, 0, len(ds))
	for _, d := range ds {
		pd := &pluginv1.Diagnostic{Summary: d.Summary, Detail: d.Detail, Path: d.Path}
		if d.Warning {
			pd.Severity = pluginv1.Diagnostic_WARNING
		}
		out = append(out, pd)
	}
	return out
}

// diagnosticsFromProto converts diagnostics from their wire form.
func diagnosticsFromProto(pds []*pluginv1.Diagnostic) Diagnostics {
	out := make(Diagnostics, 0, len(pds))
	for _, pd := range pds {
		out = append(out, Diagnostic{
			Warning: pd.Severity == pluginv1.Diagnostic_WARNING,
			Summary: pd.Summary, Detail: pd.Detail, Path: pd.Path,
		})
	}
	return out
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
	return &pluginv1.OpenResponse{InstanceId: id}, nil
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

// ---- input stream ---------------------------------------------------------

// publisher implements Publisher over a Read stream: a batch goes out only
// against a credit from the core, so a full pipeline blocks Publish.
type publisher struct {
	stream   pluginv1.Plugin_ReadServer
	decorate *InputDecorator
	credits  chan struct{}
	granted  atomic.Int64 // credits granted in all (acks only return them)

	mu     sync.Mutex // guards enc, nextID, acks and stream.Send
	enc    batchEncoder
	nextID uint64
	acks   map[uint64]func()
}

func (p *publisher) Publish(ctx context.Context, events []*Event, ack func()) error {
	if len(events) == 0 {
		if ack != nil {
			ack()
		}
		return nil
	}
	select {
	case <-p.credits:
	case <-ctx.Done():
		return ctx.Err()
	}
	for _, e := range events {
		p.decorate.Decorate(e)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nextID++
	id := p.nextID
	if ack != nil {
		p.acks[id] = ack
	}
	data := p.enc.Encode(events)
	return p.stream.Send(&pluginv1.InputMessage{Msg: &pluginv1.InputMessage_Batch{Batch: &pluginv1.SourceBatch{
		BatchId: id, Events: data, Count: uint32(len(events)),
	}}})
}

// ReportGauges sends the input's gauges on its Read stream.
func (p *publisher) ReportGauges(gauges []Gauge) error {
	msg := gaugesProto(gauges)
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stream.Send(&pluginv1.InputMessage{Msg: &pluginv1.InputMessage_Gauges{Gauges: msg}})
}

func gaugesProto(gauges []Gauge) *pluginv1.Gauges {
	msg := &pluginv1.Gauges{}
	for _, g := range gauges {
		msg.Gauges = append(msg.Gauges, &pluginv1.Gauge{Name: g.Name, Labels: g.Labels, Value: g.Value, Lag: g.Lag})
	}
	return msg
}

func (p *publisher) acked(id uint64) {
	p.mu.Lock()
	ack := p.acks[id]
	delete(p.acks, id)
	p.mu.Unlock()
	if ack != nil {
		ack()
	}
}

// Credits is how many batches the core lets this input have unacked.
func (p *publisher) Credits() int { return int(p.granted.Load()) }

func (p *publisher) grant(n uint32) {
	for i := uint32(0); i < n; i++ {
		p.credits <- struct{}{}
	}
}

func (s *server) Read(stream pluginv1.Plugin_ReadServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	start := first.GetStart()
	if start == nil {
		return errors.New("read stream must begin with Start")
	}
	s.mu.Lock()
	inst := s.inputs[start.InstanceId]
	s.mu.Unlock()
	if inst == nil {
		return fmt.Errorf("no input instance %d", start.InstanceId)
	}
	// Credits are bounded by what the core grants; the channel only has
	// to hold them.
	pub := &publisher{stream: stream, decorate: inst.decorate, credits: make(chan struct{}, 1<<16), acks: map[uint64]func(){}}
	pub.granted.Add(int64(start.Credits))
	pub.grant(start.Credits)

	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	recvDone := make(chan error, 1)
	go func() {
		for {
			m, err := stream.Recv()
			if err != nil {
				cancel() // the core is gone or done: stop reading
				recvDone <- err
				return
			}
			switch msg := m.Msg.(type) {
			case *pluginv1.InputControl_Credit:
				pub.granted.Add(int64(msg.Credit.Batches))
				pub.grant(msg.Credit.Batches)
			case *pluginv1.InputControl_Ack:
				pub.acked(msg.Ack.BatchId)
				pub.grant(1) // an ack returns the batch's credit
			case *pluginv1.InputControl_Drain:
				cancel()
			}
		}
	}()

	runErr := inst.input.Run(ctx, pub)
	end := &pluginv1.InputMessage{Msg: &pluginv1.InputMessage_End{End: &pluginv1.EndOfInput{}}}
	if runErr != nil && !errors.Is(runErr, ErrEndOfInput) && !errors.Is(runErr, context.Canceled) {
		inst.logger.Error("input failed", "error", runErr)
		end = &pluginv1.InputMessage{Msg: &pluginv1.InputMessage_Error{Error: &pluginv1.Diagnostic{Summary: runErr.Error()}}}
	}
	pub.mu.Lock()
	sendErr := stream.Send(end)
	pub.mu.Unlock()
	if sendErr != nil {
		return sendErr
	}
	// Keep taking acks until the core closes its side: they let the input
	// commit what the outputs have.
	<-recvDone
	return nil
}

// ---- filter stream --------------------------------------------------------

func (s *server) Process(stream pluginv1.Plugin_ProcessServer) error {
	var (
		enc    batchEncoder
		dec    batchDecoder
		events []*Event
		chain  []*filterInstance
		ids    []uint64
	)
	ctx := stream.Context()
	for {
		req := &wire.ProcessRequest{}
		if err := stream.RecvMsg(req); err != nil {
			return nil // the core closed the stream
		}
		if !sameIDs(ids, req.InstanceIds) {
			ids = append(ids[:0], req.InstanceIds...)
			chain = chain[:0]
			s.mu.Lock()
			for _, id := range ids {
				fi := s.filters[id]
				if fi == nil {
					s.mu.Unlock()
					return fmt.Errorf("no filter instance %d", id)
				}
				chain = append(chain, fi)
			}
			s.mu.Unlock()
		}
		resp := &pluginv1.ProcessResponse{Seq: req.Seq}
		decoded, err := dec.Decode(req.Events)
		switch {
		case err != nil:
			resp.Error = err.Error()
		case req.MaxEvents > 0:
			// Pieces of at most MaxEvents go out as the chain makes
			// them: a 1000x fan-out never exists as one batch.
			last, counts, err := runChainPieces(ctx, chain, decoded, int(req.MaxEvents), func(piece []*Event) error {
				return stream.Send(&pluginv1.ProcessResponse{Seq: req.Seq, Events: enc.Encode(piece), Count: uint32(len(piece)), More: true})
			})
			if err != nil {
				return err
			}
			resp.Events, resp.Count = enc.Encode(last), uint32(len(last))
			for _, c := range counts {
				resp.FilterCounts = append(resp.FilterCounts, &pluginv1.FilterCount{In: c.in, Out: c.out, Dropped: c.dropped, DurationNanos: c.nanos})
			}
		default: // a core that takes the answer in one piece
			// runChain reuses its argument's array: give it a copy of
			// the decoder's list, which the decoder needs to recycle.
			events = append(events[:0], decoded...)
			out := runChain(ctx, chain, events)
			resp.Events = enc.Encode(out)
			resp.Count = uint32(len(out))
		}
		if err := stream.Send(resp); err != nil {
			return err
		}
		if transient(chain) {
			// Nothing holds the batch's bytes or values any longer: the
			// next batch is read into their memory.
			req.Release()
			dec.Release()
		}
	}
}

// transient reports whether no filter of chain keeps what it reads.
func transient(chain []*filterInstance) bool {
	for _, fi := range chain {
		if _, ok := fi.Filter.(Transient); !ok {
			return false
		}
	}
	return true
}

func sameIDs(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ---- output stream --------------------------------------------------------

func (s *server) Write(stream pluginv1.Plugin_WriteServer) error {
	var (
		dec      batchDecoder
		selected []*Event
		index    []int
	)
	// Gauges go out on the stream before the answer (seq 0), from the
	// goroutine running Write: never at the same time as the answer.
	ctx := context.WithValue(stream.Context(), writeGaugesKey{}, func(gauges []Gauge) error {
		return stream.Send(&pluginv1.WriteResponse{Gauges: gaugesProto(gauges)})
	})
	for {
		req := &wire.WriteRequest{}
		if err := stream.RecvMsg(req); err != nil {
			return nil
		}
		s.mu.Lock()
		oi := s.outputs[req.InstanceId]
		s.mu.Unlock()
		if oi == nil {
			return fmt.Errorf("no output instance %d", req.InstanceId)
		}
		resp := &pluginv1.WriteResponse{Seq: req.Seq}
		if co, ok := oi.output.(CountingOutput); ok && oi.when == nil {
			n, err := countEvents(req.Events)
			req.Release() // counted: the bytes are not needed again
			if err != nil {
				return fmt.Errorf("write: %w", err)
			}
			if werr := co.WriteCount(ctx, n); werr != nil {
				index = index[:0]
				for i := 0; i < n; i++ {
					index = append(index, i)
				}
				resp.Results = writeResults(werr, index, oi.logger)
			}
			if err := stream.Send(resp); err != nil {
				return err
			}
			continue
		}
		events, err := dec.Decode(req.Events)
		if err != nil {
			return fmt.Errorf("write: %w", err)
		}
		// Events the output's `when` excludes (or fails on) are done:
		// they are accepted without being written.
		selected, index = selected[:0], index[:0]
		for i, e := range events {
			if !oi.when.match(e) {
				continue
			}
			selected = append(selected, e)
			index = append(index, i)
		}
		resp.Skipped = uint32(len(events) - len(selected))
		if len(selected) > 0 {
			if werr := oi.output.Write(ctx, selected); werr != nil {
				resp.Results = writeResults(werr, index, oi.logger)
			}
		}
		if err := stream.Send(resp); err != nil {
			return err
		}
		clear(selected)
	}
}

func writeResults(err error, index []int, logger hclog.Logger) []*pluginv1.ItemResult {
	var we *WriteError
	if !errors.As(err, &we) {
		// The whole batch failed: retry all of it.
		logger.Warn("write failed; the batch will be retried", "error", err)
		out := make([]*pluginv1.ItemResult, len(index))
		for i, idx := range index {
			out[i] = &pluginv1.ItemResult{Index: uint32(idx), Code: pluginv1.ItemResult_RETRY, Reason: err.Error()}
		}
		return out
	}
	out := make([]*pluginv1.ItemResult, 0, len(we.Items))
	for _, it := range we.Items {
		if it.Index < 0 || it.Index >= len(index) {
			continue
		}
		r := &pluginv1.ItemResult{Index: uint32(index[it.Index]), Reason: it.Reason, RetryAfterMs: uint32(it.RetryAfter / time.Millisecond)}
		if it.Reject {
			r.Code = pluginv1.ItemResult_REJECT
		} else {
			r.Code = pluginv1.ItemResult_RETRY
		}
		out = append(out, r)
	}
	return out
}
