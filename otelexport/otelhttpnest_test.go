package otelexport_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestOtelhttpOutside mounts otelhttp's handler outside appstats' on one
// service, both exporting to one OTLP receiver (the SDK's spans through
// the SDK's OTLP exporter, the records through appstats' Exporter), and
// serves a request that calls a downstream server through appstats'
// transport: with a caller's traceparent and without, the collector gets
// one trace, otelhttp's SERVER span the child of the caller's span (or
// the root), appstats' SERVER span the child of otelhttp's (it was its
// sibling, or the root of a trace of its own), the call's CLIENT span the
// child of appstats', and the downstream server exactly one traceparent,
// naming the call.
func TestOtelhttpOutside(t *testing.T) {
	for _, incoming := range []bool{true, false} {
		name := "no traceparent"
		if incoming {
			name = "traceparent"
		}
		t.Run(name, func(t *testing.T) { otelhttpOutside(t, incoming) })
	}
}

func otelhttpOutside(t *testing.T, incoming bool) { otelhttpStacked(t, incoming, false) }

func otelhttpInside(t *testing.T, incoming bool) { otelhttpStacked(t, incoming, true) }

// otelhttpStacked serves a request through otelhttp's handler and
// appstats' middleware, otelhttp's inside appstats' or outside, with a
// caller's traceparent or without, and checks the spans the receiver
// got: one tree, caller, otelhttp's SERVER span, the record's, its call's
// CLIENT span (see TestOtelhttpOutside and TestOtelhttpInside).
func otelhttpStacked(t *testing.T, incoming, inside bool) {
	rcv := &receiver{}
	addr := startHTTPReceiver(t, rcv)
	exp, err := otelexport.NewOTLPHTTP(t.Context(), otelexport.WithServiceName("svc"),
		otelexport.WithHTTPOptions(otlptracehttp.WithEndpoint(addr), otlptracehttp.WithInsecure()))
	if err != nil {
		t.Fatal(err)
	}
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink, exp), recording.WithPropagator(otelexport.NewPropagator(nil)))
	sdkExp, err := otlptracehttp.New(t.Context(), otlptracehttp.WithEndpoint(addr), otlptracehttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSyncer(sdkExp),
		sdktrace.WithSpanProcessor(otelexport.NewSpanProcessor(rec)),
		sdktrace.WithIDGenerator(otelexport.NewIDGenerator()),
	)
	defer tp.Shutdown(context.Background())

	downTP := make(chan []string, 1)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		downTP <- r.Header.Values("Traceparent")
		io.WriteString(w, "down")
	}))
	defer down.Close()
	client := &http.Client{Transport: httpstats.NewTransport(nil)}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), "GET", down.URL+"/down", nil)
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		io.Copy(w, resp.Body)
		resp.Body.Close()
	})
	withOtel := func(h http.Handler) http.Handler {
		return otelhttp.NewHandler(h, "app", otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(propagation.TraceContext{}))
	}
	handler := withOtel(httpstats.NewHandler(rec, app))
	if inside {
		handler = httpstats.NewHandler(rec, withOtel(app))
	}
	srv := httptest.NewServer(handler)
	defer srv.Close()

	const callerTrace, callerSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	req, _ := http.NewRequest("GET", srv.URL+"/up", nil)
	if incoming {
		req.Header.Set("Traceparent", "00-"+callerTrace+"-"+callerSpan+"-01")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "down" {
		t.Fatalf("body %q", body)
	}
	tps := <-downTP
	if err := rec.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := exp.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := tp.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}

	var otelSpan, recSpan, callSpan *gotSpan
	spans := rcv.spans()
	for _, s := range spans {
		switch {
		case s.Kind == tracepb.Span_SPAN_KIND_SERVER && s.Scope != otelexport.ScopeName:
			otelSpan = &s
		case s.Kind == tracepb.Span_SPAN_KIND_SERVER:
			recSpan = &s
		case s.Kind == tracepb.Span_SPAN_KIND_CLIENT:
			callSpan = &s
		}
	}
	if len(spans) != 3 || otelSpan == nil || recSpan == nil || callSpan == nil {
		t.Fatalf("spans %+v; want otelhttp's SERVER span, appstats' SERVER span and its CLIENT span", spans)
	}
	if incoming {
		if otelSpan.TraceID != callerTrace || otelSpan.Parent != callerSpan {
			t.Errorf("otelhttp's span: trace %s parent %s; want the caller's %s, %s", otelSpan.TraceID, otelSpan.Parent, callerTrace, callerSpan)
		}
	} else if otelSpan.Parent != "" {
		t.Errorf("otelhttp's span has parent %s; want none", otelSpan.Parent)
	}
	if recSpan.TraceID != otelSpan.TraceID || recSpan.Parent != otelSpan.SpanID {
		t.Errorf("appstats' span: trace %s parent %s; want otelhttp's span's child (%s, %s)", recSpan.TraceID, recSpan.Parent, otelSpan.TraceID, otelSpan.SpanID)
	}
	if callSpan.TraceID != recSpan.TraceID || callSpan.Parent != recSpan.SpanID {
		t.Errorf("the call's span: trace %s parent %s; want appstats' span's child (%s, %s)", callSpan.TraceID, callSpan.Parent, recSpan.TraceID, recSpan.SpanID)
	}
	flags := "-01"
	if inside && !incoming {
		flags = "-03" // sampled, and random: appstats made the trace ID
	}
	if want := "00-" + callSpan.TraceID + "-" + callSpan.SpanID + flags; len(tps) != 1 || tps[0] != want {
		t.Errorf("downstream got traceparent %q; want one, %q", tps, want)
	}
	recs := sink.Records()
	switch {
	case len(recs) != 1:
		t.Errorf("records %d; want one", len(recs))
	case !inside && recs[0].ParentSpanID.String() != otelSpan.SpanID:
		t.Errorf("the record's parent %s; want otelhttp's span %s", recs[0].ParentSpanID, otelSpan.SpanID)
	case inside && (incoming && recs[0].ParentSpanID.String() != callerSpan || !incoming && recs[0].ParentSpanID.IsValid()):
		t.Errorf("the record's parent %s; want the caller's span (%v), as it came", recs[0].ParentSpanID, incoming)
	case inside && recs[0].Attr("appstats.span.parent") != otelSpan.SpanID:
		t.Errorf("the record's appstats.span.parent %q; want otelhttp's span %s", recs[0].Attr("appstats.span.parent"), otelSpan.SpanID)
	}
	for _, s := range spans {
		for k := range s.Attrs {
			if strings.HasPrefix(k, "appstats.span.") {
				t.Errorf("span %q exports %s", s.Name, k)
			}
		}
	}
}

