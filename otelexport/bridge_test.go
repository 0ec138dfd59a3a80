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
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// bridgeSetup returns a recorder keeping its records in sink, and a tracer
// provider whose spans feed it through the bridge and are also kept by spans.
func bridgeSetup(t *testing.T, opts ...sdktrace.TracerProviderOption) (*recording.Recorder, *recordingtest.Sink, *sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	t.Helper()
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(append(opts,
		sdktrace.WithSpanProcessor(otelexport.NewSpanProcessor(rec)),
		sdktrace.WithSpanProcessor(spans),
	)...)
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	return rec, sink, tp, spans
}

// finish closes rec and returns its only record.
func finish(t *testing.T, rec *recording.Recorder, sink *recordingtest.Sink) *recording.Record {
	t.Helper()
	if err := rec.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(sink.Records()) != 1 {
		t.Fatalf("%d records, want 1", len(sink.Records()))
	}
	return sink.Records()[0]
}

// TestBridgeOtelHTTP makes an otelhttp-instrumented client call inside a
// recorded request: it appears as an "http" call of the record with the
// span's method name, span ID and exact start and end.
func TestBridgeOtelHTTP(t *testing.T) {
	traceparent := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		traceparent <- r.Header.Get("traceparent")
		io.WriteString(w, "hello from "+r.URL.Path)
	}))
	defer srv.Close()
	rec, sink, tp, spans := bridgeSetup(t, sdktrace.WithIDGenerator(otelexport.NewIDGenerator()))
	client := &http.Client{Transport: otelhttp.NewTransport(http.DefaultTransport,
		otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(propagation.TraceContext{}))}

	ctx, ar := rec.StartRecord(t.Context(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/page"})
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/hello?x=1", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ar.Finish()
	r := finish(t, rec, sink)

	if string(body) != "hello from /hello" {
		t.Fatalf("body %q", body)
	}
	ended := spans.Ended()
	if len(ended) != 1 {
		t.Fatalf("%d spans ended, want 1", len(ended))
	}
	s := ended[0]
	if len(r.Calls) != 1 {
		t.Fatalf("%d calls, want 1: %+v", len(r.Calls), r.Calls)
	}
	c := r.Calls[0]
	want := "GET " + strings.TrimPrefix(srv.URL, "http://") + "/hello" // as httpstats.NewTransport names it
	if c.Service != "http" || c.Method != want {
		t.Errorf("call %s %q, want http %q", c.Service, c.Method, want)
	}
	if want := "GET " + srv.URL + "/hello?x=1"; c.Request != want {
		t.Errorf("call request %q, want %q", c.Request, want)
	}
	if c.SpanID != recording.SpanID(s.SpanContext().SpanID()) {
		t.Errorf("call span %s, otel span %s", c.SpanID, s.SpanContext().SpanID())
	}
	if c.Start != s.StartTime().Sub(r.Start) || c.Duration != s.EndTime().Sub(s.StartTime()) {
		t.Errorf("call at %v for %v; span at %v for %v", c.Start, c.Duration, s.StartTime().Sub(r.Start), s.EndTime().Sub(s.StartTime()))
	}
	if c.Running || c.Error != "" {
		t.Errorf("call running %v, error %q", c.Running, c.Error)
	}
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	if c.Attr("http.response.status_code") != "200" || c.Attr("http.request.method") != "GET" ||
		c.Attr("url.full") != srv.URL+"/hello?x=1" || c.Attr("server.address") != "127.0.0.1" || c.Attr("server.port") != port {
		t.Errorf("call attrs %v", c.Attrs)
	}
	// With NewIDGenerator, the span is in the record's trace, and what it
	// propagated downstream names the call.
	want = recording.FormatTraceparent(recording.TraceContext{TraceID: r.TraceID, SpanID: c.SpanID, Sampled: true})
	if got := <-traceparent; got != want {
		t.Errorf("downstream got traceparent %q, want %q", got, want)
	}
	if len(c.Stack) == 0 || !strings.Contains(c.Stack[0].Function, "TestBridgeOtelHTTP") {
		t.Errorf("call stack starts at %v, want the test", c.Stack)
	}
}

// TestBridgeSpans checks which spans become calls, and how they are named.
func TestBridgeSpans(t *testing.T) {
	type wantCall struct {
		service, method, request, err string
		attrs                         map[string]string
	}
	tests := []struct {
		name string
		run  func(ctx context.Context, tr trace.Tracer)
		want []wantCall
	}{
		{"internal span", func(ctx context.Context, tr trace.Tracer) {
			_, s := tr.Start(ctx, "compute")
			s.End()
		}, []wantCall{{service: "otel", method: "compute"}}},
		{"server and consumer spans are skipped", func(ctx context.Context, tr trace.Tracer) {
			_, s := tr.Start(ctx, "incoming", trace.WithSpanKind(trace.SpanKindServer))
			s.End()
			_, s = tr.Start(ctx, "message", trace.WithSpanKind(trace.SpanKindConsumer))
			s.End()
		}, nil},
		{"database span", func(ctx context.Context, tr trace.Tracer) {
			_, s := tr.Start(ctx, "SELECT app.users", trace.WithSpanKind(trace.SpanKindClient),
				trace.WithAttributes(attribute.String("db.system.name", "postgresql"),
					attribute.String("db.operation.name", "SELECT"), attribute.String("db.collection.name", "users"),
					attribute.String("db.query.text", "SELECT * FROM users WHERE id = $1")))
			s.End()
		}, []wantCall{{service: "sql", method: "SELECT users", request: "SELECT * FROM users WHERE id = $1",
			attrs: map[string]string{"db.system.name": "postgresql"}}}},
		{"database span with literals: normalized in its dialect", func(ctx context.Context, tr trace.Tracer) {
			_, s := tr.Start(ctx, "SELECT users", trace.WithSpanKind(trace.SpanKindClient),
				trace.WithAttributes(attribute.String("db.system", "mysql"), attribute.String("db.operation", "SELECT"),
					attribute.String("db.sql.table", "users"),
					attribute.String("db.statement", `SELECT * FROM users WHERE n = 'O''Brien' AND pw = "hunter2" # hunter3`)))
			s.End()
		}, []wantCall{{service: "sql", method: "SELECT users", request: "SELECT * FROM users WHERE n = ? AND pw = ?",
			attrs: map[string]string{"db.system.name": "mysql"}}}},
		{"redis span keeps its system, under the newer key", func(ctx context.Context, tr trace.Tracer) {
			_, s := tr.Start(ctx, "get", trace.WithSpanKind(trace.SpanKindClient),
				trace.WithAttributes(attribute.String("db.system", "redis"), attribute.String("db.operation", "get")))
			s.End()
		}, []wantCall{{service: "redis", method: "get",
			attrs: map[string]string{"db.system.name": "redis", "db.operation.name": "get", "db.system": ""}}}},
		{"http span, older conventions, secrets redacted", func(ctx context.Context, tr trace.Tracer) {
			_, s := tr.Start(ctx, "HTTP GET", trace.WithSpanKind(trace.SpanKindClient),
				trace.WithAttributes(attribute.String("http.method", "GET"),
					attribute.String("http.url", "https://user:pw@API.example.com:443/users/42?token=abc&q=1"),
					attribute.Int("http.status_code", 404)))
			s.End()
		}, []wantCall{{service: "http", method: "GET api.example.com/users/{id}",
			request: "GET https://[REDACTED]@API.example.com:443/users/42?token=[REDACTED]&q=1",
			attrs: map[string]string{"http.request.method": "GET", "http.response.status_code": "404",
				"server.address": "API.example.com", "server.port": "443",
				"url.full":    "https://[REDACTED]@API.example.com:443/users/42?token=[REDACTED]&q=1",
				"http.method": "", "http.url": "", "http.status_code": ""}}}},
		{"http span without a URL", func(ctx context.Context, tr trace.Tracer) {
			_, s := tr.Start(ctx, "POST", trace.WithSpanKind(trace.SpanKindClient),
				trace.WithAttributes(attribute.String("http.request.method", "POST"),
					attribute.String("server.address", "fe80::1"), attribute.Int("server.port", 8443),
					attribute.String("url.path", "/orders/2024-01-02/items")))
			s.End()
		}, []wantCall{{service: "http", method: "POST [fe80::1]:8443/orders/{id}/items",
			attrs: map[string]string{"server.address": "fe80::1", "server.port": "8443"}}}},
		{"grpc span named only by its span name", func(ctx context.Context, tr trace.Tracer) {
			_, s := tr.Start(ctx, "pkg.Users/Get", trace.WithSpanKind(trace.SpanKindClient),
				trace.WithAttributes(attribute.String("rpc.system.name", "grpc")))
			s.End()
		}, []wantCall{{service: "grpc", method: "/pkg.Users/Get"}}},
		{"grpc span, newer conventions, failed", func(ctx context.Context, tr trace.Tracer) {
			_, s := tr.Start(ctx, "pkg.Users/Get", trace.WithSpanKind(trace.SpanKindClient),
				trace.WithAttributes(attribute.String("rpc.system.name", "grpc"), attribute.String("rpc.method", "pkg.Users/Get")))
			s.SetAttributes(attribute.String("rpc.response.status_code", "NOT_FOUND"))
			s.SetStatus(codes.Error, "no such user")
			s.End()
		}, []wantCall{{service: "grpc", method: "/pkg.Users/Get", err: "no such user",
			// rpc.* naming attributes are in the call's name, as for grpcstats' calls
			attrs: map[string]string{"rpc.response.status_code": "NOT_FOUND", "rpc.method": "", "rpc.system.name": "", "rpc.grpc.status_code": "",
				"error.type": "_OTHER"}}}}, // the span gave no error.type
		{"grpc span, older conventions, error from exception", func(ctx context.Context, tr trace.Tracer) {
			_, s := tr.Start(ctx, "pkg.Users/List", trace.WithSpanKind(trace.SpanKindClient),
				trace.WithAttributes(attribute.String("rpc.system", "grpc"), attribute.String("rpc.service", "pkg.Users"),
					attribute.String("rpc.method", "List"), attribute.Int("rpc.grpc.status_code", 14)))
			s.RecordError(io.ErrUnexpectedEOF)
			s.SetStatus(codes.Error, "")
			s.End()
		}, []wantCall{{service: "grpc", method: "/pkg.Users/List", err: "unexpected EOF",
			// the older numeric code, by name under the newer key
			attrs: map[string]string{"rpc.response.status_code": "UNAVAILABLE", "rpc.grpc.status_code": "", "rpc.service": "", "rpc.system": ""}}}},
		{"children of a client span are its internals", func(ctx context.Context, tr trace.Tracer) {
			ctx, s := tr.Start(ctx, "fetch", trace.WithSpanKind(trace.SpanKindClient))
			_, dns := tr.Start(ctx, "dns")
			dns.End()
			s.End()
		}, []wantCall{{service: "otel", method: "fetch"}}},
		{"children of an internal span are calls", func(ctx context.Context, tr trace.Tracer) {
			ctx, s := tr.Start(ctx, "batch")
			_, c := tr.Start(ctx, "fetch", trace.WithSpanKind(trace.SpanKindClient))
			c.End()
			s.End()
		}, []wantCall{{service: "otel", method: "batch"}, {service: "otel", method: "fetch"}}},
		{"spans inside a recorded call are skipped", func(ctx context.Context, tr trace.Tracer) {
			c := recording.StartCall(ctx, "http", "GET example.com/")
			cctx := recording.ContextWithCall(ctx, c)
			cctx, s := tr.Start(cctx, "GET", trace.WithSpanKind(trace.SpanKindClient),
				trace.WithAttributes(attribute.String("http.request.method", "GET")))
			_, inner := tr.Start(cctx, "connect")
			inner.End()
			s.End()
			c.End(nil)
		}, []wantCall{{service: "http", method: "GET example.com/"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, sink, tp, _ := bridgeSetup(t)
			tr := tp.Tracer("test")
			ctx, ar := rec.StartRecord(t.Context(), recording.RequestInfo{Kind: recording.KindBackground, Path: "job"})
			tt.run(ctx, tr)
			// A span outside any recorded request is ignored.
			_, s := tr.Start(t.Context(), "unrelated")
			s.End()
			ar.Finish()
			r := finish(t, rec, sink)
			if len(r.Calls) != len(tt.want) {
				t.Fatalf("calls %+v, want %+v", r.Calls, tt.want)
			}
			for i, w := range tt.want {
				c := r.Calls[i]
				if c.Service != w.service || c.Method != w.method || c.Request != w.request || c.Error != w.err || c.Running {
					t.Errorf("call %d: %s %q request %q error %q running %v; want %+v", i, c.Service, c.Method, c.Request, c.Error, c.Running, w)
				}
				for k, v := range w.attrs {
					if got := c.Attr(k); got != v {
						t.Errorf("call %d: attr %s = %q, want %q", i, k, got, v)
					}
				}
			}
		})
	}
}

// TestBridgeOtherRecorder: a bridge bound to one recorder ignores records of
// another.
func TestBridgeOtherRecorder(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	other := recording.New()
	defer other.Close(t.Context())
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(otelexport.NewSpanProcessor(other)))
	defer tp.Shutdown(t.Context())
	ctx, ar := rec.StartRecord(t.Context(), recording.RequestInfo{Kind: recording.KindBackground, Path: "job"})
	_, s := tp.Tracer("test").Start(ctx, "compute")
	s.End()
	ar.Finish()
	if r := finish(t, rec, sink); len(r.Calls) != 0 {
		t.Errorf("calls %+v, want none", r.Calls)
	}
}
