package badgerstore

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goappstats/appstats/store/storetest"
)

// openOverTarget opens a store of opts (MaxBytes set), calls before (if
// not nil), then puts in its directory a table of twice MaxBytes that is
// not records (Badger ignores a table its manifest does not list until it
// opens again): retention can delete nothing to bring the directory back
// within its target (records written by before stay, if they take less
// than half of MaxBytes: see byteTarget).
func openOverTarget(t *testing.T, opts Options, before func(*Store)) *Store {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if before != nil {
		before(s)
	}
	if err := os.WriteFile(filepath.Join(dir, "999999.sst"), make([]byte, 2*opts.MaxBytes), 0o600); err != nil {
		t.Fatal(err)
	}
	s.measure()
	if s.overTarget() <= 0 {
		t.Fatalf("directory %d bytes, tree %d: not over the target", s.diskNow(), s.disk.lsm.Load())
	}
	return s
}

// TestRetentionBacksOff: with the directory over its target and nothing
// retention can delete, the passes that writes and the disk loop ask for
// are not run every time: after a pass at once, the next runs 1 s after
// it, then 2, 4, … s, up to maxRetentionBackoff; a pass that deleted
// something ends the backoff: the next pass runs at once and the one after
// it 1 s later. Retention's clock is the test's, stepped by
// it; the retention loop tells which asks it ran and which it skipped.
func TestRetentionBacksOff(t *testing.T) {
	base := time.Now()
	var clock atomic.Int64
	clock.Store(base.UnixNano())
	type handled struct {
		at     time.Time
		ran    bool
		passes int64
	}
	events := make(chan handled)
	done := make(chan struct{})
	opts := Options{MaxBytes: 8 << 20, MaxAge: time.Hour, RetentionInterval: time.Hour,
		now: func() time.Time { return time.Unix(0, clock.Load()) },
		retained: func(at time.Time, ran bool, passes int64) {
			select {
			case events <- handled{at, ran, passes}:
			case <-done:
			case <-t.Context().Done():
				// The test ended before it took the loop's news
				// (openOverTarget failed): Close must not wait on it.
			}
		}}
	// Records that retention deletes once the clock is past their MaxAge.
	const kept = 3
	s := openOverTarget(t, opts, func(s *Store) {
		if err := s.Write(context.Background(), storetest.Records(1, base.Add(-50*time.Minute), time.Millisecond, kept)); err != nil {
			t.Fatal(err)
		}
	})
	t.Cleanup(func() { close(done) }) // before Close: the loop must not wait on events
	if n := s.Len(); n != kept {
		t.Fatalf("%d records stored, want %d", n, kept)
	}
	// ask sets the clock to base+d, asks for a pass as Write and the disk
	// loop do, and reports how the first ask the loop handled at that time
	// went. (The disk loop asks every second too: an ask it made is
	// handled as the test's would be, the clock being the test's.)
	ask := func(d time.Duration) handled {
		t.Helper()
		at := base.Add(d)
		clock.Store(at.UnixNano())
		s.kickRetention()
		hang := time.After(time.Minute)
		for {
			select {
			case ev := <-events:
				if ev.at.Equal(at) {
					return ev
				}
			case <-hang:
				t.Fatalf("no ask handled at +%v in a minute", d)
			}
		}
	}
	var passes int64
	expect := func(d time.Duration, ran bool) {
		t.Helper()
		ev := ask(d)
		if ev.ran != ran {
			verb := map[bool]string{true: "ran", false: "skipped"}
			t.Fatalf("a pass asked for at +%v %s, want %s", d, verb[ev.ran], verb[ran])
		}
		if ran {
			passes++
		}
		if ev.passes != passes {
			t.Fatalf("at +%v: %d retention passes, want %d", d, ev.passes, passes)
		}
	}
	// A pass at once; it deletes nothing.
	expect(0, true)
	expect(0, false)
	// Then 1, 2, 4 … s after the last futile pass, up to maxRetentionBackoff,
	// twice at that.
	last, wait := time.Duration(0), time.Second
	for i := 0; i < 9; i++ {
		expect(last, false)
		expect(last+wait-time.Nanosecond, false)
		last += wait
		expect(last, true)
		wait = min(2*wait, maxRetentionBackoff)
	}
	if wait != maxRetentionBackoff || last < 3*maxRetentionBackoff {
		t.Fatalf("the steps ended with a wait of %v at +%v: maxRetentionBackoff not reached", wait, last)
	}
	if n := s.Len(); n != kept {
		t.Fatalf("%d records kept at +%v, want %d (not yet past MaxAge)", n, last, kept)
	}
	// nextPass asks for passes at from, then at from+1ns and either side
	// of from+1 s, 2 s, 4 s … up to twice maxRetentionBackoff, and
	// returns the time of the first ask that ran one.
	nextPass := func(from time.Duration) time.Duration {
		t.Helper()
		steps := []time.Duration{0, time.Nanosecond}
		for w := time.Second; w <= 2*maxRetentionBackoff; w *= 2 {
			steps = append(steps, w-time.Nanosecond, w)
		}
		for _, d := range steps {
			if ev := ask(from + d); ev.ran {
				passes++
				if ev.passes != passes {
					t.Fatalf("at +%v: %d retention passes, want %d", from+d, ev.passes, passes)
				}
				return from + d
			}
		}
		t.Fatalf("no pass ran within +%v of +%v", 2*maxRetentionBackoff, from)
		return 0
	}
	// Past the records' MaxAge (and that wait): the pass deletes them.
	last += 15 * time.Minute
	expect(last, true)
	if n := s.Len(); n != 0 {
		t.Fatalf("%d records kept past MaxAge, want 0", n)
	}
	// That ends the backoff: the next ask runs a pass at once (after
	// minRetentionGap: TestRetentionGap), which deletes nothing, and the
	// pass after that runs the backoff's first wait, 1 s, after it, not
	// the doubled wait of before (maxRetentionBackoff).
	if at := nextPass(last); at != last {
		t.Fatalf("after the deleting pass at +%v, the next ran at +%v, want at once", last, at)
	}
	if at := nextPass(last); at != last+time.Second {
		t.Fatalf("after the deleting pass at +%v and a futile one at once, the next ran %v later, want 1s", last, at-last)
	}
	t.Logf("%d retention passes over +%v of the test's clock", passes, last+time.Second)
}

