package main

import (
	"runtime"
	"runtime/metrics"
	"time"
)

// gcCounters are the Go runtime's and the system's counters of a stretch
// of the process: what was allocated on the heap, how many collections
// ran, and the CPU time the runtime estimates the garbage collector took
// (its mark workers, assists and pauses; the runtime's estimate, from the
// scheduler's accounting, updated at each collection's end, so a stretch
// of a few collections rounds to whole cycles); and what an instruction
// count does not see: how often goroutines were scheduled, waited for a
// lock, and how often the process's threads were switched out or faulted.
type gcCounters struct {
	AllocBytes   uint64
	AllocObjects uint64
	Cycles       uint64
	GCCPU        time.Duration

	// Runs is how many times a goroutine went from runnable to running
	// (the count of /sched/latencies:seconds): each wakeup of a blocked
	// goroutine, each preemption and each yield adds one.
	Runs uint64
	// MutexWait is the time goroutines spent blocked on a sync.Mutex or
	// sync.RWMutex (/sync/mutex/wait/total:seconds).
	MutexWait time.Duration
	// ScavengeCPU is the runtime's estimate of the CPU time it spent
	// returning memory to the system (/cpu/classes/scavenge/total).
	ScavengeCPU time.Duration
	// Voluntary and Involuntary are the context switches of the
	// process's threads (getrusage): a thread that blocked (a futex
	// sleep, epoll with nothing ready), or that the kernel switched out
	// for another; MinorFaults the page faults served without I/O (a
	// page of heap touched for the first time since it was mapped or
	// returned to the system). Zero where the system does not report
	// them.
	Voluntary, Involuntary, MinorFaults uint64
}

var gcMetricNames = [...]string{
	"/gc/heap/allocs:bytes",
	"/gc/heap/allocs:objects",
	"/gc/cycles/total:gc-cycles",
	"/cpu/classes/gc/total:cpu-seconds",
	"/sched/latencies:seconds",
	"/sync/mutex/wait/total:seconds",
	"/cpu/classes/scavenge/total:cpu-seconds",
}

// readGC returns the process's counters now. The allocation counters
// are kept per P and added up as each P's cache refills a span, so that
// read as they are, a short stretch misses the objects of the spans still
// being filled (400 objects read as 165 to 750); runtime.ReadMemStats
// flushes every P's cache first, a stop of the world of some
// microseconds, at a round's or a slice's ends only.
func readGC() gcCounters {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var s [len(gcMetricNames)]metrics.Sample
	readSamples(s[:], gcMetricNames[:])
	u := func(i int) uint64 { return sampleUint64(s[i]) }
	sec := func(i int) time.Duration {
		if s[i].Value.Kind() != metrics.KindFloat64 {
			return 0
		}
		return time.Duration(s[i].Value.Float64() * 1e9)
	}
	var runs uint64
	if s[4].Value.Kind() == metrics.KindFloat64Histogram {
		for _, n := range s[4].Value.Float64Histogram().Counts {
			runs += n
		}
	}
	c := gcCounters{AllocBytes: u(0), AllocObjects: u(1), Cycles: u(2), GCCPU: sec(3),
		Runs: runs, MutexWait: sec(5), ScavengeCPU: sec(6)}
	c.Voluntary, c.Involuntary, c.MinorFaults = osCounters()
	return c
}

// sub returns the counters of the stretch from b to c.
func (c gcCounters) sub(b gcCounters) gcCounters {
	return gcCounters{
		AllocBytes:   c.AllocBytes - b.AllocBytes,
		AllocObjects: c.AllocObjects - b.AllocObjects,
		Cycles:       c.Cycles - b.Cycles,
		GCCPU:        c.GCCPU - b.GCCPU,
		Runs:         c.Runs - b.Runs,
		MutexWait:    c.MutexWait - b.MutexWait,
		ScavengeCPU:  c.ScavengeCPU - b.ScavengeCPU,
		Voluntary:    c.Voluntary - b.Voluntary,
		Involuntary:  c.Involuntary - b.Involuntary,
		MinorFaults:  c.MinorFaults - b.MinorFaults,
	}
}

// add returns the sum of two stretches' counters.
func (c gcCounters) add(d gcCounters) gcCounters {
	return gcCounters{
		AllocBytes:   c.AllocBytes + d.AllocBytes,
		AllocObjects: c.AllocObjects + d.AllocObjects,
		Cycles:       c.Cycles + d.Cycles,
		GCCPU:        c.GCCPU + d.GCCPU,
		Runs:         c.Runs + d.Runs,
		MutexWait:    c.MutexWait + d.MutexWait,
		ScavengeCPU:  c.ScavengeCPU + d.ScavengeCPU,
		Voluntary:    c.Voluntary + d.Voluntary,
		Involuntary:  c.Involuntary + d.Involuntary,
		MinorFaults:  c.MinorFaults + d.MinorFaults,
	}
}

// readSamples reads the runtime/metrics names, one a sample, into s.
func readSamples(s []metrics.Sample, names []string) {
	for i, n := range names {
		s[i].Name = n
	}
	metrics.Read(s)
}

// sampleUint64 is s's value, or 0 when it is not a uint64 (a metric this
// Go version does not have).
func sampleUint64(s metrics.Sample) uint64 {
	if s.Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s.Value.Uint64()
}
