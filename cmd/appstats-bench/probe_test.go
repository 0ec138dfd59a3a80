package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// withProbe gives r's rounds probe figures: 10 µs an alu run and 50 µs a
// mem run in every bare round, and that times probe[i] in the i-th
// measured round.
func withProbe(r *result, probe []float64) *result {
	for i := range r.Bare.Rounds {
		r.Bare.Rounds[i].Probe = probeStats{N: 100, ALU: 10 * time.Microsecond, Wide: 10 * time.Microsecond, L2: 10 * time.Microsecond, Mem: 50 * time.Microsecond}
		q := probe[i]
		r.Recorded.Rounds[i].Probe = probeStats{N: 100, ALU: time.Duration(q * 10e3), Wide: time.Duration(q * 10e3), L2: time.Duration(q * 10e3), Mem: time.Duration(q * 50e3)}
	}
	return r
}

func sameInterval(a, b interval) bool {
	return a.N == b.N && near(a.Est, b.Est) && near(a.Lo, b.Lo) && near(a.Hi, b.Hi)
}

// TestAdjustPairs: each pair ratio times its probe ratio; nothing when the
// lengths differ or a probe ratio is not a positive finite number (a round
// without probe figures).
func TestAdjustPairs(t *testing.T) {
	got := adjustPairs([]float64{0.9, 1.0, 0.95}, []float64{1.1, 0.95, 1})
	want := []float64{0.99, 0.95, 0.95}
	if len(got) != len(want) {
		t.Fatalf("adjustPairs = %v, want %v", got, want)
	}
	for i := range want {
		if !near(got[i], want[i]) {
			t.Errorf("adjustPairs = %v, want %v", got, want)
		}
	}
	for _, probe := range [][]float64{{1.1}, {1.1, math.NaN(), 1}, {1.1, 0, 1}, {1.1, math.Inf(1), 1}, nil} {
		if got := adjustPairs([]float64{0.9, 1.0, 0.95}, probe); got != nil {
			t.Errorf("adjustPairs(…, %v) = %v, want nil", probe, got)
		}
	}
	if iv := ratioInterval(adjustPairs([]float64{0.9, 1.0}, []float64{math.NaN(), 1})); iv.N != 0 || iv.String() != "n/a" {
		t.Errorf("a run without the probe: adjusted interval %v, want n/a", iv)
	}
}

// TestAdjustedProbeExplainsNothing: a probe that reads the same speed in
// both rounds of every pair leaves the interval as it is (a missed
// scenario stays missed); a probe whose pair ratios are unrelated to the
// pairs' (orthogonal logs) only adds its own spread: the adjusted
// interval is wider, and r is 0.
func TestAdjustedProbeExplainsNothing(t *testing.T) {
	flat := []float64{1, 1, 1, 1}
	missed := withProbe(pairsResult("fanout", []float64{0.90, 0.91, 0.89, 0.90}, flat), flat)
	if raw, adj := missed.Interval(), missed.AdjustedInterval(); !sameInterval(raw, adj) || judge(adj, ThroughputTarget) != verdictMissed {
		t.Errorf("a probe reading the same speed in every round: adjusted %v, measured %v; want the same, and MISSED", adj, raw)
	}

	d, e := 0.01, 0.03
	pairs := []float64{0.9 * math.Exp(d), 0.9 * math.Exp(-d), 0.9 * math.Exp(d), 0.9 * math.Exp(-d)}
	// The probe's logs are orthogonal to the pairs' and not
	// autocorrelated (lag one −0.25), so its interval is a plain one.
	probe := []float64{math.Exp(e), math.Exp(-e), math.Exp(-e), math.Exp(e)}
	cpu := []float64{math.Exp(d), math.Exp(-d), math.Exp(d), math.Exp(-d)}
	noise := withProbe(pairsResult("hello", pairs, cpu), probe)
	raw, adj := noise.Interval(), noise.AdjustedInterval()
	if !(adj.Hi-adj.Lo > raw.Hi-raw.Lo) || !near(adj.Est, raw.Est) {
		t.Errorf("a probe unrelated to the pairs: adjusted %v, measured %v; want the same centre and a wider interval", adj, raw)
	}
	if judge(raw, ThroughputTarget) != verdictMissed || judge(adj, ThroughputTarget) == verdictMet {
		t.Errorf("measured %v %s, adjusted %v %s; want MISSED, and the adjusted one not MET", raw, judge(raw, ThroughputTarget), adj, judge(adj, ThroughputTarget))
	}
	speed := make([]float64, len(probe))
	for i, q := range probe {
		speed[i] = 1 / q
	}
	if r, n := logCorr(noise.CPUPairRatios(), speed); n != 4 || math.Abs(r) > 1e-6 {
		t.Errorf("logCorr = %v over %d pairs, want 0 over 4", r, n)
	}
	var out bytes.Buffer
	writeProbe(&out, []*result{noise})
	if !strings.Contains(out.String(), "\n| hello | 1.000 (0.946–1.057) | ") || !strings.Contains(out.String(), " | +0.00 | 0.012 → 0.037 | ") {
		t.Errorf("want hello's probe row with r +0.00 and s 0.012 → 0.037, in:\n%s", out.String())
	}
}

