package otelexport

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Close within a collector's wait that ends after Close's deadline says
// it dropped the records for the wait (a *RetryAfterError, Dropped set)
// however late the worker comes to them: here Close's deadline has passed
// before the worker takes them (an export timeout of a nanosecond, as a
// loaded machine makes of 300 ms). It returned nil unless the worker
// reached the wait's test before Close's deadline.
func TestCloseDuringRetryAfterSaysDroppedWhenLate(t *testing.T) {
	var exports atomic.Int64
	e := New(throttling(30*time.Second, &exports), WithExportTimeout(time.Nanosecond))
	if err := e.Write(context.Background(), []*recording.Record{testRecord(1)}); err != nil {
		t.Fatal(err)
	}
	flushFailed(t, e, 1, "slow down")
	if err := e.Write(context.Background(), []*recording.Record{testRecord(1), testRecord(1)}); err != nil {
		t.Fatal(err)
	}
	err := e.Close(context.Background())
	var wait *RetryAfterError
	if !errors.As(err, &wait) || wait.Records != 2 || !wait.Dropped || !wait.Until.After(time.Now()) {
		t.Fatalf("Close within a 30 s wait, its deadline passed, returned %v; want a *RetryAfterError of 2 records dropped", err)
	}
	if s := e.Stats(); s.Dropped != 2 || s.Failed != 1 || exports.Load() != 1 {
		t.Errorf("stats %+v, %d exports; want 1 failed, 2 dropped, no export after the first", s, exports.Load())
	}
}

// The records of an export that Close's deadline cuts (a collector that
// never answers) are dropped: counted in Stats.Dropped, and in Close's
// *ExportError, which wraps context.DeadlineExceeded. The export begins
// here once Close has begun (a Write in progress, held, keeps Close
// from going on, and the records are queued as it would queue them). On
// main Close returned nil, the records counted as failed.
func TestCloseCutExportDropped(t *testing.T) {
	var exports atomic.Int64
	e := New(funcExporter{
		export: func(ctx context.Context, _ []sdktrace.ReadOnlySpan) error {
			exports.Add(1)
			<-ctx.Done() // a collector that never answers
			return ctx.Err()
		},
		shutdown: func(context.Context) error { return nil },
	}, WithExportTimeout(200*time.Millisecond))
	e.closing.RLock() // as Write does
	done := make(chan error, 1)
	go func() { done <- e.Close(context.Background()) }()
	for e.closeBy.Load() == 0 {
		runtime.Gosched()
	}
	e.pending.Add(3)
	for range 3 {
		e.q <- testRecord(1)
	}
	e.closing.RUnlock()
	err := <-done
	var lost *ExportError
	if !errors.As(err, &lost) || lost.Dropped != 3 || lost.Failed != 0 || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close: %v; want an *ExportError of 3 records dropped, wrapping context.DeadlineExceeded", err)
	}
	if s := e.Stats(); s.Dropped != 3 || s.Failed != 0 || exports.Load() != 1 {
		t.Errorf("stats %+v, %d exports; want the 3 records of the one export dropped", s, exports.Load())
	}
}
