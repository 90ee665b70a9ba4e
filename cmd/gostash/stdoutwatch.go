package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// exitStdoutClosed is the status when standard output's reader went away,
// as a shell reports a process killed by SIGPIPE (128 + 13).
const exitStdoutClosed = 141

// watchStdout calls closed once the reader of standard output has gone
// away (`gostash -f p.hcl | head`). The stdout output can then write
// nothing ever again: it would retry its batch forever and the pipeline
// would never end, where every Unix tool exits. Only a pipe or a socket
// can lose its reader; for a file or a terminal watchStdout does nothing.
func watchStdout(f *os.File, closed func()) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return
	}
	if t := st.Mode & unix.S_IFMT; t != unix.S_IFIFO && t != unix.S_IFSOCK {
		return
	}
	go func() {
		// poll reports POLLERR on a pipe's write end once no reader is
		// left, whatever events are asked for.
		fds := []unix.PollFd{{Fd: int32(f.Fd())}}
		for {
			n, err := unix.Poll(fds, -1)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return
			}
			if n > 0 && fds[0].Revents&(unix.POLLERR|unix.POLLHUP) != 0 {
				closed()
				return
			}
		}
	}()
}
