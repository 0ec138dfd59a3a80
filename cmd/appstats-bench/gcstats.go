package main

import (
	"runtime"
	"runtime/metrics"
	"time"
)

// gcCounters are the Go runtime's counters of a stretch of the process:
// what was allocated on the heap, how many collections ran, and the CPU
// time the runtime estimates the garbage collector took (its mark
// workers, assists and pauses; the runtime's estimate, from the
// scheduler's accounting, updated at each collection's end, so a stretch
// of a few collections rounds to whole cycles).
type gcCounters struct {
	AllocBytes   uint64
	AllocObjects uint64
	Cycles       uint64
	GCCPU        time.Duration
}

var gcMetricNames = [...]string{
	"/gc/heap/allocs:bytes",
	"/gc/heap/allocs:objects",
	"/gc/cycles/total:gc-cycles",
	"/cpu/classes/gc/total:cpu-seconds",
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
	for i, n := range gcMetricNames {
		s[i].Name = n
	}
	metrics.Read(s[:])
	u := func(i int) uint64 {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return s[i].Value.Uint64()
	}
	var cpu float64
	if s[3].Value.Kind() == metrics.KindFloat64 {
		cpu = s[3].Value.Float64()
	}
	return gcCounters{AllocBytes: u(0), AllocObjects: u(1), Cycles: u(2), GCCPU: time.Duration(cpu * 1e9)}
}

// sub returns the counters of the stretch from b to c.
func (c gcCounters) sub(b gcCounters) gcCounters {
	return gcCounters{
		AllocBytes:   c.AllocBytes - b.AllocBytes,
		AllocObjects: c.AllocObjects - b.AllocObjects,
		Cycles:       c.Cycles - b.Cycles,
		GCCPU:        c.GCCPU - b.GCCPU,
	}
}

// add returns the sum of two stretches' counters.
func (c gcCounters) add(d gcCounters) gcCounters {
	return gcCounters{
		AllocBytes:   c.AllocBytes + d.AllocBytes,
		AllocObjects: c.AllocObjects + d.AllocObjects,
		Cycles:       c.Cycles + d.Cycles,
		GCCPU:        c.GCCPU + d.GCCPU,
	}
}
