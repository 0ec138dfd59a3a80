//go:build unix

package badgerstore_test

import (
	"os"
	"syscall"
)

// killed says that the process of ps died by SIGKILL, as os.Process.Kill
// sends it.
func killed(ps *os.ProcessState) bool {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}
