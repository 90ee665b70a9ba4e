package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"syscall"

	"github.com/hashicorp/go-plugin/runner"

	"github.com/gostash/gostash/sdk/host"
)

// go-plugin always gives a plugin the core's stdin and cannot set a
// parent-death signal, so the core starts plugin processes through its own
// runner.

// spawnReq asks the spawner thread to start a command.
type spawnReq struct {
	cmd  *exec.Cmd
	done chan error
}

var spawns = make(chan spawnReq)

// The Linux parent-death signal fires when the *thread* that forked the
// child exits, not the process (golang/go#27505). So every plugin is
// forked from one goroutine locked to its OS thread for the life of the
// core.
func init() {
	go func() {
		runtime.LockOSThread()
		for req := range spawns {
			req.done <- req.cmd.Start()
		}
	}()
}

func startLocked(cmd *exec.Cmd) error {
	done := make(chan error, 1)
	spawns <- spawnReq{cmd: cmd, done: done}
	return <-done
}

// cmdRunner is go-plugin's runner.Runner for a local process started with
// the stdio and signals gostash wants.
type cmdRunner struct {
	cmd            *exec.Cmd
	stdout, stderr io.ReadCloser
}

var _ runner.Runner = (*cmdRunner)(nil)

// newRunner prepares cmd: stdin only when wantStdin, the core's stdout as
// fd 3 (see sdk.Stdout), SIGKILL when the core dies.
func newRunner(cmd *exec.Cmd, wantStdin bool) (*cmdRunner, error) {
	cmd.Stdin = nil // /dev/null: only the stdin input may read stdin
	if wantStdin {
		cmd.Stdin = os.Stdin
	}
	cmd.ExtraFiles = []*os.File{os.Stdout}
	cmd.Env = append(cmd.Env, host.EnvStdoutFD+"=3")
	// SIGKILL: plugins ignore SIGTERM (see sdk.Serve), and with the core
	// gone there is nobody left to acknowledge anything they could flush.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	return &cmdRunner{cmd: cmd, stdout: stdout, stderr: stderr}, nil
}

func (r *cmdRunner) Start(context.Context) error {
	if err := startLocked(r.cmd); err != nil {
		return fmt.Errorf("start plugin %s: %w", r.cmd.Path, err)
	}
	return nil
}

func (r *cmdRunner) Diagnose(context.Context) string {
	return fmt.Sprintf("%s did not answer the gostash plugin handshake: is it a gostash plugin built with the SDK?", r.cmd.Path)
}

func (r *cmdRunner) Stdout() io.ReadCloser      { return r.stdout }
func (r *cmdRunner) Stderr() io.ReadCloser      { return r.stderr }
func (r *cmdRunner) Name() string               { return r.cmd.Path }
func (r *cmdRunner) Wait(context.Context) error { return r.cmd.Wait() }
func (r *cmdRunner) ID() string {
	if r.cmd.Process == nil {
		return ""
	}
	return fmt.Sprint(r.cmd.Process.Pid)
}

func (r *cmdRunner) Kill(context.Context) error {
	if r.cmd.Process == nil {
		return nil
	}
	if err := r.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

func (r *cmdRunner) PluginToHost(n, a string) (string, string, error) { return n, a, nil }
func (r *cmdRunner) HostToPlugin(n, a string) (string, string, error) { return n, a, nil }
