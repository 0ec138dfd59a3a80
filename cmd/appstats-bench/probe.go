package main

import (
	"math"
	"runtime"
	"slices"
	"sync"
	"time"
)

// The speed probe: how fast the CPU executes a fixed piece of work, round
// by round. A pair's CPU per request moves by ~9% on an idle machine in the
// A/A arm too, where nothing differs between the rounds but when they ran;
// if the cause is the machine's speed (a host's other tenants on the same
// core or cache, the clock frequency), a fixed kernel timed by its own
// thread's CPU time slows with it, whatever share of the CPU the process
// got. The probe runs four kernels at intervals through the whole run on a
// goroutine locked to its thread, each timed by that thread's CPU time
// (CLOCK_THREAD_CPUTIME_ID, read before and after, outside the kernel);
// none allocates or makes a system call:
//
//   - alu: probeALUIters steps of one multiply–xorshift chain, each step
//     depending on the last: registers only, bound by the latency of the
//     core's multiplier and shifts. Its time moves with the core's clock.
//   - wide: probeWideIters steps of four such chains side by side, bound by
//     how many operations the core issues a cycle: what an SMT sibling on
//     the host's core takes from it slows this one, not alu.
//   - l2: probeL2Hops steps of a pointer chase through a random cycle over
//     probeL2Bytes, which would fit a core's L2 but which the load test's
//     own work evicts between two runs: measured, ~170 ns a load on this
//     machine, so each load is mostly a miss to the shared L3 or memory
//     (or a page walk), after the interval's other work.
//   - mem: probeMemHops steps of a chase through probeMemBytes (beyond the
//     L2, a quarter of the shared L3): each step a load from the L3 or
//     memory, its page rarely in the TLB; slowed by what shares the cache
//     and the memory bus.
//
// The chases' tables are mapped once off the Go heap, so that they change
// neither the collector's pacing nor what it marks. On this machine (2.7
// GHz EPYC, a VM) alu takes ~30 µs, wide ~17 µs, l2 ~17 µs and mem ~30 µs
// a run (mem's loads ~600 ns each: memory, and a page walk under nested
// paging); a tick, its clock reads and the runs an interruption lengthens
// included, took ~145 µs of the thread's CPU on average on a busy machine.
// With a tick every -probe interval (20 ms by default) the probe costs
// ~0.7% of one core, ~0.4% of the CPU of a two-core process that keeps
// both cores busy, the same in both configurations; the report states
// what it cost. A round's figure for each kernel is the median of its
// runs' times: a run that a collection's stop of the world or a context
// switch lands in reads long, and the median leaves it out.

const (
	probeALUIters  = 10_000
	probeWideIters = 5_000
	probeL2Bytes   = 512 << 10 // half a core's L2 (1 MiB) on this machine: see above
	probeL2Hops    = 100
	probeMemBytes  = 8 << 20 // a quarter of this machine's L3, above any core's L2
	probeMemHops   = 50
)

// probeSample is one tick of the probe: each kernel's thread CPU time, the
// wall time of the alu kernel (longer than its CPU time when the thread
// was switched out during it), and Tick, the thread's CPU time since the
// previous tick's kernels ended (the wake-up, the clock reads and the
// bookkeeping as well as the four kernels).
type probeSample struct {
	ALU, Wide, L2, Mem, ALUWall, Tick time.Duration
}

// probeStats summarize the probe's runs over one round.
type probeStats struct {
	N int // ticks in the round
	// ALU, Wide, L2 and Mem are the medians of the kernels' thread CPU
	// times.
	ALU, Wide, L2, Mem time.Duration
	// ALUMean and MemMean are their means, which the runs that an
	// interruption lengthened move (-roundscsv only).
	ALUMean, MemMean time.Duration
	// Switched is the fraction of alu runs whose wall time exceeded their
	// CPU time by more than half: the thread was switched out during it.
	Switched float64
	// CPU is the probe's own thread CPU time over the round's ticks (the
	// four kernels, and each tick's wake-up, clock reads and bookkeeping).
	CPU time.Duration
}

// ok reports whether the round has probe figures.
func (p probeStats) ok() bool { return p.N > 0 && p.ALU > 0 && p.Wide > 0 && p.L2 > 0 && p.Mem > 0 }

// summarizeProbe returns the statistics of samples.
func summarizeProbe(samples []probeSample) probeStats {
	n := len(samples)
	if n == 0 {
		return probeStats{}
	}
	alu := make([]time.Duration, n)
	wide := make([]time.Duration, n)
	l2 := make([]time.Duration, n)
	mem := make([]time.Duration, n)
	var cpu time.Duration
	switched := 0
	for i, s := range samples {
		alu[i], wide[i], l2[i], mem[i] = s.ALU, s.Wide, s.L2, s.Mem
		cpu += s.Tick
		if s.ALUWall > s.ALU+s.ALU/2 {
			switched++
		}
	}
	var sa, sm time.Duration
	for i := range alu {
		sa += alu[i]
		sm += mem[i]
	}
	return probeStats{N: n, ALU: medianDur(alu), Wide: medianDur(wide), L2: medianDur(l2), Mem: medianDur(mem), ALUMean: sa / time.Duration(n), MemMean: sm / time.Duration(n),
		Switched: float64(switched) / float64(n), CPU: cpu}
}

// medianDur returns the median of ds (sorting it), 0 for none.
func medianDur(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	if len(ds)%2 == 1 {
		return ds[len(ds)/2]
	}
	return (ds[len(ds)/2-1] + ds[len(ds)/2]) / 2
}

// aluKernel runs n steps of a dependent multiply–xorshift chain from x and
// returns the result (which the caller keeps, so that the loop is not
// removed).
func aluKernel(x uint64, n int) uint64 {
	for range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		x *= 0x9e3779b97f4a7c15
	}
	return x
}

