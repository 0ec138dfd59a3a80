package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goappstats/appstats/internal/cputime"
	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/badgerstore"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// scenarioNames lists the scenarios in the order "all" runs them.
// The otel- scenarios, flight-floor, fanout-floor and aa-hello are
// references, not targets (see isReference).
var scenarioNames = []string{"hello", "fanout", "badger", "ui", "flight", floorScenario, fanoutFloorScenario, aaScenario, "otel-hello", "otel-fanout"}

// fanoutCalls is how many backend calls the fanout handler makes.
const fanoutCalls = 10

func parseScenarios(s string) ([]string, error) {
	if s == "all" {
		return slices.Clone(scenarioNames), nil
	}
	var out []string
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(scenarioNames, name) {
			return nil, fmt.Errorf("unknown scenario %q: want %s or all", name, strings.Join(scenarioNames, ", "))
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out, nil
}

// An env is a scenario ready to run: a loopback server whose handler is
// switched between the bare and the recorded configuration, and a client.
type env struct {
	note     string
	front    *server
	sw       *switcher
	root     http.Handler // what the server serves; nil means sw
	client   *http.Client
	path     string
	bare     http.Handler
	recorded http.Handler
	rec      *recording.Recorder // nil in the reference scenarios
	// config names the measured configuration in the report, if not
	// "recorded" (or "otelhttp", in the otel- references).
	config  string
	bareRec *recording.Recorder // the recorder of the bare rounds, if they record (flight)
	otel    *otelTracing        // the reference scenarios' tracing, nil in the others
	// during, if set, starts something that runs through each recorded
	// round (the ui scenario's dashboard) and returns a function that stops
	// it and waits for it.
	during func(ctx context.Context) (stop func(), err error)
	// after, if set, runs after each round of the recorded configuration
	// once the round's CPU time is read: what is not to be measured
	// (flight-floor's snapshot of the window). A scenario with it runs
	// whole rounds (see sliceable).
	after   func()
	report  func() string  // extra lines for the report, if set
	closers []func() error // run in reverse order
	// store is the Badger store the badger and ui scenarios record
	// into, nil in the others and while it is closed (see release);
	// opened is when the scenario started.
	store  durableStore
	opened time.Time

	// build, if set, builds the recorded configuration: its stores
	// (opened again on the same directory, for Badger), recorder and
	// handler, setting rec, recorded, store and filled, and appending to
	// downs what closes them. The scenarios without it (flight and the
	// references) build both configurations once in setup. See prepare
	// and release.
	build func() error
	// downs close what build made, in reverse order.
	downs []func() error
	// filled, if set, reports whether the recorded configuration's
	// stores hold what they would in a running service (see prepare).
	filled func() bool
	// built: build has run and release has not since; warm: the
	// recorded configuration has been warmed up since it was built.
	built, warm bool
	// ballast stands for a service's own heap during the bare rounds of
	// -bare matched (see bareMatched), or of -only bare with -ballast
	// (see options.Ballast); nil otherwise.
	ballast []byte
	// hasStore: build opens a Badger store (countStores reopens it), in
	// dir.
	hasStore bool
	dir      string
	// closedStats and overBudget are what the recorders and the Badger
	// stores closed by release counted.
	closedStats recording.Stats
	overBudget  uint64
	// onRound, if set, is called at the start of each round, after its
	// collection (see options.onRound).
	onRound func(e *env, recorded, warmup bool)
	// probe is the run's speed probe, nil without one; each round takes
	// its figures (see speedProbe.take).
	probe *speedProbe
}

func (e *env) close() error {
	e.ballast = nil
	errs := []error{e.release(false)}
	for _, c := range slices.Backward(e.closers) {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

// round runs one round of load on one configuration (a warm-up round if
// warmup), and writes a CPU profile of it to the file prof names, if not
// empty.
func (e *env) round(ctx context.Context, recorded bool, d time.Duration, max, conc int, prof string, warmup bool) (r round, err error) {
	if recorded {
		if e.recorded == nil {
			return round{}, errNotBuilt
		}
		e.sw.set(e.recorded)
	} else {
		e.sw.set(e.bare)
	}
	runtime.GC() // each round starts without the previous round's garbage
	if e.onRound != nil {
		e.onRound(e, recorded, warmup)
	}
	// A profile that cannot be started or written costs the round its
	// profile, not its figures: the error is kept in r.ProfileErr.
	var profErr error
	if prof != "" {
		stopProfile, perr := startProfile(prof)
		if perr != nil {
			profErr = perr
		} else {
			defer func() {
				if perr := stopProfile(); perr != nil && err != nil {
					err = errors.Join(err, perr) // kept with the failed round's error
				} else if perr != nil {
					r.ProfileErr = errors.Join(r.ProfileErr, perr)
				}
			}()
		}
	}
	var dropped0 uint64
	if recorded && e.rec != nil {
		dropped0 = sinkDropped(e.rec.Stats())
	}
	e.probe.take() // what ran before the round is no part of it
	mach0, machOK := readMachine()
	cpu0, _ := cputime.Process()
	gc0 := readGC()
	var stop func()
	if recorded && e.during != nil {
		var err error
		if stop, err = e.during(ctx); err != nil {
			return round{}, err
		}
	}
	lat, errs, elapsed := load(ctx, e.client, e.front.URL+e.path, conc, d, max)
	var drain time.Duration
	switch {
	case recorded:
		drain = e.wait()
	case e.bareRec != nil:
		drain = waitWritten(e.bareRec, 10*time.Second)
	}
	if stop != nil {
		stop()
	}
	cpu1, _ := cputime.Process()
	gc := readGC().sub(gc0)
	probe := e.probe.take()
	mach1, machOK1 := readMachine()
	if recorded && e.after != nil {
		e.after()
	}
	if len(lat) == 0 && ctx.Err() == nil {
		return round{}, fmt.Errorf("no request succeeded (%d failed)", errs)
	}
	r = round{Requests: len(lat), Errors: errs, Elapsed: elapsed, CPU: cpu1 - cpu0, GC: gc, Drain: drain, Probe: probe, ProfileErr: profErr, lat: lat}
	if machOK && machOK1 {
		r.Machine = mach1.sub(mach0)
	}
	if recorded && e.rec != nil {
		r.SinkDropped = sinkDropped(e.rec.Stats()) - dropped0
	}
	return r, nil
}

// wait waits, at most 10 s, until what the recorded configuration's
// requests made is handed on: the recorder's records to its sinks, or the
// reference scenarios' spans to their exporter. It returns how long it
// waited.
func (e *env) wait() time.Duration {
	if e.otel != nil {
		return e.otel.flush(10 * time.Second)
	}
	if e.rec == nil { // flight-floor: nothing is handed on
		return 0
	}
	return waitWritten(e.rec, 10*time.Second)
}

// sliceable reports whether the scenario can interleave its configurations
// slice by slice: not the flight scenario, whose recorded rounds each start
// a recorder of their own, nor flight-floor, whose traced rounds each start
// the runtime's flight recorder.
func (e *env) sliceable() bool { return e.bareRec == nil && e.after == nil }

// sliced runs one pair of rounds as one stretch of load of at least 2*d,
// whose configuration switches every slice, starting with the recorded one
// if recordedFirst. A request counts for the configuration that was set
// when it was sent; each configuration's elapsed time and process CPU time
// are the sums over its slices (the recorder's work on a recorded slice's
// last records, done after the switch, counts for the bare slice after it:
// at most a batch's). The dashboard of the ui scenario stays open through
// the whole stretch. At most max requests are sent in each configuration.
//
// Each configuration gets as much of the stretch: a switch that comes late
// (a loaded machine wakes the sleeping switcher late, by a slice or more)
// gives the current configuration a longer slice, which the other makes up
// before the stretch ends. Each slice goes to the configuration that has
// had less time so far (the other one, but after a late switch), lasting
// as long as it lags behind if that is more than a slice; the stretch ends
// once both had d and neither much more than the other (see balanced), or
// maxCatchUp after 2*d whatever the balance, or when both sent max
// requests. The last responses, after the stretch, are no one's elapsed
// time (as a round's drain).
func (e *env) sliced(ctx context.Context, recordedFirst bool, d, slice time.Duration, max, conc int) (bare, rec round, err error) {
	var cfg atomic.Int32 // 1: recorded
	set := func(recorded bool) {
		if recorded {
			e.sw.set(e.recorded)
			cfg.Store(1)
		} else {
			e.sw.set(e.bare)
			cfg.Store(0)
		}
	}
	set(recordedFirst)
	runtime.GC()
	var stop func()
	if e.during != nil {
		if stop, err = e.during(ctx); err != nil {
			return round{}, round{}, err
		}
	}
	var (
		rounds  [2]round
		claimed [2]atomic.Int64
		failed  [2]atomic.Int64
		mu      sync.Mutex
		wg      sync.WaitGroup
	)
	var halt atomic.Bool // set by the switcher when the stretch ends
	start := time.Now()
	for range conc {
		wg.Go(func() {
			var mine [2][]time.Duration
			for ctx.Err() == nil && !halt.Load() {
				c := cfg.Load()
				if claimed[c].Add(1) > int64(max) {
					if claimed[1-c].Load() >= int64(max) {
						break
					}
					time.Sleep(time.Millisecond) // this configuration is done; wait for the switch
					continue
				}
				t := time.Now()
				if err := get(ctx, e.client, e.front.URL+e.path); err != nil {
					failed[c].Add(1)
					continue
				}
				mine[c] = append(mine[c], time.Since(t))
			}
			mu.Lock()
			for c := range mine {
				rounds[c].lat = append(rounds[c].lat, mine[c]...)
			}
			mu.Unlock()
		})
	}
	// The switches: each slice's wall and CPU time go to its configuration.
	cur := recordedFirst
	t0 := start
	cpu0, _ := cputime.Process()
	gc0 := readGC()
	account := func() {
		t1 := time.Now()
		cpu1, _ := cputime.Process()
		gc1 := readGC()
		r := &rounds[b2i(cur)]
		r.Elapsed += t1.Sub(t0)
		r.CPU += cpu1 - cpu0
		r.GC = r.GC.add(gc1.sub(gc0))
		t0, cpu0, gc0 = t1, cpu1, gc1
	}
	workers := make(chan struct{}) // closed when every worker has stopped
	go func() { wg.Wait(); close(workers) }()
	limit := start.Add(2*d + maxCatchUp)
	timer := time.NewTimer(slice)
	defer timer.Stop()
	for {
		done := false
		select {
		case <-ctx.Done():
			done = true
		case <-workers: // both configurations sent max requests
			done = true
		case <-timer.C:
		}
		if done {
			break
		}
		// The times so far, the current slice's included.
		had := [2]time.Duration{rounds[0].Elapsed, rounds[1].Elapsed}
		had[b2i(cur)] += time.Since(t0)
		if balanced(had[0], had[1], d, slice) || !time.Now().Before(limit) {
			break
		}
		account()
		// The next slice goes to the configuration that has had less of
		// the stretch: the other one, unless a late switch left this one
		// behind still. Setting the same configuration again changes
		// nothing.
		cur = rounds[1].Elapsed < rounds[0].Elapsed || rounds[1].Elapsed == rounds[0].Elapsed && !cur
		set(cur)
		// A slice, or what the configuration lags behind by, if more: a
		// switch seconds late (a machine so loaded that the switcher got
		// no CPU for that long) is made up in one slice.
		next := slice
		if lag := rounds[1-b2i(cur)].Elapsed - rounds[b2i(cur)].Elapsed; lag > next {
			next = lag
		}
		timer.Reset(next)
	}
	// The last slice ends when the workers are told to stop. Their last
	// responses, and then the recorder handing its queue to the sinks, are
	// on the last slice's CPU time but not its elapsed time, as a round's
	// drain: a last response that a loaded machine holds up (by as much as
	// a late switch) would otherwise unbalance the pair again.
	halt.Store(true)
	account()
	<-workers
	last := &rounds[b2i(cur)]
	last.Drain = e.wait()
	if stop != nil {
		stop()
	}
	cpu1, _ := cputime.Process()
	last.CPU += cpu1 - cpu0
	last.GC = last.GC.add(readGC().sub(gc0))
	for c := range rounds {
		rounds[c].Requests = len(rounds[c].lat)
		rounds[c].Errors = int(failed[c].Load())
		if rounds[c].Requests == 0 && ctx.Err() == nil {
			return round{}, round{}, fmt.Errorf("no request succeeded (%d failed)", rounds[c].Errors)
		}
	}
	return rounds[0], rounds[1], nil
}

// balanced reports whether a sliced stretch may end, given the time each
// configuration has had: each at least d, and neither more than a slice,
// or an eighth of the two together, beyond the other (so that a stretch
// whose switches keep coming late ends too).
func balanced(bare, rec, d, slice time.Duration) bool {
	tol := max(slice, (bare+rec)/8)
	return bare >= d && rec >= d && bare-rec <= tol && rec-bare <= tol
}

// maxCatchUp bounds how much longer than 2*d a sliced stretch may last
// to give each configuration as much time (see sliced).
const maxCatchUp = time.Minute

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// writeHeapProfile collects the heap, reads what the collector scanned,
// and writes a heap profile to the file path names. The scan is returned
// even when the profile cannot be written: it is a measurement, the file
// is not. The error names the flag and the file.
func writeHeapProfile(path string) (*heapScan, error) {
	runtime.GC()
	hs := readHeapScan()
	p, err := createProfile("-heapprofiles", path)
	if err != nil {
		return hs, err
	}
	return hs, p.close(pprof.Lookup("heap").WriteTo(&p.errWriter, 0))
}

// profileError is the error of a profile (what: "profile", or "file" for
// -roundscsv's) that was not written: the flag that asked for it, its
// file, and why.
func profileError(flag, what, path string, err error) error {
	return fmt.Errorf("%s: %s %s not written: %w", flag, what, path, err)
}

// An errWriter writes to w and keeps the first error a write returned:
// runtime/pprof's CPU profile drops the errors of its writes (a full disk
// leaves a truncated profile and no error), so the profile's writer is
// wrapped in one and its error read after the profile stops.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, err
}

// heapScan is what the collector marked in its last cycle, by kind
// (runtime/metrics' /gc/scan/*), beside the heap that cycle left live:
// of the live heap, only the scannable bytes (objects that hold
// pointers, up to their last pointer) are read by the collector; the
// rest ([]byte, pointer-free arrays) is only marked. Read after a
// collection, it names what each cycle costs the process (see
// "twenty-seventh round" in docs/BENCHMARKS-history-2.md).
type heapScan struct {
	Live, Heap, Globals, Stacks uint64
}

var heapScanNames = [...]string{
	"/gc/heap/live:bytes",
	"/gc/scan/heap:bytes",
	"/gc/scan/globals:bytes",
	"/gc/scan/stack:bytes",
}

// readHeapScan reads the last collection's heapScan.
func readHeapScan() *heapScan {
	var s [len(heapScanNames)]metrics.Sample
	readSamples(s[:], heapScanNames[:])
	return &heapScan{Live: sampleUint64(s[0]), Heap: sampleUint64(s[1]), Globals: sampleUint64(s[2]), Stacks: sampleUint64(s[3])}
}

// startProfile starts a CPU profile (-roundprofiles) written to the file
// path names, and returns the function that stops it and closes the file,
// and reports the profile's write errors (which runtime/pprof drops: see
// errWriter). Both errors name the flag and the file.
func startProfile(path string) (stop func() error, err error) {
	return startWriting("-roundprofiles", path, pprof.StartCPUProfile, pprof.StopCPUProfile)
}

// startWriting creates the file of the profile flag asks for at path
// (createProfile), starts writing it with start, and returns the function
// that stops it (stop: the writer is done when it returns) and closes the
// file, reporting the write errors start's writer dropped. A profile that
// cannot start is closed at once (profileFile.close); both errors name
// the flag and the file.
func startWriting(flag, path string, start func(io.Writer) error, stop func()) (func() error, error) {
	p, err := createProfile(flag, path)
	if err != nil {
		return nil, err
	}
	if err := start(&p.errWriter); err != nil {
		return nil, p.close(err)
	}
	return func() error {
		stop()
		return p.close(nil)
	}, nil
}

// A profileFile is the file a profile (or execution trace, or -roundscsv's
// rows) is written to, through its errWriter, which keeps the first write
// error (runtime/pprof's CPU profile and runtime/trace drop them).
type profileFile struct {
	errWriter
	flag, path string
	what       string // "profile", or "file" (-roundscsv)
	f          io.Closer
	// made is the file as the run made it, nil if something was at
	// path before (a link or a file the user put there, written
	// through as os.Create does, never removed).
	made os.FileInfo
}

// createProfile creates the file of the profile flag asks for at path. The
// error names the flag and the file.
func createProfile(flag, path string) (*profileFile, error) {
	return createFile(flag, "profile", path)
}

// createFile creates the file flag asks for at path, what it holds named
// by what in its errors: exclusively if nothing is there (the file is the
// run's, removed if not written whole: see close), else through os.Create
// (a file or a link the user put there: written through, never removed).
// The error names the flag and the file.
func createFile(flag, what, path string) (*profileFile, error) {
	p := &profileFile{flag: flag, path: path, what: what}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err == nil {
		if p.made, err = f.Stat(); err != nil {
			f.Close()
			os.Remove(path)
		}
	} else if errors.Is(err, fs.ErrExist) {
		f, err = os.Create(path)
	}
	if err != nil {
		return nil, profileError(flag, what, path, err)
	}
	p.f, p.w = f, f
	return p, nil
}

// close closes the profile's file and returns the profile's error, if it
// was not written whole: err (the profile's own), else the first write
// error, and the file's closing. Then the partial file is removed if the
// run made it (and it is still the file at path): a truncated profile is
// no profile, and left under the profile's name it would pass for one. A
// file that was there before the run is left as the write left it, and
// the error says so.
func (p *profileFile) close(err error) error {
	if err == nil {
		err = p.err // a write error the profile's writer did not return
	}
	if err = errors.Join(err, p.f.Close()); err == nil {
		return nil
	}
	switch fi, lerr := os.Lstat(p.path); {
	case p.made == nil:
		err = fmt.Errorf("%w (the file was there before the run: left as the write left it)", err)
	case lerr == nil && os.SameFile(fi, p.made):
		if rerr := os.Remove(p.path); rerr != nil {
			err = fmt.Errorf("%w (its partial file not removed: %w)", err, rerr)
		} else {
			err = fmt.Errorf("%w (its partial file removed)", err)
		}
	}
	return profileError(p.flag, p.what, p.path, err)
}

// setup builds the named scenario.
func setup(name string, o options) (e *env, err error) {
	e = &env{sw: &switcher{}}
	defer func() {
		if err != nil {
			err = errors.Join(err, e.close())
			e = nil
		}
	}()
	switch name {
	case "hello":
		setupHello(e)
	case "fanout":
		err = setupFanout(e, o)
	case "badger":
		err = setupBadger(e, o)
	case "ui":
		err = setupUI(e, o)
	case "flight":
		setupFlight(e)
	case floorScenario:
		setupFlightFloor(e)
	case fanoutFloorScenario:
		err = setupFanoutFloor(e, o)
	case aaScenario:
		setupAA(e)
	case "otel-hello", "otel-fanout":
		err = setupOtel(e, o, strings.TrimPrefix(name, otelPrefix))
	default:
		err = fmt.Errorf("unknown scenario %q", name)
	}
	if err != nil {
		return e, err
	}
	root := e.root
	if root == nil {
		root = e.sw
	}
	front, err := listen(root)
	if err != nil {
		return e, err
	}
	e.front = front
	e.closers = append(e.closers, front.close)
	tr := newClientTransport(o.Concurrency)
	e.client = &http.Client{Transport: tr}
	e.closers = append(e.closers, func() error { tr.CloseIdleConnections(); return nil })
	return e, nil
}

// memSink returns an in-memory store, closed with the recorded
// configuration (see env.downs).
func memSink(e *env) *memstore.Store {
	st := memstore.New(0)
	e.downs = append(e.downs, st.Close)
	return st
}

// memFull reports whether st holds as many records as it keeps.
func memFull(st *memstore.Store) func() bool {
	return func() bool { return st.Len() >= memstore.DefaultCapacity }
}

// wrote reports whether rec has written at least n records.
func wrote(rec *recording.Recorder, n uint64) func() bool {
	return func() bool { return rec.Stats().Written >= n }
}

// durableStore is the store the badger and ui scenarios record into.
type durableStore = *badgerstore.Store

// durableName describes it in reports.
const durableName = "badgerstore (default Options: every request counted, full records persisted within 20 per route and second, the failed and slowest always, the most recent others held in memory) in a temporary directory, removed at exit"

// badgerDir makes the badger and ui scenarios' temporary directory,
// removed with e.
func badgerDir(e *env) (string, error) {
	dir, err := os.MkdirTemp("", "appstats-bench-")
	if err != nil {
		return "", err
	}
	e.closers = append(e.closers, func() error { return os.RemoveAll(dir) })
	e.hasStore, e.dir = true, dir
	return dir, nil
}

// openBadger opens the Badger store in dir, closed with the recorded
// configuration.
func openBadger(e *env, dir string) (durableStore, error) {
	st, err := badgerstore.Open(dir, badgerstore.Options{})
	if err != nil {
		return nil, err
	}
	e.downs = append(e.downs, st.Close)
	e.store = st
	if e.opened.IsZero() {
		e.opened = time.Now()
	}
	return st, nil
}

// newRecorder starts a recorder with default settings writing to sinks,
// closed with the recorded configuration (before the sinks, which were
// opened earlier).
func newRecorder(e *env, sinks ...recording.Sink) *recording.Recorder {
	rec := recording.New(recording.WithSinks(sinks...))
	e.rec = rec
	e.downs = append(e.downs, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return rec.Close(ctx)
	})
	return rec
}

// setupHello: the hello handler, recorded into memstore.
func setupHello(e *env) {
	app := helloMux()
	e.note = "The hello handler (a ServeMux route writing \"hello\"); recorded into memstore, the in-memory store."
	e.path = "/hello"
	e.bare = app
	e.build = func() error {
		st := memSink(e)
		rec := newRecorder(e, st)
		e.recorded = httpstats.NewHandler(rec, app)
		e.filled = memFull(st)
		return nil
	}
}

// setupBadger: the hello handler, recorded into badgerstore.
func setupBadger(e *env, o options) error {
	dir, err := badgerDir(e)
	if err != nil {
		return err
	}
	app := helloMux()
	e.note = "The hello handler, recorded into " + durableName + "."
	e.path = "/hello"
	e.bare = app
	e.build = func() error {
		st, err := openBadger(e, dir)
		if err != nil {
			return err
		}
		rec := newRecorder(e, st)
		e.recorded = httpstats.NewHandler(rec, app)
		e.filled = wrote(rec, o.fill())
		return nil
	}
	return nil
}

func setupFanout(e *env, o options) error {
	backend, base, err := fanoutBackend(e, o)
	if err != nil {
		return err
	}
	e.note = fmt.Sprintf("A handler making %d sequential GETs to a loopback backend (not recorded itself) — through a plain http.Transport (bare) or httpstats.NewTransport over the same transport (recorded); recorded into memstore.", fanoutCalls)
	e.path = "/fanout"
	e.bare = fanoutMux(backend, &http.Client{Transport: base}, nil)
	e.build = func() error {
		st := memSink(e)
		rec := newRecorder(e, st)
		e.recorded = httpstats.NewHandler(rec, fanoutMux(backend, &http.Client{Transport: httpstats.NewTransport(base)}, nil))
		e.filled = memFull(st)
		return nil
	}
	return nil
}

// fanoutBackend starts the fanout scenarios' backend, and the transport
// their handler's calls go through (bare, or under the instrumentation's),
// both closed with e. It returns the backend's URL.
func fanoutBackend(e *env, o options) (string, *http.Transport, error) {
	return fanoutBackendOf(e, o, itemMux())
}

// fanoutBackendOf is fanoutBackend with h as the backend's handler.
func fanoutBackendOf(e *env, o options, h http.Handler) (string, *http.Transport, error) {
	backend, err := listen(h)
	if err != nil {
		return "", nil, err
	}
	e.closers = append(e.closers, backend.close)
	tr := newClientTransport(o.Concurrency)
	e.closers = append(e.closers, func() error { tr.CloseIdleConnections(); return nil })
	return backend.URL, tr, nil
}

// setupUI is the badger scenario with the dashboard mounted at /stats/ and,
// during recorded rounds, a client on its live stream that refreshes the
// dashboard's parts as the page's script does. The dashboard is served
// while the recorded configuration is built (in the shared arm, through
// the bare rounds too); otherwise /stats/ is not found.
func setupUI(e *env, o options) error {
	dir, err := badgerDir(e)
	if err != nil {
		return err
	}
	app := helloMux()
	e.path = "/hello"
	e.bare = app
	dash := &switcher{}
	dash.set(http.NotFoundHandler())
	e.build = func() error {
		st, err := openBadger(e, dir)
		if err != nil {
			return err
		}
		live := ui.NewLive()
		e.downs = append(e.downs, func() error {
			dash.set(http.NotFoundHandler())
			return live.Close()
		})
		rec := newRecorder(e, recording.Sequence(st, live))
		e.recorded = httpstats.NewHandler(rec, app)
		dash.set(ui.NewHandler(st, ui.WithLive(live), ui.WithRecorder(rec)))
		e.filled = wrote(rec, o.fill())
		return nil
	}
	e.note = "The hello handler recorded into " + durableName + "; with the dashboard (ui.NewHandler with ui.WithLive) mounted at /stats/ beside the app while the recorded configuration is built (with -bare shared, in both configurations). During each recorded round a client keeps its live stream (/stats/events) open and, on news of records, fetches the dashboard's parts (part/refresh, which holds the stats and history sections, and api/series) at most once a second, 150 ms after the news, as the page's script does."
	top := http.NewServeMux()
	top.Handle("/stats/", dash)
	top.Handle("/", e.sw)
	e.root = top
	d := &dashboard{}
	e.during = func(ctx context.Context) (func(), error) { return d.open(ctx, e.front.URL+"/stats/") }
	e.report = d.report
	return nil
}

// dashboard plays an open dashboard page: a live stream, and refreshes on
// news.
type dashboard struct {
	streams, events, refreshes, errors int
	// took holds how long each refresh took: its parts fetched one
	// after the other, while the load runs.
	took []time.Duration
}

// dashboardParts are what the page's script fetches on news.
var dashboardParts = []string{"part/refresh?window=", "api/series?window="}

// open connects to the live stream at base+"events", waits for its hello,
// and serves it until the returned stop function is called.
func (d *dashboard) open(ctx context.Context, base string) (stop func(), err error) {
	ctx, cancel := context.WithCancel(ctx)
	tr := newClientTransport(1)
	client := &http.Client{Transport: tr}
	defer func() {
		if err != nil {
			cancel()
			tr.CloseIdleConnections()
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"events", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("dashboard: live stream: %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() && sc.Text() != "event: hello" {
	}
	if sc.Err() != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("dashboard: live stream: %w", sc.Err())
	}
	d.streams++
	news := make(chan struct{}, 1)
	var wg sync.WaitGroup
	var events, refreshes, errs int
	var took []time.Duration
	wg.Go(func() { // the stream
		defer close(news)
		for sc.Scan() {
			if sc.Text() == "event: records" {
				events++
				select {
				case news <- struct{}{}:
				default:
				}
			}
		}
	})
	wg.Go(func() { // the page's refresh
		var last time.Time
		for range news {
			t := time.NewTimer(max(150*time.Millisecond, time.Second-time.Since(last)))
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			last = time.Now()
			refreshes++
			failed := false
			for _, p := range dashboardParts {
				if err := get(ctx, client, base+p); err != nil && ctx.Err() == nil {
					errs++
					failed = true
				}
			}
			if !failed && ctx.Err() == nil {
				took = append(took, time.Since(last))
			}
		}
	})
	return func() {
		cancel()
		resp.Body.Close()
		wg.Wait()
		tr.CloseIdleConnections()
		d.events += events
		d.refreshes += refreshes
		d.errors += errs
		d.took = append(d.took, took...)
	}, nil
}

func (d *dashboard) report() string {
	s := fmt.Sprintf("Dashboard client: %d live streams opened, %d \"records\" events received, %d refreshes of %d parts, %d failed fetches.",
		d.streams, d.events, d.refreshes, len(dashboardParts), d.errors)
	if n := len(d.took); n > 0 {
		t := slices.Sorted(slices.Values(d.took))
		s += fmt.Sprintf(" Live refresh under load (the %d parts one after the other): median %v, 90th percentile %v, max %v over %d refreshes.",
			len(dashboardParts), t[n/2].Round(10*time.Microsecond), t[n*9/10].Round(10*time.Microsecond), t[n-1].Round(10*time.Microsecond), n)
	}
	return s
}
