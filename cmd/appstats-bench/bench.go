package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goappstats/appstats/internal/cputime"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// ThroughputTarget is DESIGN.md's loopback target: throughput with recording
// at least this fraction of bare throughput.
const ThroughputTarget = 0.95

// options are the load test's settings (the command's flags).
type options struct {
	Duration    time.Duration // each measured round
	Warmup      time.Duration // each configuration's unmeasured first round; 0: none
	Rounds      int           // measured rounds per configuration
	Concurrency int           // concurrent client connections
	Requests    int           // at most this many requests per round
	Scenarios   []string
	CPUProfile  string // file for a CPU profile of the whole run, if set
	Trace       string // file for an execution trace of the whole run, if set
	// Slice, if positive, interleaves each pair of measured rounds: one
	// stretch of load of twice Duration, whose configuration switches
	// every Slice (see env.sliced).
	Slice time.Duration
	// RoundProfiles, if set, is the prefix of one CPU profile per measured
	// round: PREFIX-SCENARIO-CONFIG-N.prof (see roundProfile).
	RoundProfiles string
	// HeapProfiles, if set, is the prefix of one heap profile per
	// scenario, written after its last recorded round (its last round
	// with -only bare) and a collection:
	// PREFIX-SCENARIO.heap (its in-use heap is what the stores and the
	// recorder hold; its allocations count from the process's start).
	HeapProfiles string
	// Only, if "bare" or "recorded", runs that configuration alone (its
	// warm-up and measured rounds): for counting one configuration's
	// instructions under callgrind. The report's ratios are then 0.
	Only string
	// Ballast, with Only "bare", is the size in bytes of a pointer-free
	// array the bare rounds run beside, as -bare matched's bare rounds
	// run beside the heap a recorded round held (which a run of bare
	// alone never sees): for callgrind with the collector on, so that a
	// bare run alone is paced by the heap the recorded run held (its
	// report's "live heap" line), not by the runtime's 4 MiB floor.
	Ballast int64
	// Bare is the bare arm: bareClean (the bare rounds run with nothing
	// of appstats alive) or bareShared (beside the recorded
	// configuration's recorder and stores, as before).
	Bare string
	// Probe is the speed probe's interval (see probe.go): each kernel
	// runs once every Probe through the run; 0 turns it off. Runs with
	// Only do not start it (callgrind counts every instruction).
	Probe time.Duration
	// RoundsCSV, if set, is a file to write every measured round's
	// figures to, as CSV (see roundsCSVHeader).
	RoundsCSV string
	// badgerFill, if not 0, replaces the constant badgerFill (tests).
	badgerFill uint64
	// onRound, if set, is called at the start of each round (see
	// env.onRound; tests).
	onRound func(e *env, recorded, warmup bool)
	// createCSV, if set, replaces os.Create for RoundsCSV's file (tests).
	createCSV func(name string) (io.WriteCloser, error)
}

// runs reports whether the configuration (recorded or bare) is to run.
func (o options) runs(recorded bool) bool {
	return o.Only == "" || (o.Only == "recorded") == recorded
}

// maxBallast bounds -ballast: 1 TiB, far above any live heap a recorded
// run holds, and below the sizes at which make panics.
const maxBallast = 1 << 40

func (o options) validate() error {
	switch {
	case o.Duration <= 0 || o.Duration > 10*time.Minute:
		return fmt.Errorf("-duration %v: want more than 0 and at most 10m", o.Duration)
	case o.Warmup < 0 || o.Warmup > time.Minute:
		return fmt.Errorf("-warmup %v: want 0 to 1m", o.Warmup)
	case o.Rounds < 1 || o.Rounds > 100:
		return fmt.Errorf("-rounds %d: want 1 to 100", o.Rounds)
	case o.Concurrency < 1 || o.Concurrency > 1024:
		return fmt.Errorf("-concurrency %d: want 1 to 1024", o.Concurrency)
	case o.Requests < 1:
		return fmt.Errorf("-requests %d: want at least 1", o.Requests)
	case o.Only != "" && o.Only != "bare" && o.Only != "recorded":
		return fmt.Errorf("-only %q: want bare, recorded or nothing", o.Only)
	case o.Bare != bareClean && o.Bare != bareShared && o.Bare != bareMatched:
		return fmt.Errorf("-bare %q: want %s, %s or %s", o.Bare, bareClean, bareMatched, bareShared)
	case o.Slice > 0 && o.Bare != bareShared:
		return fmt.Errorf("-slice needs -bare %s: a stretch switching every slice cannot close and reopen the stores at each switch", bareShared)
	case o.Ballast < 0 || o.Ballast > maxBallast:
		return fmt.Errorf("-ballast %d: want 0 to %d bytes (1 TiB)", o.Ballast, int64(maxBallast))
	case o.Ballast > 0 && o.Only != "bare":
		return errors.New("-ballast is for -only bare: the bare rounds of a run of both configurations have -bare matched's ballast")
	case o.Only != "" && o.Slice > 0:
		return fmt.Errorf("-only with -slice: a sliced pair runs both configurations")
	case len(o.Scenarios) == 0:
		return errors.New("no scenario")
	case o.Slice < 0 || o.Slice > o.Duration:
		return fmt.Errorf("-slice %v: want 0 (rounds) to -duration (%v)", o.Slice, o.Duration)
	case o.Slice > 0 && o.RoundProfiles != "":
		return errors.New("-slice and -roundprofiles: an interleaved pair of rounds has no profile of each configuration")
	case o.Probe != 0 && (o.Probe < time.Millisecond || o.Probe > time.Second):
		return fmt.Errorf("-probe %v: want 0 (off) or 1ms to 1s", o.Probe)
	case o.CPUProfile != "" && o.RoundProfiles != "":
		return errors.New("-cpuprofile and -roundprofiles: a process has one CPU profile at a time; choose one")
	}
	return nil
}

