package pluginhost

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// A malformed checksum is refused before the binary runs: the binary here
// would leave a file behind if it were started.
func TestAddBinaryRefusesMalformedSHA256(t *testing.T) {
	dir := t.TempDir()
	ran := filepath.Join(dir, "ran")
	bin := filepath.Join(dir, "gostash-x")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\ntouch "+ran+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := NewRegistry("/nonexistent", &pluginv1.Catalog{})
	for _, sha := range []string{"abc", strings.Repeat("z", 64)} {
		err := r.AddBinary(context.Background(), "x", bin, sha, hclog.NewNullLogger())
		if err == nil || !strings.Contains(err.Error(), "not 64 hex digits") {
			t.Errorf("sha256 %q: error %v, want one saying it is not 64 hex digits", sha, err)
		}
	}
	if _, err := os.Stat(ran); err == nil {
		t.Error("the binary was started despite a malformed sha256")
	}
}
