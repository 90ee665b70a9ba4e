package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// docs/deploy/gostash.service is what operators install: its command
// lines run here as systemd would run them (with the binary and the
// directories moved into a temporary root), and systemd-analyze, where
// the machine has it, finds nothing to say about the unit.
func TestSystemdUnitRuns(t *testing.T) {
	unit, err := os.ReadFile("../../docs/deploy/gostash.service")
	if err != nil {
		t.Fatal(err)
	}
	svc := unitSection(string(unit), "Service")
	if svc["User"] == nil || svc["LimitNOFILE"] == nil || svc["KillMode"] == nil || svc["KillMode"][0] != "mixed" {
		t.Fatalf("the unit must name a User, set LimitNOFILE and KillMode=mixed (only gostash gets SIGTERM; it stops its plugins): %v", svc)
	}

	root := t.TempDir()
	conf, data := filepath.Join(root, "etc/gostash/conf.d"), filepath.Join(root, "var/lib/gostash")
	out := filepath.Join(root, "out.jsonl")
	for _, dir := range []string{conf, data} {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			t.Fatal(err)
		}
	}
	// Two files joined in lexical order, as -f does with a directory.
	writeFileAt(t, filepath.Join(conf, "10-input.hcl"), `input "generator" "gen" { count = 500 }`+"\n")
	writeFileAt(t, filepath.Join(conf, "90-output.hcl"), `output "file" "out" {
  path  = "`+out+`"
  codec = "json_lines"
}
`)
	move := strings.NewReplacer("/usr/bin/gostash", gostashBin, "/etc/gostash/conf.d", conf, "/var/lib/gostash", data)
	command := func(key string) *exec.Cmd {
		if len(svc[key]) != 1 {
			t.Fatalf("%s: %v", key, svc[key])
		}
		args := strings.Fields(move.Replace(svc[key][0]))
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = "/" // systemd starts services in /
		return cmd
	}

	if b, err := command("ExecStartPre").CombinedOutput(); err != nil || !strings.Contains(string(b), "Configuration OK") {
		t.Fatalf("ExecStartPre: %v\n%s", err, b)
	}
	start := command("ExecStart")
	var stderr lockedBuffer
	start.Stderr = &stderr
	if err := start.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = start.Process.Kill() })
	if err := waitExit(start, 30*time.Second); err != nil {
		t.Fatalf("ExecStart: %v\n%s", err, stderr.String())
	}
	if n := shippedLines(out); n != 500 {
		t.Fatalf("%d events written; want 500\n%s", n, stderr.String())
	}
	// --log.format json: every line is a JSON object for the journal.
	sc := bufio.NewScanner(strings.NewReader(stderr.String()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil || m["message"] == nil || m["level"] == nil || m["time"] == nil {
			t.Fatalf("not a JSON log line: %q", sc.Text())
		}
	}
	if _, err := os.Stat(filepath.Join(data, "uuid")); err != nil {
		t.Errorf("the state directory holds no node id: %v", err)
	}

	// systemd's SIGKILL must not cut a drain short.
	drain := 30 * time.Second
	if f := strings.Fields(svc["ExecStart"][0]); len(f) > 0 {
		for i, a := range f {
			if a == "--pipeline.drain_timeout" && i+1 < len(f) {
				drain, _ = time.ParseDuration(f[i+1])
			}
		}
	}
	if secs, err := strconv.Atoi(svc["TimeoutStopSec"][0]); err != nil || time.Duration(secs)*time.Second < drain+10*time.Second {
		t.Errorf("TimeoutStopSec %v; want at least the drain timeout (%v) plus 10 s", svc["TimeoutStopSec"], drain)
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze is not installed: the unit's syntax is not checked")
		return
	}
	moved := filepath.Join(root, "gostash.service")
	writeFileAt(t, moved, move.Replace(string(unit)))
	if b, err := exec.Command(analyze, "verify", moved).CombinedOutput(); err != nil || len(strings.TrimSpace(string(b))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, b)
	}
}

// unitSection reads one [Section] of a systemd unit: key → values, in
// order (a key may repeat).
func unitSection(unit, name string) map[string][]string {
	out := map[string][]string{}
	in := false
	for _, line := range strings.Split(unit, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			in = line == "["+name+"]"
		case in:
			if k, v, ok := strings.Cut(line, "="); ok {
				out[k] = append(out[k], v)
			}
		}
	}
	return out
}
