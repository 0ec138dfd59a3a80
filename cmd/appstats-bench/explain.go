package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// What the speed probe (probe.go) says of each scenario's pairs, and what
// explains CPU per request from round to round.
//
// A pair's throughput ratio is its ratio of the CPU share the process got
// times its ratio of CPU per request (bare ÷ measured). If the CPU ran
// slower in one round of the pair (another tenant on the host's core or
// cache, a lower clock), its CPU per request is higher for that alone, and
// the fixed kernel's time per run is higher by as much. The speed-adjusted
// pair ratio multiplies the pair's ratio by the probe's time per run in
// the measured round over that in the bare round (= the bare round's
// speed over the measured round's): a measured round that ran on a CPU 5%
// slower gets its 5% back, and one that ran on a faster CPU gives it back.
// It uses the alu kernel (registers only), which a configuration cannot
// slow by its own use of the caches; the exponent is 1, fixed by that
// physical model (every instruction takes x% longer on a CPU x% slower),
// not fitted to the run. The adjustment is worth having only if the
// probe's pair ratios track the CPU-per-request pair ratios: with a probe
// that explains nothing it only adds the probe's own noise, and the
// adjusted interval is wider (see TestAdjustedProbeExplainsNothing).

// ProbePairRatios are, for each pair of rounds, the alu kernel's median
// time per run in the measured round over that in the bare round (NaN
// for a pair without probe figures).
func (r *result) ProbePairRatios() []float64 {
	return r.probePairs(func(p probeStats) time.Duration { return p.ALU })
}

// MemProbePairRatios are ProbePairRatios of the mem kernel.
func (r *result) MemProbePairRatios() []float64 {
	return r.probePairs(func(p probeStats) time.Duration { return p.Mem })
}

func (r *result) probePairs(f func(probeStats) time.Duration) []float64 {
	var out []float64
	for i := range min(len(r.Bare.Rounds), len(r.Recorded.Rounds)) {
		out = append(out, probeRatio(r.Bare.Rounds[i].Probe, r.Recorded.Rounds[i].Probe, f))
	}
	return out
}

// adjustPairs returns each pair ratio times the probe's pair ratio
// (measured time per run ÷ bare: the bare round's speed over the measured
// round's), or nil if the two differ in length or any probe ratio is not a
// positive finite number (a run without the probe has no adjusted
// ratio).
func adjustPairs(pairs, probe []float64) []float64 {
	if len(pairs) != len(probe) || len(pairs) == 0 {
		return nil
	}
	out := make([]float64, len(pairs))
	for i, p := range pairs {
		q := probe[i]
		if !(q > 0) || math.IsInf(q, 0) {
			return nil
		}
		out[i] = p * q
	}
	return out
}

// AdjustedInterval is the throughput ratio's interval over the
// speed-adjusted pair ratios (see adjustPairs); N is 0 without the probe.
func (r *result) AdjustedInterval() interval {
	return ratioInterval(adjustPairs(r.PairRatios(), r.ProbePairRatios()))
}

// AdjustedCPUInterval is the CPU-per-request ratio's interval over the
// speed-adjusted pairs.
func (r *result) AdjustedCPUInterval() interval {
	return ratioInterval(adjustPairs(r.CPUPairRatios(), r.ProbePairRatios()))
}

// logCorr returns the correlation of the logs of xs and ys (pairs with a
// value that is not positive and finite left out), and how many pairs it
// is over; NaN with fewer than three or without spread.
func logCorr(xs, ys []float64) (float64, int) {
	var lx, ly []float64
	for i := range min(len(xs), len(ys)) {
		if pos(xs[i]) && pos(ys[i]) {
			lx, ly = append(lx, math.Log(xs[i])), append(ly, math.Log(ys[i]))
		}
	}
	return corr(lx, ly), len(lx)
}

func pos(x float64) bool { return x > 0 && !math.IsInf(x, 0) }

