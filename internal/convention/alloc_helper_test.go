package convention_test

import "runtime"

// leastAllocated returns the fewest bytes f allocated in five runs, each
// after a collection. What other goroutines allocate meanwhile (the test
// runner, the race detector's runtime, an earlier test winding down) only
// adds to a run, where f allocates as much each time: one run of
// TestTextNestedURLsLinear under load counted 0 bytes for 16 KiB and 224
// for 64 KiB, and failed its bound of 6 times.
func leastAllocated(f func()) uint64 {
	least := ^uint64(0)
	for range 5 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}
