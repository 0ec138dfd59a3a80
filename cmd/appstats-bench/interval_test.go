package main

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// near reports whether a and b differ by at most 0.0005 (the report's
// three decimals).
func near(a, b float64) bool { return math.Abs(a-b) <= 0.0005 }

// TestRatioInterval: the interval is the geometric mean of the pairs and
// a t-interval over their logs, checked against figures computed by hand
// (Python, the same formula); pairs that are no ratio are left out, and
// fewer than two pairs give no bounds.
func TestRatioInterval(t *testing.T) {
	for _, c := range []struct {
		name        string
		pairs       []float64
		n           int
		est, lo, hi float64 // NaN: none
	}{
		{"five pairs", []float64{0.90, 0.95, 0.92, 0.97, 0.93}, 5, 0.9337, 0.9008, 0.9678},
		{"symmetric in the log", []float64{math.Exp(0.1), math.Exp(-0.1), math.Exp(0.1), math.Exp(-0.1)}, 4, 1, 0.8322, 1.2017},
		{"no spread", []float64{1.02, 1.02, 1.02}, 3, 1.02, 1.02, 1.02},
		{"a round without requests left out", []float64{0.90, 0, 0.95, math.Inf(1), 0.92, 0.97, 0.93}, 5, 0.9337, 0.9008, 0.9678},
		{"one pair", []float64{0.97}, 1, 0.97, math.NaN(), math.NaN()},
		{"none", nil, 0, math.NaN(), math.NaN(), math.NaN()},
	} {
		iv := ratioInterval(c.pairs)
		same := func(got, want float64) bool { return math.IsNaN(want) && math.IsNaN(got) || near(got, want) }
		if iv.N != c.n || !same(iv.Est, c.est) || !same(iv.Lo, c.lo) || !same(iv.Hi, c.hi) {
			t.Errorf("%s: ratioInterval(%v) = %d pairs, %.4f (%.4f–%.4f); want %d, %.4f (%.4f–%.4f)",
				c.name, c.pairs, iv.N, iv.Est, iv.Lo, iv.Hi, c.n, c.est, c.lo, c.hi)
		}
	}
}

