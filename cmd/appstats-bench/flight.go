package main

import (
	"context"
	"fmt"
	"net/http"
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
	e.note = "The hello handler, recorded into memstore in both configurations: without the flight recorder (bare) and with it (recorded; recording.WithFlightRecorder with RouteP99, default caps: traces of requests over their route's p99, at most 2 a minute). Each recorded round starts its own recorder, and with it the runtime's flight recorder, and closes it after the round, so the bare rounds run untraced."
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
