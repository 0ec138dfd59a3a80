package middleware_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/goappstats/appstats/middleware"
	"github.com/goappstats/appstats/recording"
)

var hello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, "hello")
})

// discardExporter drops spans, as the discarding sink drops records.
type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

// otelProvider is the comparison DESIGN.md names: the SDK tracer, always
// sampling, a batch span processor, an exporter that discards.
func otelProvider(b *testing.B) *sdktrace.TracerProvider {
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithBatcher(discardExporter{}),
	)
	b.Cleanup(func() { tp.Shutdown(context.Background()) })
	return tp
}

func discardRecorder(b *testing.B, opts ...recording.Option) *recording.Recorder {
	sink := recording.SinkFunc(func(context.Context, []*recording.Record) error { return nil })
	rec := recording.New(append([]recording.Option{recording.WithSinks(sink), recording.WithQueueSize(1 << 14)}, opts...)...)
	b.Cleanup(func() { rec.Close(context.Background()) })
	return rec
}

func serve(b *testing.B, h http.Handler) {
	req := httptest.NewRequest("GET", "/hello?x=1", nil)
	req.Header.Set("User-Agent", "bench")
	req.Header.Set("Accept", "*/*")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}

// BenchmarkMiddleware compares, in one run, the hello handler bare, wrapped
// by appstats (100% sampled, real pipeline, discarding sink), at 1% sampling,
// unsampled, and wrapped by otelhttp.
func BenchmarkMiddleware(b *testing.B) {
	b.Run("bare", func(b *testing.B) { serve(b, hello) })
	b.Run("appstats", func(b *testing.B) { serve(b, middleware.Handler(discardRecorder(b), hello)) })
	b.Run("appstats-1pct", func(b *testing.B) {
		serve(b, middleware.Handler(discardRecorder(b, recording.WithSampleRate(0.01)), hello))
	})
	b.Run("appstats-unsampled", func(b *testing.B) {
		serve(b, middleware.Handler(discardRecorder(b, recording.WithSampleRate(0)), hello))
	})
	b.Run("otelhttp", func(b *testing.B) {
		serve(b, otelhttp.NewHandler(hello, "hello", otelhttp.WithTracerProvider(otelProvider(b)),
			otelhttp.WithPropagators(propagation.TraceContext{})))
	})
}

// BenchmarkCallVsSpan compares one recorded call (with its stack) to one
// OTel span started and ended under a recorded/traced parent.
func BenchmarkCallVsSpan(b *testing.B) {
	b.Run("appstats-call", func(b *testing.B) {
		rec := discardRecorder(b)
		b.ReportAllocs()
		ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{})
		for i := 0; i < b.N; i++ {
			if i%500 == 499 {
				b.StopTimer()
				ar.Finish()
				ctx, ar = rec.StartRecord(context.Background(), recording.RequestInfo{})
				b.StartTimer()
			}
			recording.StartCall(ctx, "svc", "Method").End(nil)
		}
		ar.Finish()
	})
	b.Run("otel-span", func(b *testing.B) {
		tr := otelProvider(b).Tracer("bench")
		ctx, parent := tr.Start(context.Background(), "parent")
		defer parent.End()
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_, sp := tr.Start(ctx, "svc.Method")
			sp.End()
		}
	})
}
