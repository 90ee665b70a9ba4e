package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gostash/gostash/core/config"
)

// sharedBuilds holds the plugin binaries built once per test binary:
// a go build costs seconds, and most tests only run the binary.
var sharedBuilds sync.Map // module dir + package -> *sharedBuild

type sharedBuild struct {
	once sync.Once
	bin  string
	err  error
	out  []byte
}

// sharedPlugin builds pkg of this module once for all the tests of this
// binary. Tests must not change the binary; one that does builds its own.
func sharedPlugin(t *testing.T, pkg string) string {
	t.Helper()
	return sharedModulePlugin(t, ".", pkg)
}

// sharedModulePlugin builds pkg of the Go module in dir (its own module,
// as a third-party plugin is) once for all the tests of this binary.
func sharedModulePlugin(t *testing.T, dir, pkg string) string {
	t.Helper()
	v, _ := sharedBuilds.LoadOrStore(dir+"|"+pkg, &sharedBuild{})
	b := v.(*sharedBuild)
	b.once.Do(func() {
		name := strings.TrimPrefix(filepath.Base(pkg), "gostash-")
		// A directory of its own: a test may put it on the plugin path.
		out := filepath.Join(filepath.Dir(gostashBin), "plugins", filepath.Base(dir), name)
		if b.err = os.MkdirAll(out, 0o755); b.err != nil {
			return
		}
		b.bin = filepath.Join(out, "gostash-"+name)
		cmd := exec.Command("go", "build", "-o", b.bin, pkg)
		cmd.Dir = dir
		b.out, b.err = cmd.CombinedOutput()
	})
	if b.err != nil {
		t.Fatalf("build %s in %s: %v\n%s", pkg, dir, b.err, b.out)
	}
	return b.bin
}

// shoutModule is the example third-party plugin, a Go module of its own.
const shoutModule = "../../sdk/examples/shout"

func sha256File(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestThirdPartyPluginByPathWithChecksum(t *testing.T) {
	bin := sharedModulePlugin(t, shoutModule, "./cmd/gostash-shout")
	cfg := fmt.Sprintf(`
plugin "shout" {
  path   = %q
  sha256 = %q
}
input "generator" "gen" {
  lines = ["hello", "world"]
  count = 4
}
filter "shout" "loud" {}
output "stdout" "out" { codec = "json_lines" }
`, bin, sha256File(t, bin))
	stdout, stderr, code := gostash(t, "", "-e", cfg)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	events := jsonEvents(t, stdout)
	if len(events) != 4 {
		t.Fatalf("want 4 events, got %d\n%s", len(events), stdout)
	}
	for _, e := range events {
		if m := e["message"].(string); m != strings.ToUpper(m) {
			t.Errorf("message %q was not upper-cased by the third-party filter", m)
		}
	}
	// The plugin's log line reaches the core's log under its name.
	if !strings.Contains(stderr, "shout filter ready") || !strings.Contains(stderr, "filter.loud") {
		t.Errorf("the plugin's log line is missing or not named:\n%s", stderr)
	}

	// A wrong checksum stops the run before anything starts.
	bad := strings.Replace(cfg, sha256File(t, bin), strings.Repeat("0", 64), 1)
	_, stderr, code = gostash(t, "", "-t", "-e", bad)
	if code != 1 || !strings.Contains(stderr, "sha256") {
		t.Fatalf("a wrong sha256 must fail the configtest: exit %d\n%s", code, stderr)
	}
}

func TestThirdPartyPluginDiscoveredOnPluginPath(t *testing.T) {
	bin := sharedModulePlugin(t, shoutModule, "./cmd/gostash-shout")
	cmd := exec.Command(gostashBin, "plugin", "list")
	cmd.Env = append(os.Environ(), config.EnvPluginPath+"="+filepath.Dir(bin))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("plugin list: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`filter\s+shout\s+1\.0\.0\s+` + regexp.QuoteMeta(bin)).Match(out) {
		t.Fatalf("plugin list does not show the discovered plugin:\n%s", out)
	}
	cmd = exec.Command(gostashBin, "-t", "-e", `
input "generator" "g" { count = 1 }
filter "shout" "s" { field = "[bad" }
output "null" "n" {}
`)
	cmd.Env = append(os.Environ(), config.EnvPluginPath+"="+filepath.Dir(bin))
	out, _ = cmd.CombinedOutput()
	// The plugin's own Validate runs over the protocol and points at the
	// attribute.
	if !strings.Contains(string(out), "<inline>:3:30") || !strings.Contains(string(out), "field reference") {
		t.Fatalf("plugin-side validation did not point at the attribute:\n%s", out)
	}
}

func TestPluginPrintingToStdoutDoesNotBreakHandshake(t *testing.T) {
	bin := sharedPlugin(t, "./testdata/testplugin")
	stdout, stderr, code := gostash(t, "", "-e", fmt.Sprintf(`
plugin "testplugin" { path = %q }
input "generator" "gen" { count = 10 }
filter "tagger" "t" { tag = "seen" }
output "stdout" "out" { codec = "json_lines" }
`, bin))
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if strings.Contains(stdout, "hello from the test plugin") {
		t.Errorf("a plugin's stray print reached the pipeline's stdout:\n%s", stdout)
	}
	events := jsonEvents(t, stdout)
	if len(events) != 10 {
		t.Fatalf("want 10 events, got %d", len(events))
	}
	for _, e := range events {
		tags, _ := e["tags"].([]any)
		if len(tags) != 1 || tags[0] != "seen" {
			t.Fatalf("event not tagged by the plugin: %v", e)
		}
	}
}

var statsLine = regexp.MustCompile(`events_in=(\d+) events_out=(\d+)`)

// A slow output must stop the inputs from reading: the generator could
// make millions of events a second, but only about what the output took
// plus the in-flight bound may be read.
func TestBackpressureBoundsWhatIsRead(t *testing.T) {
	bin := sharedPlugin(t, "./testdata/testplugin")
	cfg := writeFile(t, "p.hcl", fmt.Sprintf(`
plugin "testplugin" { path = %q }
pipeline {
  workers    = 2
  batch_size = 100
}
input "generator" "gen" {}
output "slow" "out" { delay = "50ms" }
`, bin))
	cmd, _, errb := startGostash(t, "-f", cfg)
	waitChild(t, cmd.Process.Pid, "builtin-inputs")
	time.Sleep(2 * time.Second)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("gostash: %v\n%s", err, errb.String())
	}
	m := statsLine.FindStringSubmatch(errb.String())
	if m == nil {
		t.Fatalf("no stats line:\n%s", errb.String())
	}
	in, _ := strconv.Atoi(m[1])
	out, _ := strconv.Atoi(m[2])
	// An output writes on as many streams as the credits (2×workers+2 =
	// 6): 6 writers × one batch of 100 per 50 ms for ~2 s is ~24,000
	// events; the credits add 600. Without backpressure the generator
	// reads millions.
	if in > 30000 {
		t.Fatalf("the input read %d events while the output took %d: backpressure does not reach the input", in, out)
	}
	if in != out {
		t.Fatalf("a graceful stop must deliver what was read: in %d, out %d", in, out)
	}
}