// TestRatioIntervalAutocorrelated: pairs whose logs are autocorrelated at
// lag one (r > 0) count as n(1−r)/(1+r) independent ones: the standard
// error is s/√n_eff and t's degrees of freedom n_eff − 1. The figures were
// computed apart (Python: the lag-one estimate, n_eff, and t's quantile
// by integrating its density, which the interpolated one here is within
// 0.004 of), on synthetic series: independent draws (r < 0: the plain
// interval), blocks of four equal pairs (r = 9/16 by hand, n_eff =
// 112/25), an AR(1) series with coefficient 0.8, the twenty-ninth
// round's ui pairs (run 2, r +0.53), and blocks so long that fewer than
// two pairs count (no interval, UNDECIDED however far above the target).
func TestRatioIntervalAutocorrelated(t *testing.T) {
	blocks := func(centre float64, signs ...float64) []float64 {
		var out []float64
		for _, s := range signs {
			for range 4 {
				out = append(out, centre*math.Exp(0.05*s))
			}
		}
		return out
	}
	for _, c := range []struct {
		name             string
		pairs            []float64
		r, neff          float64
		est, lo, hi      float64 // this interval
		plainLo, plainHi float64 // the plain t-interval (r taken as 0)
	}{
		{"independent draws", []float64{0.9127, 0.9405, 1.0204, 0.9631, 0.9592, 0.9862, 0.8972, 0.9919, 1.0042, 0.9463, 1.1109, 0.9439, 0.9508, 0.9686, 1.0002, 1.0302},
			-0.2136, 16, 0.9754, 0.9491, 1.0025, 0.9491, 1.0025},
		{"blocks of four", blocks(0.95, 1, -1, 1, -1), 0.5625, 4.48, 0.95, 0.8839, 1.0211, 0.9242, 0.9765},
		{"AR(1) 0.8", []float64{0.95, 0.8998, 0.8746, 0.9283, 0.9255, 0.9203, 0.9238, 0.9803, 0.9819, 0.9524, 0.9101, 0.8809, 0.8784, 0.8564, 0.8327, 0.8782,
			0.9125, 0.9012, 0.9599, 0.9737, 0.9536, 0.9717, 0.9779, 0.9527, 0.9982, 0.9476, 0.9739, 0.958, 0.9901, 0.9986, 1.0288, 0.954},
			0.7364, 4.8581, 0.9372, 0.8792, 0.9990, 0.9205, 0.9542},
		{"round 29's ui", []float64{0.922, 0.885, 0.905, 1.056, 1.104, 1.005, 0.897, 0.790, 0.789, 0.856, 0.927, 0.964, 0.894, 0.904, 0.920, 0.987,
			0.919, 0.930, 0.886, 0.930, 0.956, 0.908, 0.886, 0.942, 0.936, 0.975, 0.940, 0.956, 0.904, 1.005, 0.934, 0.936},
			0.5280, 9.8849, 0.9276, 0.8837, 0.9737, 0.9054, 0.9504},
	} {
		iv := ratioInterval(c.pairs)
		if math.Abs(iv.R1-c.r) > 0.0005 || math.Abs(iv.NEff-c.neff) > 0.001 || !near(iv.Est, c.est) || !near(iv.Lo, c.lo) || !near(iv.Hi, c.hi) {
			t.Errorf("%s: ratioInterval = %.4f (%.4f–%.4f), r %+.4f, n_eff %.4f; want %.4f (%.4f–%.4f), r %+.4f, n_eff %.4f",
				c.name, iv.Est, iv.Lo, iv.Hi, iv.R1, iv.NEff, c.est, c.lo, c.hi, c.r, c.neff)
		}
		// The plain interval, from the same logs with n_eff = n.
		plain := iv
		plain.logSE = iv.logSE * math.Sqrt(iv.NEff/float64(iv.N))
		plain.df = float64(iv.N - 1)
		if plain = plain.bounds(); !near(plain.Lo, c.plainLo) || !near(plain.Hi, c.plainHi) {
			t.Errorf("%s: plain interval %.4f–%.4f, want %.4f–%.4f", c.name, plain.Lo, plain.Hi, c.plainLo, c.plainHi)
		}
		if got := iv.autocorrelated(); got != (c.r > 0) {
			t.Errorf("%s: autocorrelated() = %v, want %v", c.name, got, c.r > 0)
		}
	}

	long := ratioInterval(blocks(1.2, 1, -1)) // r = 5/8, n_eff = 24/13
	if long.ok() || math.Abs(long.NEff-24.0/13) > 0.001 || !near(long.Est, 1.2) || judge(long, 0.95) != verdictUndecided ||
		long.String() != "1.200 (pairs autocorrelated: no interval)" {
		t.Errorf("two blocks of four: %v, n_eff %.4f, %s; want 1.200 with no interval, n_eff 1.8462, UNDECIDED", long, long.NEff, judge(long, 0.95))
	}
}

// TestIntervalString: the report's form of an interval.
func TestIntervalString(t *testing.T) {
	for _, c := range []struct {
		pairs []float64
		want  string
	}{
		{[]float64{0.90, 0.95, 0.92, 0.97, 0.93}, "0.934 (0.901–0.968)"},
		{[]float64{0.97}, "0.970 (one pair: no interval)"},
		{nil, "n/a"},
	} {
		if got := ratioInterval(c.pairs).String(); got != c.want {
			t.Errorf("ratioInterval(%v).String() = %q, want %q", c.pairs, got, c.want)
		}
	}
}

