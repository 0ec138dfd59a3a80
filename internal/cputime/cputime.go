// Package cputime reads the CPU time used by the process or by the calling
// thread, for benchmarks and load tests that report the cost of work done
// beside wall time: work on other cores (the recorder's writer, an exporter's
// batch processor) shows in process CPU time and not in ns/op, and the CPU
// time of a thread is inflated less than its wall time by other processes on
// a loaded machine.
package cputime

import (
	"runtime"
	"testing"
	"time"
)

// Process returns the CPU time (user and system) the process has used, and
// false where the system does not report it.
func Process() (time.Duration, bool) { return process() }

// Thread returns the CPU time (user and system) of the calling OS thread, and
// false where the system does not report it (everywhere but Linux). Lock the
// goroutine to its thread ([runtime.LockOSThread]) around what is measured.
func Thread() (time.Duration, bool) { return thread() }

// MeterThread locks the calling goroutine to its thread and returns a
// function that reports the thread's CPU time since then, per b.N, as the
// metric "cpu-ns/op", and unlocks the thread. Call it after the benchmark's
// setup, and the returned function when the loop is over. Where thread CPU
// time is not available, no metric is reported.
func MeterThread(b *testing.B) (stop func()) {
	runtime.LockOSThread()
	t0, ok := thread()
	return func() {
		if t1, _ := thread(); ok && b.N > 0 {
			b.ReportMetric(float64(t1-t0)/float64(b.N), "cpu-ns/op")
		}
		runtime.UnlockOSThread()
	}
}
