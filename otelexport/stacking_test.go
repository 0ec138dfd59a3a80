package otelexport_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestStackedTransports stacks appstats' transport and otelhttp's in both
// orders, with the bridge installed, and makes a recorded service call a
// real downstream server that notes the traceparent it is sent: each
// outgoing request is one call of the record and one exported CLIENT span,
// and the downstream's parent is that call's span, in the record's trace.
func TestStackedTransports(t *testing.T) {
	type stack func(tp trace.TracerProvider, prop propagation.TextMapPropagator) http.RoundTripper
	otel := func(tp trace.TracerProvider, prop propagation.TextMapPropagator, base http.RoundTripper) http.RoundTripper {
		opts := []otelhttp.Option{otelhttp.WithTracerProvider(tp)}
		if prop != nil {
			opts = append(opts, otelhttp.WithPropagators(prop))
		}
		return otelhttp.NewTransport(base, opts...)
	}
	orders := []struct {
		name  string
		stack stack
	}{
		{"otelhttp outside appstats", func(tp trace.TracerProvider, prop propagation.TextMapPropagator) http.RoundTripper {
			return otel(tp, prop, httpstats.NewTransport(http.DefaultTransport))
		}},
		{"appstats outside otelhttp", func(tp trace.TracerProvider, prop propagation.TextMapPropagator) http.RoundTripper {
			return httpstats.NewTransport(otel(tp, prop, http.DefaultTransport))
		}},
	}
	props := []struct {
		name string
		prop propagation.TextMapPropagator // otelhttp's; nil: the global one, a no-op
	}{
		{"otelhttp propagates", propagation.TraceContext{}},
		{"otelhttp does not propagate", nil},
	}
	for _, o := range orders {
		for _, p := range props {
			for _, idGen := range []bool{true, false} {
				if !idGen && o.name == "appstats outside otelhttp" && p.prop != nil {
					// otelhttp's span takes its ID from the provider and
					// writes the traceparent last: only NewIDGenerator makes
					// that ID the call's, as NewIDGenerator's documentation says.
					continue
				}
				name := o.name + "/" + p.name
				if !idGen {
					name += "/without NewIDGenerator"
				}
				// otelhttp's span, inside appstats' call, writes the
				// traceparent last: a root span of the SDK, whose flags
				// are the SDK's (sampled, and not random: the SDK does not
				// know that NewIDGenerator's trace ID is random) under the
				// recorder's default propagator, as here; with
				// NewPropagator's, random (TestRootSpansRandomFlag).
				sdkFlags := o.name == "appstats outside otelhttp" && p.prop != nil
				t.Run(name, func(t *testing.T) { stackedCall(t, o.stack, p.prop, idGen, sdkFlags) })
			}
		}
	}
}

func stackedCall(t *testing.T, stack func(trace.TracerProvider, propagation.TextMapPropagator) http.RoundTripper, prop propagation.TextMapPropagator, idGen, sdkFlags bool) {
	t.Helper()
	got := make(chan string, 10)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("traceparent")
		io.WriteString(w, "down")
	}))
	defer down.Close()

	exported := tracetest.NewInMemoryExporter()
	exp := otelexport.New(exported)
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink, exp))
	opts := []sdktrace.TracerProviderOption{sdktrace.WithSpanProcessor(otelexport.NewSpanProcessor(rec))}
	if idGen {
		opts = append(opts, sdktrace.WithIDGenerator(otelexport.NewIDGenerator()))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	defer tp.Shutdown(context.Background())
	client := &http.Client{Transport: stack(tp, prop)}

	up := httptest.NewServer(httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), "GET", down.URL+"/down", nil)
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		io.Copy(w, resp.Body)
		resp.Body.Close()
	})))
	defer up.Close()
	resp, err := http.Get(up.URL + "/up")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "down" {
		t.Fatalf("body %q", body)
	}
	if err := rec.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := exp.ForceFlush(t.Context()); err != nil {
		t.Fatal(err)
	}
	spans := exported.GetSpans().Snapshots() // before Close, which empties the exporter
	if err := exp.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	recs := sink.Records()
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	r := recs[0]
	var methods []string
	for _, c := range r.Calls {
		methods = append(methods, c.Service+" "+c.Method)
	}
	if len(r.Calls) != 1 {
		t.Fatalf("%d calls %q, want 1", len(r.Calls), methods)
	}
	c := r.Calls[0]
	var clients []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.SpanKind() == trace.SpanKindClient {
			clients = append(clients, s)
		}
	}
	if len(clients) != 1 || clients[0].SpanContext().SpanID() != trace.SpanID(c.SpanID) {
		t.Errorf("%d exported CLIENT spans, want 1 with the call's span %s", len(clients), c.SpanID)
	}
	want := recording.FormatTraceparent(recording.TraceContext{TraceID: r.TraceID, SpanID: c.SpanID, Sampled: true, Random: r.RandomTraceID && !sdkFlags})
	if tp := <-got; tp != want {
		t.Errorf("the downstream's traceparent is %q, want the call's %q", tp, want)
	}
	if c.Service != "http" || c.Attr("http.response.status_code") != "200" || c.Running {
		t.Errorf("call %s %s, status %q, running %v", c.Service, c.Method, c.Attr("http.response.status_code"), c.Running)
	}
}

// TestTransportUnderInternalSpan checks that an INTERNAL span — work the
// application traces, not a call — does not hide the calls made under it:
// the span and appstats' transport call under it are both calls of the
// record, and the downstream's parent is the transport's call.
func TestTransportUnderInternalSpan(t *testing.T) {
	got := make(chan string, 1)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("traceparent")
	}))
	defer down.Close()
	rec, sink, tp, _ := bridgeSetup(t, sdktrace.WithIDGenerator(otelexport.NewIDGenerator()))
	client := &http.Client{Transport: httpstats.NewTransport(nil)}

	ctx, ar := rec.StartRecord(t.Context(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/page"})
	ctx, span := tp.Tracer("app").Start(ctx, "render", trace.WithSpanKind(trace.SpanKindInternal))
	req, _ := http.NewRequestWithContext(ctx, "GET", down.URL+"/down", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	span.End()
	ar.Finish()
	r := finish(t, rec, sink)
	if len(r.Calls) != 2 || r.Calls[0].Service != "otel" || r.Calls[1].Service != "http" {
		t.Fatalf("calls %+v, want the span's and the transport's", r.Calls)
	}
	want := recording.FormatTraceparent(recording.TraceContext{TraceID: r.TraceID, SpanID: r.Calls[1].SpanID, Sampled: true, Random: r.RandomTraceID})
	if tp := <-got; tp != want {
		t.Errorf("the downstream's traceparent is %q, want the transport call's %q", tp, want)
	}
}
