package otelexport

import (
	"context"
	"errors"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/goappstats/appstats/recording"
)

// TestFailedChunkFailsItsRecords: the worker hands a batch to the
// SpanExporter in chunks of at most WithBatchSpans spans, and a chunk that
// fails loses the records with spans in it, not the others: Stats counts
// as exported the records whose every span went out, and as failed the
// others. On main one failed chunk counted every record of the batch as
// failed, and none as exported.
func TestFailedChunkFailsItsRecords(t *testing.T) {
	var calls int
	started, release := make(chan struct{}), make(chan struct{})
	e := New(funcExporter{
		export: func(_ context.Context, s []sdktrace.ReadOnlySpan) error {
			calls++
			switch calls {
			case 1: // the first record's: hold the worker while the others queue
				close(started)
				<-release
			case 3:
				return errors.New("collector refused the chunk")
			}
			return nil
		},
		shutdown: func(context.Context) error { return nil },
	}, WithBatchSpans(4))
	if err := e.Write(t.Context(), []*recording.Record{testRecord(0)}); err != nil {
		t.Fatal(err)
	}
	<-started
	// 3 spans, then 5, queued while the worker waits: one batch of 8
	// spans, exported as [a a a b] and [b b b b]. The second chunk fails:
	// b is lost, a went out whole.
	if err := e.Write(t.Context(), []*recording.Record{testRecord(2), testRecord(4)}); err != nil {
		t.Fatal(err)
	}
	close(release)
	err := e.Close(t.Context())
	var lost *ExportError
	if !errors.As(err, &lost) || lost.Failed != 1 || lost.Dropped != 0 || !strings.Contains(err.Error(), "collector refused the chunk") {
		t.Fatalf("Close: %v; want an *ExportError of 1 record failed, with the chunk's error", err)
	}
	st := e.Stats()
	if calls != 3 || st.Exported != 2 || st.Spans != 4 || st.Failed != 1 || st.Errors != 1 {
		t.Errorf("%d ExportSpans calls, stats %+v; want 3 calls, 2 records (4 spans) exported, 1 failed, 1 error", calls, st)
	}
}
