package otelexport_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.uber.org/goleak"

	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
)

// No goroutine of an OTLP exporter is left running after Close, its
// connections' included, while the collector it sent to stays up: the
// connections otlptracehttp pools would otherwise live on, idle, for
// 90 s, with a read and a write goroutine each (and the collector's
// goroutine serving them).
func TestCloseLeavesNoConnection(t *testing.T) {
	for _, proto := range []string{"http", "grpc"} {
		t.Run(proto, func(t *testing.T) {
			var r receiver
			var addr string
			if proto == "http" {
				addr = startHTTPReceiver(t, &r)
			} else {
				addr = startGRPCReceiver(t, &r)
			}
			before := goleak.IgnoreCurrent() // the collector's own goroutines
			var e *otelexport.Exporter
			var err error
			if proto == "http" {
				e, err = otelexport.NewOTLPHTTP(context.Background(), otelexport.WithHTTPOptions(
					otlptracehttp.WithEndpoint(addr), otlptracehttp.WithInsecure()))
			} else {
				e, err = otelexport.NewOTLPGRPC(context.Background(), otelexport.WithGRPCOptions(
					otlptracegrpc.WithEndpoint(addr), otlptracegrpc.WithInsecure()))
			}
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				if err := e.Write(context.Background(), []*recording.Record{fixture(t)}); err != nil {
					t.Fatal(err)
				}
				if err := e.ForceFlush(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if err := e.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if st := e.Stats(); st.Exported != 3 || len(r.Spans()) == 0 {
				t.Fatalf("stats %+v, %d spans received; want 3 records exported", st, len(r.Spans()))
			}
			if err := goleak.Find(before); err != nil {
				t.Errorf("goroutines left after Close, the collector still up: %v", err)
			}
		})
	}
}
