package recording_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
)

// TestHugeQueueAndBatch: the largest queue and batch sizes a caller can
// give (math.MaxInt, for "no count limit" where the queue's bytes bound
// it) make a recorder that records, where New panicked making a queue of
// math.MaxInt slots, and the sink's goroutine panicked making a batch of
// math.MaxInt records (and a size of 2³² made the process die out of
// memory, which no test here runs). The sizes are cut to the recorder's
// caps (see WithQueueSize, WithBatch).
func TestHugeQueueAndBatch(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []recording.Option
	}{
		{"batch", []recording.Option{recording.WithBatch(math.MaxInt, math.MaxInt64)}},
		{"queue and batch", []recording.Option{recording.WithQueueSize(math.MaxInt), recording.WithBatch(math.MaxInt, time.Millisecond)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &ctxSink{}
			rec := recording.New(append(tc.opts, recording.WithSinks(sink))...)
			t.Cleanup(func() { rec.Close(context.Background()) })
			for range 3 {
				requestFlushed(t, rec, "/huge")
			}
			if err := rec.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if st := rec.Stats(); st.Written != 3 || st.Dropped != 0 {
				t.Errorf("%d written, %d dropped; want 3 and 0", st.Written, st.Dropped)
			}
		})
	}
}
