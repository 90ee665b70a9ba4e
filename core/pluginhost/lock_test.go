package pluginhost

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/gostash/gostash/sdk/host"
	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// Under a lock, a binary the lock does not name, or whose sha256 differs,
// is never started: the binary here would leave a file behind if it were.
func TestLockRefusesBeforeStarting(t *testing.T) {
	dir := t.TempDir()
	ran := filepath.Join(dir, "ran")
	bin := filepath.Join(dir, "gostash-x")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\ntouch "+ran+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		lock map[string]string
		want string
	}{
		{"unlisted", map[string]string{"/elsewhere": strings.Repeat("0", 64)}, "is not in the lock file test.lock"},
		{"changed", map[string]string{bin: strings.Repeat("0", 64)}, "the lock file test.lock expects 0000"},
	} {
		r := NewRegistry("/nonexistent", &pluginv1.Catalog{})
		r.SetLock(Lock{File: "test.lock", SHA256: tc.lock})
		err := r.AddBinary(context.Background(), "x", bin, "", hclog.NewNullLogger())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := os.Stat(ran); err == nil {
		t.Fatal("a binary the lock refuses was started")
	}
}

// Plugins of the core's revision of v1 and older ones load; newer ones do
// not.
func TestCheckMinor(t *testing.T) {
	for minor, ok := range map[uint32]bool{0: true, host.ProtocolMinor: true, host.ProtocolMinor + 1: false} {
		err := checkMinor("p", "/bin/p", &pluginv1.Catalog{ProtocolMinor: minor})
		if (err == nil) != ok {
			t.Errorf("a plugin of protocol v1.%d: error %v, want accepted %v", minor, err, ok)
		}
	}
}
