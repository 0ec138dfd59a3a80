package recording

import (
	"context"
	"testing"
	"time"
)

// forceFlush waits until r has handed every record finished so far to its
// sinks, failing the test if that takes a minute.
func forceFlush(t *testing.T, r *Recorder) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := r.ForceFlush(ctx); err != nil {
		t.Fatalf("ForceFlush: %v (%+v)", err, r.Stats())
	}
}

// backInPool flushes r, whose sinks borrow records, and checks that the
// record of request i (the only one in flight) is back in its pool.
func backInPool(t *testing.T, r *Recorder, i int) {
	t.Helper()
	forceFlush(t, r)
	r.pool.mu.Lock()
	n := len(r.pool.reserve)
	r.pool.mu.Unlock()
	if n == 0 {
		t.Fatalf("request %d: its record did not come back to the pool", i)
	}
}
