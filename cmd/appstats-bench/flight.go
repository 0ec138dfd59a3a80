package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime/trace"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

// flightConfig is what the flight scenario's recorded rounds run: the
// runtime's flight recorder, with execution traces of requests slower
// than their route's p99, at most the default two a minute.
var flightConfig = recording.FlightRecording{RouteP99: true}

// setupFlight is the hello scenario recorded in both configurations: into
// memstore by a recorder without a flight recorder ("bare"), and by one
// with it ("recorded"), so that the ratio is the flight recorder's cost
// alone. Only one flight recorder runs in a process and it traces the
// whole process, so each recorded round starts a recorder with it and
// closes it at the end of the round; the bare rounds run without it.
//
// Both configurations record, so the flight scenario is built once, in
// both arms (-bare): its bare rounds run beside its store and recorder by
// design.
func setupFlight(e *env) {
	sink := memSink(e)
	app := helloMux()
	e.path = "/hello"
	e.bareRec = newRecorder(e, sink)
	e.bare = httpstats.NewHandler(e.bareRec, app)
	var cur atomic.Pointer[http.Handler]
	e.recorded = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*cur.Load()).ServeHTTP(w, r) })
	f := &flightRounds{}
	e.during = func(ctx context.Context) (func(), error) {
		rec := recording.New(recording.WithSinks(sink), recording.WithFlightRecorder(flightConfig))
		if !rec.Stats().FlightRecorder {
			rec.Close(ctx)
			return nil, fmt.Errorf("flight: the flight recorder did not start")
		}
		h := httpstats.NewHandler(rec, app)
		cur.Store(&h)
		e.rec = rec // the round waits for its records
		return func() {
			closeCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			rec.Close(closeCtx)
			st := rec.Stats()
			f.rounds++
			f.written += st.Written
			f.traces += st.ExecTraces
			f.limited += st.ExecTracesLimited
			e.rec = e.bareRec
		}, nil
	}
	e.note = "The hello handler, recorded into memstore in both configurations: without the flight recorder (bare) and with it (recorded; recording.WithFlightRecorder with RouteP99, default caps: traces of requests over their route's p99, at most 2 a minute). Each recorded round starts its own recorder, and with it the runtime's flight recorder, and closes it after the round, so the bare rounds run untraced. Each round's recorder starts with its per-minute cap unused: a round of a few seconds takes up to 2 snapshots, where a service running for minutes takes at most 2 a minute. Scenario flight-floor measures Go's tracer alone, the floor under this ratio."
	e.report = f.report
}

// flightRounds counts what the flight scenario's recorded rounds did.
type flightRounds struct {
	rounds                   int
	written, traces, limited uint64
}

func (f *flightRounds) report() string {
	return fmt.Sprintf("Flight-recorder rounds: %d, %d records written, %d execution traces attached, %d slow requests past the cap. (The Recorder line above counts the bare rounds' recorder.)",
		f.rounds, f.written, f.traces, f.limited)
}

// floorScenario names the flight scenario's floor: Go's execution tracer
// alone, as the flight scenario's recorded rounds run it, under the bare
// hello handler.
const floorScenario = "flight-floor"

// floorConfig is the runtime's flight recorder as a recorder with
// flightConfig starts it (see recording.FlightRecording's MinAge and
// MaxBytes and their defaults).
func floorConfig() trace.FlightRecorderConfig {
	c := trace.FlightRecorderConfig{MinAge: flightConfig.MinAge, MaxBytes: flightConfig.MaxBytes}
	if c.MinAge <= 0 {
		c.MinAge = recording.DefaultFlightMinAge
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = recording.DefaultFlightMaxBytes
	}
	return c
}