// TestTQuantile: Student's t 0.975 quantile from the table and the
// expansion beyond 30 against the exact values (R's qt(0.975, df)); a
// fractional degree of freedom interpolated, never below the exact
// quantile and within 0.01 of it from 2.5 (exact values by numerical
// integration of t's density, Python), and continuous at a whole df.
func TestTQuantile(t *testing.T) {
	for _, c := range []struct{ df, want float64 }{
		{1, 12.706}, {4, 2.776}, {9, 2.262}, {30, 2.042},
		{40, 2.021}, {60, 2.000}, {120, 1.980}, {1000, 1.962},
	} {
		if got := tQuantile975(c.df); math.Abs(got-c.want) > 0.001 {
			t.Errorf("tQuantile975(%v) = %.4f, want %.3f", c.df, got, c.want)
		}
	}
	for _, c := range []struct{ df, exact, within float64 }{
		{1.4, 6.6570, 1.3}, {2.5, 3.5747, 0.06}, {3.48, 2.9480, 0.011}, {4.7, 2.6207, 0.003},
		{6.911, 2.3708, 0.001}, {8.9, 2.2660, 0.001}, {22.8, 2.0697, 0.001}, {30.5, 2.0409, 0.001},
	} {
		if got := tQuantile975(c.df); got < c.exact-0.0005 || got > c.exact+c.within {
			t.Errorf("tQuantile975(%v) = %.4f, want %.4f to %.4f above", c.df, got, c.exact, c.within)
		}
	}
	if a, b := tQuantile975(2.999), tQuantile975(3); math.Abs(a-b) > 0.001 {
		t.Errorf("tQuantile975(2.999) = %.4f, tQuantile975(3) = %.4f; want them within 0.001", a, b)
	}
	if got := tQuantile975(0.5); !math.IsNaN(got) {
		t.Errorf("tQuantile975(0.5) = %v, want NaN", got)
	}
}

// TestJudge: met only when the whole interval is at or above the target,
// missed only when it is all below; a wide interval, a target inside it
// and a single pair are undecided — never met because the noise made the
// interval wide.
func TestJudge(t *testing.T) {
	mk := func(lo, hi float64) interval { return interval{Est: math.Sqrt(lo * hi), Lo: lo, Hi: hi, N: 5} }
	for _, c := range []struct {
		name string
		iv   interval
		want string
	}{
		{"all above", mk(0.96, 1.02), verdictMet},
		{"low end on the target", mk(0.95, 0.99), verdictMet},
		{"all below", mk(0.90, 0.94), verdictMissed},
		{"target inside", mk(0.93, 1.00), verdictUndecided},
		{"wide, centred above", mk(0.50, 2.00), verdictUndecided},
		{"wide, centred below", mk(0.40, 1.50), verdictUndecided},
		{"one pair, far above", ratioInterval([]float64{1.5}), verdictUndecided},
		{"no pair", ratioInterval(nil), verdictUndecided},
	} {
		if got := judge(c.iv, 0.95); got != c.want {
			t.Errorf("%s: judge(%v, 0.95) = %s, want %s", c.name, c.iv, got, c.want)
		}
	}
}

// TestQuotient: flight ÷ flight-floor, two ratios from separate pairs:
// the estimates divide, the log standard errors add in quadrature, and
// the degrees of freedom are Welch's (6.911 here, t 2.3713 interpolated,
// 2.3708 exact), checked against figures computed by hand (Python).
func TestQuotient(t *testing.T) {
	fl := ratioInterval([]float64{0.90, 0.95, 0.92, 0.97, 0.93})
	floor := ratioInterval([]float64{0.88, 0.90, 0.86, 0.91})
	q := quotient(fl, floor)
	if !near(q.Est, 1.0523) || !near(q.Lo, 1.0083) || !near(q.Hi, 1.0982) || math.Abs(q.df-6.911) > 0.001 {
		t.Errorf("quotient = %.4f (%.4f–%.4f), df %.3f; want 1.0523 (1.0083–1.0982), df 6.911", q.Est, q.Lo, q.Hi, q.df)
	}
	if q := quotient(fl, ratioInterval([]float64{0.9})); q.ok() || !near(q.Est, 0.9337/0.9) {
		t.Errorf("quotient with a one-pair floor = %v, want its estimate and no bounds", q)
	}
}

