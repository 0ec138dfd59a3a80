package otelexport_test

import (
	"context"
	"runtime"
	"sync"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
)

// countExporter is a SpanExporter that accepts every span.
type countExporter struct{}

func (countExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (countExporter) Shutdown(context.Context) error                             { return nil }

// TestWriteRacingClose writes records while Close runs: every record
// Write was given is exported, dropped or counted unsampled, once, and
// none is left in the queue after Close and Write have both returned. (On
// main, records Write queued after Close had emptied the queue stayed
// there, neither exported nor counted, while Write returned nil.)
func TestWriteRacingClose(t *testing.T) {
	r := fixture(t)
	r.Calls = nil
	// Most records are of traces their caller did not sample: Write
	// passes over them as fast as the worker converts the others, so the
	// worker finds the queue empty, and stops, while Write still sends.
	skip := *r
	skip.Unsampled = true
	batch := make([]*recording.Record, 20000)
	for i := range batch {
		batch[i] = &skip
		if i%50 == 0 {
			batch[i] = r
		}
	}
	sampled := uint64(len(batch) / 50)
	for round := range 200 {
		exp := otelexport.New(countExporter{}, otelexport.WithQueueSize(len(batch)))
		var wg sync.WaitGroup
		start := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_ = exp.Write(context.Background(), batch)
		}()
		close(start)
		for range round % 20 * 10 {
			runtime.Gosched()
		}
		_ = exp.Close(context.Background())
		wg.Wait()
		st := exp.Stats()
		// Write drops every record of a batch it is given once closed,
		// the unsampled ones too.
		if st.Exported+st.Dropped+st.Failed+st.Unsampled != uint64(len(batch)) || st.QueueDepth != 0 {
			t.Fatalf("round %d: %d sampled records written, Exported %d + Dropped %d + Failed %d = %d (Unsampled %d), %d left in the queue",
				round, sampled, st.Exported, st.Dropped, st.Failed, st.Exported+st.Dropped+st.Failed, st.Unsampled, st.QueueDepth)
		}
	}
}