// A round is one measured stretch of load on one configuration.
type round struct {
	Requests int
	Errors   int
	Elapsed  time.Duration // from the first request to the last response
	CPU      time.Duration // process CPU time over the round, recorder drain included
	GC       gcCounters    // the runtime's allocation and collection counters over the same span
	Drain    time.Duration // waiting for the recorder to hand its queue to the sinks
	// SinkDropped counts the records a sink dropped during the round
	// (recorded rounds).
	SinkDropped uint64
	// Probe is the speed probe's figures over the round (none without
	// the probe, and in a sliced pair).
	Probe probeStats
	// Machine is the whole machine's CPU time over the round (/proc/stat;
	// zero where it cannot be read, and in a sliced pair).
	Machine machineCPU
	// ProfileErr is why the round's CPU profile (-roundprofiles) could
	// not be made or written, if it could not: the round's figures stand.
	ProfileErr error
	lat        []time.Duration
}

// RPS is the round's throughput.
func (r round) RPS() float64 { return rate(r.Requests, r.Elapsed) }

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// A measurement pools the rounds of one configuration.
type measurement struct {
	Rounds   []round
	Requests int
	Errors   int
	Elapsed  time.Duration
	CPU      time.Duration
	GC       gcCounters
	P50, P99 time.Duration
}

// RPS is the throughput over all rounds.
func (m *measurement) RPS() float64 { return rate(m.Requests, m.Elapsed) }

// CPUPerRequest is the process CPU time per request over all rounds.
func (m *measurement) CPUPerRequest() time.Duration {
	if m.Requests == 0 {
		return 0
	}
	return m.CPU / time.Duration(m.Requests)
}

func (m *measurement) add(r round) {
	m.Rounds = append(m.Rounds, r)
	m.Requests += r.Requests
	m.Errors += r.Errors
	m.Elapsed += r.Elapsed
	m.CPU += r.CPU
	m.GC = m.GC.add(r.GC)
}

// summarize computes the pooled percentiles and drops the raw latencies.
func (m *measurement) summarize() {
	var all []time.Duration
	for i := range m.Rounds {
		all = append(all, m.Rounds[i].lat...)
		m.Rounds[i].lat = nil
	}
	slices.Sort(all)
	m.P50, m.P99 = percentile(all, 0.50), percentile(all, 0.99)
}

// percentile returns the q-quantile of sorted (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// A result is one scenario's outcome.
type result struct {
	Scenario string
	Note     string
	Bare     measurement
	Recorded measurement
	Stats    recording.Stats // the recorder's counters at the end (none in a reference scenario)
	Extra    string          // scenario-specific report, if any
	// Measured names the measured configuration in the report, if not
	// "recorded" or, in a reference scenario, "otelhttp".
	Measured string
	// Reference is set for the otel- scenarios, whose measured
	// configuration is otelhttp's, not appstats', for flight-floor,
	// whose is Go's tracer alone, for fanout-floor, whose is net/http
	// carrying a traceparent alone, and for aa-hello: no target applies.
	Reference bool
	Store     *storeCounts // what the Badger store counted, in the scenarios that have one
	// Scan is what the collector marked in the collection before the
	// heap profile, with -heapprofiles (nil without).
	Scan *heapScan
	// ProfileErrors are the scenario's profiles (-roundprofiles,
	// -heapprofiles) that could not be made or written, each naming its
	// file: the report says so and the run ends with an error, but the
	// scenario's figures are kept.
	ProfileErrors []error
}

// storeCounts is what a scenario's Badger store holds at the end.
type storeCounts struct {
	Counted    int64  // requests its rollups count (Stats)
	Stored     int64  // of them, persisted in full
	OverBudget uint64 // records counted but not persisted (Health)
}

