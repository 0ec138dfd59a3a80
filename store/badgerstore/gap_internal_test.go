package badgerstore

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goappstats/appstats/store/storetest"
)

// TestRetentionGap: a pass asked for less than minRetentionGap after the
// last pass ended starts only when that gap has passed, by retention's
// clock; one asked for later starts at once. The clock is the test's,
// stepped by it, and so is the loop's wait: the loop tells the test how
// long it would wait, and the test ends the wait, having moved the clock
// that far. Every pass deletes a record (MaxRecords), so the backoff of
// futile passes (TestRetentionBacksOff) plays no part.
func TestRetentionGap(t *testing.T) {
	base := time.Now()
	var clock atomic.Int64
	clock.Store(base.UnixNano())
	type wait struct {
		d    time.Duration
		fire chan time.Time
	}
	type handled struct {
		at     time.Time
		ran    bool
		passes int64
	}
	waits := make(chan wait)
	events := make(chan handled)
	done := make(chan struct{})
	opts := Options{MaxRecords: 2, RetentionInterval: time.Hour,
		now: func() time.Time { return time.Unix(0, clock.Load()) },
		after: func(d time.Duration) <-chan time.Time {
			w := wait{d, make(chan time.Time, 1)}
			select {
			case waits <- w:
			case <-done: // Close ends the wait
			case <-t.Context().Done():
			}
			return w.fire
		},
		retained: func(at time.Time, ran bool, passes int64) {
			select {
			case events <- handled{at, ran, passes}:
			case <-done:
			case <-t.Context().Done():
			}
		}}
	s, err := Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	t.Cleanup(func() { close(done) }) // before Close: the loop must not wait on the test
	// MaxRecords of them at first; pass writes one more each time.
	if err := s.Write(context.Background(), storetest.Records(100, base.Add(-2*time.Minute), time.Millisecond, int(opts.MaxRecords))); err != nil {
		t.Fatal(err)
	}
	hang := func() <-chan time.Time {
		return time.After(time.Minute) // a guard, not an assert
	}
	// pass writes a record (one more than MaxRecords), sets the clock to
	// at, asks for a pass as Write does, and returns how long the loop
	// waited before the pass, by the clock, and when the pass ended.
	var seed uint64
	pass := func(at time.Time) (waited time.Duration, end time.Time) {
		t.Helper()
		seed++
		if err := s.Write(context.Background(), storetest.Records(seed, base.Add(-time.Minute), time.Millisecond, 1)); err != nil {
			t.Fatal(err)
		}
		clock.Store(at.UnixNano())
		s.kickRetention()
		guard := hang()
		select {
		case w := <-waits:
			if w.d > 0 {
				waited = w.d
				clock.Store(at.Add(w.d).UnixNano())
			}
			w.fire <- time.Time{}
		case ev := <-events:
			t.Fatalf("an ask at %v handled (ran %v) before any wait", ev.at.Sub(base), ev.ran)
		case <-guard:
			t.Fatalf("no wait asked for in a minute")
		}
		select {
		case ev := <-events:
			if !ev.ran || !ev.at.Equal(at) {
				t.Fatalf("handled an ask at +%v (ran %v), want a pass asked for at +%v", ev.at.Sub(base), ev.ran, at.Sub(base))
			}
		case <-guard:
			t.Fatalf("no pass handled in a minute")
		}
		if n := s.Len(); n != int(opts.MaxRecords) {
			t.Fatalf("%d records after a pass, want %d", n, opts.MaxRecords)
		}
		return waited, time.Unix(0, clock.Load())
	}
	// The first pass starts at once.
	if d, end := pass(base); d != 0 || !end.Equal(base) {
		t.Fatalf("the first pass waited %v and ended at +%v, want no wait", d, end.Sub(base))
	}
	// The gap the loop keeps: minRetentionGap as it is documented (a
	// shorter one lets writes over MaxBytes run passes back to back).
	const gap = 200 * time.Millisecond
	end := base
	for _, c := range []struct {
		after time.Duration // the ask, after the last pass ended
		wait  time.Duration // the loop's wait before the pass
	}{
		{0, gap},
		{time.Millisecond, gap - time.Millisecond},
		{gap / 2, gap / 2},
		{gap - time.Nanosecond, time.Nanosecond},
		{gap, 0},
		{time.Second, 0},
		{0, gap},
	} {
		at := end.Add(c.after)
		d, e := pass(at)
		if d != c.wait {
			t.Fatalf("a pass asked for %v after the last ended waited %v, want %v (minRetentionGap %v)", c.after, d, c.wait, minRetentionGap)
		}
		if want := at.Add(c.wait); !e.Equal(want) {
			t.Fatalf("clock at +%v after the pass, want +%v", e.Sub(base), want.Sub(base))
		}
		end = e
	}
}