// pairsResult returns a result whose i-th pair ran bare at 1000 req/s
// and measured at 1000×ratios[i], each round 1 s, CPU 100 µs a request
// bare and 100 µs ÷ cpu[i] measured.
func pairsResult(name string, ratios, cpu []float64) *result {
	r := &result{Scenario: name}
	for i, p := range ratios {
		r.Bare.add(round{Requests: 1000, Elapsed: time.Second, CPU: 100 * time.Millisecond})
		n := int(math.Round(1000 * p))
		r.Recorded.add(round{Requests: n, Elapsed: time.Second, CPU: time.Duration(float64(n) * 100e3 / cpu[i])})
	}
	return r
}

// TestSummaryVerdicts: the summary prints each scenario's pooled ratio,
// its pairs' interval and the CPU pairs' interval, and judges the target
// on the interval: a run whose pooled ratio is above the target but whose
// pairs spread across it is UNDECIDED, not MET.
func TestSummaryVerdicts(t *testing.T) {
	flat := []float64{1, 1, 1, 1}
	met := pairsResult("hello", []float64{0.97, 0.98, 0.96, 0.97}, flat)
	missed := pairsResult("fanout", []float64{0.90, 0.91, 0.89, 0.90}, flat)
	noisy := pairsResult("badger", []float64{0.80, 1.14, 0.90, 1.05}, []float64{0.97, 0.98, 0.96, 0.97})
	ref := pairsResult(aaScenario, []float64{0.80, 1.14, 0.90, 1.05}, flat)
	ref.Reference = true
	results := []*result{met, missed, noisy, ref}
	var out bytes.Buffer
	writeSummary(&out, results)
	for _, c := range []struct {
		r    *result
		want string
	}{
		{met, "| hello | 0.970 | 0.970 (0.957–0.983) | 0.970 0.980 0.960 0.970 | 1.000 (1.000–1.000) | 1.000 | "},
		{missed, "| fanout | 0.900 | 0.900 (0.887–0.913) | "},
		{noisy, "| badger | 0.973 | 0.964 (0.749–1.239) | 0.800 1.140 0.900 1.050 | 0.970 (0.957–0.983) | 1.030 | "},
	} {
		if !strings.Contains(out.String(), "\n"+c.want) {
			t.Errorf("no row starting %q in:\n%s", c.want, out.String())
		}
	}
	for _, c := range []struct {
		r    *result
		want string
	}{
		{met, verdictMet}, {missed, verdictMissed}, {noisy, verdictUndecided}, {ref, "reference"},
	} {
		_, row, _ := strings.Cut(out.String(), "\n| "+c.r.Scenario+" | ")
		row, _, _ = strings.Cut(row, "\n")
		if !strings.HasSuffix(row, fmt.Sprintf(" | %s |", c.want)) || c.r.Verdict(results) != c.want {
			t.Errorf("%s: row %q, Verdict %s; want %s", c.r.Scenario, row, c.r.Verdict(results), c.want)
		}
	}
	if noisy.Ratio() < ThroughputTarget || noisy.Verdict(results) == verdictMet {
		t.Errorf("badger: pooled %.3f, Verdict %s; want a pooled ratio above the target and not met", noisy.Ratio(), noisy.Verdict(results))
	}
}

// TestSummaryAutocorrelation: the summary names the scenarios whose
// pairs are autocorrelated, with r and the pairs their interval counts
// (blocks of four pairs alike: r = 9/16, 16 pairs as 4.48), and not the
// others (alternating pairs: r < 0); with none, it says nothing.
func TestSummaryAutocorrelation(t *testing.T) {
	var blocks, alternating, flat []float64
	for i := range 16 {
		blocks = append(blocks, []float64{0.90, 1.00}[i/4%2])
		alternating = append(alternating, []float64{0.90, 1.00}[i%2])
		flat = append(flat, 1)
	}
	clustered, steady := pairsResult("badger", blocks, flat), pairsResult("hello", alternating, flat)
	var out bytes.Buffer
	writeSummary(&out, []*result{steady, clustered})
	want := "\nPairs autocorrelated (lag one r of the logs of their throughput ratios; the interval counts them as n(1−r)/(1+r) independent pairs, and is wider than if they were): badger +0.56 (16 pairs as 4.5).\n"
	if !strings.Contains(out.String(), want) {
		t.Errorf("summary without %q:\n%s", want, out.String())
	}
	out.Reset()
	writeSummary(&out, []*result{steady})
	if strings.Contains(out.String(), "Pairs autocorrelated") {
		t.Errorf("summary of alternating pairs names autocorrelated ones:\n%s", out.String())
	}
}

