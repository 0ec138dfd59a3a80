package recording

import (
	"math"
	"testing"
)

// TestQueueAndBatchCaps: a queue size past maxQueueSize is cut to it, and a
// batch size to the queue's, so that New allocates no more than the cap's
// slots (2³² slots, some 100 GiB with a sink, made the process die out of
// memory); sizes within the caps are kept.
func TestQueueAndBatchCaps(t *testing.T) {
	for _, tc := range []struct {
		queue, batch         int
		wantQueue, wantBatch int
	}{
		{math.MaxInt32, math.MaxInt32, maxQueueSize, maxQueueSize}, // not 1<<32, which no int holds on 32-bit platforms
		{math.MaxInt, 0, maxQueueSize, DefaultBatchSize},
		{0, math.MaxInt, DefaultQueueSize, DefaultQueueSize},
		{100, 1000, 100, 100},
		{maxQueueSize, 5000, maxQueueSize, 5000},
		{0, 0, DefaultQueueSize, DefaultBatchSize},
	} {
		c := newConfig([]Option{WithQueueSize(tc.queue), WithBatch(tc.batch, 0)})
		if c.queueSize != tc.wantQueue || c.batchSize != tc.wantBatch {
			t.Errorf("WithQueueSize(%d), WithBatch(%d): queue %d, batch %d; want %d and %d",
				tc.queue, tc.batch, c.queueSize, c.batchSize, tc.wantQueue, tc.wantBatch)
		}
	}
}

// TestMaxCallsCap: WithMaxCalls past math.MaxInt32 is cut to it, since a
// record counts its calls in 32 bits; smaller limits are kept.
func TestMaxCallsCap(t *testing.T) {
	for _, tc := range []struct{ n, want int }{
		{math.MaxInt, math.MaxInt32},
		{math.MaxInt32, math.MaxInt32},
		{math.MaxInt32 - 1, math.MaxInt32 - 1},
		{5, 5},
		{0, DefaultMaxCalls},
		{-1, DefaultMaxCalls},
	} {
		if c := newConfig([]Option{WithMaxCalls(tc.n)}); c.maxCalls != tc.want {
			t.Errorf("WithMaxCalls(%d): %d, want %d", tc.n, c.maxCalls, tc.want)
		}
	}
}
