package main

import (
	"fmt"
	"net/http"
	"sync/atomic"
)

// fanoutFloorScenario names the fanout scenario's floor: the fanout
// handler with nothing of appstats in both configurations, the measured
// one's calls each carrying a W3C traceparent, as a recorded call's do.
// What a traceparent costs net/http, in the client that writes it and in
// the backend that parses it (in this process, as the fanout scenario's
// backend is), any tracer that propagates pays, appstats and otelhttp
// alike; fanout ÷ fanout-floor is what recording adds beyond it (see
// docs/BENCHMARKS.md, "i43-perf").
const fanoutFloorScenario = "fanout-floor"

// fanoutFloorTraceparent is the traceparent fanout-floor's calls carry: a
// sampled one of the W3C format's 55 bytes, the length
// middleware/httpstats' transport writes.
const fanoutFloorTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// setupFanoutFloor sets e up as fanout-floor: the fanout handler over the
// fanout scenario's transport, bare, and (in the measured configuration's
// place) with each call's request header a map holding the traceparent
// alone, one map for every call, as the transport's header entries are
// reused from call to call. Its backend counts the calls that came with a
// traceparent and those that came without, for the report.
func setupFanoutFloor(e *env, o options) error {
	var with, without atomic.Int64
	items := itemMux()
	backend, base, err := fanoutBackendOf(e, o, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Traceparent") == fanoutFloorTraceparent {
			with.Add(1)
		} else {
			without.Add(1)
		}
		items.ServeHTTP(w, r)
	}))
	if err != nil {
		return err
	}
	client := &http.Client{Transport: base}
	e.path = "/fanout"
	e.bare = fanoutMux(backend, client, nil)
	e.recorded = fanoutMux(backend, client, http.Header{"Traceparent": {fanoutFloorTraceparent}})
	e.config = "traceparent"
	e.note = fmt.Sprintf("Reference, not a target: the floor under fanout. The fanout handler (%d sequential GETs to a loopback backend in this process) with nothing of appstats in both configurations; in the measured one (traceparent) each call carries a W3C traceparent of 55 bytes, as a recorded call's does: what net/http spends writing and parsing it, which any tracer that propagates pays. fanout ÷ fanout-floor is what recording adds beyond it.", fanoutCalls)
	e.report = func() string {
		return fmt.Sprintf("Backend calls (warm-up included): %d with the traceparent, %d without.", with.Load(), without.Load())
	}
	return nil
}