// TestRetentionBackoffYields: a pass asked for after a futile one is
// skipped only while the tree is as it was, no record could be deleted,
// and its wait has not passed; the wait doubles up to
// maxRetentionBackoff, and a pass that deleted something ends it.
func TestRetentionBackoffYields(t *testing.T) {
	s := openOverTarget(t, Options{MaxBytes: 8 << 20, RetentionInterval: -1}, nil)
	var b retentionBackoff
	now := time.Now()
	if b.skip(s, now) {
		t.Fatal("skipped with no pass before")
	}
	b.done(s, RetentionResult{}, now)
	if !b.skip(s, now.Add(b.wait/2)) {
		t.Errorf("after a futile pass, a pass asked for at once is not skipped")
	}
	if b.skip(s, now.Add(b.wait)) {
		t.Errorf("a pass asked for %v after a futile pass is skipped, its wait passed", b.wait)
	}
	// The tree changed: Badger's compactions may have made room.
	lsm := s.disk.lsm.Load()
	s.disk.lsm.Store(lsm + 1)
	if b.skip(s, now) {
		t.Errorf("skipped though the tree changed")
	}
	s.disk.lsm.Store(lsm)
	// Records over the byte target: a pass would delete them.
	s.bytes.Add(s.opts.MaxBytes)
	if b.skip(s, now) {
		t.Errorf("skipped though records could be deleted")
	}
	s.bytes.Add(-s.opts.MaxBytes)
	for i := 0; i < 10; i++ {
		b.done(s, RetentionResult{}, now)
	}
	if b.wait != maxRetentionBackoff {
		t.Errorf("after 11 futile passes the wait is %v, want %v", b.wait, maxRetentionBackoff)
	}
	b.done(s, RetentionResult{Deleted: 1}, now)
	if b.skip(s, now) {
		t.Errorf("skipped after a pass that deleted records")
	}
}
