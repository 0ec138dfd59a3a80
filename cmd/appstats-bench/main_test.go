package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime/trace"
	"strings"
	"testing"
	"time"
)

// TestSmoke runs every scenario briefly (one 200 ms round of each
// configuration) and checks that requests were served without errors, that
// recorded rounds were recorded and written, and that the report has a row
// for every scenario. It makes no claim about speed.
func TestSmoke(t *testing.T) {
	o := defaultOptions()
	o.Duration = 200 * time.Millisecond
	o.Warmup = 0
	o.Rounds = 1
	o.Concurrency = 2
	var out bytes.Buffer
	results, err := run(context.Background(), o, &out)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if len(results) != len(scenarioNames) {
		t.Fatalf("%d results, want %d", len(results), len(scenarioNames))
	}
	for _, r := range results {
		for _, m := range []*measurement{&r.Bare, &r.Recorded} {
			if m.Requests == 0 || m.Errors != 0 || len(m.Rounds) != 1 {
				t.Errorf("%s: %d requests, %d errors, %d rounds; want some requests, no errors, 1 round", r.Scenario, m.Requests, m.Errors, len(m.Rounds))
			}
			if m.P50 <= 0 || m.P99 < m.P50 {
				t.Errorf("%s: p50 %v, p99 %v", r.Scenario, m.P50, m.P99)
			}
			// Every request allocates (the client's request, the
			// server's): the runtime's counters cover the round.
			if m.GC.AllocObjects < uint64(m.Requests) || m.GC.AllocBytes < m.GC.AllocObjects {
				t.Errorf("%s: %d objects, %d bytes allocated over %d requests; want at least an object a request", r.Scenario, m.GC.AllocObjects, m.GC.AllocBytes, m.Requests)
			}
			// Every request wakes the server's goroutine and the
			// client's: the scheduler's count covers the round.
			if m.GC.Runs < uint64(m.Requests) {
				t.Errorf("%s: %d goroutine runs over %d requests; want at least one a request", r.Scenario, m.GC.Runs, m.Requests)
			}
		}
		if r.Scenario == floorScenario {
			// Go's tracer alone: nothing recorded, one traced round (no
			// warm-up here), and a snapshot of its window after it.
			if r.Stats.Recorded != 0 || !strings.HasPrefix(r.Extra, "Flight-recorder floor rounds: 1, ") || !strings.Contains(r.Extra, "A snapshot of the window") {
				t.Errorf("%s: recorder counted %d; report %q", r.Scenario, r.Stats.Recorded, r.Extra)
			}
			_, row, _ := strings.Cut(out.String(), "\n| "+r.Scenario+" | ")
			row, _, _ = strings.Cut(row, "\n")
			if r.Verdict(results) != "reference" || !strings.HasSuffix(row, " | none | reference |") || !strings.Contains(out.String(), "\n| traced | ") {
				t.Errorf("%s: no reference row in the summary, or no traced row:\n%s", r.Scenario, out.String())
			}
			if !strings.Contains(out.String(), "\nThe flight recorder, split: flight (appstats with it ÷ without) ") {
				t.Errorf("no split of the flight scenario's ratio:\n%s", out.String())
			}
			// The split states both scenarios' collections, which the
			// flight recorder's window in the heap changes.
			if !strings.Contains(out.String(), "Collections per 10,000 requests, without the flight recorder → with it: flight ") || !strings.Contains(out.String(), ", "+floorScenario+" ") {
				t.Errorf("the split states no collections:\n%s", out.String())
			}
			continue
		}
		if r.Scenario == fanoutFloorScenario {
			// The fanout's floor: nothing recorded, the traceparent on
			// the measured configuration's calls (TestFanoutFloor), and a
			// reference row.
			_, row, _ := strings.Cut(out.String(), "\n| "+r.Scenario+" | ")
			row, _, _ = strings.Cut(row, "\n")
			if r.Stats.Recorded != 0 || r.Verdict(results) != "reference" || !strings.HasSuffix(row, " | none | reference |") || !strings.Contains(out.String(), "\n| traceparent | ") {
				t.Errorf("%s: recorder counted %d; no reference row in the summary, or no traceparent row:\n%s", r.Scenario, r.Stats.Recorded, out.String())
			}
			continue
		}
		if r.Scenario == aaScenario {
			// The A/A arm: the bare handler in both configurations,
			// nothing recorded, and the method's noise stated after
			// the summary.
			_, row, _ := strings.Cut(out.String(), "\n| "+r.Scenario+" | ")
			row, _, _ = strings.Cut(row, "\n")
			if r.Stats.Recorded != 0 || r.Verdict(results) != "reference" || !strings.HasSuffix(row, " | none | reference |") || !strings.Contains(out.String(), "\n| bare B | ") {
				t.Errorf("%s: recorder counted %d; no reference row in the summary, or no bare B row:\n%s", r.Scenario, r.Stats.Recorded, out.String())
			}
			if !strings.Contains(out.String(), "\nThe method's noise (aa-hello, the same handler in both configurations): ratio ") {
				t.Errorf("no noise line:\n%s", out.String())
			}
			continue
		}
		if r.Reference {
			// A reference scenario records nothing: every otelhttp
			// request made its spans (a server span, and one a call in
			// otel-fanout), exported by the end of its round.
			var spans int
			if _, err := fmt.Sscanf(r.Extra, "OpenTelemetry: %d spans exported", &spans); err != nil {
				t.Errorf("%s: report %q: %v", r.Scenario, r.Extra, err)
			}
			per := 1
			if r.Scenario == "otel-fanout" {
				per = 1 + fanoutCalls
			}
			if spans < per*r.Recorded.Requests || r.Stats.Recorded != 0 {
				t.Errorf("%s: %d spans exported for %d otelhttp requests, want at least %d; recorder counted %d", r.Scenario, spans, r.Recorded.Requests, per*r.Recorded.Requests, r.Stats.Recorded)
			}
			_, row, _ := strings.Cut(out.String(), "\n| "+r.Scenario+" | ")
			row, _, _ = strings.Cut(row, "\n")
			if r.Verdict(results) != "reference" || !strings.HasSuffix(row, " | none | reference |") {
				t.Errorf("%s: no reference row in the summary:\n%s", r.Scenario, out.String())
			}
			if !strings.Contains(out.String(), "\n## "+r.Scenario+"\n") || !strings.Contains(out.String(), "\n| otelhttp | ") {
				t.Errorf("no section for %s, or no otelhttp row:\n%s", r.Scenario, out.String())
			}
			continue
		}
		// Every recorded request is a record, handed to the store by the
		// end of its round; no bare request is. In the flight scenario
		// both configurations record, and r.Stats is the bare rounds'
		// recorder's (the report's extra line counts the other).
		want := r.Recorded.Requests
		if r.Scenario == "flight" {
			want = r.Bare.Requests
			if !strings.Contains(r.Extra, fmt.Sprintf("Flight-recorder rounds: 1, %d records written", r.Recorded.Requests)) {
				t.Errorf("flight: %s; want 1 round, %d records written", r.Extra, r.Recorded.Requests)
			}
		}
		// The drops of the measured rounds are some of the drops.
		var measured uint64
		for _, rd := range r.Recorded.Rounds {
			measured += rd.SinkDropped
		}
		if measured > sinkDropped(r.Stats) {
			t.Errorf("%s: %d records dropped by a sink in measured rounds, %d in all", r.Scenario, measured, sinkDropped(r.Stats))
		}
		if r.Stats.Written != uint64(want) || r.Stats.Dropped != 0 {
			t.Errorf("%s: recorder wrote %d, dropped %d; want %d recorded requests written", r.Scenario, r.Stats.Written, r.Stats.Dropped, want)
		}
		// Every record the recorder wrote to a Badger store is counted
		// in its rollups, persisted in full or not.
		if c := r.Store; c != nil {
			if c.Counted != int64(r.Stats.Written) || c.Stored > c.Counted || c.Stored+int64(c.OverBudget) != c.Counted {
				t.Errorf("%s: the store counts %d requests, %d persisted, %d over budget; the recorder wrote %d", r.Scenario, c.Counted, c.Stored, c.OverBudget, r.Stats.Written)
			}
		} else if r.Scenario == "badger" || r.Scenario == "ui" {
			t.Errorf("%s: no store counts", r.Scenario)
		}
		if !strings.Contains(out.String(), "\n## "+r.Scenario+"\n") || !strings.Contains(out.String(), "Heap and collector per request (runtime/metrics, bare → recorded): ") {
			t.Errorf("no section for %s, or no heap line:\n%s", r.Scenario, out.String())
		}
		if !strings.Contains(out.String(), "\n| "+r.Scenario+" | ") {
			t.Errorf("summary has no row for %s:\n%s", r.Scenario, out.String())
		}
	}
	t.Log("\n" + out.String())
}

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr bool
		check   func(options) bool
	}{
		{args: nil, check: func(o options) bool {
			return len(o.Scenarios) == len(scenarioNames) && o.Rounds == 4 && o.Bare == bareMatched
		}},
		{args: []string{"-scenario", "fanout,hello,fanout", "-rounds", "1", "-duration", "1s"}, check: func(o options) bool {
			return len(o.Scenarios) == 2 && o.Scenarios[0] == "fanout" && o.Scenarios[1] == "hello" && o.Duration == time.Second
		}},
		{args: []string{"-scenario", "nope"}, wantErr: true},
		{args: []string{"-rounds", "0"}, wantErr: true},
		{args: []string{"-duration", "0s"}, wantErr: true},
		{args: []string{"-concurrency", "-1"}, wantErr: true},
		{args: []string{"-requests", "0"}, wantErr: true},
		{args: []string{"-warmup", "-1s"}, wantErr: true},
		{args: []string{"extra"}, wantErr: true},
		{args: []string{"-cpuprofile", "a.prof", "-roundprofiles", "b"}, wantErr: true},
		{args: []string{"-roundprofiles", "/tmp/p"}, check: func(o options) bool { return o.RoundProfiles == "/tmp/p" }},
		{args: []string{"-slice", "250ms", "-bare", "shared"}, check: func(o options) bool { return o.Slice == 250*time.Millisecond }},
		{args: []string{"-slice", "250ms"}, wantErr: true}, // the clean arm cannot switch every slice
		{args: []string{"-bare", "shared"}, check: func(o options) bool { return o.Bare == bareShared }},
		{args: []string{"-bare", "clean"}, check: func(o options) bool { return o.Bare == bareClean }},
		{args: []string{"-bare", "none"}, wantErr: true},
		{args: []string{"-slice", "3s", "-duration", "2s"}, wantErr: true},
		{args: []string{"-slice", "-1s"}, wantErr: true},
		{args: []string{"-slice", "100ms", "-roundprofiles", "p"}, wantErr: true},
		{args: []string{"-only", "recorded"}, check: func(o options) bool { return o.Only == "recorded" }},
		{args: []string{"-only", "both"}, wantErr: true},
		{args: []string{"-only", "bare", "-slice", "100ms"}, wantErr: true},
		{args: []string{"-only", "bare", "-ballast", "1048576"}, check: func(o options) bool { return o.Ballast == 1<<20 }},
		{args: []string{"-only", "bare", "-ballast", "9000000000000000000"}, wantErr: true}, // make would panic
		{args: []string{"-only", "bare", "-ballast", "1099511627777"}, wantErr: true},
		{args: nil, check: func(o options) bool { return o.Probe == 20*time.Millisecond && o.RoundsCSV == "" }},
		{args: []string{"-probe", "0", "-roundscsv", "/tmp/r.csv"}, check: func(o options) bool { return o.Probe == 0 && o.RoundsCSV == "/tmp/r.csv" }},
		{args: []string{"-probe", "50ms"}, check: func(o options) bool { return o.Probe == 50*time.Millisecond }},
		{args: []string{"-probe", "500us"}, wantErr: true}, // more than ~10% of a core
		{args: []string{"-probe", "2s"}, wantErr: true},
		{args: []string{"-probe", "-1ms"}, wantErr: true},
	} {
		o, err := parseFlags(tc.args, io.Discard)
		if (err != nil) != tc.wantErr {
			t.Errorf("parseFlags(%q): err %v, want error %v", tc.args, err, tc.wantErr)
			continue
		}
		if err == nil && !tc.check(o) {
			t.Errorf("parseFlags(%q) = %+v", tc.args, o)
		}
	}
}

