package otelexport_test

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// Export records as traces: here to an in-memory exporter, in production to
// an OTLP collector with NewOTLPHTTP, NewOTLPGRPC or NewFromEnv.
func Example() {
	ctx := context.Background()
	mem := tracetest.NewInMemoryExporter()
	exp := otelexport.New(mem, otelexport.WithServiceName("shop"))
	rec := recording.New(
		recording.WithSinks(exp),
		recording.WithPropagator(otelexport.NewPropagator(nil)), // W3C trace context + baggage
	)

	// What the middleware does for each request, and a wrapper for each call.
	rctx, ar := rec.StartRecord(ctx, recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/cart"})
	c := recording.StartCall(rctx, "sql", "SELECT items")
	c.SetRequest("SELECT id, qty FROM items WHERE cart = ?")
	c.End(nil)
	ar.Record().Route = "GET /cart"
	ar.Record().Status = http.StatusOK
	ar.Finish()

	rec.Close(ctx)      // hands the last records to the exporter
	exp.ForceFlush(ctx) // waits until they are exported (an *otelexport.ExportError tells of those lost)
	for _, s := range mem.GetSpans() {
		fmt.Println(s.SpanKind, s.Name, s.EndTime.Sub(s.StartTime) >= 0)
	}
	exp.Close(ctx) // shuts the span exporter down
	// Output:
	// server GET /cart true
	// client SELECT items true
}

// Send records to the collector named by the standard environment variables,
// such as OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318.
func ExampleNewFromEnv() {
	ctx := context.Background()
	exp, err := otelexport.NewFromEnv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	var sinks []recording.Sink
	if exp != nil { // nil when no endpoint is configured
		defer exp.Close(ctx)
		sinks = append(sinks, exp)
	}
	rec := recording.New(recording.WithSinks(sinks...))
	defer rec.Close(ctx) // runs before exp.Close: the recorder flushes into the exporter
}

// Feed spans of OpenTelemetry-instrumented libraries into the records of the
// requests that made them.
func ExampleNewSpanProcessor() {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(otelexport.NewSpanProcessor(rec)))
	client := &http.Client{Transport: otelhttp.NewTransport(nil, otelhttp.WithTracerProvider(tp))}

	// In a handler wrapped by the appstats middleware, r.Context() carries
	// the record; here one is started by hand.
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: "sync"})
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://127.0.0.1:1/unreachable", nil)
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
	}
	ar.Finish()

	tp.Shutdown(context.Background())
	rec.Close(context.Background()) // hands the last records to the sink
	for _, c := range sink.Records()[0].Calls {
		fmt.Println(c.Service, c.Method, c.Error != "") // the span, as a call of the record
	}
	// Output:
	// http GET 127.0.0.1:1/unreachable true
}