// corr is the Pearson correlation of xs and ys (same length), NaN with
// fewer than three or without spread in either.
func corr(xs, ys []float64) float64 {
	n := len(xs)
	if n < 3 || len(ys) != n {
		return math.NaN()
	}
	var mx, my float64
	for i := range n {
		mx += xs[i]
		my += ys[i]
	}
	mx /= float64(n)
	my /= float64(n)
	var sxy, sxx, syy float64
	for i := range n {
		dx, dy := xs[i]-mx, ys[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return sxy / math.Sqrt(sxx*syy)
}

// A roundCandidate is a figure of a round that may explain its CPU per
// request: its name in the report, and its value in a round (NaN if the
// round has none); log says whether the figure is compared by its log (a
// time per run, a rate) or as it is (a count per request, which may be 0).
type roundCandidate struct {
	name string
	log  bool
	f    func(r round) float64
}

// roundCandidates are what the report tests against CPU per request,
// round by round.
var roundCandidates = []roundCandidate{
	{"probe alu", true, func(r round) float64 { return nanOr(r.Probe.ok(), float64(r.Probe.ALU)) }},
	{"probe wide", true, func(r round) float64 { return nanOr(r.Probe.ok(), float64(r.Probe.Wide)) }},
	{"probe l2", true, func(r round) float64 { return nanOr(r.Probe.ok(), float64(r.Probe.L2)) }},
	{"probe mem", true, func(r round) float64 { return nanOr(r.Probe.ok(), float64(r.Probe.Mem)) }},
	{"probe switched out", false, func(r round) float64 { return nanOr(r.Probe.ok(), r.Probe.Switched) }},
	{"CPU share", true, func(r round) float64 { return ratio(float64(r.CPU), float64(r.Elapsed)) }},
	{"others' CPU", false, func(r round) float64 {
		all := r.Machine.Busy + r.Machine.Idle + r.Machine.Steal
		if all <= 0 {
			return math.NaN()
		}
		return float64(r.Machine.Busy-r.CPU) / float64(all)
	}},
	{"collections/req", false, func(r round) float64 { return perCount(r.GC.Cycles, r.Requests) }},
	{"GC CPU/req", false, func(r round) float64 { return perRound(r.GC.GCCPU, r.Requests) }},
	{"goroutine runs/req", false, func(r round) float64 { return perCount(r.GC.Runs, r.Requests) }},
	{"voluntary switches/req", false, func(r round) float64 { return perCount(r.GC.Voluntary, r.Requests) }},
	{"involuntary switches/req", false, func(r round) float64 { return perCount(r.GC.Involuntary, r.Requests) }},
	{"minor faults/req", false, func(r round) float64 { return perCount(r.GC.MinorFaults, r.Requests) }},
}

// perCount is n per request of req (0 without requests).
func perCount(n uint64, req int) float64 {
	if req == 0 {
		return 0
	}
	return float64(n) / float64(req)
}

func nanOr(ok bool, v float64) float64 {
	if !ok {
		return math.NaN()
	}
	return v
}

// explained is one candidate's correlation with the log of CPU per
// request over rounds, each configuration's own mean removed in each
// scenario.
type explained struct {
	name string
	r    float64
	n    int
	// slope is the least-squares slope of the log of CPU per request on
	// the figure (on its log, for a time per run or a rate): for a probe
	// kernel, 1 if CPU per request moves as much as the kernel's time.
	slope float64
	log   bool
}

// explainRounds returns, for each candidate, the correlation over every
// round of results of the log of CPU per request with it, each on its
// deviation from the mean of the rounds of its scenario's configuration
// (so that what differs between configurations and scenarios is not
// counted, only what moves one configuration from round to round). A
// candidate a round has no value for leaves the round out.
func explainRounds(results []*result) []explained {
	var out []explained
	for _, c := range roundCandidates {
		var xs, ys []float64
		for _, res := range results {
			for _, m := range []*measurement{&res.Bare, &res.Recorded} {
				var gx, gy []float64
				for _, rd := range m.Rounds {
					y := perRound(rd.CPU, rd.Requests)
					x := c.f(rd)
					if c.log {
						if !pos(x) {
							continue
						}
						x = math.Log(x)
					}
					if !pos(y) || math.IsNaN(x) || math.IsInf(x, 0) {
						continue
					}
					gx, gy = append(gx, x), append(gy, math.Log(y))
				}
				if len(gx) < 2 {
					continue
				}
				xs, ys = append(xs, demean(gx)...), append(ys, demean(gy)...)
			}
		}
		out = append(out, explained{name: c.name, r: corr(xs, ys), n: len(xs), slope: corr(xs, ys) * sd(ys) / sd(xs), log: c.log})
	}
	return out
}

// sd is the standard deviation of xs about 0 (they are deviations from
// their groups' means), NaN for none.
func sd(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	var ss float64
	for _, x := range xs {
		ss += x * x
	}
	return math.Sqrt(ss / float64(len(xs)))
}

// demean returns xs less their mean.
func demean(xs []float64) []float64 {
	var m float64
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = x - m
	}
	return out
}

// hasProbe reports whether any round of results has probe figures.
func hasProbe(results []*result) bool {
	for _, r := range results {
		for _, m := range []*measurement{&r.Bare, &r.Recorded} {
			for _, rd := range m.Rounds {
				if rd.Probe.ok() {
					return true
				}
			}
		}
	}
	return false
}

// writeProbe writes the speed probe's part of the summary: per scenario,
// the probe's pair ratios (how far the CPU's speed differed between the
// two rounds of a pair), how well they track the CPU-per-request pair
// ratios, and the speed-adjusted intervals; then what explains CPU per
// request round by round. Nothing is written without probe figures.
func writeProbe(w io.Writer, results []*result) {
	if !hasProbe(results) {
		return
	}
	fmt.Fprintf(w, "\n### The machine's speed (the speed probe)\n\n")
	fmt.Fprintf(w, "probe (95%%): the alu kernel's time per run, measured round ÷ bare round, per pair (above 1: the CPU ran it slower in the measured round), with its interval; its mem kernel's beside. r: the correlation of the logs of the pairs' CPU-per-request ratios (bare ÷ measured) with those of the probe's speed ratios (bare time ÷ measured): 1 if the probe explains the CPU-per-request pairs' spread entirely, 0 if not at all. s CPU/req: the spread (standard deviation of the logs) of the CPU-per-request pair ratios, as measured → speed-adjusted (each pair times its probe ratio); the adjustment narrows it only if r is above about half the probe's spread over theirs. adjusted (95%%): the throughput ratio's pairs, each times its probe ratio, with their interval. **The verdict does not use the adjusted ratio**: it is shown for judging the probe (on the A/A arm, its interval must still contain 1, and be narrower than the measured one).\n\n")
	fmt.Fprintf(w, "| scenario | probe alu (95%%) | probe mem (95%%) | r | s CPU/req | s probe | by CPU/req adjusted (95%%) | pairs (95%%) | adjusted (95%%) |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range results {
		probe := r.ProbePairRatios()
		speed := make([]float64, len(probe))
		for i, q := range probe {
			speed[i] = 1 / q
		}
		rr, _ := logCorr(r.CPUPairRatios(), speed)
		sRaw := logSD(r.CPUPairRatios())
		sAdj := logSD(adjustPairs(r.CPUPairRatios(), probe))
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s → %s | %s | %s | %s | %s |\n", r.Scenario,
			ratioInterval(probe), ratioInterval(r.MemProbePairRatios()), fmtF(rr, "%+.2f"),
			fmtF(sRaw, "%.3f"), fmtF(sAdj, "%.3f"), fmtF(logSD(probe), "%.3f"),
			r.AdjustedCPUInterval(), r.Interval(), r.AdjustedInterval())
	}
	if aa := aaOf(results); aa != nil {
		raw, adj := aa.Interval(), aa.AdjustedInterval()
		fmt.Fprintf(w, "\nThe A/A check of the adjustment (%s): measured %s, adjusted %s: %s, %s.\n", aaScenario, raw, adj,
			containsOne(adj), narrower(adj, raw))
	}
	var parts []string
	for _, e := range explainRounds(results) {
		if math.IsNaN(e.r) {
			continue
		}
		if strings.HasPrefix(e.name, "probe ") && e.log {
			parts = append(parts, fmt.Sprintf("%s %.2f (r %+.2f, slope %.1f)", e.name, e.r*e.r, e.r, e.slope))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %.2f (r %+.2f)", e.name, e.r*e.r, e.r))
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, "\nWhat moves CPU per request from round to round (every round of every scenario, the log of its CPU per request and each figure less the mean of its scenario's configuration's rounds; r², the share of that variance each figure alone would explain, and r; for the probe's kernels also the slope of log CPU per request on the log of the kernel's time, 1 if CPU per request moves as much as the kernel, which the adjusted ratio assumes): %s.\n", strings.Join(parts, ", "))
	}
	var cost, cpu time.Duration
	var ticks int
	for _, r := range results {
		for _, m := range []*measurement{&r.Bare, &r.Recorded} {
			for _, rd := range m.Rounds {
				cost += rd.Probe.CPU
				cpu += rd.CPU
				ticks += rd.Probe.N
			}
		}
	}
	if ticks > 0 && cpu > 0 {
		fmt.Fprintf(w, "The probe's own cost: %d ticks (a run of each kernel) in the measured rounds, %s of its thread's CPU time (the kernels, and each tick's wake-up and clock reads), %.2f%% of the process's CPU time in those rounds.\n",
			ticks, fmtDur(cost), 100*float64(cost)/float64(cpu))
	}
}

// fmtF formats x with format, or "n/a" if it is NaN.
func fmtF(x float64, format string) string {
	if math.IsNaN(x) {
		return "n/a"
	}
	return fmt.Sprintf(format, x)
}

func containsOne(iv interval) string {
	switch {
	case !iv.ok():
		return "no interval"
	case iv.Lo <= 1 && 1 <= iv.Hi:
		return "contains 1"
	}
	return "**excludes 1**"
}

func narrower(adj, raw interval) string {
	if !adj.ok() || !raw.ok() {
		return "no width to compare"
	}
	a, b := math.Log(adj.Hi/adj.Lo), math.Log(raw.Hi/raw.Lo)
	if a < b {
		return fmt.Sprintf("narrower (%.0f%% of the measured width, on the log scale)", 100*a/b)
	}
	return fmt.Sprintf("**not narrower** (%.0f%% of the measured width, on the log scale)", 100*a/b)
}
