package testenv

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Kcat runs Debian's kcat (librdkafka), a second, independent Kafka client,
// with stdin as its input, and returns what it printed. testenv.sh up
// installs it; without it the test is skipped, or fails under
// GOSTASH_REQUIRE_TESTENV.
func Kcat(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("kcat"); err != nil {
		unavailable(t, "kcat is not installed (testenv.sh up installs it: apt-get install kcat)")
		return ""
	}
	cmd := exec.Command("kcat", args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("kcat %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// DumpLogSegments prints the stored batches of a topic's partition as the
// broker's own DumpLogSegments tool (org.apache.kafka.tools) sees them (one line a batch,
// with `compresscodec: ...`), from every broker that holds a copy.
func DumpLogSegments(t testing.TB, topic string, partition int) string {
	t.Helper()
	env := Get(t)
	if env == nil {
		return ""
	}
	libs, data, java := env.Vars["KAFKA_LIBS"], env.Vars["KAFKA_DATA"], env.Vars["JAVA"]
	if libs == "" || data == "" || java == "" {
		unavailable(t, "%s has no KAFKA_LIBS, KAFKA_DATA or JAVA: restart the servers with `make testenv-down testenv-up`", env.Path)
		return ""
	}
	dir := topic + "-" + itoa(partition)
	segs, _ := filepath.Glob(filepath.Join(data, "node-*", "kraft", dir, "*.log"))
	if len(segs) == 0 {
		t.Fatalf("no log segment of %s under %s", dir, data)
	}
	sort.Strings(segs)
	cmd := exec.Command(java, "-Xmx256m", "-cp", filepath.Join(libs, "*"), "org.apache.kafka.tools.DumpLogSegments", "--files", strings.Join(segs, ","))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("DumpLogSegments %v: %v\n%s", segs, err, out)
	}
	return string(out)
}

func itoa(n int) string { return strconv.Itoa(n) }
