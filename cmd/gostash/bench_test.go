package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Whole-pipeline benchmarks: the real binary, all its plugin processes,
// measured from outside as a user would (wall time, CPU of every process,
// peak RSS of all processes together). Run with:
//
//	go test ./cmd/gostash -run '^$' -bench Pipeline -benchtime 1x -count 3

// A million events: about two seconds a run, long enough that start-up
// (~50 ms for four processes) and the box's moment-to-moment noise weigh
// little in a figure that is about sustained throughput.
const benchEvents = 1_000_000

// A 300-byte line, as the benchmark asks.
var benchLine = strings.Repeat("gostash benchmark line ", 14)[:300]

func benchPipeline(filters int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "input \"generator\" \"gen\" {\n  lines = [%q]\n  count = %d\n}\n", benchLine, benchEvents)
	for i := 0; i < filters; i++ {
		fmt.Fprintf(&b, "filter \"expr\" \"f%d\" {\n  set = { \"[stage%d]\" = \"%d\" }\n}\n", i, i, i)
	}
	// "Null-ish stdout": the stdout output with the dots codec, into /dev/null.
	b.WriteString("output \"stdout\" \"out\" { codec = \"dots\" }\n")
	return b.String()
}

// memSampler follows the resident memory of a process and its children:
// the plain sum of their RSS, and the sum of their PSS. The processes run
// one binary, whose pages they share; RSS counts those pages once per
// process, PSS divides them among the processes, so the PSS sum is the
// memory the group really holds.
//
// Reading PSS walks each process's page tables under its mmap lock: 1.6
// to 2 ms a read for a 100-200 MB Go process, up to 24 ms when the
// process was mapping memory. Read for every process every 10 ms, that
// took a fifth of a core from the 2-core box and stalled the runtimes it
// measured, the more so the more processes. RSS is a counter
// (/proc/PID/statm) and is read every tick; PSS and the list of children
// every fifth.
type memSampler struct {
	pid       int
	pids      []int
	tick      int
	rss, pss  int64 // peaks
	pageBytes int64
}

func newMemSampler(pid int) *memSampler {
	return &memSampler{pid: pid, pageBytes: int64(os.Getpagesize())}
}

func (m *memSampler) sample() {
	if m.tick%5 == 0 {
		m.pids = append(append(m.pids[:0], m.pid), children(m.pid)...)
	}
	var rss, pss int64
	for _, p := range m.pids {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", p)); err == nil {
			if f := strings.Fields(string(b)); len(f) > 1 {
				pages, _ := strconv.ParseInt(f[1], 10, 64)
				rss += pages * m.pageBytes
			}
		}
		if m.tick%5 == 0 {
			pss += smapsPSS(p)
		}
	}
	m.rss = max(m.rss, rss)
	m.pss = max(m.pss, pss)
	m.tick++
}

// smapsPSS is the PSS of pid in bytes (0 once it has exited).
func smapsPSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "Pss:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

type runStats struct {
	wall    time.Duration
	cpu     time.Duration // user+sys of gostash and every plugin process
	peakRSS int64         // peak of the summed RSS of all processes
	peakPSS int64         // peak of the summed PSS of all processes
}

// measure runs gostash to completion, sampling the process tree's RSS.
func measure(b *testing.B, args ...string) runStats {
	b.Helper()
	return measureStdin(b, "", args...)
}

// measureStdin is measure with the file stdin names ("": none) as
// gostash's stdin.
func measureStdin(b *testing.B, stdin string, args ...string) runStats {
	b.Helper()
	cmd := exec.Command(gostashBin, args...)
	cmd.Dir = b.TempDir()
	if f := openStdin(b, stdin); f != nil {
		cmd.Stdin = f
	}
	var errb strings.Builder
	cmd.Stderr = &errb
	st, err := measureCmd(cmd, nil)
	if err != nil {
		b.Fatalf("gostash: %v\n%s", err, errb.String())
	}
	return st
}

// measureCmd runs cmd, sampling the memory of its process tree every
// 10 ms, until it exits; with stopWhen, it is sent SIGTERM once stopWhen
// (polled every 10 ms) reports true, for a command that does not end by
// itself. The wall time runs from start to exit.
func measureCmd(cmd *exec.Cmd, stopWhen func() bool) (runStats, error) {
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return runStats{}, err
	}
	mem := newMemSampler(cmd.Process.Pid)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		stopped := false
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				mem.sample()
				if stopWhen != nil && !stopped && stopWhen() {
					stopped = true
					cmd.Process.Signal(syscall.SIGTERM)
				}
			}
		}
	}()
	err := cmd.Wait()
	wall := time.Since(start)
	close(stop)
	wg.Wait()
	if err != nil {
		return runStats{}, err
	}
	// The kernel adds a reaped child's CPU, and that of the children it
	// reaped (the plugin processes), to what wait4 reports.
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return runStats{wall: wall, cpu: cpu, peakRSS: mem.rss, peakPSS: mem.pss}, nil
}

func BenchmarkPipeline(b *testing.B) {
	for _, filters := range []int{0, 1, 3} {
		b.Run(fmt.Sprintf("generator-filters=%d-stdout-dots", filters), func(b *testing.B) {
			cfg := writeFileB(b, "bench.hcl", benchPipeline(filters))
			var st runStats
			for i := 0; i < b.N; i++ {
				st = measure(b, "-f", cfg, "--log.level", "warn")
			}
			b.ReportMetric(float64(benchEvents)/st.wall.Seconds(), "events/s")
			b.ReportMetric(float64(st.cpu.Microseconds())/benchEvents, "cpu-µs/event")
			b.ReportMetric(float64(st.peakRSS)/(1<<20), "peak-RSS-sum-MB")
			b.ReportMetric(float64(st.peakPSS)/(1<<20), "peak-PSS-sum-MB")
		})
	}
}

// BenchmarkConfigTest times `gostash -t` on the quickstart pipeline.
func BenchmarkConfigTest(b *testing.B) {
	cfg := writeFileB(b, "bench.hcl", benchPipeline(3))
	var total time.Duration
	for i := 0; i < b.N; i++ {
		total += measure(b, "-t", "-f", cfg).wall
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/configtest")
}

// BenchmarkFirstEvent times from start until the first event is printed.
func BenchmarkFirstEvent(b *testing.B) {
	cfg := writeFileB(b, "first.hcl", `
input "generator" "gen" { count = 1 }
filter "expr" "f" { set = { "[x]" = "1" } }
output "stdout" "out" { codec = "json_lines" }
`)
	var total time.Duration
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(gostashBin, "-f", cfg)
		cmd.Dir = b.TempDir()
		out, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		_ = cmd.Wait()
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms-to-first-event")
}

func writeFileB(b *testing.B, name, content string) string {
	p := b.TempDir() + "/" + name
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		b.Fatal(err)
	}
	return p
}
