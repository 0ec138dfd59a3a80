package otelexport_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

const (
	tsTraceID    = "4bf92f3577b34da6a3ce929d0e0e4736"
	tsParent     = "00f067aa0ba902b7"
	tsTraceState = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
)

// callerSends serves one request with traceparent flags (the caller's)
// and tracestate through h, whose handler calls downstream with client,
// and returns the traceparent and tracestate downstream received.
func callerSends(t *testing.T, flags string, wrap func(http.Handler) http.Handler, client *http.Client) (tp, ts string) {
	t.Helper()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tp, ts = r.Header.Get("traceparent"), r.Header.Get("tracestate")
	}))
	defer down.Close()
	app := httptest.NewServer(wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), "GET", down.URL+"/next", nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	})))
	defer app.Close()
	req, _ := http.NewRequest("GET", app.URL+"/hello", nil)
	req.Header.Set("traceparent", "00-"+tsTraceID+"-"+tsParent+"-"+flags)
	req.Header.Set("tracestate", tsTraceState)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return tp, ts
}

// TestRandomFlagPropagated: W3C Trace Context Level 2's random-trace-id
// flag (0x02) of an incoming traceparent goes on to the calls the request
// makes, as otelhttp's server and transport pass it on: a service that
// keeps the caller's trace ID keeps what the caller said of its
// randomness ("Vendors MUST NOT make any other mutations to the
// traceparent header" than those listed, which change the parent-id and
// the sampled flag). With the recorder's W3C propagator and with
// otelexport's adapter. On main the calls sent flags 01 for 03.
func TestRandomFlagPropagated(t *testing.T) {
	// otelhttp, the reference.
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(t.Context())
	prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	otelWrap := func(h http.Handler) http.Handler {
		return otelhttp.NewHandler(h, "server", otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(prop))
	}
	otelClient := &http.Client{Transport: otelhttp.NewTransport(http.DefaultTransport, otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(prop))}
	for _, flags := range []string{"03", "02"} {
		got, _ := callerSends(t, flags, otelWrap, otelClient)
		if !strings.HasSuffix(got, "-"+flags) {
			t.Fatalf("otelhttp sent %q for flags %s: the reference changed", got, flags)
		}
	}

	for name, p := range map[string]recording.Propagator{
		"W3CPropagator": recording.W3CPropagator{},
		"NewPropagator": otelexport.NewPropagator(nil),
	} {
		rec := recording.New(recording.WithSinks(recordingtest.NewSink()), recording.WithPropagator(p))
		wrap := func(h http.Handler) http.Handler { return httpstats.NewHandler(rec, h) }
		client := &http.Client{Transport: httpstats.NewTransport(nil)}
		for _, flags := range []string{"03", "02", "01", "00"} {
			got, ts := callerSends(t, flags, wrap, client)
			if !strings.HasPrefix(got, "00-"+tsTraceID+"-") || !strings.HasSuffix(got, "-"+flags) {
				t.Errorf("%s: incoming flags %s, downstream got traceparent %q, want flags %s", name, flags, got, flags)
			}
			if ts != tsTraceState {
				t.Errorf("%s: downstream got tracestate %q, want %q", name, ts, tsTraceState)
			}
		}
		rec.Close(t.Context())
	}
}

// TestExportedSpansCarryTraceState: the spans of a request that came with
// a tracestate carry it, and the random-trace-id flag of its traceparent,
// in their span context (OTLP's trace_state and flags), as the spans of
// otelhttp's server and transport do: a child span takes its parent's
// tracestate and flags (the SDK's samplers pass the parent's tracestate
// on), and a backend or a tracestate-aware sampler downstream of the
// collector reads them there. On main the exported spans had neither.
func TestExportedSpansCarryTraceState(t *testing.T) {
	// otelhttp, the reference.
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	defer tp.Shutdown(t.Context())
	prop := propagation.TraceContext{}
	callerSends(t, "03", func(h http.Handler) http.Handler {
		return otelhttp.NewHandler(h, "server", otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(prop))
	}, &http.Client{Transport: otelhttp.NewTransport(http.DefaultTransport, otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(prop))})
	ref := sr.Ended()
	if len(ref) != 2 {
		t.Fatalf("otelhttp: %d spans", len(ref))
	}
	for _, s := range ref {
		if s.SpanContext().TraceState().String() != tsTraceState || !s.SpanContext().TraceFlags().IsRandom() {
			t.Fatalf("otelhttp's %s span: tracestate %q, flags %s: the reference changed",
				s.SpanKind(), s.SpanContext().TraceState(), s.SpanContext().TraceFlags())
		}
	}

	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	callerSends(t, "03", func(h http.Handler) http.Handler { return httpstats.NewHandler(rec, h) },
		&http.Client{Transport: httpstats.NewTransport(nil)})
	if err := rec.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	spans := exportSpans(t, sink.Records())
	if len(spans) != 2 {
		t.Fatalf("%d spans exported, want 2: %v", len(spans), names(spans))
	}
	for _, s := range spans {
		if got := s.SpanContext.TraceState().String(); got != tsTraceState {
			t.Errorf("%s span %q: tracestate %q, want %q", s.SpanKind, s.Name, got, tsTraceState)
		}
		if f := s.SpanContext.TraceFlags(); !f.IsRandom() || !f.IsSampled() {
			t.Errorf("%s span %q: flags %s, want 03 (sampled, random)", s.SpanKind, s.Name, f)
		}
		if s.SpanKind == trace.SpanKindServer && s.Parent.TraceState().String() != tsTraceState {
			t.Errorf("server span's remote parent: tracestate %q, want %q", s.Parent.TraceState(), tsTraceState)
		}
	}
}

