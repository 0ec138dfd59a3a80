package main

import (
	"fmt"
	"math"
)

// The uncertainty of a ratio. A run's pairs of adjacent rounds (bare and
// measured, see pairOrder) are its independent samples of the ratio: each
// pair's two rounds ran seconds apart, so the machine's drift falls on both
// alike, and what is left from pair to pair is the noise a run cannot
// average away — the CPU share the machine gave the process in each round,
// the collector's cycles falling one way or the other. The interval is a
// Student t-interval over the logs of the pair ratios: a ratio's noise is
// multiplicative (a round 10% slow moves the ratio by ×1.1 or ×1/1.1), its
// log is symmetric, and the interval maps back to a ratio that cannot go
// below 0. Its centre is the pairs' geometric mean, which the pooled ratio
// (requests over all rounds ÷ time over all rounds) differs from only when
// rounds ran at very different rates.

// An interval is a ratio's estimate and its two-sided 95% confidence
// interval, from N pair ratios. With fewer than two usable pairs Lo and Hi
// are NaN: one pair says nothing of the noise.
type interval struct {
	Est, Lo, Hi float64
	N           int
	// logMean, logSE and df are the interval's terms on the log scale,
	// which quotient uses to combine two intervals.
	logMean, logSE, df float64
}

// ok reports whether iv has bounds.
func (iv interval) ok() bool { return iv.N >= 2 && !math.IsNaN(iv.Lo) && !math.IsNaN(iv.Hi) }

// String formats iv as "0.987 (0.951–1.024)"; with one pair as
// "0.987 (one pair: no interval)", and with none as "n/a".
func (iv interval) String() string {
	if iv.N == 0 {
		return "n/a"
	}
	if !iv.ok() {
		return fmt.Sprintf("%.3f (one pair: no interval)", iv.Est)
	}
	return fmt.Sprintf("%.3f (%.3f–%.3f)", iv.Est, iv.Lo, iv.Hi)
}

// ratioInterval returns the geometric mean of pairs and its 95%
// t-interval over their logs. A pair that is not a positive finite ratio
// (a round without requests) is left out.
func ratioInterval(pairs []float64) interval {
	var logs []float64
	for _, p := range pairs {
		if p > 0 && !math.IsInf(p, 0) && !math.IsNaN(p) {
			logs = append(logs, math.Log(p))
		}
	}
	n := len(logs)
	iv := interval{N: n, Est: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), logMean: math.NaN(), logSE: math.NaN()}
	if n == 0 {
		return iv
	}
	var sum float64
	for _, l := range logs {
		sum += l
	}
	mean := sum / float64(n)
	iv.Est, iv.logMean = math.Exp(mean), mean
	if n < 2 {
		return iv
	}
	var ss float64
	for _, l := range logs {
		ss += (l - mean) * (l - mean)
	}
	iv.logSE = math.Sqrt(ss / float64(n-1) / float64(n))
	iv.df = float64(n - 1)
	return iv.bounds()
}

// bounds sets Lo and Hi from logMean, logSE and df.
func (iv interval) bounds() interval {
	h := tQuantile975(iv.df) * iv.logSE
	iv.Lo, iv.Hi = math.Exp(iv.logMean-h), math.Exp(iv.logMean+h)
	return iv
}

// quotient returns the interval of a ÷ b, two ratios measured on separate
// pairs (flight ÷ flight-floor): the difference of the log means, its
// standard error from both, and Welch–Satterthwaite's degrees of freedom.
func quotient(a, b interval) interval {
	iv := interval{N: min(a.N, b.N), Est: a.Est / b.Est, Lo: math.NaN(), Hi: math.NaN(),
		logMean: a.logMean - b.logMean, logSE: math.NaN()}
	if !a.ok() || !b.ok() {
		return iv
	}
	va, vb := a.logSE*a.logSE, b.logSE*b.logSE
	iv.logSE = math.Sqrt(va + vb)
	if va+vb == 0 {
		iv.df = a.df + b.df
	} else {
		iv.df = (va + vb) * (va + vb) / (va*va/a.df + vb*vb/b.df)
	}
	return iv.bounds()
}

// tTable holds Student's t distribution's 0.975 quantile for 1 to 30
// degrees of freedom.
var tTable = [...]float64{
	12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
	2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
	2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
}

// tQuantile975 is Student's t distribution's 0.975 quantile for df degrees
// of freedom (a two-sided 95% interval): from the table up to 30 (a
// fractional df, from Welch's formula, rounded down, which widens the
// interval), and beyond it the Cornish–Fisher expansion around the normal
// quantile 1.960, within 0.001 of the exact value there.
func tQuantile975(df float64) float64 {
	if df < 1 || math.IsNaN(df) {
		return math.NaN()
	}
	if df < float64(len(tTable)+1) {
		return tTable[int(df)-1]
	}
	const z = 1.959964
	z3, z5 := z*z*z, z*z*z*z*z
	return z + (z3+z)/(4*df) + (5*z5+16*z3+3*z)/(96*df*df)
}

// The verdicts of a target judged on an interval.
const (
	verdictMet       = "MET"       // the interval's low end is at or above the target
	verdictMissed    = "MISSED"    // its high end is below the target
	verdictUndecided = "UNDECIDED" // the target is within the interval, or there is none
)

// judge returns the verdict on target of a ratio with interval iv: met
// only when the whole interval is at or above target, missed only when it
// is all below, and undecided otherwise — a wide interval (a noisy run)
// decides nothing either way.
func judge(iv interval, target float64) string {
	switch {
	case !iv.ok():
		return verdictUndecided
	case iv.Lo >= target:
		return verdictMet
	case iv.Hi < target:
		return verdictMissed
	}
	return verdictUndecided
}