// setupFlightFloor is the flight scenario's floor, a reference: the hello
// handler with nothing of appstats, without the runtime's flight recorder
// (bare) and with it ("traced": a plain runtime/trace.FlightRecorder
// started with the settings the flight scenario's recorder starts it
// with, at the start of each traced round, and stopped after it). Its
// ratio is what Go's execution tracer costs this handler by itself: the
// flight scenario's ratio over it is what appstats adds with the tracer
// on (the summary states both). After each traced round, once its CPU
// time is read, it takes one snapshot of the window (WriteTo, as a
// recorder does for a slow request) and reports its size and time: what
// a snapshot costs, outside the ratio.
func setupFlightFloor(e *env) {
	app := helloMux()
	e.path = "/hello"
	e.bare = app
	e.recorded = app
	e.config = "traced"
	f := &floorRounds{cfg: floorConfig()}
	e.during = func(context.Context) (func(), error) {
		fr := trace.NewFlightRecorder(f.cfg)
		if err := fr.Start(); err != nil {
			return nil, fmt.Errorf("%s: the flight recorder did not start: %w", floorScenario, err)
		}
		f.fr = fr
		return func() {}, nil // stopped by after, once the round is measured
	}
	e.after = f.after
	e.closers = append(e.closers, func() error { // a round that failed before after
		if f.fr != nil {
			f.fr.Stop()
		}
		return nil
	})
	e.note = fmt.Sprintf("Reference, not a target: the floor under the flight scenario. The hello handler with nothing of appstats, without (bare) and with (traced) the runtime's flight recorder alone: a runtime/trace.FlightRecorder started with the settings a recorder with the flight scenario's configuration starts it with (MinAge %v, MaxBytes %d MiB) at the start of each traced round and stopped after it. Its ratio is Go's execution tracer's own cost on this handler. After each traced round, outside its measurement, one snapshot of the window is taken (WriteTo, as a recorder does for a slow request).",
		f.cfg.MinAge, f.cfg.MaxBytes>>20)
	e.report = f.report
}

// floorRounds runs and counts the flight-floor scenario's flight
// recorders.
type floorRounds struct {
	cfg    trace.FlightRecorderConfig
	fr     *trace.FlightRecorder // the current round's, until after
	rounds int
	// sizes and took are each snapshot's bytes and the time WriteTo
	// took; errs counts failed snapshots.
	sizes []int64
	took  []time.Duration
	errs  int
}

// after snapshots the window of the round's flight recorder and stops it.
func (f *floorRounds) after() {
	if f.fr == nil {
		return
	}
	t := time.Now()
	n, err := f.fr.WriteTo(io.Discard)
	d := time.Since(t)
	f.fr.Stop()
	f.fr = nil
	f.rounds++
	if err != nil {
		f.errs++
		return
	}
	f.sizes = append(f.sizes, n)
	f.took = append(f.took, d)
}

func (f *floorRounds) report() string {
	s := fmt.Sprintf("Flight-recorder floor rounds: %d, each with the runtime's flight recorder running (MinAge %v, MaxBytes %d MiB).",
		f.rounds, f.cfg.MinAge, f.cfg.MaxBytes>>20)
	if n := len(f.sizes); n > 0 {
		sizes := slices.Sorted(slices.Values(f.sizes))
		took := slices.Sorted(slices.Values(f.took))
		s += fmt.Sprintf(" A snapshot of the window at a round's end (WriteTo to io.Discard, not measured in the round): %.1f–%.1f MiB, median %.1f MiB; WriteTo took %s–%s, median %s.",
			float64(sizes[0])/(1<<20), float64(sizes[n-1])/(1<<20), float64(sizes[n/2])/(1<<20),
			fmtDur(took[0]), fmtDur(took[n-1]), fmtDur(took[n/2]))
	}
	if f.errs > 0 {
		s += fmt.Sprintf(" %d snapshots failed.", f.errs)
	}
	return s
}

