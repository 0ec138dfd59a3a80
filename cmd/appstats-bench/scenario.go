package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goappstats/appstats/middleware"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/memstore"
)

// scenarioNames lists the scenarios in the order "all" runs them.
var scenarioNames = []string{"hello", "fanout", "badger"}

// fanoutCalls is how many backend calls the fanout handler makes.
const fanoutCalls = 10

func parseScenarios(s string) ([]string, error) {
	if s == "all" {
		return scenarioNames, nil
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
	client   *http.Client
	path     string
	bare     http.Handler
	recorded http.Handler
	rec      *recording.Recorder
	// during, if set, starts something that runs through each recorded
	// round (the ui scenario's dashboard) and returns a function that stops
	// it and waits for it.
	during  func(ctx context.Context) (stop func(), err error)
	closers []func() error // run in reverse order
}

func (e *env) close() error {
	var errs []error
	for _, c := range slices.Backward(e.closers) {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

// round runs one round of load on one configuration.
func (e *env) round(ctx context.Context, recorded bool, d time.Duration, max, conc int) (round, error) {
	if recorded {
		e.sw.set(e.recorded)
	} else {
		e.sw.set(e.bare)
	}
	runtime.GC() // each round starts without the previous round's garbage
	cpu0, _ := processCPU()
	var stop func()
	if recorded && e.during != nil {
		var err error
		if stop, err = e.during(ctx); err != nil {
			return round{}, err
		}
	}
	lat, errs, elapsed := load(ctx, e.client, e.front.URL+e.path, conc, d, max)
	var drain time.Duration
	if recorded {
		drain = waitWritten(e.rec, 10*time.Second)
	}
	if stop != nil {
		stop()
	}
	cpu1, _ := processCPU()
	if len(lat) == 0 && ctx.Err() == nil {
		return round{}, fmt.Errorf("no request succeeded (%d failed)", errs)
	}
	return round{Requests: len(lat), Errors: errs, Elapsed: elapsed, CPU: cpu1 - cpu0, Drain: drain, lat: lat}, nil
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
		err = setupHello(e, memSink(e), "The hello handler (a ServeMux route writing \"hello\"); recorded into memstore, the in-memory store.")
	case "fanout":
		err = setupFanout(e, o, memSink(e))
	case "badger":
		err = setupHello(e, memSink(e), "The hello handler, recorded into memstore: the badgerstore package is not on this branch yet, so this scenario measures the in-memory store instead.")
	default:
		err = fmt.Errorf("unknown scenario %q", name)
	}
	if err != nil {
		return e, err
	}
	front, err := listen(e.sw)
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

// memSink returns an in-memory store, closed with e.
func memSink(e *env) recording.Sink {
	st := memstore.New(0)
	e.closers = append(e.closers, st.Close)
	return st
}

// newRecorder starts a recorder with default settings writing to sinks,
// closed with e (before the sinks, which were registered earlier).
func newRecorder(e *env, sinks ...recording.Sink) *recording.Recorder {
	rec := recording.New(recording.WithSinks(sinks...))
	e.rec = rec
	e.closers = append(e.closers, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return rec.Close(ctx)
	})
	return rec
}

func setupHello(e *env, sink recording.Sink, note string) error {
	rec := newRecorder(e, sink)
	app := http.NewServeMux()
	app.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	})
	e.note = note
	e.path = "/hello"
	e.bare = app
	e.recorded = middleware.Handler(rec, app)
	return nil
}

func setupFanout(e *env, o options, sink recording.Sink) error {
	rec := newRecorder(e, sink)
	backendMux := http.NewServeMux()
	backendMux.HandleFunc("GET /item/{id}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "item "+r.PathValue("id"))
	})
	backend, err := listen(backendMux)
	if err != nil {
		return err
	}
	e.closers = append(e.closers, backend.close)
	base := newClientTransport(o.Concurrency)
	e.closers = append(e.closers, func() error { base.CloseIdleConnections(); return nil })
	fanout := func(client *http.Client) http.Handler {
		app := http.NewServeMux()
		app.HandleFunc("GET /fanout", func(w http.ResponseWriter, r *http.Request) {
			for i := range fanoutCalls {
				if err := get(r.Context(), client, backend.URL+"/item/"+strconv.Itoa(i)); err != nil {
					http.Error(w, err.Error(), http.StatusBadGateway)
					return
				}
			}
			io.WriteString(w, "ok")
		})
		return app
	}
	e.note = fmt.Sprintf("A handler making %d sequential GETs to a loopback backend (not recorded itself) — through a plain http.Transport (bare) or middleware.Transport over the same transport (recorded); recorded into memstore.", fanoutCalls)
	e.path = "/fanout"
	e.bare = fanout(&http.Client{Transport: base})
	e.recorded = middleware.Handler(rec, fanout(&http.Client{Transport: middleware.Transport(base)}))
	return nil
}
