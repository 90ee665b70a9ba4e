// Package pluginhost starts plugin processes, talks the plugin protocol to
// them and restarts them when they crash.
package pluginhost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"
	"google.golang.org/grpc"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/host"
	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// Spec says how to start a plugin process.
type Spec struct {
	// Name is the process's name in logs ("builtin", or the plugin's name).
	Name string
	Path string
	Args []string
	// SHA256, when set, must match the binary before it is started.
	SHA256 string
	// Stdin gives the process the core's standard input.
	Stdin bool
	// Env is added to the process's environment.
	Env []string
}

// Process is a running plugin process and the instances opened in it. When
// the process crashes, Restart starts it again and reopens the instances;
// their ids change, their handles do not.
type Process struct {
	spec   Spec
	logger hclog.Logger

	mu     sync.Mutex
	client *plugin.Client
	runner *cmdRunner
	rpc    pluginv1.PluginClient
	gen    int
	// dataDir is the private directory offered to the process for its
	// data plane ("" with GOSTASH_DATA_PLANE=grpc); data is rpc with its
	// streams over that plane, once an Open answered where it listens.
	dataDir string
	data    pluginv1.PluginClient
	opens   []*pluginv1.OpenRequest
	ids     []uint64
	closed  bool
}

// Start starts a plugin process and waits for its handshake.
func Start(ctx context.Context, spec Spec, logger hclog.Logger) (*Process, error) {
	if _, err := rawDataPlane(); err != nil {
		return nil, err
	}
	p := &Process{spec: spec, logger: quiet(logger).Named(spec.Name)}
	if err := p.start(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Process) start() error {
	if p.spec.SHA256 != "" {
		if err := checkSHA256(p.spec.Path, p.spec.SHA256); err != nil {
			return err
		}
	}
	spec := p.spec
	var r *cmdRunner
	// Every socket of the process goes in the core's own directory (see
	// RunDir); "" when it could not be made: the temp directory.
	runDir, _ := RunDir()
	var sockets *plugin.UnixSocketConfig
	if runDir != "" {
		sockets = &plugin.UnixSocketConfig{TempDir: runDir}
	}
	strays := p.logger.Named(spec.Name).StandardWriter(&hclog.StandardLoggerOptions{ForceLevel: hclog.Info})
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  host.Handshake,
		VersionedPlugins: host.PluginSets(),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           p.logger,
		// Plugins talk over a unix socket in a 0700 directory; mTLS
		// would add key generation per start and TLS on every byte.
		AutoMTLS:         false,
		StartTimeout:     20 * time.Second,
		UnixSocketConfig: sockets,
		// Stray prints of a plugin go to the log, a line each under the
		// process's name (JSON with --log.format json), never to our stdout.
		SyncStdout: strays,
		SyncStderr: strays,
		RunnerFunc: func(_ hclog.Logger, cmd *exec.Cmd, _ string) (runner.Runner, error) {
			c := exec.Command(spec.Path, spec.Args...)
			// The plugin logs at the core's level: a line the core would
			// drop is not written, and a debug line asked for is.
			c.Env = append(cmd.Env, host.EnvLogLevel+"="+p.logger.GetLevel().String())
			c.Env = append(c.Env, spec.Env...)
			var err error
			r, err = newRunner(c, spec.Stdin)
			return r, err
		},
		GRPCDialOptions: append([]grpc.DialOption{
			grpc.WithDefaultCallOptions(
				grpc.MaxCallRecvMsgSize(host.MaxMessageBytes),
				grpc.MaxCallSendMsgSize(host.MaxMessageBytes)),
			// Set both windows: setting one alone falls back to 64 KiB
			// and collapses throughput (grpc-go#9096).
			grpc.WithInitialWindowSize(16 << 20),
			grpc.WithInitialConnWindowSize(64 << 20),
			grpc.WithReadBufferSize(1 << 20),
			grpc.WithWriteBufferSize(1 << 20),
		}, host.GRPCDialOptions()...),
	})
	rpcClient, err := client.Client()
	if err != nil {
		client.Kill()
		if m := otherMajor.FindStringSubmatch(err.Error()); m != nil {
			return fmt.Errorf("plugin %s (%s) speaks gostash plugin protocol v%s, this gostash speaks v%d: "+
				"use a gostash release that speaks v%s, or rebuild the plugin with an SDK for protocol v%d",
				spec.Name, spec.Path, m[1], host.Handshake.ProtocolVersion, m[1], host.Handshake.ProtocolVersion)
		}
		return fmt.Errorf("plugin %s (%s): %w", spec.Name, spec.Path, err)
	}
	raw, err := rpcClient.Dispense(host.PluginName)
	if err != nil {
		client.Kill()
		return fmt.Errorf("plugin %s: %w", spec.Name, err)
	}
	p.client, p.runner, p.rpc = client, r, raw.(pluginv1.PluginClient)
	p.gen++
	p.dropDataPlane()
	if on, _ := rawDataPlane(); on {
		// The socket goes in a directory only this user can enter, one
		// per process start, removed when the process is stopped.
		if p.dataDir, err = os.MkdirTemp(runDir, "data-"); err != nil {
			p.logger.Warn("no directory for the data plane; the streams stay on gRPC", "error", err)
			p.dataDir = ""
		}
	}
	return nil
}