func TestPercentile(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		var out []time.Duration
		for _, v := range n {
			out = append(out, time.Duration(v)*time.Millisecond)
		}
		return out
	}
	for _, tc := range []struct {
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{nil, 0.5, 0},
		{ms(7), 0.99, 7 * time.Millisecond},
		{ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.99, 10 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.5, 5 * time.Millisecond},
	} {
		if got := percentile(tc.sorted, tc.q); got != tc.want {
			t.Errorf("percentile(%v, %v) = %v, want %v", tc.sorted, tc.q, got, tc.want)
		}
	}
}

// TestRequestLimit checks that -requests bounds a round, and that
// -roundprofiles writes a CPU profile of each measured round.
func TestRequestLimit(t *testing.T) {
	o := defaultOptions()
	o.Scenarios = []string{"hello"}
	o.Duration = time.Minute // the request limit ends the round first
	o.Warmup = 0
	o.Rounds = 2
	o.Concurrency = 3
	o.Requests = 50
	o.RoundProfiles = filepath.Join(t.TempDir(), "p")
	results, err := run(context.Background(), o, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	r := results[0]
	if r.Bare.Requests != 100 || r.Recorded.Requests != 100 {
		t.Errorf("requests bare %d, recorded %d; want 50 a round, 100 each", r.Bare.Requests, r.Recorded.Requests)
	}
	for _, config := range []string{"bare", "recorded"} {
		for n := 1; n <= 2; n++ {
			name := fmt.Sprintf("%s-hello-%s-%d.prof", o.RoundProfiles, config, n)
			if fi, err := os.Stat(name); err != nil || fi.Size() == 0 {
				t.Errorf("round profile %s: %v, %v; want a non-empty file", name, fi, err)
			}
		}
	}
}

// TestOnly: -only runs one configuration alone, its warm-up included.
func TestOnly(t *testing.T) {
	for _, only := range []string{"bare", "recorded"} {
		o := defaultOptions()
		o.Scenarios = []string{"hello"}
		o.Duration = time.Minute
		o.Warmup = time.Minute // the request limit ends it
		o.Rounds = 2
		o.Concurrency = 2
		o.Requests = 40
		o.Only = only
		results, err := run(context.Background(), o, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		r := results[0]
		bare, rec := 0, 80
		if only == "bare" {
			bare, rec = 80, 0
		}
		if r.Bare.Requests != bare || r.Recorded.Requests != rec {
			t.Errorf("-only %s: requests bare %d, recorded %d; want %d, %d", only, r.Bare.Requests, r.Recorded.Requests, bare, rec)
		}
		// The recorder writes the recorded rounds' records and the
		// recorded warm-up's, and nothing else.
		if w := r.Stats.Written; (only == "bare") != (w == 0) {
			t.Errorf("-only %s: the recorder wrote %d records", only, w)
		}
	}
}

// TestPairOrder: the pairs alternate which configuration goes first, so
// each follows the other as often (bare, recorded, recorded, bare, …).
func TestPairOrder(t *testing.T) {
	var seq []bool
	for i := range 4 {
		seq = append(seq, pairOrder(i)...)
	}
	want := []bool{false, true, true, false, false, true, true, false}
	if fmt.Sprint(seq) != fmt.Sprint(want) {
		t.Errorf("rounds recorded: %v, want %v", seq, want)
	}
}

// TestDefaultRoundsBalanceOrder: with the default -rounds, each
// configuration goes first in as many pairs (an odd count puts bare first
// once more, which weighs a first-versus-second difference into the
// ratio).
func TestDefaultRoundsBalanceOrder(t *testing.T) {
	n := defaultOptions().Rounds
	var bareFirst int
	for i := range n {
		if !pairOrder(i)[0] {
			bareFirst++
		}
	}
	if 2*bareFirst != n {
		t.Errorf("default -rounds %d: bare first in %d pairs, recorded first in %d; want as many", n, bareFirst, n-bareFirst)
	}
}

// TestSliced interleaves the configurations slice by slice: both serve
// requests, their slices' times add up to the stretch, and the recorder
// wrote a record for about every recorded request (a request in flight at
// a switch may be served by the other configuration's handler).
func TestSliced(t *testing.T) {
	o := defaultOptions()
	o.Scenarios = []string{"hello", "flight"}
	o.Duration = 200 * time.Millisecond
	o.Slice = 50 * time.Millisecond
	o.Bare = bareShared
	o.Warmup = 0
	o.Rounds = 2
	o.Concurrency = 2
	var out bytes.Buffer
	results, err := run(context.Background(), o, &out)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	r := results[0]
	for _, m := range []*measurement{&r.Bare, &r.Recorded} {
		if m.Requests == 0 || m.Errors != 0 || len(m.Rounds) != 2 || m.CPU <= 0 {
			t.Errorf("%d requests, %d errors, %d rounds, CPU %v; want some requests, no errors, 2 rounds, some CPU", m.Requests, m.Errors, len(m.Rounds), m.CPU)
		}
		if m.GC.AllocObjects < uint64(m.Requests) {
			t.Errorf("%d objects allocated over %d requests; want each slice's allocations counted", m.GC.AllocObjects, m.Requests)
		}
	}
	// Each configuration had about half of each 400 ms stretch, give or
	// take the last responses and the sleeps' lateness, which a loaded
	// machine stretches: judged as shares of the pair's time, not as
	// durations.
	for i := range 2 {
		b, rec := r.Bare.Rounds[i].Elapsed, r.Recorded.Rounds[i].Elapsed
		if b+rec < 400*time.Millisecond || 4*b < b+rec || 4*rec < b+rec {
			t.Errorf("pair %d: bare %v, recorded %v; want at least 400 ms together, about half each", i, b, rec)
		}
	}
	if w, n := r.Stats.Written, uint64(r.Recorded.Requests); r.Stats.Dropped != 0 || w+uint64(2*8*o.Concurrency) < n || w > n+uint64(2*8*o.Concurrency) {
		t.Errorf("recorder wrote %d, dropped %d; want about the %d recorded requests", w, r.Stats.Dropped, n)
	}
	// The flight scenario runs whole rounds.
	if f := results[1]; f.Stats.Written != uint64(f.Bare.Requests) {
		t.Errorf("flight: bare rounds' recorder wrote %d, want %d", f.Stats.Written, f.Bare.Requests)
	}
	if !strings.Contains(out.String(), "switches every 50ms") {
		t.Errorf("report does not say the rounds were interleaved:\n%s", out.String())
	}
}

// TestHeapProfiles checks that -heapprofiles writes a heap profile of each
// scenario run, and that the report gives what the collector scanned at
// that point (runtime/metrics' /gc/scan/*), some of it heap.
func TestHeapProfiles(t *testing.T) {
	o := defaultOptions()
	o.Scenarios = []string{"hello"}
	o.Duration = 100 * time.Millisecond
	o.Warmup = 0
	o.Rounds = 2 // bare, recorded, recorded, bare: written after the third
	o.Concurrency = 2
	o.HeapProfiles = filepath.Join(t.TempDir(), "p")
	var out strings.Builder
	if _, err := run(context.Background(), o, &out); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`Collector's scan at the heap profile \(runtime/metrics, after a collection at rest after the last recorded round, no load running, so lower than under load\): ([0-9.]+) MB live heap; scanned ([0-9.]+) MB of heap, [0-9.]+ MB of globals, [0-9.]+ MB of stacks`).FindStringSubmatch(out.String())
	if m == nil {
		t.Errorf("report without the collector's scan line:\n%s", out.String())
	} else if m[1] == "0.00" || m[2] == "0.00" {
		t.Errorf("collector's scan line with no live or scanned heap: %s", m[0])
	}
	b, err := os.ReadFile(o.HeapProfiles + "-hello.heap")
	if err != nil {
		t.Fatal(err)
	}
	// A profile is a gzipped protocol buffer (runtime/pprof writes it so).
	if len(b) < 100 || b[0] != 0x1f || b[1] != 0x8b {
		t.Errorf("heap profile of %d bytes, starting % x; want a gzipped profile", len(b), b[:min(len(b), 2)])
	}
	// The directory holds the profile and nothing else: checkPrefix's
	// probe file is gone.
	des, err := os.ReadDir(filepath.Dir(o.HeapProfiles))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	if len(names) != 1 || names[0] != "p-hello.heap" {
		t.Errorf("the profiles' directory holds %q, want only [p-hello.heap]", names)
	}
}

// TestTrace checks that -trace writes an execution trace of the run.
func TestTrace(t *testing.T) {
	o, err := parseFlags([]string{"-scenario", "hello", "-duration", "100ms", "-warmup", "0", "-rounds", "1", "-concurrency", "2",
		"-only", "recorded", "-trace", filepath.Join(t.TempDir(), "trace.out")}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := runMain(o); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(o.Trace)
	if err != nil {
		t.Fatal(err)
	}
	// A trace starts with its header, "go 1.NN trace".
	if !bytes.HasPrefix(b, []byte("go 1.")) || len(b) < 1000 {
		t.Errorf("trace of %d bytes, starting %q; want an execution trace", len(b), b[:min(len(b), 16)])
	}
}

// TestFlightFloor: flight-floor runs the runtime's flight recorder through
// each traced round (a snapshot of its window is taken after each) and
// through no bare round, whole rounds even with -slice, and leaves none
// running.
func TestFlightFloor(t *testing.T) {
	for _, slice := range []time.Duration{0, 50 * time.Millisecond} {
		o := defaultOptions()
		o.Scenarios = []string{floorScenario}
		o.Duration = 150 * time.Millisecond
		o.Warmup = 0
		o.Rounds = 2
		o.Concurrency = 2
		if slice > 0 {
			o.Slice, o.Bare = slice, bareShared
		}
		var starts int
		o.onRound = func(_ *env, recorded, _ bool) {
			starts++
			// Every round starts with the tracer off: the traced round
			// before it stopped its flight recorder.
			if trace.IsEnabled() {
				t.Errorf("slice %v: a %s round starts with the tracer on", slice, map[bool]string{false: "bare", true: "traced"}[recorded])
			}
		}
		var out bytes.Buffer
		results, err := run(context.Background(), o, &out)
		if err != nil {
			t.Fatalf("slice %v: run: %v\n%s", slice, err, out.String())
		}
		r := results[0]
		if starts != 4 || len(r.Bare.Rounds) != 2 || len(r.Recorded.Rounds) != 2 || r.Bare.Errors+r.Recorded.Errors != 0 {
			t.Errorf("slice %v: %d rounds started, %d bare, %d traced, %d errors; want 4 whole rounds, 2 each, no error", slice, starts, len(r.Bare.Rounds), len(r.Recorded.Rounds), r.Bare.Errors+r.Recorded.Errors)
		}
		// Each traced round ran the flight recorder: a snapshot of it
		// was taken (a stopped one fails).
		if !strings.HasPrefix(r.Extra, "Flight-recorder floor rounds: 2, ") || !strings.Contains(r.Extra, "A snapshot of the window") || strings.Contains(r.Extra, "failed") {
			t.Errorf("slice %v: report %q; want 2 rounds, each with a snapshot", slice, r.Extra)
		}
		if trace.IsEnabled() {
			t.Fatalf("slice %v: the tracer runs after the scenario", slice)
		}
	}
}

// TestNoise: the noise line states the A/A arm's ratio and the range of
// its pairs, and each scenario's pairs split by the configuration that
// ran first (pairOrder: bare first in pairs 1, 3, 5, …).
func TestNoise(t *testing.T) {
	aa := &result{Scenario: aaScenario, Reference: true}
	for _, rps := range []int{110, 90, 100, 80} { // bare B; bare at 100
		aa.Bare.add(round{Requests: 100, Elapsed: time.Second})
		aa.Recorded.add(round{Requests: rps, Elapsed: time.Second})
	}
	b, m := orderSplit(aa)
	if fmt.Sprintf("%.3f/%.3f", b, m) != "1.050/0.850" {
		t.Errorf("orderSplit: %.3f/%.3f, want 1.050/0.850 (pairs 1 and 3 bare first)", b, m)
	}
	one := &result{Scenario: "hello"}
	one.Bare.add(round{Requests: 100, Elapsed: time.Second})
	one.Recorded.add(round{Requests: 95, Elapsed: time.Second})
	var out bytes.Buffer
	writeNoise(&out, []*result{one, aa})
	want := "\nThe method's noise (aa-hello, the same handler in both configurations): ratio 0.950, pairs 0.800–1.100. Pairs' mean ratio by the configuration run first (bare first/measured first): aa-hello 1.050/0.850.\n"
	if out.String() != want {
		t.Errorf("noise line:\n%q\nwant\n%q", out.String(), want)
	}
	out.Reset()
	writeNoise(&out, []*result{one})
	if out.Len() != 0 {
		t.Errorf("a run without the A/A arm wrote %q", out.String())
	}
}

// TestProfilePrefixBadPath: a -heapprofiles or -roundprofiles prefix in a
// directory that does not exist is refused, naming the flag, before any
// round runs: the first heap profile was written only after a scenario's
// last recorded round, and its error then threw that scenario's whole
// report away.
func TestProfilePrefixBadPath(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "missing", "p")
	for _, flag := range []string{"-heapprofiles", "-roundprofiles"} {
		t.Run(flag, func(t *testing.T) {
			o := tinyHelloRun()
			if flag == "-heapprofiles" {
				o.HeapProfiles = bad
			} else {
				o.RoundProfiles = bad
			}
			rounds := 0
			o.onRound = func(*env, bool, bool) { rounds++ }
			_, err := run(context.Background(), o, io.Discard)
			if err == nil || !strings.Contains(err.Error(), flag) {
				t.Errorf("run: %v; want an error naming %s", err, flag)
			}
			if rounds != 0 {
				t.Errorf("%d rounds ran before the bad path was refused; want none", rounds)
			}
		})
	}
}

// TestProfileWriteFails: a -heapprofiles or -roundprofiles profile that
// cannot be written after the early check of its prefix (its file on a
// full device, its directory replaced by a file during the run) costs the
// scenario its profile, not its report: the scenario's figures and the
// summary are printed, the report says which profile failed and why, and
// the run ends with an error naming the flag and the file.
func TestProfileWriteFails(t *testing.T) {
	for _, flag := range []string{"-heapprofiles", "-roundprofiles"} {
		for _, how := range []string{"full device", "directory replaced"} {
			t.Run(flag+"/"+how, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "profiles")
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				prefix := filepath.Join(dir, "p")
				o := tinyHelloRun()
				failing := prefix + "-hello.heap" // the one heap profile
				if flag == "-heapprofiles" {
					o.HeapProfiles = prefix
				} else {
					o.RoundProfiles = prefix
					failing = prefix + "-hello-bare-1.prof" // the first round's
				}
				switch how {
				case "full device":
					if _, err := os.Stat("/dev/full"); err != nil {
						t.Skip("no /dev/full:", err)
					}
					if err := os.Symlink("/dev/full", failing); err != nil {
						t.Fatal(err)
					}
				case "directory replaced":
					replaced := false
					o.onRound = func(*env, bool, bool) {
						if replaced {
							return
						}
						replaced = true
						if err := os.RemoveAll(dir); err != nil {
							t.Error(err)
						}
						if err := os.WriteFile(dir, nil, 0o644); err != nil {
							t.Error(err)
						}
					}
				}
				var out strings.Builder
				results, err := run(context.Background(), o, &out)
				if err == nil || !strings.Contains(err.Error(), flag) || !strings.Contains(err.Error(), failing) {
					t.Fatalf("run: %v; want an error naming %s and %s", err, flag, failing)
				}
				if len(results) != 1 || results[0].Bare.Requests == 0 || results[0].Recorded.Requests == 0 {
					t.Fatalf("results %v; want the hello scenario's, with requests in both configurations", results)
				}
				report := out.String()
				// Each failure once: in the report, a line each; in the
				// error, the file named once as the profile and once in
				// the system's error, not twice over.
				if n := strings.Count(report, "Profile failed"); n == 0 || n != len(results[0].ProfileErrors) || strings.Count(err.Error(), failing) != 2 {
					t.Errorf("run: %q; %d failures in the report, %d kept; want each failure once:\n%s", err, n, len(results[0].ProfileErrors), report)
				}
				for _, want := range []string{"\n## hello\n", "\n| hello | ", "Profile failed (the figures above stand; the run ends with an error): " + flag + ": profile " + failing + " not written: "} {
					if !strings.Contains(report, want) {
						t.Errorf("report without %q:\n%s", want, report)
					}
				}
			})
		}
	}
}