// countStore reads what st counted since the scenario opened it.
func countStore(ctx context.Context, st durableStore, since time.Time) (*storeCounts, error) {
	s, err := st.Stats(ctx, store.Window{Since: since.Add(-time.Minute)})
	if err != nil {
		return nil, err
	}
	c := &storeCounts{Counted: s.Requests, OverBudget: st.Health().OverBudget}
	for _, r := range s.Routes {
		c.Stored += r.Stored
	}
	return c, nil
}

// Ratio is recorded throughput over bare throughput, pooled over the rounds.
func (r *result) Ratio() float64 { return ratio(r.Recorded.RPS(), r.Bare.RPS()) }

// PairRatios are the throughput ratios of each (bare, recorded) pair of
// adjacent rounds, showing how much the ratio moves from pair to pair.
func (r *result) PairRatios() []float64 {
	var out []float64
	for i := range min(len(r.Bare.Rounds), len(r.Recorded.Rounds)) {
		out = append(out, ratio(r.Recorded.Rounds[i].RPS(), r.Bare.Rounds[i].RPS()))
	}
	return out
}

// CPUPairRatios are, for each pair of rounds, the bare round's CPU time
// per request over the measured round's: the throughput ratio of a
// process that got all the CPU it could use and was limited by nothing
// else. It does not move with the CPU share a machine shared with other
// work gives each round, which the throughput's pairs do; it does not see
// a configuration that leaves the cores idle (waiting on a lock, a
// sleep), which the throughput's pairs do.
func (r *result) CPUPairRatios() []float64 {
	var out []float64
	for i := range min(len(r.Bare.Rounds), len(r.Recorded.Rounds)) {
		b, m := r.Bare.Rounds[i], r.Recorded.Rounds[i]
		out = append(out, ratio(perRound(b.CPU, b.Requests), perRound(m.CPU, m.Requests)))
	}
	return out
}

// perRound is d per request of n (0 without requests).
func perRound(d time.Duration, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(d) / float64(n)
}

// Interval is the throughput ratio's estimate from the pairs (their
// geometric mean) and its 95% interval (see ratioInterval).
func (r *result) Interval() interval { return ratioInterval(r.PairRatios()) }

// Verdict is the throughput target's verdict on the pairs' interval
// (see judge), as the summary prints it: MET, MISSED or UNDECIDED, and
// UNDECIDED whatever the interval when the A/A arm among results (the
// run's results; nil for none) excludes 1 (see aaExcludesOne);
// "reference" in a reference scenario, to which no target applies.
func (r *result) Verdict(results []*result) string {
	switch {
	case r.Reference:
		return "reference"
	case aaExcludesOne(results):
		return verdictUndecided
	}
	return judge(r.Interval(), ThroughputTarget)
}

