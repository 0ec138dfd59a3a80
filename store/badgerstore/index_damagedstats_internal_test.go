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
