package main

import (
	"fmt"
	"math"
)

// The uncertainty of a ratio. A run's pairs of adjacent rounds (bare and
// measured, see pairOrder) are its samples of the ratio: each pair's two
// rounds ran seconds apart, so the machine's drift falls on both alike,
// and what is left from pair to pair is the noise a run cannot average
// away — the CPU share the machine gave the process in each round, the
// collector's cycles falling one way or the other. The interval is a
// Student t-interval over the logs of the pair ratios: a ratio's noise is
// multiplicative (a round 10% slow moves the ratio by ×1.1 or ×1/1.1), its
// log is symmetric, and the interval maps back to a ratio that cannot go
// below 0. Its centre is the pairs' geometric mean, which the pooled ratio
// (requests over all rounds ÷ time over all rounds) differs from only when
// rounds ran at very different rates.
//
// The pairs are not always independent: an episode of the machine that
// lasts longer than a pair (half a minute of another process's work, a
// store's compactions) moves several consecutive pairs the same way. Over
// the 61 series of the load test's runs in rounds 26 to 29 the logs' lag-one
// autocorrelation r averaged +0.06 at 8 pairs, where independent pairs
// give −0.12 (−1/n), and the ui scenario read +0.53 over 32 pairs, three
// standard errors above 0; a plain t-interval on pairs with r = 0.5 holds
// the true ratio about 75% of the time, not 95% (simulated). So the
// interval counts the pairs as n(1−r)/(1+r) independent ones when r > 0
// (the effective sample size of a series whose correlation decays as r^k):
// the standard error is s/√n_eff and the t quantile's degrees of freedom
// n_eff − 1; with r ≤ 0 it is the plain t-interval (a negative r, as the
// alternating order of the pairs gives a steady drift, is not used to
// narrow it). With fewer than two effective pairs there is no interval.
// r is estimated from the run's own pairs, noisily with few of them (its
// standard error is about 1/√n), so the correction is rough; under
// independent pairs it widens the interval by 5–9% at the median (8 to
// 32 pairs), and its coverage is then 96%.

// An interval is a ratio's estimate and its two-sided 95% confidence
// interval, from N pair ratios. With fewer than two usable pairs Lo and Hi
// are NaN: one pair says nothing of the noise.
type interval struct {
	Est, Lo, Hi float64
	N           int
	// R1 is the lag-one autocorrelation of the pairs' logs (NaN with
	// fewer than two pairs or no spread), and NEff the pairs counted as
	// independent: N(1−R1)/(1+R1) when R1 > 0, N otherwise.
	R1, NEff float64
	// logMean, logSE and df are the interval's terms on the log scale,
	// which quotient uses to combine two intervals.
	logMean, logSE, df float64
}

// ok reports whether iv has bounds.
func (iv interval) ok() bool { return iv.N >= 2 && !math.IsNaN(iv.Lo) && !math.IsNaN(iv.Hi) }

// String formats iv as "0.987 (0.951–1.024)"; with one pair as
// "0.987 (one pair: no interval)", with pairs so autocorrelated that
// fewer than two count as independent as "0.987 (pairs autocorrelated:
// no interval)", and with none as "n/a".
func (iv interval) String() string {
	switch {
	case iv.N == 0:
		return "n/a"
	case iv.N == 1:
		return fmt.Sprintf("%.3f (one pair: no interval)", iv.Est)
	case !iv.ok() && iv.NEff < 2:
		return fmt.Sprintf("%.3f (pairs autocorrelated: no interval)", iv.Est)
	case !iv.ok():
		return fmt.Sprintf("%.3f (no interval)", iv.Est)
	}
	return fmt.Sprintf("%.3f (%.3f–%.3f)", iv.Est, iv.Lo, iv.Hi)
}

// autocorrelated reports whether iv counts its pairs as fewer than they
// are (R1 > 0).
func (iv interval) autocorrelated() bool { return iv.N >= 2 && iv.NEff < float64(iv.N) }

// ratioInterval returns the geometric mean of pairs and its 95%
// t-interval over their logs, counting them as NEff independent pairs
// (see above). A pair that is not a positive finite ratio (a round
// without requests) is left out.
func ratioInterval(pairs []float64) interval {
	var logs []float64
	for _, p := range pairs {
		if p > 0 && !math.IsInf(p, 0) && !math.IsNaN(p) {
			logs = append(logs, math.Log(p))
		}
	}
	n := len(logs)
	iv := interval{N: n, Est: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), R1: math.NaN(), NEff: float64(n), logMean: math.NaN(), logSE: math.NaN()}
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
	var ss, lag float64
	for i, l := range logs {
		ss += (l - mean) * (l - mean)
		if i > 0 {
			lag += (logs[i-1] - mean) * (l - mean)
		}
	}
	if ss > 0 {
		iv.R1 = lag / ss
	}
	if iv.R1 > 0 {
		iv.NEff = float64(n) * (1 - iv.R1) / (1 + iv.R1)
	}
	if iv.NEff < 2 {
		return iv // too few independent pairs: no interval
	}
	iv.logSE = math.Sqrt(ss / float64(n-1) / iv.NEff)
	iv.df = iv.NEff - 1
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
// of freedom (a two-sided 95% interval): from the table up to 30, and
// beyond it the Cornish–Fisher expansion around the normal quantile 1.960,
// within 0.001 of the exact value there. A fractional df (Welch's formula,
// an effective number of pairs) is interpolated between its two whole
// neighbours linearly in 1/df, which is never below the exact quantile:
// within 0.01 of it from df 2.5 (2.958 for 2.948 at 3.48), wider below
// (7.90 for 6.66 at 1.4). Rounding df down, as before, jumped a whole
// degree for the smallest autocorrelation (t 4.303 for 3.182 at 2.99).
func tQuantile975(df float64) float64 {
	if df < 1 || math.IsNaN(df) {
		return math.NaN()
	}
	f := math.Floor(df)
	if df == f {
		return tWhole(f)
	}
	a, b := tWhole(f), tWhole(f+1)
	return a + (b-a)*(1/f-1/df)/(1/f-1/(f+1))
}

// tWhole is tQuantile975 for a whole df of at least 1.
func tWhole(df float64) float64 {
	if df <= float64(len(tTable)) {
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
