package badgerstore

import (
	"context"
	"testing"
	"time"

	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/storetest"
)

// statsAgree checks that Stats and Series count what List shows (want
// records, all of damagedIndexDir's minute) in a window of that minute and
// in one of whole hours around it, overall and by route.
func statsAgree(t *testing.T, s *Store, start time.Time, want int, when string) {
	t.Helper()
	ctx := context.Background()
	for _, w := range []store.Window{
		{Since: start.Add(-time.Minute), Until: start.Add(2 * time.Minute)},
		{Since: start.Add(-3 * time.Hour), Until: time.Now().Add(time.Minute)},
	} {
		st, err := s.Stats(ctx, w)
		if err != nil {
			t.Fatalf("%s: Stats: %v", when, err)
		}
		var routes int64
		for _, r := range st.Routes {
			routes += r.Requests
		}
		if st.Requests != int64(want) || routes != int64(want) {
			t.Errorf("%s: Stats over %v counts %d requests, %d by route; List shows %d", when, w.Until.Sub(w.Since), st.Requests, routes, want)
		}
		buckets, err := s.Series(ctx, w, time.Minute)
		if err != nil {
			t.Fatalf("%s: Series: %v", when, err)
		}
		var n int64
		for _, b := range buckets {
			n += b.Requests
		}
		if n != int64(want) {
			t.Errorf("%s: Series over %v counts %d requests; List shows %d", when, w.Until.Sub(w.Since), n, want)
		}
	}
}

// TestIndexBlockDamagedStats: once a read finds an index block damaged, its
// records, which List and Get can no longer show, leave Stats and Series
// too (their minute's and hour's rollups counted them): at once, after the
// fold that marks those rollups, and after a reopen, before any read finds
// the block again. Records written later into the same minute count. (CI
// saw api/records list 2126 records while api/stats counted 2254, the
// flipped byte of internal/faults' TestCorruptStore having landed in an
// index block.)
func TestIndexBlockDamagedStats(t *testing.T) {
	dir, all := damagedIndexDir(t)
	start := all[0][0].Start
	s, err := Open(dir, blockOpts())
	if err != nil {
		t.Fatal(err)
	}
	findDamaged(t, s, all)
	statsAgree(t, s, start, 20, "found")
	if _, err := s.Retain(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.pmu.RLock()
	left := len(s.lost)
	s.pmu.RUnlock()
	if left != 0 {
		t.Errorf("after a retention pass's fold, %d lost minutes still only in memory", left)
	}
	statsAgree(t, s, start, 20, "marked")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, blockOpts())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	statsAgree(t, s, start, 20, "reopened")
	// More records in the same minute, folded into the marked rollups.
	more := storetest.Records(9, start.Add(30*time.Second), time.Millisecond, 5)
	if err := s.Write(context.Background(), more); err != nil {
		t.Fatal(err)
	}
	if n := len(listIDs(t, s, store.Query{})); n != 25 {
		t.Fatalf("List: %d records, want 25", n)
	}
	statsAgree(t, s, start, 25, "written again")
	if err := s.fold(); err != nil {
		t.Fatal(err)
	}
	statsAgree(t, s, start, 25, "folded")
}

// TestIndexBlockDamagedStatsAtOpen: a damaged index block that Open's count
// of the records finds (after a crash, or a directory whose count was not
// saved) leaves Stats and Series at once, before any read finds it.
func TestIndexBlockDamagedStatsAtOpen(t *testing.T) {
	dir, all := damagedIndexDir(t)
	s := recount(t, dir, blockOpts())
	defer s.Close()
	statsAgree(t, s, all[0][0].Start, 20, "counted at Open")
}

