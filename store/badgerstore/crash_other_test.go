//go:build !unix

package badgerstore_test

import (
	"os"
	"runtime"
)

// killed says that the process of ps ended as os.Process.Kill ends it:
// outside Unix there is no signal to tell a kill by (see killedBy).
func killed(ps *os.ProcessState) bool {
	return ps != nil && killedBy(runtime.GOOS, ps.Success(), ps.ExitCode())
}