// config names the measured configuration: "recorded", or "otelhttp" in a
// reference scenario.
func (r *result) config() string {
	if r.Measured != "" {
		return r.Measured
	}
	if r.Reference {
		return "otelhttp"
	}
	return "recorded"
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// run runs the scenarios in o, writes a markdown report to w, and returns the
// results.
func run(ctx context.Context, o options, w io.Writer) (_ []*result, err error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "# appstats-bench: loopback load, bare vs recorded\n\n")
	fmt.Fprintf(w, "GOMAXPROCS=%d, %s, concurrency %d, %d rounds of %v per configuration (alternating: bare, recorded, recorded, bare, …; warm-up %v each), at most %d requests a round.\n",
		runtime.GOMAXPROCS(0), runtime.Version(), o.Concurrency, o.Rounds, o.Duration, o.Warmup, o.Requests)
	if o.Rounds%2 == 1 && o.Rounds > 1 && o.Only == "" {
		fmt.Fprintf(w, "With an odd -rounds, bare goes first in one pair more than the measured configuration (an even count balances the order).\n")
	}
	if o.Slice > 0 {
		fmt.Fprintf(w, "Each pair of rounds is interleaved: at least %v of load whose configuration switches every %v, each configuration getting as much of it (a late switch is made up before the stretch ends) (a request counts for the configuration it was sent in; the recorded slices' CPU time includes what the recorder does after them only up to the switch); the ui scenario's dashboard stays open through both configurations' slices; the flight and flight-floor scenarios run whole rounds.\n",
			2*o.Duration, o.Slice)
	}
	if _, ok := cputime.Process(); !ok {
		fmt.Fprintf(w, "Process CPU time is not available on %s: CPU/req shows 0.\n", runtime.GOOS)
	}
	// The profiles' prefixes are tried before any round runs: their
	// files are made only after a scenario's rounds (-heapprofiles) or at
	// each round (-roundprofiles), and a path that cannot be made then
	// costs the run its profiles.
	heapName, roundName := o.longestProfileNames()
	for _, p := range []struct{ flag, prefix, longest string }{{"-heapprofiles", o.HeapProfiles, heapName}, {"-roundprofiles", o.RoundProfiles, roundName}} {
		if err := checkPrefix(p.prefix, p.longest); err != nil {
			return nil, fmt.Errorf("%s: %w", p.flag, err)
		}
	}
	var writeRows func(*result) bool // -roundscsv's, false once a write failed
	if o.RoundsCSV != "" {
		// The file follows the profiles' rule (profileFile.close): one
		// the run made that was not written whole (a write or its Close
		// failed) is removed, never what was there before the run.
		var csvFile *profileFile
		if o.createCSV != nil {
			f, cerr := o.createCSV(o.RoundsCSV)
			if cerr != nil {
				return nil, fmt.Errorf("-roundscsv: %w", cerr)
			}
			csvFile = &profileFile{errWriter: errWriter{w: f}, flag: "-roundscsv", what: "file", path: o.RoundsCSV, f: f}
		} else if csvFile, err = createFile("-roundscsv", "file", o.RoundsCSV); err != nil {
			return nil, err
		}
		var csvErr error // the CSV writer's error, reported by close
		defer func() { err = errors.Join(err, csvFile.close(csvErr)) }()
		csvw, csvErr := newRoundsCSV(&csvFile.errWriter)
		if csvErr != nil {
			return nil, nil // the deferred close's error
		}
		writeRows = func(res *result) bool {
			csvErr = roundsCSV(csvw, res)
			return csvErr == nil
		}
	}
	var probe *speedProbe
	if o.Only == "" {
		probe = startProbe(o.Probe)
		defer probe.stop()
	}
	switch {
	case probe != nil:
		fmt.Fprintf(w, "Speed probe: every %v, on a goroutine locked to its thread, four fixed kernels, each timed by its thread's CPU time (no allocation, no system call): alu, %d steps of one dependent multiply–xorshift chain (the core's clock); wide, %d steps of four such chains side by side (the core's issue width, which an SMT sibling shares); l2, %d loads chasing a random cycle through %d KiB (evicted from the core's L2 between runs: the L3); mem, %d loads chasing one through %d MiB (the shared L3 and memory), both mapped off the heap. A round's figure is each kernel's median time per run; the adjusted ratio uses alu's.\n",
			o.Probe, probeALUIters, probeWideIters, probeL2Hops, probeL2Bytes>>10, probeMemHops, probeMemBytes>>20)
	case o.Only == "" && o.Probe > 0:
		fmt.Fprintf(w, "Speed probe: not available on %s (no thread CPU clock).\n", runtime.GOOS)
	}
	var results []*result
	var profErrs []error // profiles not written: the run's error, after its report
	for _, name := range o.Scenarios {
		res, err := runScenario(ctx, name, o, probe)
		if err != nil {
			return results, errors.Join(fmt.Errorf("scenario %s: %w", name, err), errors.Join(profErrs...))
		}
		results = append(results, res)
		writeScenario(w, res)
		for _, perr := range res.ProfileErrors {
			profErrs = append(profErrs, fmt.Errorf("scenario %s: %w", name, perr))
		}
		if writeRows != nil && !writeRows(res) {
			return results, errors.Join(profErrs...) // and the deferred close's error
		}
	}
	writeSummary(w, results)
	return results, errors.Join(profErrs...)
}

// longestProfileNames returns the longest file name of the heap profiles
// and of the round profiles the run writes ("" for a flag not set):
// with the longest scenario name, and for the round profiles the longest
// configuration that runs and the last round's number.
func (o options) longestProfileNames() (heap, round string) {
	for _, s := range o.Scenarios {
		if o.HeapProfiles != "" {
			if n := fmt.Sprintf("%s-%s.heap", o.HeapProfiles, s); len(n) > len(heap) {
				heap = n
			}
		}
		for _, recorded := range []bool{false, true} {
			if n := roundProfile(o.RoundProfiles, s, recorded, o.Rounds); o.runs(recorded) && len(n) > len(round) {
				round = n
			}
		}
	}
	return heap, round
}

// checkPrefix reports whether the profiles named prefix followed by a
// suffix, the longest of them longest, can be made: a file whose name is
// prefix, "-" and random letters, exactly as long as longest (so in the
// same directory, and as near a limit on the names' length), is made
// there and removed. An empty prefix (no files) is fine.
func checkPrefix(prefix, longest string) error {
	if prefix == "" {
		return nil
	}
	fill := len(longest) - len(prefix) - 1 // every suffix is "-" and more
	if fill < 1 || !strings.HasPrefix(longest, prefix+"-") {
		return fmt.Errorf("profile name %q does not extend prefix %q", longest, prefix) // a bug of the caller
	}
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	var err error
	for range 100 { // a name taken (by another run's probe) is tried again
		b := make([]byte, fill)
		for i := range b {
			b[i] = letters[rand.IntN(len(letters))]
		}
		name := prefix + "-" + string(b)
		var f *os.File
		f, err = os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			return errors.Join(f.Close(), os.Remove(name))
		}
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	base := filepath.Base(longest)
	return fmt.Errorf("cannot make the profiles' files (a file whose name is as long as the longest profile's, %s, %d bytes, was refused): %w", base, len(base), err)
}

