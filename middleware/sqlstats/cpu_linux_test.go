package sqlstats_test

import (
	"syscall"
	"time"
)

// threadCPU returns the CPU time (user and system) of the calling thread:
// with the goroutine locked to its thread, a measure of the work on the
// request path that other processes on a loaded machine do not inflate as
// much as they inflate wall time.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
