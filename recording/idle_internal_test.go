package recording

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
	}
}

// TestIdleRecorderStopsTicking checks that a recorder with nothing to
// write stops its preparer's ticker, so that an idle app is not woken
// every batch interval: once idle, fifty intervals pass without a tick.
// And that the next record, one alone (less than a batch), wakes the
// preparer and reaches the sink, after which the recorder goes idle again.
// The recorder runs in a synctest bubble: its time is fake and passes only
// when every goroutine in it is blocked, and synctest.Wait returns once
// they all are, so a tick that was due has been taken by then.
func TestIdleRecorderStopsTicking(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const interval = time.Millisecond
		var got atomic.Int64
		r := New(WithSinks(borrowingSink{func(*Record) { got.Add(1) }}), WithBatch(128, interval))
		defer r.Close(context.Background())
		for round := 1; round <= 3; round++ {
			_, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: "/idle"})
			ar.Finish()
			// It goes at the next tick: in rounds 2 and 3, of the
			// ticker that the record's kick started again.
			time.Sleep(interval)
			synctest.Wait()
			if n := got.Load(); n != int64(round) {
				t.Fatalf("round %d: %d records written, want %d", round, n, round)
			}
			// A whole interval with nothing queued: then it stops.
			ticks := r.ticks.Load()
			for i := 0; !r.idle.Load(); i++ {
				if i == 3 {
					t.Fatalf("round %d: not idle after %d ticks with nothing queued", round, r.ticks.Load()-ticks)
				}
				time.Sleep(interval)
				synctest.Wait()
			}
			ticks = r.ticks.Load()
			time.Sleep(50 * interval)
			synctest.Wait()
			if n := r.ticks.Load() - ticks; n != 0 {
				t.Fatalf("round %d: the idle recorder's preparer woke for %d ticks in 50 intervals; want none", round, n)
			}
		}
	})
}

// TestIdleRecorderWakesForEveryRecord records from several goroutines in
// bursts separated by pauses longer than the batch interval, so that the
// preparer goes idle between them and requests race its going idle, and
// checks that every record reaches the sink (none stays queued behind a
// stopped ticker) before Close, and that Stats agrees.
func TestIdleRecorderWakesForEveryRecord(t *testing.T) {
	const interval = 200 * time.Microsecond
	var got atomic.Int64
	r := New(WithSinks(borrowingSink{func(*Record) { got.Add(1) }}), WithBatch(16, interval))
	defer r.Close(t.Context())
	want := int64(0)
	for burst := range 40 {
		var wg sync.WaitGroup
		for g := range 1 + burst%4 {
			wg.Go(func() {
				for range 1 + g*burst%5 {
					_, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: "/burst"})
					ar.Finish()
				}
			})
			want += int64(1 + g*burst%5)
		}
		wg.Wait()
		waitFor(t, "the burst's records written", func() bool { return got.Load() == want })
		if burst%3 == 0 {
			waitFor(t, "the recorder idle", r.idle.Load)
		}
	}
	if st := r.Stats(); st.Recorded != uint64(want) || st.Written != uint64(want) || st.Dropped != 0 {
		t.Fatalf("Stats: recorded %d, written %d, dropped %d; want %d, %d, 0", st.Recorded, st.Written, st.Dropped, want, want)
	}
}
