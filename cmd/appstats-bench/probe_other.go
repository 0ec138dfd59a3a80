//go:build !linux

package main

import "time"

// threadCPU reports nothing where the thread's CPU clock is not read: the
// probe does not run.
func threadCPU() (time.Duration, bool) { return 0, false }

// mapWords allocates n words on the heap where no anonymous mapping is
// made (the probe does not run there: threadCPU reports nothing).
func mapWords(n int) ([]uint32, func(), error) { return make([]uint32, n), func() {}, nil }

// readMachine reports nothing where /proc/stat does not exist.
func readMachine() (machineCPU, bool) { return machineCPU{}, false }