// TestFloorLine: the flight line states flight = flight-floor × appstats'
// part, says whether flight-floor's interval is below 0.95 (or holds it),
// and gives the part flight would need (0.95 ÷ the floor's estimate and ÷
// its high end). Flight's bare arm is appstats without the flight
// recorder, so the part can read above 1: with the part's interval all
// above 1 the line must not call flight's line unreachable.
func TestFloorLine(t *testing.T) {
	fl := ratioInterval([]float64{0.90, 0.95, 0.92, 0.97, 0.93})
	for _, c := range []struct {
		name  string
		floor interval
		want  []string
	}{
		{"tracer over 5%, part above 1", ratioInterval([]float64{0.88, 0.90, 0.86, 0.91}), []string{
			"flight (appstats with the flight recorder ÷ appstats without it) 0.934 (0.901–0.968), UNDECIDED",
			"Go's runtime tracer alone (flight-floor, traced ÷ bare, no appstats) 0.887 (0.853–0.923).",
			"Flight = flight-floor × appstats' part; appstats' part, flight ÷ flight-floor: 1.052 (1.008–1.098), MET on its own",
			"Flight-floor's interval is all below 0.95: Go's runtime tracer alone costs more than 5% in this run.",
			"appstats' part would need to be at least 1.071 (0.95 ÷ flight-floor's estimate), or 1.029 at flight-floor's high end.",
		}},
		{"cannot tell", ratioInterval([]float64{0.93, 0.97, 0.95, 0.96}), []string{
			"Flight-floor's interval holds 0.95: the run cannot tell whether Go's runtime tracer alone costs more than 5%.",
		}},
		{"tracer within 5%", ratioInterval([]float64{0.97, 0.98, 0.97, 0.98}), []string{
			"Go's runtime tracer alone costs at most 5% in this run.",
		}},
		{"one pair", ratioInterval([]float64{0.95}), []string{
			"With one pair the run cannot tell whether flight-floor is below 0.95.",
			"would need to be at least 1.000 (0.95 ÷ flight-floor's estimate).",
		}},
	} {
		got := floorLine(fl, c.floor, true)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: floorLine = %q\nwant it to contain %q", c.name, got, w)
			}
		}
		for _, bad := range []string{"not reachable", "whatever appstats", "flight ÷ bare"} {
			if strings.Contains(got, bad) {
				t.Errorf("%s: floorLine = %q\nwant no %q", c.name, got, bad)
			}
		}
	}
}

