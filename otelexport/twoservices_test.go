package otelexport_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestTwoServices runs two recorded loopback services, A calling B through
// the recording transport, with the OpenTelemetry propagator: B's record
// joins A's trace as a child of A's call, baggage reaches B, and the traces
// both export form one tree at the collector.
func TestTwoServices(t *testing.T) {
	rcv := &receiver{}
	addr := startHTTPReceiver(t, rcv)
	newService := func(name string, h http.Handler) (*httptest.Server, *recording.Recorder, *recordingtest.Sink, *otelexport.Exporter) {
		exp, err := otelexport.NewOTLPHTTP(t.Context(), otelexport.WithServiceName(name),
			otelexport.WithHTTPOptions(otlptracehttp.WithEndpoint(addr), otlptracehttp.WithInsecure()))
		if err != nil {
			t.Fatal(err)
		}
		sink := recordingtest.NewSink()
		rec := recording.New(recording.WithSinks(sink, exp), recording.WithPropagator(otelexport.NewPropagator(nil)))
		srv := httptest.NewServer(httpstats.NewHandler(rec, h))
		t.Cleanup(srv.Close)
		return srv, rec, sink, exp
	}

	bBaggage := make(chan string, 1)
	srvB, recB, sinkB, expB := newService("svc-b", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bBaggage <- baggage.FromContext(r.Context()).Member("tenant").Value()
		io.WriteString(w, "b")
	}))
	client := &http.Client{Transport: httpstats.NewTransport(nil)}
	srvA, recA, sinkA, expA := newService("svc-a", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), "GET", srvB.URL+"/b", nil)
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		io.Copy(w, resp.Body)
		resp.Body.Close()
	}))

	req, _ := http.NewRequest("GET", srvA.URL+"/a", nil)
	req.Header.Set("baggage", "tenant=acme")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "b" {
		t.Fatalf("A answered %q", body)
	}
	if err := recA.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := recB.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	expA.Close(t.Context())
	expB.Close(t.Context())

	if len(sinkA.Records()) != 1 || len(sinkB.Records()) != 1 {
		t.Fatalf("records: A %d, B %d; want 1 each", len(sinkA.Records()), len(sinkB.Records()))
	}
	a, b := sinkA.Records()[0], sinkB.Records()[0]
	if len(a.Calls) != 1 {
		t.Fatalf("A's calls: %+v", a.Calls)
	}
	call := a.Calls[0]
	if b.TraceID != a.TraceID || b.ParentSpanID != call.SpanID {
		t.Errorf("B's record: trace %s parent %s; want A's trace %s and A's call %s", b.TraceID, b.ParentSpanID, a.TraceID, call.SpanID)
	}
	if got := <-bBaggage; got != "acme" {
		t.Errorf("baggage in B: %q, want acme", got)
	}

	// At the collector: A's server span → A's client span → B's server span.
	spans := rcv.spans()
	if len(spans) != 3 {
		t.Fatalf("collector got %d spans, want 3", len(spans))
	}
	chain := []struct {
		id, parent string
		kind       tracepb.Span_SpanKind
		service    string
	}{
		{a.SpanID.String(), "", tracepb.Span_SPAN_KIND_SERVER, "svc-a"},
		{call.SpanID.String(), a.SpanID.String(), tracepb.Span_SPAN_KIND_CLIENT, "svc-a"},
		{b.SpanID.String(), call.SpanID.String(), tracepb.Span_SPAN_KIND_SERVER, "svc-b"},
	}
	for _, w := range chain {
		s, ok := spans[w.id]
		if !ok || s.Parent != w.parent || s.Kind != w.kind || s.TraceID != a.TraceID.String() || s.Resource["service.name"] != w.service {
			t.Errorf("span %s: %+v; want parent %q kind %v service %s in trace %s", w.id, s, w.parent, w.kind, w.service, a.TraceID)
		}
	}
}