// TestProfilePrefixNameLimit: the early check of a -heapprofiles or
// -roundprofiles prefix tries a file name as long as the longest profile
// the run writes, no longer: a prefix whose longest profile's name is
// exactly 255 bytes (the usual limit of a file name) is accepted and its
// profiles written; one byte more is refused before any round, naming the
// flag, the name's length and the system's error.
func TestProfilePrefixNameLimit(t *testing.T) {
	// The test's premise: this file system takes names of 255 bytes, not 256.
	tmp := t.TempDir()
	if err := os.WriteFile(filepath.Join(tmp, strings.Repeat("n", 255)), nil, 0o600); err != nil {
		t.Skip("a 255-byte file name is refused here:", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, strings.Repeat("n", 256)), nil, 0o600); err == nil {
		t.Skip("a 256-byte file name is taken here")
	}
	for _, c := range []struct {
		flag, suffix string // suffix: the longest profile's, after the prefix
	}{
		{"-heapprofiles", "-hello.heap"},
		{"-roundprofiles", "-hello-recorded-1.prof"},
	} {
		for _, size := range []int{255, 256} {
			t.Run(fmt.Sprintf("%s/%d", c.flag, size), func(t *testing.T) {
				dir := t.TempDir()
				prefix := filepath.Join(dir, strings.Repeat("p", size-len(c.suffix)))
				o := tinyHelloRun()
				if c.flag == "-heapprofiles" {
					o.HeapProfiles = prefix
				} else {
					o.RoundProfiles = prefix
				}
				if heap, round := o.longestProfileNames(); len(filepath.Base(heap+round)) != size {
					t.Fatalf("longest profile names %q, %q; want one of %d bytes", heap, round, size)
				}
				rounds := 0
				o.onRound = func(*env, bool, bool) { rounds++ }
				_, err := run(context.Background(), o, io.Discard)
				if size > 255 {
					if err == nil || !strings.Contains(err.Error(), c.flag+": cannot make the profiles' files") || !strings.Contains(err.Error(), fmt.Sprintf(", %d bytes, was refused", size)) || rounds != 0 {
						t.Errorf("run: %v, after %d rounds; want an error naming %s and %d bytes before any round", err, rounds, c.flag, size)
					}
					return
				}
				if err != nil {
					t.Fatalf("run: %v", err)
				}
				if _, err := os.Stat(prefix + c.suffix); err != nil {
					t.Errorf("the longest profile was not written: %v", err)
				}
				// Nothing is left of the check's probe: every file in the
				// directory is a profile.
				des, err := os.ReadDir(dir)
				if err != nil {
					t.Fatal(err)
				}
				for _, de := range des {
					if n := de.Name(); !strings.HasSuffix(n, ".heap") && !strings.HasSuffix(n, ".prof") {
						t.Errorf("the profiles' directory holds %s", n)
					}
				}
			})
		}
	}
}

