package recording_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/goappstats/appstats/recording"
)

// TestCloseCancelsStalledSink: a Close whose context ends while a sink is
// stuck in a Write cancels that Write's context at once and returns when
// the sink has returned, with the context's error, not at the end of the
// grace it gives a sink that ignores its context. The recorder runs in a
// synctest bubble, whose clock moves only when every goroutine in it is
// blocked: Close takes exactly its deadline by that clock.
func TestCloseCancelsStalledSink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var in, cancelled atomic.Bool
		stalled := recording.SinkFunc(func(ctx context.Context, _ []*recording.Record) error {
			in.Store(true)
			<-ctx.Done()
			cancelled.Store(true)
			return ctx.Err()
		})
		rec := recording.New(recording.WithSinks(stalled), recording.WithBatch(1, time.Millisecond), recording.WithSinkTimeout(time.Hour))
		_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
		ar.Finish()
		time.Sleep(time.Millisecond) // the batch interval: the record goes to the sink
		synctest.Wait()
		if !in.Load() {
			t.Fatal("the record did not reach the sink")
		}
		const deadline = 100 * time.Millisecond
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		start := time.Now()
		if err := rec.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Close with a stalled sink = %v, want its deadline exceeded", err)
		}
		if took := time.Since(start); took != deadline || !cancelled.Load() {
			t.Fatalf("Close returned after %v by the bubble's clock, the sink cancelled: %v; want %v, cancelled", took, cancelled.Load(), deadline)
		}
	})
}