func runScenario(ctx context.Context, name string, o options, probe *speedProbe) (res *result, err error) {
	env, err := setup(name, o)
	if err != nil {
		return nil, err
	}
	env.probe = probe
	defer func() { err = errors.Join(err, env.close()) }()
	res = &result{Scenario: name, Note: env.note, Reference: isReference(name), Measured: env.config}
	env.onRound = o.onRound
	if env.build != nil {
		if o.Bare == bareClean {
			res.Note += " " + cleanNote
		} else if o.Bare == bareMatched {
			res.Note += " " + matchedNote
		} else if err := env.up(); err != nil { // alive through every round
			return nil, err
		}
	}
	if o.Ballast > 0 {
		env.ballast = make([]byte, o.Ballast)
	}
	if o.runs(false) && o.Warmup > 0 {
		if _, err := env.round(ctx, false, o.Warmup, o.Requests, o.Concurrency, "", true); err != nil {
			return nil, err
		}
	}
	if o.runs(true) {
		if err := env.prepare(ctx, true, o); err != nil {
			return nil, err
		}
		if o.Warmup > 0 && env.build == nil {
			if _, err := env.round(ctx, true, o.Warmup, o.Requests, o.Concurrency, "", true); err != nil {
				return nil, err
			}
		}
	}
	heapDone := false
	for i := range o.Rounds {
		if o.Slice > 0 && env.sliceable() {
			bare, rec, err := env.sliced(ctx, pairOrder(i)[0], o.Duration, o.Slice, o.Requests, o.Concurrency)
			if err != nil {
				return nil, err
			}
			res.Bare.add(bare)
			res.Recorded.add(rec)
			continue
		}
		for _, recorded := range pairOrder(i) {
			if !o.runs(recorded) {
				continue
			}
			if err := env.prepare(ctx, recorded, o); err != nil {
				return nil, err
			}
			prof := roundProfile(o.RoundProfiles, name, recorded, i+1)
			r, err := env.round(ctx, recorded, o.Duration, o.Requests, o.Concurrency, prof, false)
			if err != nil {
				return nil, err
			}
			if r.ProfileErr != nil {
				res.ProfileErrors = append(res.ProfileErrors, r.ProfileErr)
			}
			if recorded {
				res.Recorded.add(r)
			} else {
				res.Bare.add(r)
			}
			// The heap profile is written after the last recorded
			// round, if any (the clean arm's bare rounds hold no store).
			last := recorded && len(res.Recorded.Rounds) == o.Rounds || !o.runs(true) && len(res.Bare.Rounds) == o.Rounds
			if o.HeapProfiles != "" && last {
				heapDone = true
				res.heapProfile(o.HeapProfiles)
			}
		}
	}
	if o.HeapProfiles != "" && !heapDone { // -slice
		res.heapProfile(o.HeapProfiles)
	}
	res.Bare.summarize()
	res.Recorded.summarize()
	if env.rec != nil || env.build != nil {
		res.Stats = env.recorderStats()
	}
	if res.Store, err = env.countStores(ctx); err != nil {
		return nil, err
	}
	if env.report != nil {
		res.Extra = env.report()
	}
	return res, ctx.Err()
}

// heapProfile writes the scenario's heap profile, PREFIX-SCENARIO.heap,
// and keeps what the collector scanned; a profile that cannot be written
// is kept among the scenario's ProfileErrors, not returned: it costs the
// scenario its profile, not its figures.
func (r *result) heapProfile(prefix string) {
	var err error
	if r.Scan, err = writeHeapProfile(fmt.Sprintf("%s-%s.heap", prefix, r.Scenario)); err != nil {
		r.ProfileErrors = append(r.ProfileErrors, err)
	}
}

// pairOrder is the order of the configurations in the i-th pair of
// measured rounds (i from 0), recorded or not: bare first in even pairs,
// recorded first in odd ones — bare, recorded, recorded, bare, bare, … — so
// that neither configuration always follows the other (and finds the other's
// leftovers: a store's background flushes and compactions, its heap) nor
// always comes first, and a drift of the machine's load over a pair falls on
// both alike.
func pairOrder(i int) []bool {
	if i%2 == 1 {
		return []bool{true, false}
	}
	return []bool{false, true}
}

