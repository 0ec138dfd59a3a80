//go:build !unix

package badgerstore_test

import "os"

// killed says that the process of ps did not end well, as it does when
// os.Process.Kill ends it: outside Unix there is no signal to tell a
// kill by (Windows ends the process with exit code 1, Plan 9 with a
// note).
func killed(ps *os.ProcessState) bool { return ps != nil && !ps.Success() }
