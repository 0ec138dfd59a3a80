package otelexport_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
)

// TestNoExporterFromEnv follows the package documentation's example
// without OTEL_EXPORTER_OTLP_ENDPOINT: NewFromEnv returns a nil
// *Exporter, which the recorder takes for no sink, and whose Close has
// nothing to do. On main the recorder wrote to the nil exporter, whose
// Write panicked on every batch (a sink error; no record counted
// written), and the deferred Close panicked.
func TestNoExporterFromEnv(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	ctx := context.Background()
	exp, err := otelexport.NewFromEnv(ctx)
	if err != nil || exp != nil {
		t.Fatalf("NewFromEnv without an endpoint: %v, %v; want nil, nil", exp, err)
	}
	var stored atomic.Int64
	store := recording.SinkFunc(func(_ context.Context, recs []*recording.Record) error {
		stored.Add(int64(len(recs)))
		return nil
	})
	rec := recording.New(recording.WithSinks(store, exp))
	for name, sinks := range map[string][]recording.Sink{"side by side": {store, exp}, "in a Sequence": {recording.Sequence(store, exp)}} {
		r := recording.New(recording.WithSinks(sinks...))
		_, ar := r.StartRecord(ctx, recording.RequestInfo{Method: "GET", Path: "/"})
		ar.Finish()
		if err := r.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if st := r.Stats(); st.Written != 1 || st.SinkErrors != 0 || len(st.Sinks) != 1 {
			t.Errorf("the store and the nil exporter %s: %+v; want the record written, no sink error, one sink", name, st)
		}
	}
	func() {
		defer func() {
			if v := recover(); v != nil {
				t.Errorf("a nil exporter's methods panicked: %v", v)
			}
		}()
		if st := exp.Stats(); st != (otelexport.Stats{}) {
			t.Errorf("a nil exporter's Stats: %+v", st)
		}
		if err := exp.ForceFlush(ctx); err != nil {
			t.Errorf("a nil exporter's ForceFlush: %v", err)
		}
		if err := exp.Close(ctx); err != nil {
			t.Errorf("a nil exporter's Close: %v", err)
		}
	}()
	if err := rec.Close(ctx); err != nil {
		t.Fatal(err)
	}
}