// TestAdjustedProbeExplainsAll: when every measured round's CPU per
// request is off by exactly the probe's slowdown, the adjusted CPU pairs
// are the true ratio with no spread, r is 1, and the adjusted throughput
// pairs (the CPU share the same in every round) too.
func TestAdjustedProbeExplainsAll(t *testing.T) {
	probe := []float64{1.08, 0.95, 1.02, 0.91}
	pairs, cpu := make([]float64, 4), make([]float64, 4)
	for i, q := range probe {
		pairs[i], cpu[i] = 0.97/q, 0.97/q
	}
	r := withProbe(pairsResult("hello", pairs, cpu), probe)
	adj := r.AdjustedCPUInterval()
	if !near(adj.Est, 0.97) || adj.Hi-adj.Lo > 0.002 {
		t.Errorf("adjusted CPU interval %v, want 0.970 with no width", adj)
	}
	if a := r.AdjustedInterval(); !near(a.Est, 0.97) || a.Hi-a.Lo > 0.005 || judge(a, ThroughputTarget) != verdictMet {
		t.Errorf("adjusted interval %v, want 0.970, narrow, MET", a)
	}
	speed := make([]float64, len(probe))
	for i, q := range probe {
		speed[i] = 1 / q
	}
	if c, _ := logCorr(r.CPUPairRatios(), speed); c < 0.999 {
		t.Errorf("logCorr = %.4f, want 1", c)
	}
}

// TestVerdictIgnoresAdjustment: a scenario whose measured rounds all ran
// with a probe 10% slower (a difference between the configurations, not
// the machine's noise) would read MET adjusted; its verdict stays on the
// measured pairs, MISSED, and the probe's own interval, all above 1,
// shows the difference.
func TestVerdictIgnoresAdjustment(t *testing.T) {
	flat := []float64{1, 1, 1, 1}
	r := withProbe(pairsResult("fanout", []float64{0.90, 0.91, 0.89, 0.90}, flat), []float64{1.10, 1.11, 1.10, 1.09})
	results := []*result{r}
	if judge(r.AdjustedInterval(), ThroughputTarget) != verdictMet || r.Verdict(results) != verdictMissed {
		t.Fatalf("adjusted %v (%s), Verdict %s; want the adjusted one MET and the verdict MISSED",
			r.AdjustedInterval(), judge(r.AdjustedInterval(), ThroughputTarget), r.Verdict(results))
	}
	var out bytes.Buffer
	writeSummary(&out, results)
	_, row, _ := strings.Cut(out.String(), "\n| fanout | 0.900 | ")
	row, _, _ = strings.Cut(row, "\n")
	if !strings.HasSuffix(row, " | "+verdictMissed+" |") || !strings.Contains(out.String(), "**The verdict does not use the adjusted ratio**") ||
		!strings.Contains(out.String(), "\n| fanout | 1.100 (1.087–1.113) | ") {
		t.Errorf("want fanout MISSED, the adjustment said unused, and the probe's interval above 1, in:\n%s", out.String())
	}
}