// An output's per-event answers: retried events are sent again until
// accepted, rejected ones are dead-lettered with the reason, and nothing
// is lost or acked early.
func TestOutputRetriesAndDeadLetters(t *testing.T) {
	bin := sharedPlugin(t, "./testdata/testplugin")
	data := t.TempDir()
	stdout, stderr, code := gostash(t, "", "--path.data", data, "-e", fmt.Sprintf(`
plugin "testplugin" { path = %q }
input "generator" "gen" {
  lines = ["keep a", "reject b", "keep c", "keep d"]
  count = 8
}
output "flaky" "out" {}
`, bin))
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if n := strings.Count(stdout, "ACCEPTED keep"); n != 6 {
		t.Errorf("want the 6 keep events accepted after their retry, got %d:\n%s", n, stdout)
	}
	dlq, err := os.ReadFile(filepath.Join(data, "dead_letter_queue", "main", "out.jsonl"))
	if err != nil {
		t.Fatalf("no dead letter file: %v\n%s", err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(string(dlq)), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 dead letters, got %d:\n%s", len(lines), dlq)
	}
	for _, l := range lines {
		if !strings.Contains(l, `"reason":"rejected on purpose"`) || !strings.Contains(l, `"message":"reject b"`) {
			t.Errorf("dead letter lacks the event or the reason: %s", l)
		}
	}
}

// The first Ctrl-C drains; when the drain cannot finish (a stuck output),
// a second one exits at once.
func TestSecondInterruptForcesExit(t *testing.T) {
	bin := sharedPlugin(t, "./testdata/testplugin")
	cfg := writeFile(t, "p.hcl", fmt.Sprintf(`
plugin "testplugin" { path = %q }
input "generator" "gen" {}
output "slow" "out" { delay = "1h" }
`, bin))
	cmd, _, errb := startGostash(t, "-f", cfg)
	waitChild(t, cmd.Process.Pid, "builtin-inputs")
	time.Sleep(300 * time.Millisecond)
	_ = cmd.Process.Signal(os.Interrupt)
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	_ = cmd.Process.Signal(os.Interrupt)
	err := waitExit(cmd, 10*time.Second)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("second Ctrl-C: want exit 130, got %v\n%s", err, errb.String())
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("second Ctrl-C took %v to exit", d)
	}
}
