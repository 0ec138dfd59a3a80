package recording_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
)

// sizeSink records the length of each Write it is given, and tells
// wrote after each.
type sizeSink struct {
	mu    sync.Mutex
	sizes []int
	wrote chan struct{}
}

func (s *sizeSink) Write(_ context.Context, recs []*recording.Record) error {
	s.mu.Lock()
	s.sizes = append(s.sizes, len(recs))
	s.mu.Unlock()
	s.wrote <- struct{}{}
	return nil
}

func (s *sizeSink) got() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sizes)
}

// TestDefaultBatchWrites256: a recorder of the default batch size hands
// its sink the records of a burst 256 at a time (a store's Write costs
// about as much for 256 records as for 128: docs/BENCHMARKS.md,
// "i45-store"), and still hands on a partial batch at once when
// ForceFlush asks.
func TestDefaultBatchWrites256(t *testing.T) {
	sink := &sizeSink{wrote: make(chan struct{}, 16)}
	// An hour's interval: only a full batch, or ForceFlush, wakes the
	// writer before Close.
	rec := recording.New(recording.WithSinks(sink), recording.WithBatch(0, time.Hour))
	defer rec.Close(context.Background())
	ctx := flushCtx(t)
	for i := range 256 {
		finish(rec, fmt.Sprintf("/burst/%d", i))
	}
	select {
	case <-sink.wrote:
	case <-ctx.Done():
		t.Fatalf("no Write after 256 records; Writes so far %v", sink.got())
	}
	if got := sink.got(); !slices.Equal(got, []int{256}) {
		t.Fatalf("a burst of 256 records was written in Writes of %v records, want one of 256", got)
	}
	finish(rec, "/one")
	if err := rec.ForceFlush(ctx); err != nil {
		t.Fatalf("ForceFlush: %v", err)
	}
	if got := sink.got(); !slices.Equal(got, []int{256, 1}) {
		t.Fatalf("after one more record and ForceFlush, Writes of %v records, want 256 then 1", got)
	}
}
