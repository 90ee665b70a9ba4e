package wire

import (
	"io"
	"os"
	"strconv"
)

// EnvStdoutFD names the file descriptor of the core's standard output in
// a plugin process. The process's own stdout carries go-plugin's handshake
// and is then captured by it, so the core hands the stdout output its real
// standard output as an extra file.
const EnvStdoutFD = "GOSTASH_STDOUT_FD"

var realStdout io.Writer = os.Stdout

func init() {
	if fd, err := strconv.Atoi(os.Getenv(EnvStdoutFD)); err == nil && fd > 2 {
		realStdout = os.NewFile(uintptr(fd), "stdout")
	}
}

// Stdout is the pipeline's standard output: what the stdout output writes
// to. Inside a plugin process it is the core's stdout, not the process's.
func Stdout() io.Writer { return realStdout }

// Stdin is the pipeline's standard input. Only a component whose spec says
// ReadsStdin gets the core's stdin; for the others it is empty.
func Stdin() io.Reader { return os.Stdin }
