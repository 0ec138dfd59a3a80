package main

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"
)

// roundsCSVHeader names the columns of -roundscsv: one row per measured
// round. pair counts pairs from 1; first is 1 for the round of the pair
// that ran first (see pairOrder); config is "bare" or "measured" (the
// recorded configuration, or a reference's traced, otelhttp or bare B
// one). Times are in nanoseconds (probe_alu_ns, _wide_ns, _l2_ns and _mem_ns:
// the kernels' median time per run, probe_*_mean_ns their mean), the rest as
// counted over the round; machine_* from /proc/stat (0 where not read),
// 10 ms resolution.
var roundsCSVHeader = []string{
	"scenario", "pair", "config", "first",
	"requests", "errors", "elapsed_ns", "cpu_ns",
	"alloc_bytes", "alloc_objects", "gc_cycles", "gc_cpu_ns",
	"goroutine_runs", "mutex_wait_ns", "scavenge_cpu_ns",
	"voluntary_switches", "involuntary_switches", "minor_faults",
	"drain_ns", "sink_dropped",
	"probe_runs", "probe_alu_ns", "probe_wide_ns", "probe_l2_ns", "probe_mem_ns", "probe_alu_mean_ns", "probe_mem_mean_ns", "probe_switched", "probe_cpu_ns",
	"machine_busy_ns", "machine_idle_ns", "machine_steal_ns",
}

// roundsCSV writes every measured round of res as CSV rows (no header).
func roundsCSV(w *csv.Writer, res *result) error {
	for _, c := range []struct {
		name     string
		measured bool
		m        *measurement
	}{{"bare", false, &res.Bare}, {"measured", true, &res.Recorded}} {
		for i, r := range c.m.Rounds {
			first := 0
			if pairOrder(i)[0] == c.measured {
				first = 1
			}
			d := func(t time.Duration) string { return strconv.FormatInt(int64(t), 10) }
			u := func(n uint64) string { return strconv.FormatUint(n, 10) }
			row := []string{
				res.Scenario, strconv.Itoa(i + 1), c.name, strconv.Itoa(first),
				strconv.Itoa(r.Requests), strconv.Itoa(r.Errors), d(r.Elapsed), d(r.CPU),
				u(r.GC.AllocBytes), u(r.GC.AllocObjects), u(r.GC.Cycles), d(r.GC.GCCPU),
				u(r.GC.Runs), d(r.GC.MutexWait), d(r.GC.ScavengeCPU),
				u(r.GC.Voluntary), u(r.GC.Involuntary), u(r.GC.MinorFaults),
				d(r.Drain), u(r.SinkDropped),
				strconv.Itoa(r.Probe.N), d(r.Probe.ALU), d(r.Probe.Wide), d(r.Probe.L2), d(r.Probe.Mem), d(r.Probe.ALUMean), d(r.Probe.MemMean), strconv.FormatFloat(r.Probe.Switched, 'f', 4, 64), d(r.Probe.CPU),
				d(r.Machine.Busy), d(r.Machine.Idle), d(r.Machine.Steal),
			}
			if err := w.Write(row); err != nil {
				return err
			}
		}
	}
	w.Flush()
	return w.Error()
}

// newRoundsCSV returns a CSV writer on out with the header written.
func newRoundsCSV(out io.Writer) (*csv.Writer, error) {
	w := csv.NewWriter(out)
	if err := w.Write(roundsCSVHeader); err != nil {
		return nil, err
	}
	w.Flush()
	return w, w.Error()
}