// TestAAAdjustmentCheck: the summary's A/A line says whether the adjusted
// interval contains 1 and is narrower than the measured one.
func TestAAAdjustmentCheck(t *testing.T) {
	probe := []float64{1.08, 0.95, 1.02, 0.91}
	pairs := make([]float64, 4)
	for i, q := range probe {
		pairs[i] = math.Exp(0.005*float64(i%2)) / q
	}
	aa := withProbe(pairsResult(aaScenario, pairs, pairs), probe)
	aa.Reference = true
	var out bytes.Buffer
	writeProbe(&out, []*result{aa})
	if !strings.Contains(out.String(), "\nThe A/A check of the adjustment (aa-hello): measured ") || !strings.Contains(out.String(), ": contains 1, narrower (") {
		t.Errorf("want the A/A check saying contains 1, narrower, in:\n%s", out.String())
	}
}

// TestSummarizeProbe: a round's probe figures are the kernels' medians,
// the fraction of alu runs switched out (wall more than 1.5× CPU), and the
// probe's CPU time: its ticks' whole thread CPU time, more than the
// kernels' alone.
func TestSummarizeProbe(t *testing.T) {
	us := time.Microsecond
	s := summarizeProbe([]probeSample{
		{ALU: 30 * us, Wide: 15 * us, L2: 10 * us, Mem: 50 * us, ALUWall: 30 * us, Tick: 110 * us},
		{ALU: 31 * us, Wide: 16 * us, L2: 11 * us, Mem: 52 * us, ALUWall: 90 * us, Tick: 115 * us}, // switched out
		{ALU: 90 * us, Wide: 15 * us, L2: 10 * us, Mem: 51 * us, ALUWall: 95 * us, Tick: 170 * us}, // a long run: not the median
		{ALU: 29 * us, Wide: 14 * us, L2: 12 * us, Mem: 49 * us, ALUWall: 40 * us, Tick: 108 * us},
	})
	want := probeStats{N: 4, ALU: 30500 * time.Nanosecond, Wide: 15 * us, L2: 10500 * time.Nanosecond, Mem: 50500 * time.Nanosecond,
		ALUMean: 45 * us, MemMean: 50500 * time.Nanosecond, Switched: 0.25, CPU: 110*us + 115*us + 170*us + 108*us}
	if s != want {
		t.Errorf("summarizeProbe = %+v, want %+v", s, want)
	}
	if s := summarizeProbe(nil); s.ok() || (probeStats{N: 1, ALU: 1, Wide: 1, L2: 1}).ok() {
		t.Errorf("no samples: %+v, want none", s)
	}
}

// TestFillCycle: the mem kernel's table is one cycle through every index,
// so that a chase visits all of it.
func TestFillCycle(t *testing.T) {
	next := make([]uint32, 1000)
	fillCycle(next)
	seen := make([]bool, len(next))
	i := uint32(0)
	for range next {
		if seen[i] {
			t.Fatalf("index %d visited twice before every index was", i)
		}
		seen[i] = true
		i = next[i]
	}
	if i != 0 {
		t.Errorf("after %d steps at %d, want back at 0", len(next), i)
	}
	if memKernel(next, 0, len(next)) != 0 {
		t.Errorf("memKernel over the whole cycle did not come back to 0")
	}
}

// TestExplainRounds: rounds whose CPU per request moves exactly with the
// alu probe's time, in two scenarios and two configurations of different
// levels, give r 1 for the probe; a figure that does not move gives none.
func TestExplainRounds(t *testing.T) {
	var results []*result
	for s, level := range []float64{50, 500} {
		r := &result{Scenario: []string{"hello", "fanout"}[s]}
		for i, speed := range []float64{1, 1.05, 0.97, 1.02} {
			alu := time.Duration(10e3 * speed)
			r.Bare.add(round{Requests: 1000, Elapsed: time.Second, CPU: time.Duration(1000 * level * 1e3 * speed),
				Probe: probeStats{N: 10, ALU: alu, Wide: alu, L2: alu, Mem: 50 * time.Microsecond}})
			r.Recorded.add(round{Requests: 1000, Elapsed: time.Second, CPU: time.Duration(1000 * level * 1.1e3 * speed * (1 + 0.01*float64(i%2))),
				Probe: probeStats{N: 10, ALU: time.Duration(float64(alu) * (1 + 0.01*float64(i%2))), Wide: alu, L2: alu, Mem: 50 * time.Microsecond}})
		}
		results = append(results, r)
	}
	got := map[string]explained{}
	for _, e := range explainRounds(results) {
		got[e.name] = e
	}
	if e := got["probe alu"]; e.n != 16 || e.r < 0.999 || math.Abs(e.slope-1) > 0.01 {
		t.Errorf("probe alu: r %.4f, slope %.4f over %d rounds, want 1 and 1 over 16", e.r, e.slope, e.n)
	}
	if e := got["probe mem"]; !math.IsNaN(e.r) {
		t.Errorf("probe mem, the same in every round: r %.4f, want none", e.r)
	}
}

