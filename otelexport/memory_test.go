package otelexport_test

import (
	"context"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"

	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
)

// liveHeap returns the bytes of live heap objects after a full GC.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestQueueBoundsMemory writes 100,000 records to an exporter whose
// collector accepts connections and never answers: the exporter keeps at
// most its queue's records (WithQueueSize) and the batch it is stuck
// exporting, and drops and counts the rest, so the live heap grows by
// less than a tenth of what the records would take, whatever their
// number.
func TestQueueBoundsMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 records")
	}
	const n, queue = 100_000, 256
	// What 2,000 such records take, kept.
	base := liveHeap()
	kept := make([]*recording.Record, 2000)
	for i := range kept {
		kept[i] = fixture(t)
	}
	perRecord := (liveHeap() - base) / uint64(len(kept))
	runtime.KeepAlive(kept)
	kept = nil

	exp, err := otelexport.NewOTLPHTTP(t.Context(), otelexport.WithQueueSize(queue), otelexport.WithExportTimeout(time.Hour),
		otelexport.WithHTTPOptions(otlptracehttp.WithEndpointURL(blackhole(t)+"/v1/traces"), otlptracehttp.WithRetry(otlptracehttp.RetryConfig{})))
	if err != nil {
		t.Fatal(err)
	}
	before := liveHeap()
	batch := make([]*recording.Record, 100)
	for range n / len(batch) {
		for i := range batch {
			batch[i] = fixture(t)
		}
		exp.Write(t.Context(), batch) // a *recording.PartialWriteError once the queue is full
	}
	clear(batch)
	after := liveHeap()
	st := exp.Stats()
	grown := int64(after) - int64(before)
	t.Logf("record ≈ %d B; heap %d → %d B (%+d B) after %d records; %+v", perRecord, before, after, grown, n, st)
	if limit := int64(perRecord) * n / 10; grown > limit {
		t.Errorf("the live heap grew by %d B after %d records, over %d B (a tenth of their %d B each): %+v", grown, n, limit, perRecord, st)
	}
	if st.Dropped < n-2*queue || st.QueueDepth > queue {
		t.Errorf("stats %+v: want all but the queue's records dropped", st)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	exp.Close(ctx)
	if st := exp.Stats(); st.Exported+st.Failed+st.Dropped != n || st.Exported != 0 {
		t.Errorf("after Close: %+v; want all %d records failed or dropped", st, n)
	}
}
