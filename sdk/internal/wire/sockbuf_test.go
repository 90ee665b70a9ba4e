package wire

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// A data plane socket asks for room for several batches (socketBuffer),
// as much as net.core.wmem_max lets it have: with Linux's default a
// plugin's write of a batch waited for the other process to be scheduled.
func TestDataPlaneSocketsHaveRoomForBatches(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/net/core/wmem_max")
	if err != nil {
		t.Skip("not Linux:", err)
	}
	limit, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	want := min(limit, socketBuffer)
	if want <= 212992 {
		t.Skipf("net.core.wmem_max is %d: no more room than the default to ask for", limit)
	}
	path := filepath.Join(t.TempDir(), "s")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rc := newRawConn(c)
	raw, err := rc.c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var got int
	if err := raw.Control(func(fd uintptr) {
		got, err = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF)
	}); err != nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if got < want { // Linux reports twice what was set
		t.Fatalf("send buffer %d bytes, want at least %d", got, want)
	}
}