// TestLostMinuteOverBudget: a minute whose records were not all persisted
// (over the storage budget) keeps counting its requests when one of its
// index blocks is found damaged: its rollup counts requests no summary
// holds, so counting it from summaries would drop them all (a review saw
// 3000 requests fall to 1086 for 62 records lost). Stats loses at most the
// records List no longer shows.
func TestLostMinuteOverBudget(t *testing.T) {
	ctx := context.Background()
	start := time.Now().Add(-2 * time.Hour).Truncate(time.Minute).Add(10 * time.Second)
	recs := storetest.Records(7, start, 2*time.Millisecond, 3000) // 6 s, one minute
	s, err := Open(t.TempDir(), Options{RecordBudget: 10, RingBytes: -1, RetentionInterval: -1, MaxAge: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < len(recs); i += 100 {
		if err := s.Write(ctx, recs[i:i+100]); err != nil {
			t.Fatal(err)
		}
	}
	w := store.Window{Since: start.Add(-time.Minute), Until: start.Add(2 * time.Minute)}
	st, err := s.Stats(ctx, w)
	if err != nil || st.Requests != int64(len(recs)) {
		t.Fatalf("Stats = %d requests, %v; want %d", st.Requests, err, len(recs))
	}
	listed := len(listIDs(t, s, store.Query{}))
	keys := prefixKeys(t, s, pIndex)
	if listed >= len(recs) || len(keys) < 3 {
		t.Fatalf("%d of %d records listed in %d index blocks: the budget should have kept some out", listed, len(recs), len(keys))
	}
	setValue(t, s, keys[len(keys)/2], []byte{tagBlock, blockV1, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3})
	lost := listed - len(listIDs(t, s, store.Query{}))
	if lost == 0 {
		t.Fatal("the damaged index block lost no record from List")
	}
	for _, when := range []string{"found", "folded"} {
		st, err := s.Stats(ctx, w)
		if err != nil || st.Requests < int64(len(recs)-lost) {
			t.Errorf("%s: Stats = %d requests, %v; want at least %d (%d records no longer listed)", when, st.Requests, err, len(recs)-lost, lost)
		}
		if err := s.fold(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLostMinuteTrimmedOrCleared: a lost minute whose rollups retention
// deleted, or a Clear, leaves nothing to mark: no minute or hour rollup is
// written back by the next fold (an hour's, kept while the hour is partly
// trimmed, would then be counted from its remaining minutes), whether the
// damage was found before the pass trimmed the minute, during it, or after
// it by a reader of an older snapshot.
func TestLostMinuteTrimmedOrCleared(t *testing.T) {
	ctx := context.Background()
	noRollups := func(t *testing.T, s *Store, when string) {
		t.Helper()
		if err := s.fold(); err != nil {
			t.Fatal(err)
		}
		s.pmu.RLock()
		n := len(s.lost)
		s.pmu.RUnlock()
		if m, h := len(prefixKeys(t, s, pMinute)), len(prefixKeys(t, s, pHour)); m+h+n != 0 {
			t.Errorf("%s: %d minute and %d hour rollups written back, %d minutes noted", when, m, h, n)
		}
	}
	t.Run("trimmed", func(t *testing.T) {
		dir, all := damagedIndexDir(t)
		start := all[0][0].Start.UnixNano()
		s, err := Open(dir, blockOpts())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		findDamaged(t, s, all)
		s.trimHook = func(at string) {
			if at == "read" {
				s.loseAt(start) // found during the pass, after its fold
			}
		}
		// Retention's clock two hours past the records' hour: the pass
		// trims their hour's rollup too, which it does only once the
		// hour has ended a minute (MaxAge) before the clock (at hh:00:30
		// of the next hour on the wall clock, it kept it).
		s.opts.MaxAge = time.Minute
		s.opts.now = func() time.Time { return time.Unix(0, start).Truncate(time.Hour).Add(2 * time.Hour) }
		if _, err := s.Retain(ctx); err != nil {
			t.Fatal(err)
		}
		s.trimHook = nil
		if s.Len() != 0 {
			t.Fatalf("Len %d after a pass past every record", s.Len())
		}
		noRollups(t, s, "trimmed")
		s.loseAt(start) // found after the pass
		noRollups(t, s, "found after the pass")
	})
	t.Run("cleared", func(t *testing.T) {
		dir, all := damagedIndexDir(t)
		s, err := Open(dir, blockOpts())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		findDamaged(t, s, all)
		if err := s.Clear(ctx); err != nil {
			t.Fatal(err)
		}
		noRollups(t, s, "cleared")
	})
}