// roundProfile names the CPU profile of one measured round, or returns ""
// when prefix is empty: PREFIX-SCENARIO-CONFIG-N.prof, CONFIG bare or
// recorded, N from 1. Profiles of one configuration merge into one view
// with go tool pprof, and their samples over the round's requests are its
// CPU per request, function by function.
func roundProfile(prefix, scenario string, recorded bool, n int) string {
	if prefix == "" {
		return ""
	}
	config := "bare"
	if recorded {
		config = "recorded"
	}
	return fmt.Sprintf("%s-%s-%s-%d.prof", prefix, scenario, config, n)
}

// switcher serves the handler set for the current round, so that one
// listener and one pool of client connections serve every round.
type switcher struct{ h atomic.Pointer[http.Handler] }

func (s *switcher) set(h http.Handler) { s.h.Store(&h) }

func (s *switcher) ServeHTTP(w http.ResponseWriter, r *http.Request) { (*s.h.Load()).ServeHTTP(w, r) }

// server is a loopback HTTP server.
type server struct {
	srv *http.Server
	URL string
	ln  net.Listener
	wg  sync.WaitGroup
}

func listen(h http.Handler) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &server{
		srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second},
		URL: "http://" + ln.Addr().String(),
		ln:  ln,
	}
	s.wg.Go(func() { s.srv.Serve(ln) })
	return s, nil
}

func (s *server) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, s.srv.Close())
	}
	s.wg.Wait()
	return err
}

// newClientTransport returns a keep-alive transport for loopback load that
// ignores proxy settings from the environment.
func newClientTransport(conns int) *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        2 * conns,
		MaxIdleConnsPerHost: 2 * conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
}

// load sends GET url from conc workers until d has passed or max requests
// were sent, and returns each worker's latencies, the failures and the time
// it took.
func load(ctx context.Context, client *http.Client, url string, conc int, d time.Duration, max int) (lat []time.Duration, errs int, elapsed time.Duration) {
	return loadWhile(ctx, client, url, conc, max, func(since time.Duration) bool { return since < d })
}