// TestLongestProfileNames: the longest names are those of the longest
// scenario name, the recorded configuration's round profile unless only
// bare runs, and the last round's number.
func TestLongestProfileNames(t *testing.T) {
	o := defaultOptions()
	o.Scenarios = []string{"ui", "flight-floor", "hello"}
	o.Rounds = 12
	o.HeapProfiles, o.RoundProfiles = "h", "r"
	heap, round := o.longestProfileNames()
	if heap != "h-flight-floor.heap" || round != "r-flight-floor-recorded-12.prof" {
		t.Errorf("longest names %q, %q; want h-flight-floor.heap, r-flight-floor-recorded-12.prof", heap, round)
	}
	o.Only = "bare"
	o.HeapProfiles = ""
	if heap, round = o.longestProfileNames(); heap != "" || round != "r-flight-floor-bare-12.prof" {
		t.Errorf("-only bare: longest names %q, %q; want none, r-flight-floor-bare-12.prof", heap, round)
	}
}

// tinyHelloRun returns the options of a run of the hello scenario as short
// as the profile tests need: one round of 50 ms a configuration, one
// client, no warm-up.
func tinyHelloRun() options {
	o := defaultOptions()
	o.Scenarios = []string{"hello"}
	o.Duration = 50 * time.Millisecond
	o.Warmup = 0
	o.Rounds = 1
	o.Concurrency = 1
	return o
}