// dropDataPlane forgets the data plane of the process that was, and
// removes its directory; p.mu is held.
func (p *Process) dropDataPlane() {
	p.data = nil
	if p.dataDir != "" {
		_ = os.RemoveAll(p.dataDir)
		p.dataDir = ""
	}
}

// rawDataPlane reports whether GOSTASH_DATA_PLANE lets the streams go over
// a plugin's data plane socket.
func rawDataPlane() (bool, error) {
	switch v := os.Getenv(host.EnvDataPlane); v {
	case "", "unix":
		return true, nil
	case "grpc":
		return false, nil
	default:
		return false, fmt.Errorf("%s=%q: use \"unix\" (the default: batches over a Unix socket) or \"grpc\"", host.EnvDataPlane, v)
	}
}

// learnDataPlane takes the data plane an Open answered with; p.mu is held.
// The core dials nothing outside the directory it made for the process.
func (p *Process) learnDataPlane(plane *pluginv1.DataPlane) {
	if plane == nil || p.data != nil || p.dataDir == "" {
		return
	}
	if filepath.Dir(plane.UnixSocket) != p.dataDir {
		p.logger.Warn("the plugin's data plane is outside the directory it was given; the streams stay on gRPC", "socket", plane.UnixSocket)
		return
	}
	p.data = host.DataPlaneClient(p.rpc, plane)
	p.logger.Debug("batches go over the data plane", "socket", plane.UnixSocket)
}

// otherMajor matches go-plugin's error for a plugin that offers none of
// the protocol majors the core speaks.
var otherMajor = regexp.MustCompile(`incompatible API version with plugin\. Plugin version: (\d+)`)

// FileSHA256 is the hex sha256 of the file at path, as sha256sum prints it.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func checkSHA256(path, want string) error {
	got, err := FileSHA256(path)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("plugin %s: sha256 is %s, the configuration expects %s: rebuild or update the plugin block", path, got, want)
	}
	return nil
}

// Name returns the process's name in logs.
func (p *Process) Name() string { return p.spec.Name }

// Client returns the current client and its generation, which Restart
// takes to know whether the caller saw the latest crash.
func (p *Process) Client() (pluginv1.PluginClient, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.data != nil {
		return p.data, p.gen
	}
	return p.rpc, p.gen
}

// DataPlane returns the socket the process's streams go over, "" when
// they go over gRPC (GOSTASH_DATA_PLANE=grpc, a plugin that predates the
// data plane, or nothing opened yet).
func (p *Process) DataPlane() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if rc, ok := p.data.(interface{ Socket() string }); ok {
		return rc.Socket()
	}
	return ""
}