// TestRoundsCSV: one row per measured round under the header, each
// naming its scenario, pair, configuration and whether it ran first, with
// its figures.
func TestRoundsCSV(t *testing.T) {
	flat := []float64{1, 1}
	r := withProbe(pairsResult("hello", []float64{0.9, 0.95}, flat), []float64{1.1, 1})
	r.Bare.Rounds[0].Machine = machineCPU{Busy: 2 * time.Second, Idle: 10 * time.Millisecond}
	var buf bytes.Buffer
	w, err := newRoundsCSV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := roundsCSV(w, r); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 {
		t.Fatalf("%d rows, want a header and 4 rounds:\n%v", len(rows), rows)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, c := range []struct {
		row                 int
		pair, config, first string
		requests, alu, busy string
	}{
		{1, "1", "bare", "1", "1000", "10000", "2000000000"},
		{2, "2", "bare", "0", "1000", "10000", "0"},
		{3, "1", "measured", "0", "900", "11000", "0"},
		{4, "2", "measured", "1", "950", "10000", "0"},
	} {
		row := rows[c.row]
		if len(row) != len(roundsCSVHeader) || row[col["scenario"]] != "hello" || row[col["pair"]] != c.pair || row[col["config"]] != c.config ||
			row[col["first"]] != c.first || row[col["requests"]] != c.requests || row[col["probe_alu_ns"]] != c.alu || row[col["machine_busy_ns"]] != c.busy {
			t.Errorf("row %d = %v, want pair %s, %s, first %s, %s requests, alu %s ns, busy %s ns", c.row, row, c.pair, c.config, c.first, c.requests, c.alu, c.busy)
		}
	}
}

// TestSpeedProbeRuns: the probe ticks, each tick timing its kernels by
// its thread's CPU time, stops when told, and take forgets what it
// returned.
func TestSpeedProbeRuns(t *testing.T) {
	if _, ok := threadCPU(); !ok {
		t.Skipf("no thread CPU clock on %s", runtime.GOOS)
	}
	p := startProbe(time.Millisecond)
	if p == nil {
		t.Fatal("startProbe returned nil with a thread CPU clock")
	}
	var s probeStats
	for range 10000 { // the probe runs every millisecond; wait for three runs, up to ten seconds
		time.Sleep(time.Millisecond)
		p.mu.Lock()
		n := len(p.samples)
		p.mu.Unlock()
		if n >= 3 {
			break
		}
	}
	p.stop()
	s = p.take()
	// Each tick's CPU time is at least its four kernels' and, for each
	// kernel, at least half the runs took its median or longer.
	if !s.ok() || s.CPU < time.Duration(s.N)*(s.ALU+s.Wide+s.L2+s.Mem)/2 {
		t.Errorf("probe figures %+v; want runs with all four kernels timed, and CPU at least N × their medians' sum / 2", s)
	}
	if p.take().N != 0 {
		t.Errorf("figures after take")
	}
	if startProbe(0) != nil {
		t.Errorf("startProbe(0) started a probe")
	}
	var nilProbe *speedProbe
	nilProbe.stop()
	if nilProbe.take().ok() {
		t.Errorf("a nil probe has figures")
	}
}

// TestReadMachine: /proc/stat's CPU times move forward, where it exists:
// read again after some CPU work, busy and idle time together have grown,
// and none of the three went back.
func TestReadMachine(t *testing.T) {
	m0, ok := readMachine()
	if !ok {
		t.Skipf("no /proc/stat on %s", runtime.GOOS)
	}
	if m0.Busy <= 0 || m0.Idle < 0 || m0.Steal < 0 {
		t.Errorf("readMachine = %+v", m0)
	}
	m1 := m0
	x := uint64(1)
	for range 100000 { // /proc/stat counts in 10 ms ticks: work until one passes
		x = aluKernel(x, probeALUIters)
		if m1, ok = readMachine(); !ok {
			t.Fatal("readMachine failed the second time")
		}
		if m1.Busy+m1.Idle > m0.Busy+m0.Idle {
			break
		}
	}
	if m1.Busy+m1.Idle <= m0.Busy+m0.Idle || m1.Busy < m0.Busy || m1.Idle < m0.Idle || m1.Steal < m0.Steal {
		t.Errorf("readMachine = %+v, then %+v after CPU work (result %d): want busy + idle grown, none less", m0, m1, x)
	}
}

// TestRoundsCSVFile: -roundscsv writes a row for every measured round of
// the run, and the report shows the probe's section where the probe runs;
// a file that cannot be created fails the run before it starts.
func TestRoundsCSVFile(t *testing.T) {
	o := defaultOptions()
	o.Scenarios = []string{aaScenario}
	o.Duration = 100 * time.Millisecond
	o.Warmup = 0
	o.Rounds = 2
	o.Concurrency = 2
	o.RoundsCSV = filepath.Join(t.TempDir(), "rounds.csv")
	var out bytes.Buffer
	results, err := run(context.Background(), o, &out)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	f, err := os.ReadFile(o.RoundsCSV)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(f)).ReadAll()
	if err != nil || len(rows) != 5 || strings.Join(rows[0], ",") != strings.Join(roundsCSVHeader, ",") {
		t.Fatalf("rounds CSV: %v, %d rows (want a header and 4):\n%s", err, len(rows), f)
	}
	if _, ok := threadCPU(); ok {
		probed := false
		for _, m := range []*measurement{&results[0].Bare, &results[0].Recorded} {
			for _, rd := range m.Rounds {
				probed = probed || rd.Probe.ok()
			}
		}
		if !probed || !strings.Contains(out.String(), "\n### The machine's speed (the speed probe)\n") || !strings.Contains(out.String(), "\nSpeed probe: every 20ms, ") {
			t.Errorf("no probe figures in any round, or no probe section in the report:\n%s", out.String())
		}
	}
	o.RoundsCSV = filepath.Join(t.TempDir(), "no", "such", "dir", "rounds.csv")
	out.Reset()
	if _, err := run(context.Background(), o, &out); err == nil || !strings.Contains(err.Error(), "-roundscsv") || strings.Contains(out.String(), "## "+aaScenario) {
		t.Errorf("run with an uncreatable -roundscsv: err %v, report:\n%s", err, out.String())
	}
}