// writeFloor writes, when results hold both the flight scenario and its
// floor, the flight scenario's ratio beside Go's tracer's own and what is
// left for appstats: the flight ratio over the floor's; and both
// scenarios' collections per request without and with the flight
// recorder, whose window lies in the Go heap and so slows the collector's
// pace, more over the floor's small heap than over the flight scenario's
// (see docs/BENCHMARKS-history.md, "what appstats adds with Go's tracer
// on").
func writeFloor(w io.Writer, results []*result) {
	var fl, floor *result
	for _, r := range results {
		switch r.Scenario {
		case "flight":
			fl = r
		case floorScenario:
			floor = r
		}
	}
	if fl == nil || floor == nil || floor.Ratio() == 0 || fl.Ratio() == 0 {
		return
	}
	cpu := func(r *result) float64 {
		return ratio(float64(r.Recorded.CPUPerRequest()), float64(r.Bare.CPUPerRequest()))
	}
	var b strings.Builder
	added := func(r *result) string {
		d := r.Recorded.CPUPerRequest() - r.Bare.CPUPerRequest()
		if d < 0 {
			return "−" + fmtDur(-d)
		}
		return "+" + fmtDur(d)
	}
	gcs := func(r *result) string {
		return perReq(&r.Bare, &r.Recorded, func(m *measurement) string { return fmt.Sprintf("%.2f", 1e4*perRequest(m, float64(m.GC.Cycles))) })
	}
	fmt.Fprintf(&b, "\nThe flight recorder, split: flight (appstats with it ÷ without) %.3f throughput, %.3f CPU/req (%s CPU a request); of which Go's tracer alone (%s, traced ÷ bare, no appstats) %.3f throughput, %.3f CPU/req (%s CPU a request); appstats' part with the tracer on (flight ÷ floor) %.3f throughput, %.3f CPU/req. Collections per 10,000 requests, without the flight recorder → with it: flight %s, %s %s (its window is Go heap, which raises the collector's goal, more in proportion over the floor's small heap than over flight's: run with GOGC=off for a split without that).\n",
		fl.Ratio(), cpu(fl), added(fl), floorScenario, floor.Ratio(), cpu(floor), added(floor),
		fl.Ratio()/floor.Ratio(), ratio(cpu(fl), cpu(floor)), gcs(fl), floorScenario, gcs(floor))
	fmt.Fprintf(&b, "%s\n", floorLine(fl.Interval(), floor.Interval(), !aaExcludesOne(results)))
	io.WriteString(w, b.String())
}

// floorLine states flight's verdict and its split, from flight's and
// flight-floor's intervals. Flight's ratio compares appstats with the
// flight recorder to appstats without it, and is the floor (Go's runtime
// tracer alone, flight-floor's traced ÷ bare) times appstats' part with
// the tracer on (flight ÷ flight-floor). Appstats' part can read above 1
// (flight's bare arm is appstats, not a bare server), so a floor below
// ThroughputTarget does not by itself put flight's line out of reach: the
// line says whether the floor's interval is below the target and what
// appstats' part flight would need (ThroughputTarget ÷ the floor's
// estimate, and ÷ its high end). The target stays what it is. Unless
// trusted (false when the run's A/A interval excludes 1, see
// aaExcludesOne), both verdicts are UNDECIDED.
func floorLine(fl, floor interval, trusted bool) string {
	part := quotient(fl, floor)
	verdict := func(iv interval) string {
		if !trusted {
			return verdictUndecided
		}
		return judge(iv, ThroughputTarget)
	}
	var where string
	switch {
	case !floor.ok():
		where = fmt.Sprintf("With one pair the run cannot tell whether flight-floor is below %.2f.", ThroughputTarget)
	case floor.Hi < ThroughputTarget:
		where = fmt.Sprintf("Flight-floor's interval is all below %.2f: Go's runtime tracer alone costs more than %.0f%% in this run.", ThroughputTarget, 100*(1-ThroughputTarget))
	case floor.Lo >= ThroughputTarget:
		where = fmt.Sprintf("Flight-floor's interval is all at or above %.2f: Go's runtime tracer alone costs at most %.0f%% in this run.", ThroughputTarget, 100*(1-ThroughputTarget))
	default:
		where = fmt.Sprintf("Flight-floor's interval holds %.2f: the run cannot tell whether Go's runtime tracer alone costs more than %.0f%%.", ThroughputTarget, 100*(1-ThroughputTarget))
	}
	need := fmt.Sprintf("For flight's line (≥ %.2f) appstats' part would need to be at least %.3f (%.2f ÷ flight-floor's estimate)", ThroughputTarget, ThroughputTarget/floor.Est, ThroughputTarget)
	if floor.ok() {
		need += fmt.Sprintf(", or %.3f at flight-floor's high end", ThroughputTarget/floor.Hi)
	}
	return fmt.Sprintf("Flight's target, by the pairs (95%% intervals): flight (appstats with the flight recorder ÷ appstats without it) %s, %s; Go's runtime tracer alone (flight-floor, traced ÷ bare, no appstats) %s. Flight = flight-floor × appstats' part; appstats' part, flight ÷ flight-floor: %s, %s on its own (its interval from both scenarios' pairs, Welch). %s %s.",
		fl, verdict(fl), floor, part, verdict(part), where, need)
}
