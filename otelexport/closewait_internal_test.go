package otelexport

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
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
	if err := e.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
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
