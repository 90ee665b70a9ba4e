package pluginhost

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/host"
	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// The test binary doubles as a plugin binary: started with this variable
// set, it serves a no-op filter instead of running tests. That lets these
// tests cross a real process boundary without building anything else.
const envServe = "GOSTASH_PLUGINHOST_TEST_SERVE"

type noop struct{}

func (noop) Apply(context.Context, *sdk.Event, func(*sdk.Event)) sdk.Result { return sdk.Matched }

func (noop) Transient() {}

// keeper keeps every message it sees, as a deduplicating filter would,
// and marks an event "damaged" when a kept message has changed since: a
// batch read into the memory of one whose strings a filter still holds.
type keeper struct{ kept, copies []string }

func (k *keeper) Apply(_ context.Context, e *sdk.Event, _ func(*sdk.Event)) sdk.Result {
	for i := range k.kept {
		if k.kept[i] != k.copies[i] {
			_ = e.Set("damaged", true)
			break
		}
	}
	m := e.Message()
	k.kept, k.copies = append(k.kept, m), append(k.copies, strings.Clone(m))
	return sdk.Matched
}

func TestMain(m *testing.M) {
	if os.Getenv(envServe) == "1" {
		sdk.RegisterFilter("noop", sdk.NewSpec("does nothing"), func(context.Context, *sdk.Config, sdk.Env) (sdk.Filter, error) {
			return noop{}, nil
		})
		sdk.RegisterFilter("keeper", sdk.NewSpec("keeps messages"), func(context.Context, *sdk.Config, sdk.Env) (sdk.Filter, error) {
			return &keeper{}, nil
		})
		sdk.Serve()
		return
	}
	code := m.Run()
	RemoveRunDir()
	os.Exit(code)
}

func startSelf(t testing.TB) *Process {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p, err := Start(context.Background(), Spec{Name: "self", Path: self, Env: []string{envServe + "=1"}},
		hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: os.Stderr}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	return p
}

func openNoop(t testing.TB, p *Process) int {
	t.Helper()
	h, ds, err := p.Open(context.Background(), &pluginv1.OpenRequest{Component: "noop", Kind: pluginv1.Kind_FILTER, Name: "n"})
	if err != nil || ds.HasErrors() {
		t.Fatalf("open: %v %v", err, ds)
	}
	return h
}

func batchOf(n int) []byte {
	events := make([]*sdk.Event, n)
	for i := range events {
		e := sdk.NewEvent(strings.Repeat("x", 200) + " " + strconv.Itoa(i))
		_ = e.Set("[host][name]", "bench-host")
		_ = e.Set("[event][sequence]", int64(i))
		events[i] = e
	}
	return host.EncodeBatch(events)
}

