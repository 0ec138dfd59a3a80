package otelexport_test

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
)

type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

// BenchmarkExport measures the sustained cost per record (5 calls): Write
// queues it, the worker converts it to spans and hands them to an exporter
// that discards them; when the queue is full the benchmark waits for the
// worker (ForceFlush) and writes again, so the figure is the worker's
// throughput, not just Write's. "dropped" counts the writes that found the
// queue full.
func BenchmarkExport(b *testing.B) {
	exp := otelexport.New(discardExporter{}, otelexport.WithServiceName("bench"))
	r := fixture(b)
	batch := []*recording.Record{r}
	b.ReportAllocs()
	for b.Loop() {
		for exp.Write(context.Background(), batch) != nil {
			exp.ForceFlush(context.Background()) // queue full: let the worker catch up
		}
	}
	exp.Close(context.Background())
	b.ReportMetric(float64(exp.Stats().Dropped), "dropped")
}

// BenchmarkBridgeSpan measures a span started and ended under a recorded
// request with the bridge installed, against the same span without it.
func BenchmarkBridgeSpan(b *testing.B) {
	for _, bridged := range []bool{false, true} {
		name := "sdk-only"
		if bridged {
			name = "bridged"
		}
		b.Run(name, func(b *testing.B) {
			rec := recording.New(recording.WithMaxCalls(1 << 30))
			defer rec.Close(context.Background())
			var opts []sdktrace.TracerProviderOption
			if bridged {
				opts = append(opts, sdktrace.WithSpanProcessor(otelexport.NewSpanProcessor(rec)))
			}
			tp := sdktrace.NewTracerProvider(opts...)
			defer tp.Shutdown(context.Background())
			tr := tp.Tracer("bench")
			ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: "bench"})
			b.ReportAllocs()
			for b.Loop() {
				_, s := tr.Start(ctx, "op", trace.WithSpanKind(trace.SpanKindClient))
				s.End()
			}
			b.StopTimer()
			ar.Finish()
		})
	}
}