// TestPairSpread: a pair's throughput ratio is its CPU-share ratio times
// its CPU-per-request ratio (bare ÷ measured), and the noise line splits
// the pairs' spread so: here the A/A pairs differ only in the CPU share
// the rounds got (CPU per request the same), so all the spread is share.
func TestPairSpread(t *testing.T) {
	aa := &result{Scenario: aaScenario, Reference: true}
	for _, share := range []float64{1.8, 1.2, 2.0, 1.5} { // cores the measured round got; bare 1.6
		aa.Bare.add(round{Requests: 16000, Elapsed: time.Second, CPU: 1600 * time.Millisecond})
		aa.Recorded.add(round{Requests: int(10000 * share), Elapsed: time.Second, CPU: time.Duration(share * float64(time.Second))})
	}
	for i, p := range aa.PairRatios() {
		s, c := sharePairRatios(aa)[i], aa.CPUPairRatios()[i]
		if !near(p, s*c) || !near(c, 1) {
			t.Errorf("pair %d: throughput %.4f, share %.4f × CPU %.4f; want throughput = share × CPU, CPU 1", i+1, p, s, c)
		}
	}
	tp, sh, cp := pairSpread(aa)
	if !near(tp, sh) || !near(cp, 0) || !near(tp, logSD([]float64{1.8 / 1.6, 1.2 / 1.6, 2.0 / 1.6, 1.5 / 1.6})) {
		t.Errorf("pairSpread = %.4f, %.4f, %.4f; want throughput's spread all share's, none CPU's", tp, sh, cp)
	}
	var out bytes.Buffer
	writeNoise(&out, []*result{aa})
	want := fmt.Sprintf("(the process's CPU share, its CPU per request): aa-hello %.3f (share %.3f, CPU/req 0.000).\n", tp, sh)
	if !strings.HasSuffix(out.String(), want) {
		t.Errorf("noise line %q\nwant it to end %q", out.String(), want)
	}
}

// TestSummaryAAGuard: when the A/A arm's interval excludes 1 — nothing
// differs between its configurations, so the run's pairs were not alike
// and independent — the summary judges no target: a scenario whose own
// interval is above the line is UNDECIDED, and a line says why; so is
// flight's verdict in its line, and so says result.Verdict.
func TestSummaryAAGuard(t *testing.T) {
	flat := []float64{1, 1, 1, 1}
	hello := pairsResult("hello", []float64{0.97, 0.98, 0.96, 0.97}, flat)
	aa := pairsResult(aaScenario, []float64{1.30, 1.40, 1.35, 1.32}, flat)
	aa.Reference = true
	fl := pairsResult("flight", []float64{0.97, 0.98, 0.96, 0.97}, flat)
	floor := pairsResult(floorScenario, []float64{0.97, 0.98, 0.97, 0.98}, flat)
	floor.Reference = true
	results := []*result{hello, fl, floor, aa}
	var out bytes.Buffer
	writeSummary(&out, results)
	if hello.Verdict(results) != verdictUndecided || fl.Verdict(results) != verdictUndecided || hello.Verdict(nil) != verdictMet {
		t.Errorf("Verdict: hello %s, flight %s with the A/A arm excluding 1, hello %s without it; want %s, %s, %s",
			hello.Verdict(results), fl.Verdict(results), hello.Verdict(nil), verdictUndecided, verdictUndecided, verdictMet)
	}
	if !strings.Contains(out.String(), "\nFlight's target, by the pairs (95% intervals): flight (appstats with the flight recorder ÷ appstats without it) 0.970 (0.957–0.983), "+verdictUndecided+";") {
		t.Errorf("with the A/A interval excluding 1, want flight's line UNDECIDED, in:\n%s", out.String())
	}
	_, row, _ := strings.Cut(out.String(), "\n| hello | ")
	row, _, _ = strings.Cut(row, "\n")
	if !strings.HasSuffix(row, " | "+verdictUndecided+" |") || !strings.Contains(out.String(), "\nEvery verdict above is UNDECIDED: the A/A arm's interval, 1.342 (1.275–1.413), where nothing differs, excludes 1") {
		t.Errorf("hello's row %q; want UNDECIDED and the reason, in:\n%s", row, out.String())
	}
	out.Reset()
	aa = pairsResult(aaScenario, []float64{0.98, 1.02, 1.01, 0.99}, flat)
	aa.Reference = true
	writeSummary(&out, []*result{hello, fl, floor, aa})
	if !strings.Contains(out.String(), "\n| hello | ") || !strings.Contains(out.String(), " | "+verdictMet+" |") || strings.Contains(out.String(), "Every verdict above") ||
		!strings.Contains(out.String(), "÷ appstats without it) 0.970 (0.957–0.983), "+verdictMet+";") {
		t.Errorf("with an A/A interval holding 1, want hello and flight MET and no reason:\n%s", out.String())
	}
}
