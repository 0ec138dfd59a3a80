//go:build unix

package main

import "syscall"

// osCounters returns the process's voluntary and involuntary context
// switches and minor page faults so far (getrusage, all threads).
func osCounters() (voluntary, involuntary, minorFaults uint64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0, 0
	}
	return uint64(ru.Nvcsw), uint64(ru.Nivcsw), uint64(ru.Minflt)
}
