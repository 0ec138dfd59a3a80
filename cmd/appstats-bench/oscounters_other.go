//go:build !unix

package main

// osCounters reports nothing where getrusage does not exist.
func osCounters() (voluntary, involuntary, minorFaults uint64) { return 0, 0, 0 }
