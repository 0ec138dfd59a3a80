package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// aaScenario names the A/A reference: both configurations run the same
// bare hello handler, so its ratio is 1 but for the method's own noise.
const aaScenario = "aa-hello"

// setupAA is the load test's A/A arm, a reference: the hello handler with
// nothing of appstats in both configurations (the second named "bare B"),
// measured as every other scenario is — warm-ups, alternating pairs,
// pooled ratio. Nothing differs between the two, so how far its ratio and
// its pairs stray from 1 is the method's own noise in the same run: a
// scenario's ratio within that of 1 shows no cost the run can tell.
func setupAA(e *env) {
	app := helloMux()
	e.path = "/hello"
	e.bare = app
	e.recorded = app
	e.config = "bare B"
	e.note = "Reference, not a target: the A/A arm. The hello handler with nothing of appstats in both configurations (bare, and bare B in the recorded configuration's place), measured as the other scenarios are: how far its ratio strays from 1 is the method's own noise in this run."
}

// orderSplit returns the mean of r's pair ratios in the pairs whose bare
// round ran first and in those whose measured round ran first (see
// pairOrder), NaN for a kind with no pair: an order bias shows as a gap
// between the two that the A/A arm shares.
func orderSplit(r *result) (bareFirst, measuredFirst float64) {
	var sum [2]float64
	var n [2]int
	for i, p := range r.PairRatios() {
		k := b2i(pairOrder(i)[0])
		sum[k] += p
		n[k]++
	}
	mean := func(k int) float64 {
		if n[k] == 0 {
			return math.NaN()
		}
		return sum[k] / float64(n[k])
	}
	return mean(0), mean(1)
}

// writeNoise writes, when results hold the A/A arm, how far its ratio and
// its pairs strayed from 1, and each scenario's pairs by which
// configuration ran first.
func writeNoise(w io.Writer, results []*result) {
	var aa *result
	for _, r := range results {
		if r.Scenario == aaScenario {
			aa = r
		}
	}
	if aa == nil || aa.Ratio() == 0 {
		return
	}
	pairs := aa.PairRatios()
	lo, hi := slices.Min(pairs), slices.Max(pairs)
	fmt.Fprintf(w, "\nThe method's noise (%s, the same handler in both configurations): ratio %.3f, pairs %.3f–%.3f.", aaScenario, aa.Ratio(), lo, hi)
	var split []string
	for _, r := range results {
		if len(r.PairRatios()) < 2 {
			continue
		}
		b, m := orderSplit(r)
		split = append(split, fmt.Sprintf("%s %.3f/%.3f", r.Scenario, b, m))
	}
	if len(split) > 0 {
		fmt.Fprintf(w, " Pairs' mean ratio by the configuration run first (bare first/measured first): %s.", strings.Join(split, ", "))
	}
	var spread []string
	for _, r := range results {
		if t, s, c := pairSpread(r); !math.IsNaN(t) && !math.IsNaN(s) && !math.IsNaN(c) {
			spread = append(spread, fmt.Sprintf("%s %.3f (share %.3f, CPU/req %.3f)", r.Scenario, t, s, c))
		}
	}
	if len(spread) > 0 {
		fmt.Fprintf(w, " Where the pairs' spread comes from (standard deviation of the logs of the pair ratios; a pair's throughput ratio is its ratio of the CPU share the process got times that of CPU per request, so the first is near the root of the sum of the others' squares, less if they cancel): throughput (the process's CPU share, its CPU per request): %s.", strings.Join(spread, ", "))
	}
	fmt.Fprintln(w)
}

// sharePairRatios are, for each pair of rounds, the measured round's
// share of the cores over the bare round's: the process's CPU time over
// the round's elapsed time. A pair's throughput ratio is exactly this
// times its CPUPairRatios ratio (requests ÷ elapsed = CPU ÷ elapsed ÷
// CPU per request).
func sharePairRatios(r *result) []float64 {
	var out []float64
	for i := range min(len(r.Bare.Rounds), len(r.Recorded.Rounds)) {
		b, m := r.Bare.Rounds[i], r.Recorded.Rounds[i]
		out = append(out, ratio(ratio(float64(m.CPU), float64(m.Elapsed)), ratio(float64(b.CPU), float64(b.Elapsed))))
	}
	return out
}

// pairSpread returns the standard deviations of the logs of r's pair
// ratios of throughput, of the CPU share and of CPU per request (bare ÷
// measured); NaN with fewer than two pairs or without CPU times.
func pairSpread(r *result) (throughput, share, cpu float64) {
	return logSD(r.PairRatios()), logSD(sharePairRatios(r)), logSD(r.CPUPairRatios())
}

// logSD is the sample standard deviation of the logs of xs, NaN with
// fewer than two or with one not positive.
func logSD(xs []float64) float64 {
	if len(xs) < 2 {
		return math.NaN()
	}
	var sum float64
	for _, x := range xs {
		if x <= 0 {
			return math.NaN()
		}
		sum += math.Log(x)
	}
	mean := sum / float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (math.Log(x) - mean) * (math.Log(x) - mean)
	}
	return math.Sqrt(ss / float64(len(xs)-1))
}