func TestRestartReopensInstances(t *testing.T) {
	p := startSelf(t)
	h := openNoop(t, p)
	before := struct {
		id   uint64
		sock string
	}{p.InstanceID(h), p.DataPlane()}
	pid := p.Pid()
	if pid == 0 {
		t.Fatal("no pid for the plugin process")
	}
	_, gen := p.Client()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if restarted, err := p.Restart(context.Background(), gen); err != nil || !restarted {
		t.Fatalf("restart after a crash: restarted %v, error %v", restarted, err)
	}
	// A second caller that saw the same crash finds it restarted already.
	if restarted, err := p.Restart(context.Background(), gen); err != nil || restarted {
		t.Fatalf("second restart of one crash: restarted %v, error %v", restarted, err)
	}
	if p.Pid() == pid {
		t.Fatal("restart kept the dead process")
	}
	// The restarted process's streams go over its own data plane again
	// (unless GOSTASH_DATA_PLANE=grpc).
	if sock := p.DataPlane(); (sock == "" || sock == before.sock) && os.Getenv(host.EnvDataPlane) != "grpc" {
		t.Fatalf("after the restart the data plane is %q (before: %q)", sock, before.sock)
	}
	rpc, _ := p.Client()
	stream, err := rpc.Process(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	data := batchOf(10)
	if err := stream.Send(&pluginv1.ProcessRequest{Seq: 1, InstanceIds: []uint64{p.InstanceID(h)}, Events: data}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil || resp.Count != 10 || resp.Error != "" {
		t.Fatalf("after restart: %v %+v", err, resp)
	}
	t.Logf("instance id before %d, after %d", before.id, p.InstanceID(h))
}

// A filter that keeps what it reads is not Transient: its batches must
// not be read into memory its kept strings share, however many go by.
func TestKeptStringsSurviveLaterBatches(t *testing.T) {
	p := startSelf(t)
	h, ds, err := p.Open(context.Background(), &pluginv1.OpenRequest{Component: "keeper", Kind: pluginv1.Kind_FILTER, Name: "k"})
	if err != nil || ds.HasErrors() {
		t.Fatalf("open: %v %v", err, ds)
	}
	rpc, _ := p.Client()
	stream, err := rpc.Process(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ids := []uint64{p.InstanceID(h)}
	for i := 0; i < 40; i++ {
		events := make([]*sdk.Event, 20)
		for j := range events {
			events[j] = sdk.NewEvent(fmt.Sprintf("batch %d event %d %s", i, j, strings.Repeat("x", 100)))
		}
		if err := stream.Send(&pluginv1.ProcessRequest{Seq: uint64(i), InstanceIds: ids, Events: host.EncodeBatch(events)}); err != nil {
			t.Fatal(err)
		}
		resp, err := stream.Recv()
		if err != nil || resp.Error != "" {
			t.Fatalf("batch %d: %v %q", i, err, resp.GetError())
		}
		out, err := host.DecodeBatch(resp.Events)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range out {
			if _, bad := e.Get("damaged"); bad {
				t.Fatalf("batch %d: a string the filter kept from an earlier batch changed", i)
			}
		}
	}
}

// cpuTicks returns a process's user+system CPU time.
func cpuTicks(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * (time.Second / 100) // USER_HZ is 100 on Linux
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCrossing sends batches to a plugin process running a no-op
// filter and back: two crossings per event, with the encoding and decoding
// a real filter pays. It reports CPU per event per crossing, counted in
// both processes.
func BenchmarkCrossing(b *testing.B) {
	for _, size := range []int{1, 64, 125, 512} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			p := startSelf(b)
			h := openNoop(b, p)
			rpc, _ := p.Client()
			stream, err := rpc.Process(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			data := batchOf(size)
			ids := []uint64{p.InstanceID(h)}
			// Two batches in flight, as the scheduler keeps with 2 workers.
			send := func(seq uint64) {
				if err := stream.Send(&pluginv1.ProcessRequest{Seq: seq, InstanceIds: ids, Events: data}); err != nil {
					b.Fatal(err)
				}
			}
			send(0)
			cpu0, child0 := selfCPU(), cpuTicks(p.Pid())
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				send(uint64(i + 1))
				// As the core reads a response: in place, released when done.
				resp := &host.ProcessResponse{}
				err := stream.RecvMsg(resp)
				if err != nil || resp.Error != "" || int(resp.Count) != size {
					b.Fatalf("crossing failed: %v %q, %d events back of %d", err, resp.GetError(), resp.GetCount(), size)
				}
				resp.Release()
			}
			b.StopTimer()
			cpu := selfCPU() - cpu0 + cpuTicks(p.Pid()) - child0
			events := float64(b.N * size)
			b.ReportMetric(float64(cpu.Nanoseconds())/events/2/1000, "cpu-µs/event/crossing")
			b.ReportMetric(events/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// The streams go over the data plane socket the process offers, in a
// directory only this user can enter and that goes with the process; with
// GOSTASH_DATA_PLANE=grpc they stay on gRPC. Either way a batch crosses.
func TestDataPlaneNegotiated(t *testing.T) {
	for _, mode := range []string{"", "grpc"} {
		t.Run("mode="+mode, func(t *testing.T) {
			t.Setenv(host.EnvDataPlane, mode)
			p := startSelf(t)
			h := openNoop(t, p)
			sock := p.DataPlane()
			if (sock != "") != (mode == "") {
				t.Fatalf("GOSTASH_DATA_PLANE=%q: data plane socket %q", mode, sock)
			}
			if sock != "" {
				fi, err := os.Stat(filepath.Dir(sock))
				if err != nil || fi.Mode().Perm() != 0o700 {
					t.Fatalf("socket directory: %v %v, want mode 0700", fi.Mode(), err)
				}
			}
			rpc, _ := p.Client()
			stream, err := rpc.Process(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if err := stream.Send(&pluginv1.ProcessRequest{Seq: 1, InstanceIds: []uint64{p.InstanceID(h)}, Events: batchOf(3)}); err != nil {
				t.Fatal(err)
			}
			if resp, err := stream.Recv(); err != nil || resp.Count != 3 {
				t.Fatalf("crossing: %v %v", resp, err)
			}
			p.Kill()
			if _, err := os.Stat(filepath.Dir(sock)); sock != "" && !os.IsNotExist(err) {
				t.Fatalf("the socket directory outlived the process: %v", err)
			}
		})
	}
	t.Setenv(host.EnvDataPlane, "http3")
	if _, err := Start(context.Background(), Spec{Name: "x", Path: "/bin/true"}, hclog.NewNullLogger()); err == nil || !strings.Contains(err.Error(), `use "unix"`) {
		t.Fatalf("an unknown GOSTASH_DATA_PLANE: %v", err)
	}
}