// TestFanoutFloor: fanout-floor's measured configuration sends the
// traceparent on every call of its fanout requests and its bare one on
// none, so that traceparent ÷ bare is net/http carrying the header alone;
// it is a reference, and records nothing.
func TestFanoutFloor(t *testing.T) {
	o := defaultOptions()
	o.Scenarios = []string{fanoutFloorScenario}
	o.Duration = 150 * time.Millisecond
	o.Warmup = 0
	o.Rounds = 1
	o.Concurrency = 2
	var out bytes.Buffer
	results, err := run(context.Background(), o, &out)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	r := results[0]
	if !r.Reference || r.Stats.Recorded != 0 || r.Bare.Errors+r.Recorded.Errors != 0 || r.Bare.Requests == 0 || r.Recorded.Requests == 0 {
		t.Fatalf("reference %v, %d recorded, %d errors, %d bare and %d measured requests; want a reference, nothing recorded, no error, requests in both", r.Reference, r.Stats.Recorded, r.Bare.Errors+r.Recorded.Errors, r.Bare.Requests, r.Recorded.Requests)
	}
	var with, without int
	if _, err := fmt.Sscanf(r.Extra, "Backend calls (warm-up included): %d with the traceparent, %d without.", &with, &without); err != nil {
		t.Fatalf("report %q: %v", r.Extra, err)
	}
	// Every request counted made its fanoutCalls calls; a request cut
	// short at a round's end may have made some more.
	if with < fanoutCalls*r.Recorded.Requests || without < fanoutCalls*r.Bare.Requests {
		t.Errorf("backend calls: %d with the traceparent, %d without; want at least %d with (the measured configuration's %d requests) and %d without (the bare one's %d)",
			with, without, fanoutCalls*r.Recorded.Requests, r.Recorded.Requests, fanoutCalls*r.Bare.Requests, r.Bare.Requests)
	}
	if !strings.Contains(out.String(), "\n| "+fanoutFloorScenario+" | ") {
		t.Errorf("no summary row for %s in:\n%s", fanoutFloorScenario, out.String())
	}
}