// Pid returns the process id of the current process, 0 when not running.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.runner == nil || p.runner.cmd.Process == nil {
		return 0
	}
	return p.runner.cmd.Process.Pid
}

// Describe asks the process for its catalog.
func (p *Process) Describe(ctx context.Context) (*pluginv1.Catalog, error) {
	rpc, _ := p.Client()
	return rpc.Describe(ctx, &pluginv1.DescribeRequest{})
}

// Open opens an instance and returns its handle. Its options are kept so
// a restart can open it again.
func (p *Process) Open(ctx context.Context, req *pluginv1.OpenRequest) (int, sdk.Diagnostics, error) {
	p.mu.Lock()
	rpc, gen := p.rpc, p.gen
	req.DataPlaneDir = p.dataDir
	p.mu.Unlock()
	resp, err := rpc.Open(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	ds := host.DiagnosticsFromProto(resp.Diagnostics)
	if ds.HasErrors() {
		return 0, ds, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gen == gen {
		p.learnDataPlane(resp.DataPlane)
	}
	p.opens = append(p.opens, req)
	p.ids = append(p.ids, resp.InstanceId)
	return len(p.ids) - 1, ds, nil
}

// InstanceID returns the current id of an opened instance.
func (p *Process) InstanceID(handle int) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ids[handle]
}

// Restart starts the process again after a crash seen at generation gen,
// with backoff, and reopens its instances. When another caller already
// restarted it, Restart returns at once; restarted says whether this call
// restarted the process, so that a restart is counted once.
func (p *Process) Restart(ctx context.Context, gen int) (restarted bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gen != gen || p.closed {
		return false, nil
	}
	if ctx.Err() != nil {
		return false, ctx.Err() // stopping: a restart would only be killed again
	}
	p.logger.Warn("plugin process failed; restarting it", "name", p.spec.Name)
	p.kill()
	backoff := 50 * time.Millisecond
	for {
		err := p.start()
		if err == nil {
			err = p.reopen(ctx)
		}
		if err == nil {
			return true, nil
		}
		p.logger.Error("plugin restart failed", "error", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(backoff):
		}
		if backoff < 5*time.Second {
			backoff *= 2
		}
	}
}

// killGrace is how long a plugin process may take to exit when asked
// before it is killed outright.
const killGrace = 3 * time.Second

// kill stops the current process; p.mu is held. go-plugin asks the
// process to shut down and waits for the answer without a deadline, so a
// stopped (SIGSTOP) or wedged process would hold the caller for ever:
// after killGrace it gets SIGKILL, which also ends that wait.
func (p *Process) kill() {
	defer p.dropDataPlane()
	if p.client == nil {
		return
	}
	done := make(chan struct{})
	go func(c *plugin.Client) { c.Kill(); close(done) }(p.client)
	select {
	case <-done:
	case <-time.After(killGrace):
		if p.runner != nil {
			p.logger.Warn("plugin process did not exit when asked; killing it", "name", p.spec.Name)
			_ = p.runner.Kill(context.Background())
		}
		<-done
	}
}

func (p *Process) reopen(ctx context.Context) error {
	for i, req := range p.opens {
		req.DataPlaneDir = p.dataDir
		resp, err := p.rpc.Open(ctx, req)
		if err != nil {
			return err
		}
		if ds := host.DiagnosticsFromProto(resp.Diagnostics); ds.HasErrors() {
			return ds.Err()
		}
		p.ids[i] = resp.InstanceId
		p.learnDataPlane(resp.DataPlane)
	}
	return nil
}

// CloseInstances closes every instance, flushing outputs.
func (p *Process) CloseInstances(ctx context.Context) {
	p.mu.Lock()
	rpc, ids := p.rpc, append([]uint64(nil), p.ids...)
	p.mu.Unlock()
	for _, id := range ids {
		if _, err := rpc.Close(ctx, &pluginv1.CloseRequest{InstanceId: id}); err != nil {
			p.logger.Warn("closing an instance failed", "error", err)
		}
	}
}

// Kill stops the process.
func (p *Process) Kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.kill()
}