// failingClose is a rounds CSV file whose writes succeed and whose Close
// fails.
type failingClose struct{ bytes.Buffer }

var errCloseFailed = errors.New("close failed")

func (*failingClose) Close() error { return errCloseFailed }

// TestRoundsCSVCloseError: a -roundscsv file whose Close fails fails the
// run with that error (the rows may not be on disk), after the report.
func TestRoundsCSVCloseError(t *testing.T) {
	o := defaultOptions()
	o.Scenarios = []string{aaScenario}
	o.Duration = 50 * time.Millisecond
	o.Warmup = 0
	o.Rounds = 1
	o.Concurrency = 1
	o.Probe = 0
	o.RoundsCSV = "rounds.csv"
	f := new(failingClose)
	o.createCSV = func(name string) (io.WriteCloser, error) {
		if name != o.RoundsCSV {
			t.Errorf("created %q, want %q", name, o.RoundsCSV)
		}
		return f, nil
	}
	var out bytes.Buffer
	results, err := run(context.Background(), o, &out)
	if !errors.Is(err, errCloseFailed) || !strings.Contains(err.Error(), "-roundscsv") {
		t.Errorf("run with a file whose Close fails: err %v, want %v with -roundscsv", err, errCloseFailed)
	}
	if len(results) != 1 || !strings.Contains(f.String(), roundsCSVHeader[0]) {
		t.Errorf("run: %d results, CSV %q: want the scenario's result and the rows written before Close", len(results), f.String())
	}
	// The report, the scenario's and the summary, is written all the same.
	for _, want := range []string{"\n## " + aaScenario + "\n", "| scenario | throughput |"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("run with a file whose Close fails: report without %q:\n%s", want, out.String())
		}
	}
}
