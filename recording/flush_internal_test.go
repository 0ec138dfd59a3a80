package recording

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
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

// TestForceFlushPushHalfDone: a ForceFlush that counts a record whose push
// has moved the queue's tail but not yet written the slot (the pushing
// goroutine preempted between the two) returns once the push completes,
// not at the end of the batch interval (an hour here). The half-done push
// is made by hand: a record is queued, and its slot set back to "taken,
// not written" until ForceFlush has kicked the preparer; then the slot is
// written again and a request finishes, as the pushing request's own
// check after its push would run.
func TestForceFlushPushHalfDone(t *testing.T) {
	// In a synctest bubble, synctest.Wait returns once the preparer, the
	// ForceFlush and the sink's goroutine are all blocked: the preparer's
	// drain has stopped at the slot by then, or written past it.
	synctest.Test(t, func(t *testing.T) {
		var got atomic.Int64
		r := New(WithSinks(borrowingSink{func(*Record) { got.Add(1) }}), WithBatch(100, time.Hour))
		defer r.Close(context.Background())
		record := func() {
			_, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: "/half"})
			ar.Finish()
		}
		record()
		pos := r.q.tail.Load() - 1
		s := &r.q.slots[pos&r.q.mask]
		if s.seq.Load() != pos+1 {
			t.Fatalf("the record's slot has sequence %d; want %d (written, not yet taken)", s.seq.Load(), pos+1)
		}
		s.seq.Store(pos) // taken by a push, not yet written

		done := make(chan error, 1)
		go func() { done <- r.ForceFlush(t.Context()) }()
		synctest.Wait()
		if got.Load() != 0 {
			t.Fatalf("a record was written past a slot not yet written")
		}
		if w, n := r.flush.want.Load(), r.flush.waiters.Load(); w != pos+1 || n != 1 {
			t.Fatalf("ForceFlush wants %d with %d waiting; want %d, 1", w, n, pos+1)
		}
		if len(r.kick) != 0 {
			t.Fatal("the preparer did not take ForceFlush's kick")
		}

		s.seq.Store(pos + 1) // the push completes
		record()             // and a request's check after its push runs
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("ForceFlush = %v; want nil once the push completed", err)
			}
		case <-time.After(time.Hour - time.Second): // the bubble's clock
			t.Fatal("ForceFlush still waiting at the end of the batch interval (an hour), the push completed")
		}
		if n := got.Load(); n < 1 {
			t.Fatalf("%d records written when ForceFlush returned; want the first at least", n)
		}
	})
}