// TestTraceStateOnTheWire: over OTLP (gRPC, into the in-process receiver
// on the official protos), every span of a record with a tracestate and
// the random-trace-id flag has them in trace_state and in the low byte of
// flags (sampled and random: 03).
func TestTraceStateOnTheWire(t *testing.T) {
	rcv := &receiver{}
	exp, err := otelexport.NewOTLPGRPC(t.Context(),
		otelexport.WithGRPCOptions(otlptracegrpc.WithEndpoint(startGRPCReceiver(t, rcv)), otlptracegrpc.WithInsecure()))
	if err != nil {
		t.Fatal(err)
	}
	r := fixture(t)
	r.RandomTraceID = true
	r.SetTraceState(tsTraceState)
	if err := exp.Write(t.Context(), []*recording.Record{r}); err != nil {
		t.Fatal(err)
	}
	if err := exp.ForceFlush(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := rcv.spans()
	if len(got) == 0 {
		t.Fatal("no spans received")
	}
	for id, s := range got {
		if s.TraceState != tsTraceState || s.Flags&0xff != 0x03 {
			t.Errorf("span %s %q: trace_state %q, flags %#x; want %q and 0x03 in the low byte", id, s.Name, s.TraceState, s.Flags, tsTraceState)
		}
	}
	if err := exp.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestGeneratedTraceIDRandom: a trace ID the recorder makes itself (no
// traceparent came in, or one it could not read) is random, and W3C Trace
// Context Level 2 says so with the random-trace-id flag (0x02): the calls
// the request makes send flags 03, the record says RandomTraceID, its
// exported spans carry the flag, and OpenTelemetry's own TraceContext
// propagator, reading what the calls sent, sees a random trace ID. A
// caller's trace ID without the flag stays without it
// (TestRandomFlagPropagated). With the recorder's W3C propagator and with
// otelexport's adapter around OpenTelemetry's. On main the calls sent 01.
func TestGeneratedTraceIDRandom(t *testing.T) {
	for name, p := range map[string]recording.Propagator{
		"W3CPropagator": recording.W3CPropagator{},
		"NewPropagator": otelexport.NewPropagator(nil),
	} {
		for _, incoming := range []string{"", "00-zz-bad-01"} {
			sink := recordingtest.NewSink()
			rec := recording.New(recording.WithSinks(sink), recording.WithPropagator(p))
			var got string
			var sc trace.SpanContext
			down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r.Header.Get("traceparent")
				sc = trace.SpanContextFromContext(propagation.TraceContext{}.Extract(r.Context(), propagation.HeaderCarrier(r.Header)))
			}))
			client := &http.Client{Transport: httpstats.NewTransport(nil)}
			app := httptest.NewServer(httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				req, _ := http.NewRequestWithContext(r.Context(), "GET", down.URL+"/next", nil)
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			})))
			req, _ := http.NewRequest("GET", app.URL+"/hello", nil)
			if incoming != "" {
				req.Header.Set("traceparent", incoming)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			app.Close()
			down.Close()
			if err := rec.Close(t.Context()); err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(got, "-03") {
				t.Errorf("%s, traceparent %q: downstream got %q, want flags 03 (sampled, random)", name, incoming, got)
			}
			if !sc.IsValid() || !sc.TraceFlags().IsRandom() {
				t.Errorf("%s, traceparent %q: OpenTelemetry's propagator read %v, flags %s; want a valid, random trace ID", name, incoming, sc.TraceID(), sc.TraceFlags())
			}
			recs := sink.Records()
			if len(recs) != 1 {
				t.Fatalf("%s: %d records, want 1", name, len(recs))
			}
			if r := recs[0]; !r.RandomTraceID || sc.TraceID() != trace.TraceID(r.TraceID) {
				t.Errorf("%s, traceparent %q: record's trace %s, RandomTraceID %v; want the trace sent downstream (%s), random", name, incoming, r.TraceID, r.RandomTraceID, sc.TraceID())
			}
			for _, s := range exportSpans(t, recs) {
				if f := s.SpanContext.TraceFlags(); !f.IsRandom() || !f.IsSampled() {
					t.Errorf("%s, traceparent %q: %s span %q: flags %s, want 03 (sampled, random)", name, incoming, s.SpanKind, s.Name, f)
				}
			}
		}
	}
}