// wideKernel runs n steps of four independent multiply–xorshift chains
// from x, in place.
func wideKernel(x *[4]uint64, n int) {
	a, b, c, d := x[0], x[1], x[2], x[3]
	for range n {
		a ^= a << 13
		b ^= b << 13
		c ^= c << 13
		d ^= d << 13
		a ^= a >> 7
		b ^= b >> 7
		c ^= c >> 7
		d ^= d >> 7
		a ^= a << 17
		b ^= b << 17
		c ^= c << 17
		d ^= d << 17
		a *= 0x9e3779b97f4a7c15
		b *= 0x9e3779b97f4a7c15
		c *= 0x9e3779b97f4a7c15
		d *= 0x9e3779b97f4a7c15
	}
	x[0], x[1], x[2], x[3] = a, b, c, d
}

// memKernel follows n links of the cycle in next from i and returns where
// it ended.
func memKernel(next []uint32, i uint32, n int) uint32 {
	for range n {
		i = next[i]
	}
	return i
}

// fillCycle makes next one random cycle through all its indexes (Sattolo's
// algorithm with a fixed xorshift seed: the same cycle every run), so that
// a chase visits every cache line of it in an order no prefetcher follows.
func fillCycle(next []uint32) {
	for i := range next {
		next[i] = uint32(i)
	}
	x := uint64(0x2545f4914f6cdd1d)
	for i := len(next) - 1; i > 0; i-- {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		j := int(x % uint64(i)) // j < i: one cycle
		next[i], next[j] = next[j], next[i]
	}
}

// A speedProbe runs the kernels every interval on a goroutine locked to
// its thread until stop, and keeps their times until take.
type speedProbe struct {
	every   time.Duration
	mu      sync.Mutex
	samples []probeSample
	stopc   chan struct{}
	done    chan struct{}
	sink    uint64 // the kernels' results, kept so the compiler keeps them
}

// startProbe starts a probe ticking every interval, or returns nil where
// the calling thread's CPU time or the probe's memory is not available.
func startProbe(every time.Duration) *speedProbe {
	if every <= 0 {
		return nil
	}
	if _, ok := threadCPU(); !ok {
		return nil
	}
	words, free, err := mapWords((probeL2Bytes + probeMemBytes) / 4)
	if err != nil {
		return nil
	}
	l2, mem := words[:probeL2Bytes/4], words[probeL2Bytes/4:]
	fillCycle(l2)
	fillCycle(mem)
	p := &speedProbe{every: every, stopc: make(chan struct{}), done: make(chan struct{}),
		samples: make([]probeSample, 0, 4096)}
	go p.loop(l2, mem, free)
	return p
}

func (p *speedProbe) loop(l2, mem []uint32, free func()) {
	defer close(p.done)
	defer free()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t := time.NewTicker(p.every)
	defer t.Stop()
	x, wide, atL2, atMem := uint64(1), [4]uint64{1, 2, 3, 4}, uint32(0), uint32(0)
	last, _ := threadCPU() // where the previous tick's kernels ended
	for {
		select {
		case <-p.stopc:
			p.mu.Lock()
			p.sink = x + wide[0] + wide[1] + wide[2] + wide[3] + uint64(atL2) + uint64(atMem)
			p.mu.Unlock()
			return
		case <-t.C:
		}
		w0 := time.Now()
		c0, _ := threadCPU()
		x = aluKernel(x, probeALUIters)
		c1, _ := threadCPU()
		w1 := time.Now()
		wideKernel(&wide, probeWideIters)
		c2, _ := threadCPU()
		atL2 = memKernel(l2, atL2, probeL2Hops)
		c3, _ := threadCPU()
		atMem = memKernel(mem, atMem, probeMemHops)
		c4, _ := threadCPU()
		s := probeSample{ALU: c1 - c0, Wide: c2 - c1, L2: c3 - c2, Mem: c4 - c3, ALUWall: w1.Sub(w0), Tick: c4 - last}
		last = c4
		p.mu.Lock()
		p.samples = append(p.samples, s)
		p.mu.Unlock()
	}
}

// take returns the statistics of the runs since the last take, and
// forgets them. A nil probe returns none.
func (p *speedProbe) take() probeStats {
	if p == nil {
		return probeStats{}
	}
	p.mu.Lock()
	s := summarizeProbe(p.samples)
	p.samples = p.samples[:0]
	p.mu.Unlock()
	return s
}

// stop stops the probe and waits for its goroutine. A nil probe is a
// no-op.
func (p *speedProbe) stop() {
	if p == nil {
		return
	}
	close(p.stopc)
	<-p.done
}

// probeRatio is a pair's ratio of the probe's time per run, measured
// round ÷ bare round (above 1: the CPU ran the kernel slower in the
// measured round), from the kernel picked by f; NaN when a round has no
// probe figures.
func probeRatio(bare, measured probeStats, f func(probeStats) time.Duration) float64 {
	if !bare.ok() || !measured.ok() {
		return math.NaN()
	}
	return float64(f(measured)) / float64(f(bare))
}

// machineCPU is the CPU time of the whole machine (every process, every
// CPU) over a stretch, from /proc/stat: busy, idle (iowait included) and
// stolen by the hypervisor. Its busy time less the process's own CPU time
// is what the machine's other processes took during a round.
type machineCPU struct {
	Busy, Idle, Steal time.Duration
}

// sub returns the stretch from b to m.
func (m machineCPU) sub(b machineCPU) machineCPU {
	return machineCPU{Busy: m.Busy - b.Busy, Idle: m.Idle - b.Idle, Steal: m.Steal - b.Steal}
}