// loadWhile sends GET url from conc workers while more, given the time
// since the start, reports true and at most max requests, and returns each
// worker's latencies, the failures and the time it took.
func loadWhile(ctx context.Context, client *http.Client, url string, conc, max int, more func(since time.Duration) bool) (lat []time.Duration, errs int, elapsed time.Duration) {
	var (
		claimed atomic.Int64
		failed  atomic.Int64
		mu      sync.Mutex
		wg      sync.WaitGroup
	)
	start := time.Now()
	for range conc {
		wg.Go(func() {
			mine := make([]time.Duration, 0, 4096)
			for ctx.Err() == nil && claimed.Add(1) <= int64(max) && more(time.Since(start)) {
				t := time.Now()
				if err := get(ctx, client, url); err != nil {
					failed.Add(1)
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return lat, int(failed.Load()), time.Since(start)
}

// get makes one request and reads the whole response.
func get(ctx context.Context, client *http.Client, url string) error {
	return getWith(ctx, client, url, nil)
}

// getWith is get with header, when it is not nil, as the request's header.
func getWith(ctx context.Context, client *http.Client, url string, header http.Header) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if header != nil {
		req.Header = header
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return err
}

// waitWritten waits, at most limit, until rec has handed every queued record
// to its sinks: until every record is written, or dropped by a sink (whose
// queue was full), which then never will be ([recording.Recorder.ForceFlush]).
// It returns how long it waited.
func waitWritten(rec *recording.Recorder, limit time.Duration) time.Duration {
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	_ = rec.ForceFlush(ctx) // its error is the limit's: what is left unwritten shows in the sinks' counts
	return time.Since(t0)
}

// sinkDropped sums the records st's sinks dropped.
func sinkDropped(st recording.Stats) uint64 {
	var n uint64
	for _, k := range st.Sinks {
		n += k.Dropped
	}
	return n
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.1f µs", float64(d)/1e3)
	}
}

func writeScenario(w io.Writer, r *result) {
	fmt.Fprintf(w, "\n## %s\n\n%s\n\n", r.Scenario, r.Note)
	fmt.Fprintf(w, "| config | requests | errors | req/s | p50 | p99 | CPU/req |\n|---|--:|--:|--:|--:|--:|--:|\n")
	for _, c := range []struct {
		name string
		m    *measurement
	}{{"bare", &r.Bare}, {r.config(), &r.Recorded}} {
		fmt.Fprintf(w, "| %s | %d | %d | %.0f | %s | %s | %s |\n", c.name, c.m.Requests, c.m.Errors,
			c.m.RPS(), fmtDur(c.m.P50), fmtDur(c.m.P99), fmtDur(c.m.CPUPerRequest()))
	}
	var rounds []string
	for i := range max(len(r.Bare.Rounds), len(r.Recorded.Rounds)) { // one of them empty with -only
		var b, rc float64
		if i < len(r.Bare.Rounds) {
			b = r.Bare.Rounds[i].RPS()
		}
		if i < len(r.Recorded.Rounds) {
			rc = r.Recorded.Rounds[i].RPS()
		}
		rounds = append(rounds, fmt.Sprintf("%.0f/%.0f", b, rc))
	}
	switch {
	case r.Reference && r.Measured != "":
		fmt.Fprintf(w, "\nreq/s per round (bare/%s): %s.\n", r.config(), strings.Join(rounds, ", "))
	case r.Reference:
		fmt.Fprintf(w, "\nreq/s per round (bare/%s): %s. Longest flush of the spans after a round %s.\n",
			r.config(), strings.Join(rounds, ", "), fmtDur(maxDrain(r.Recorded.Rounds)))
	default:
		var measured uint64
		for _, rd := range r.Recorded.Rounds {
			measured += rd.SinkDropped
		}
		fmt.Fprintf(w, "\nreq/s per round (bare/recorded): %s. Recorder: %d records written, %d dropped, %d dropped by a sink (%d in measured rounds), %d sink errors; longest drain after a round %s.\n",
			strings.Join(rounds, ", "), r.Stats.Written, r.Stats.Dropped, sinkDropped(r.Stats), measured, r.Stats.SinkErrors, fmtDur(maxDrain(r.Recorded.Rounds)))
	}
	fmt.Fprintf(w, "Heap and collector per request (runtime/metrics, bare → %s): %s allocated; %s; collections %s per 10,000 requests; the collector's CPU (the runtime's estimate) %s.\n", r.config(),
		perReq(&r.Bare, &r.Recorded, func(m *measurement) string { return fmt.Sprintf("%.0f B", perRequest(m, float64(m.GC.AllocBytes))) }),
		perReq(&r.Bare, &r.Recorded, func(m *measurement) string {
			return fmt.Sprintf("%.1f objects", perRequest(m, float64(m.GC.AllocObjects)))
		}),
		perReq(&r.Bare, &r.Recorded, func(m *measurement) string { return fmt.Sprintf("%.2f", 1e4*perRequest(m, float64(m.GC.Cycles))) }),
		perReq(&r.Bare, &r.Recorded, func(m *measurement) string {
			return fmtDur(time.Duration(perRequest(m, float64(m.GC.GCCPU))))
		}))
	if r.Scan != nil {
		fmt.Fprintf(w, "Collector's scan at the heap profile (runtime/metrics, after a collection at rest after the last recorded round, no load running, so lower than under load): %.2f MB live heap; scanned %.2f MB of heap, %.2f MB of globals, %.2f MB of stacks (/gc/scan/*).\n",
			float64(r.Scan.Live)/1e6, float64(r.Scan.Heap)/1e6, float64(r.Scan.Globals)/1e6, float64(r.Scan.Stacks)/1e6)
	}
	fmt.Fprintf(w, "Scheduling per request (bare → %s): goroutine runs %s; context switches voluntary %s, involuntary %s; minor page faults %s; mutex wait %s; the scavenger's CPU %s.\n", r.config(),
		perReq(&r.Bare, &r.Recorded, func(m *measurement) string { return fmt.Sprintf("%.3f", perRequest(m, float64(m.GC.Runs))) }),
		perReq(&r.Bare, &r.Recorded, func(m *measurement) string { return fmt.Sprintf("%.3f", perRequest(m, float64(m.GC.Voluntary))) }),
		perReq(&r.Bare, &r.Recorded, func(m *measurement) string { return fmt.Sprintf("%.3f", perRequest(m, float64(m.GC.Involuntary))) }),
		perReq(&r.Bare, &r.Recorded, func(m *measurement) string { return fmt.Sprintf("%.3f", perRequest(m, float64(m.GC.MinorFaults))) }),
		perReq(&r.Bare, &r.Recorded, func(m *measurement) string {
			return fmtDur(time.Duration(perRequest(m, float64(m.GC.MutexWait))))
		}),
		perReq(&r.Bare, &r.Recorded, func(m *measurement) string {
			return fmtDur(time.Duration(perRequest(m, float64(m.GC.ScavengeCPU))))
		}))
	if c := r.Store; c != nil {
		fmt.Fprintf(w, "Store: %d requests counted in its rollups (the recorder wrote %d records, warm-up included); %d persisted in full, %d over the storage budget (counted, not persisted; the most recent held in memory).\n",
			c.Counted, r.Stats.Written, c.Stored, c.OverBudget)
	}
	if r.Extra != "" {
		fmt.Fprintf(w, "%s\n", r.Extra)
	}
	for _, err := range r.ProfileErrors {
		fmt.Fprintf(w, "Profile failed (the figures above stand; the run ends with an error): %v.\n", err)
	}
}

// perRequest returns v over m's requests (0 without requests).
func perRequest(m *measurement, v float64) float64 {
	if m.Requests == 0 {
		return 0
	}
	return v / float64(m.Requests)
}

// perReq formats a figure of the bare and the recorded measurement as
// "bare → recorded".
func perReq(bare, rec *measurement, f func(*measurement) string) string {
	return f(bare) + " → " + f(rec)
}

func maxDrain(rs []round) time.Duration {
	var d time.Duration
	for _, r := range rs {
		d = max(d, r.Drain)
	}
	return d
}

func writeSummary(w io.Writer, results []*result) {
	fmt.Fprintf(w, "\n## Summary (recorded ÷ bare; in the reference rows, without a target: otel-, otelhttp ÷ bare; flight-floor, Go's tracer alone, traced ÷ bare; fanout-floor, the bare fanout whose calls carry a traceparent, traceparent ÷ bare; aa-hello, the same handler in both, bare B ÷ bare)\n\n")
	fmt.Fprintf(w, "throughput: requests over all rounds ÷ their time, each configuration, then recorded ÷ bare. pairs (95%%): the pairs' geometric mean and its 95%% t-interval over the logs of the pair ratios, counting them as n(1−r)/(1+r) independent pairs when consecutive ones are correlated (r, their logs' lag-one autocorrelation, above 0). The target's verdict is on that interval: MET if its low end is at least %.2f, MISSED if its high end is below, UNDECIDED otherwise (the run cannot tell). by CPU/req (95%%): bare CPU per request ÷ recorded, per pair, with its interval: the throughput ratio of a process limited by its CPU alone, which the machine's other work moves far less; shown beside, not judged.\n\n", ThroughputTarget)
	fmt.Fprintf(w, "| scenario | throughput | pairs (95%%) | per pair | by CPU/req (95%%) | CPU/req | p50 | p99 | target | result |\n|---|--:|--:|---|--:|--:|--:|--:|---|---|\n")
	for _, r := range results {
		var pairs []string
		for _, p := range r.PairRatios() {
			pairs = append(pairs, fmt.Sprintf("%.3f", p))
		}
		target := fmt.Sprintf("throughput ≥ %.2f", ThroughputTarget)
		if r.Reference {
			target = "none"
		}
		fmt.Fprintf(w, "| %s | %.3f | %s | %s | %s | %.3f | %.3f | %.3f | %s | %s |\n", r.Scenario, r.Ratio(),
			r.Interval(), strings.Join(pairs, " "), ratioInterval(r.CPUPairRatios()),
			ratio(float64(r.Recorded.CPUPerRequest()), float64(r.Bare.CPUPerRequest())),
			ratio(float64(r.Recorded.P50), float64(r.Bare.P50)),
			ratio(float64(r.Recorded.P99), float64(r.Bare.P99)),
			target, r.Verdict(results))
	}
	writeAutocorrelation(w, results)
	if aaExcludesOne(results) {
		fmt.Fprintf(w, "\nEvery verdict above is UNDECIDED: the A/A arm's interval, %s, where nothing differs, excludes 1: this run's pairs were not alike and independent (the machine's load changed under them), or it is the one run in twenty a 95%% interval misses; either way no interval of the run can be trusted.\n", aaOf(results).Interval())
	}
	writeFloor(w, results)
	writeNoise(w, results)
	writeProbe(w, results)
}

// writeAutocorrelation names the scenarios whose throughput pairs are
// autocorrelated (lag one r > 0), with r and the pairs their interval
// counts: those intervals are wider than a plain t-interval's.
func writeAutocorrelation(w io.Writer, results []*result) {
	var parts []string
	for _, r := range results {
		if iv := r.Interval(); iv.autocorrelated() {
			parts = append(parts, fmt.Sprintf("%s %+.2f (%d pairs as %.1f)", r.Scenario, iv.R1, iv.N, iv.NEff))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, "\nPairs autocorrelated (lag one r of the logs of their throughput ratios; the interval counts them as n(1−r)/(1+r) independent pairs, and is wider than if they were): %s.\n", strings.Join(parts, ", "))
	}
}

// aaOf returns the A/A arm's result among results, or nil.
func aaOf(results []*result) *result {
	for _, r := range results {
		if r.Scenario == aaScenario {
			return r
		}
	}
	return nil
}

// aaExcludesOne reports whether results hold the A/A arm and its
// throughput interval excludes 1: both configurations are the same, so
// the interval misses the truth, which a 95% interval does in one run of
// twenty by chance and more often when the pairs are not alike and
// independent (the machine's load changing under them, in bursts or in
// step with the rounds). The summary then judges no target.
func aaExcludesOne(results []*result) bool {
	aa := aaOf(results)
	if aa == nil {
		return false
	}
	iv := aa.Interval()
	return iv.ok() && (iv.Lo > 1 || iv.Hi < 1)
}
