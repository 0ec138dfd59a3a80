package otelexport_test

import (
	"context"
	"sync/atomic"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
)

// gateExporter counts its exports, each of which waits for gate.
type gateExporter struct {
	gate    chan struct{}
	exports atomic.Int32
}

func (g *gateExporter) ExportSpans(ctx context.Context, _ []sdktrace.ReadOnlySpan) error {
	g.exports.Add(1)
	select {
	case <-g.gate:
	case <-ctx.Done():
	}
	return nil
}
func (*gateExporter) Shutdown(context.Context) error { return nil }

// TestForceFlushNothingPending: a ForceFlush with nothing written, or
// everything written exported already, returns nil whatever its ctx, a
// cancelled one too (it picked the worker or ctx at random: nil or
// context.Canceled); one with records still pending and its ctx done
// returns ctx's error.
func TestForceFlushNothingPending(t *testing.T) {
	g := &gateExporter{gate: make(chan struct{})}
	e := otelexport.New(g)
	defer e.Close(context.Background())
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range 200 {
		if err := e.ForceFlush(done); err != nil {
			t.Fatalf("flush %d of an exporter given nothing, with ctx done: %v", i, err)
		}
	}
	r := fixture(t)
	// Pending: the worker waits in the export at the gate.
	if err := e.Write(context.Background(), []*recording.Record{r}); err != nil {
		t.Fatal(err)
	}
	if err := e.ForceFlush(done); err != context.Canceled {
		t.Errorf("flush with a record being exported, ctx done: %v, want context.Canceled", err)
	}
	close(g.gate)
	if err := e.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := e.Stats(); s.Exported != 1 {
		t.Fatalf("stats %+v", s)
	}
	for i := range 200 {
		if err := e.ForceFlush(done); err != nil {
			t.Fatalf("flush %d after the export, with ctx done: %v", i, err)
		}
	}
	// Unsampled and nil records are not pending.
	u := *r
	u.Unsampled = true
	if err := e.Write(context.Background(), []*recording.Record{&u, nil}); err != nil {
		t.Fatal(err)
	}
	if err := e.ForceFlush(done); err != nil {
		t.Errorf("flush after unsampled and nil records, with ctx done: %v", err)
	}
}
