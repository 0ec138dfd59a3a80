package otelexport_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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

// TestRootSpansRandomFlag: OpenTelemetry spans that start without a parent
// span under a recorded request — otelhttp's transport under appstats'
// (which writes the traceparent last), a span the handler starts — with
// NewIDGenerator take the record's trace ID; when the recorder made that ID
// (no traceparent came in, or one it could not read) it is random, and the
// spans and the traceparent otelhttp sends say so with the random flag
// (flags 03), as the record and appstats' own calls do
// (TestGeneratedTraceIDRandom). A caller's trace keeps the caller's flags.
// With the recorder's propagator from NewPropagator (the facade's). The
// SDK (v1.47) takes a root span's flags from its context's span context
// alone: before, they were 01.
func TestRootSpansRandomFlag(t *testing.T) {
	for _, tc := range []struct {
		incoming, flags string
	}{
		{"", "03"},
		{"00-zz-bad-01", "03"},
		{"00-" + tsTraceID + "-" + tsParent + "-01", "01"},
		{"00-" + tsTraceID + "-" + tsParent + "-03", "03"},
	} {
		sink := recordingtest.NewSink()
		rec := recording.New(recording.WithSinks(sink), recording.WithPropagator(otelexport.NewPropagator(nil)))
		spans := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(
			sdktrace.WithSpanProcessor(otelexport.NewSpanProcessor(rec)),
			sdktrace.WithSpanProcessor(spans),
			sdktrace.WithIDGenerator(otelexport.NewIDGenerator()),
		)
		var got string
		down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = r.Header.Get("traceparent")
		}))
		client := &http.Client{Transport: httpstats.NewTransport(otelhttp.NewTransport(http.DefaultTransport,
			otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(propagation.TraceContext{})))}
		app := httptest.NewServer(httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, span := tp.Tracer("app").Start(r.Context(), "work")
			span.End()
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
		if tc.incoming != "" {
			req.Header.Set("traceparent", tc.incoming)
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
		tp.Shutdown(t.Context())
		recs := sink.Records()
		if len(recs) != 1 || len(recs[0].Calls) < 1 {
			t.Fatalf("incoming %q: records %+v, want 1 with its calls", tc.incoming, recs)
		}
		r := recs[0]
		if !strings.HasPrefix(got, "00-"+r.TraceID.String()+"-") || !strings.HasSuffix(got, "-"+tc.flags) {
			t.Errorf("incoming %q: downstream got %q, want the record's trace %s with flags %s", tc.incoming, got, r.TraceID, tc.flags)
		}
		ended := spans.Ended()
		if len(ended) != 2 {
			t.Fatalf("incoming %q: %d spans ended, want otelhttp's and the handler's", tc.incoming, len(ended))
		}
		for _, s := range ended {
			sc := s.SpanContext()
			if sc.TraceID() != trace.TraceID(r.TraceID) || sc.TraceFlags().String() != tc.flags {
				t.Errorf("incoming %q: span %q: trace %s, flags %s; want the record's trace %s, flags %s",
					tc.incoming, s.Name(), sc.TraceID(), sc.TraceFlags(), r.TraceID, tc.flags)
			}
		}
	}
}

// TestRootSpansRandomFlagBackground: the same for a record started by hand
// (a background job), whose trace ID the recorder makes: a span started
// under it has the record's trace ID and flags 03; under a context the
// recorder did not record (sampled out), flags 01, as the SDK makes them.
func TestRootSpansRandomFlagBackground(t *testing.T) {
	for _, rate := range []float64{1, 0} {
		rec := recording.New(recording.WithSinks(recordingtest.NewSink()), recording.WithPropagator(otelexport.NewPropagator(nil)), recording.WithSampleRate(rate))
		tp := sdktrace.NewTracerProvider(sdktrace.WithIDGenerator(otelexport.NewIDGenerator()))
		ctx, ar := rec.StartRecord(t.Context(), recording.RequestInfo{Kind: recording.KindBackground, Path: "job"})
		_, span := tp.Tracer("app").Start(ctx, "work")
		sc := span.SpanContext()
		span.End()
		want := "01"
		if ar != nil {
			want = "03"
			if sc.TraceID() != trace.TraceID(ar.TraceContext().TraceID) {
				t.Errorf("span's trace %s, want the record's %s", sc.TraceID(), ar.TraceContext().TraceID)
			}
			ar.Finish()
		}
		if (ar != nil) != (rate == 1) || sc.TraceFlags().String() != want {
			t.Errorf("sample rate %v: recorded %v, span flags %s; want flags %s", rate, ar != nil, sc.TraceFlags(), want)
		}
		tp.Shutdown(t.Context())
		if err := rec.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
}