// TestBaseContextSpan serves requests on a server whose BaseContext gives
// every request's context a span of this process (a startup span, say),
// with no otelhttp in between: a request with a caller's traceparent has
// its record in the caller's trace, the child of the caller's span (the
// startup span, of another trace, made it that span's child), and a
// request without one has it the child of the startup span, as before.
func TestBaseContextSpan(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	base, startup := tp.Tracer("startup").Start(context.Background(), "startup")
	defer startup.End()
	ssc := startup.SpanContext()

	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink), recording.WithPropagator(otelexport.NewPropagator(nil)))
	srv := httptest.NewUnstartedServer(httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	})))
	srv.Config.BaseContext = func(net.Listener) context.Context { return base }
	srv.Start()
	defer srv.Close()

	const callerTrace, callerSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	for _, incoming := range []bool{true, false} {
		req, _ := http.NewRequest("GET", srv.URL+"/", nil)
		if incoming {
			req.Header.Set("Traceparent", "00-"+callerTrace+"-"+callerSpan+"-01")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if err := rec.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	recs := sink.Records()
	if len(recs) != 2 {
		t.Fatalf("records %d; want 2", len(recs))
	}
	if r := recs[0]; r.TraceID.String() != callerTrace || r.ParentSpanID.String() != callerSpan {
		t.Errorf("with a traceparent: trace %s parent %s; want the caller's %s, %s", r.TraceID, r.ParentSpanID, callerTrace, callerSpan)
	}
	if r := recs[1]; r.TraceID.String() != ssc.TraceID().String() || r.ParentSpanID.String() != ssc.SpanID().String() {
		t.Errorf("without a traceparent: trace %s parent %s; want the startup span's %s, %s", r.TraceID, r.ParentSpanID, ssc.TraceID(), ssc.SpanID())
	}
}

// TestOtelhttpInside mounts otelhttp's handler inside appstats' (the other
// way round from TestOtelhttpOutside), both exporting to one OTLP
// receiver, with the bridge (NewSpanProcessor, NewIDGenerator) registered
// with otelhttp's TracerProvider. otelhttp's propagator reads the
// incoming traceparent itself, so its SERVER span is the caller's child
// whatever the request's context carries; a backend is to see one tree
// all the same, the one it sees with otelhttp outside: otelhttp's SERVER
// span the child of the caller's span (or the root), appstats' SERVER
// span its child, the call's CLIENT span appstats' child, and the
// downstream server exactly one traceparent, naming the call. On main
// the two SERVER spans were siblings (or two roots of one trace).
func TestOtelhttpInside(t *testing.T) {
	for _, incoming := range []bool{true, false} {
		name := "no traceparent"
		if incoming {
			name = "traceparent"
		}
		t.Run(name, func(t *testing.T) { otelhttpInside(t, incoming) })
	}
}

// TestOtelhttpInsideOwnRoot: otelhttp's handler inside appstats' with a
// propagator that reads nothing (OpenTelemetry's global default) makes
// its SERVER span a root, though a traceparent came in: it is no span of
// the caller's request as the record is (of the caller's span), and the
// record is not made its child — it stays the caller's.
func TestOtelhttpInsideOwnRoot(t *testing.T) {
	rcv := &receiver{}
	addr := startHTTPReceiver(t, rcv)
	exp, err := otelexport.NewOTLPHTTP(t.Context(),
		otelexport.WithHTTPOptions(otlptracehttp.WithEndpoint(addr), otlptracehttp.WithInsecure()))
	if err != nil {
		t.Fatal(err)
	}
	rec := recording.New(recording.WithSinks(exp))
	sdkExp, err := otlptracehttp.New(t.Context(), otlptracehttp.WithEndpoint(addr), otlptracehttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(sdkExp),
		sdktrace.WithSpanProcessor(otelexport.NewSpanProcessor(rec)), sdktrace.WithIDGenerator(otelexport.NewIDGenerator()))
	defer tp.Shutdown(context.Background())
	srv := httptest.NewServer(httpstats.NewHandler(rec, otelhttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}), "app", otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator()))))
	defer srv.Close()
	const callerTrace, callerSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	req, _ := http.NewRequest("GET", srv.URL+"/up", nil)
	req.Header.Set("Traceparent", "00-"+callerTrace+"-"+callerSpan+"-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err := rec.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := exp.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := tp.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	var n int
	for _, s := range rcv.spans() {
		if s.Kind != tracepb.Span_SPAN_KIND_SERVER {
			continue
		}
		n++
		want := callerSpan // the record's
		if s.Scope != otelexport.ScopeName {
			want = "" // otelhttp's: a root
		}
		if s.Parent != want {
			t.Errorf("SERVER span of %s: parent %q, want %q", s.Scope, s.Parent, want)
		}
	}
	if n != 2 {
		t.Errorf("%d SERVER spans, want otelhttp's and appstats'", n)
	}
}
