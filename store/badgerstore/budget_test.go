package badgerstore_test

import (
	"bytes"
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/badgerstore"
	"github.com/goappstats/appstats/store/storetest"
)

// keptByBudget returns the records a budget of n per route and second
// persists, in order: each second's first n of each route, and beyond
// them the failed ones and those slower than every one kept before.
func keptByBudget(recs []*recording.Record, n int) map[recording.ID]bool {
	type slot struct {
		route string
		sec   int64
	}
	count := map[slot]int{}
	slowest := map[slot]time.Duration{}
	kept := map[recording.ID]bool{}
	for _, r := range recs {
		k := slot{r.Route, int64(math.Floor(float64(r.Start.UnixNano()) / 1e9))}
		sum := r.Summary()
		if count[k] < n || sum.HasError() || r.Duration > slowest[k] {
			count[k]++
			slowest[k] = max(slowest[k], r.Duration)
			kept[r.ID] = true
		}
	}
	return kept
}

// TestRecordBudget writes 3,000 records in six seconds, across a minute's
// end, with a budget of 10 per route and second: every one is counted in
// Stats and Series, the ones the budget keeps (and only they) are
// persisted, and each route's Stored says how many.
func TestRecordBudget(t *testing.T) {
	ctx := context.Background()
	start := time.Now().Add(-2 * time.Hour).Truncate(time.Minute).Add(57 * time.Second)
	recs := storetest.Records(7, start, 2*time.Millisecond, 3000)
	kept := keptByBudget(recs, 10)
	if len(kept) < 200 || len(kept) > 1500 {
		t.Fatalf("the budget keeps %d records of 3000: the test data does not exercise it", len(kept))
	}
	dir := t.TempDir()
	s, err := badgerstore.Open(dir, badgerstore.Options{RecordBudget: 10, RetentionInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(recs); i += 100 {
		if err := s.Write(ctx, recs[i:i+100]); err != nil {
			t.Fatal(err)
		}
	}
	if h := s.Health(); h.OverBudget != uint64(3000-len(kept)) || h.Dropped != 0 {
		t.Errorf("Health: %d over budget, %d dropped; want %d, 0", h.OverBudget, h.Dropped, 3000-len(kept))
	}
	if s.Len() != len(kept) {
		t.Errorf("Len = %d, want %d", s.Len(), len(kept))
	}
	w := store.Window{Since: start.Add(-time.Minute), Until: start.Add(2 * time.Minute)}
	check := func(s *badgerstore.Store, what string) {
		t.Helper()
		want := storetest.ExpectStats(recs, w)
		stored := map[string]int64{}
		for _, r := range recs {
			if kept[r.ID] {
				stored[r.Route]++
			}
		}
		for i := range want.Routes {
			want.Routes[i].Stored = stored[want.Routes[i].Route]
		}
		got, err := s.Stats(ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		storetest.CompareStats(t, got, want)
		bs, err := s.Series(ctx, w, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, b := range bs {
			n += b.Requests
		}
		if n != 3000 {
			t.Errorf("%s: Series counts %d requests, want 3000", what, n)
		}
		var listed []recording.ID
		for q := (store.Query{Limit: store.MaxLimit}); ; {
			p, err := s.List(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, sum := range p.Records {
				listed = append(listed, sum.ID)
			}
			if q.Cursor = p.Next; q.Cursor == "" {
				break
			}
		}
		var persisted []recording.ID
		for _, r := range recs {
			if kept[r.ID] {
				persisted = append(persisted, r.ID)
			}
		}
		slices.SortFunc(listed, func(a, b recording.ID) int { return bytes.Compare(a[:], b[:]) })
		slices.SortFunc(persisted, func(a, b recording.ID) int { return bytes.Compare(a[:], b[:]) })
		if !slices.Equal(listed, persisted) {
			t.Errorf("%s: List returns %d records, want the %d the budget keeps", what, len(listed), len(persisted))
		}
	}
	check(s, "open")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = badgerstore.Open(dir, badgerstore.Options{RecordBudget: 10, RetentionInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check(s, "reopened")
	for _, r := range recs {
		_, err := s.Get(ctx, r.ID)
		if kept[r.ID] != (err == nil) {
			t.Fatalf("Get(%s): %v; kept by the budget: %v", r.ID, err, kept[r.ID])
		}
	}
}

// TestRecordBudgetEdges checks Stats of windows that cut a minute whose
// records were not all persisted: the minute counts by the share of it
// the window covers, and a minute whose records all were persisted counts
// exactly.
func TestRecordBudgetEdges(t *testing.T) {
	ctx := context.Background()
	m0 := time.Now().Add(-2 * time.Hour).Truncate(time.Minute)
	// Minute m0: 600 records in one second, most over budget. Minute m0+1:
	// 60 records a second apart, all within it.
	busy := storetest.Records(8, m0.Add(10*time.Second), time.Millisecond, 600)
	calm := storetest.Records(9, m0.Add(time.Minute), time.Second, 59)
	s := openTest(t, badgerstore.Options{RecordBudget: 5, RetentionInterval: -1})
	if err := s.Write(ctx, append(slices.Clone(busy), calm...)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		w     store.Window
		count int64
	}{
		{"the busy minute whole", store.Window{Since: m0, Until: m0.Add(time.Minute)}, 600},
		{"a quarter of it", store.Window{Since: m0.Add(15 * time.Second), Until: m0.Add(30 * time.Second)}, 150},
		{"its last half and the calm minute", store.Window{Since: m0.Add(30 * time.Second), Until: m0.Add(2 * time.Minute)}, 300 + 59},
		{"part of the calm minute", store.Window{Since: m0.Add(70 * time.Second), Until: m0.Add(80 * time.Second)}, int64(len(inWindow(calm, m0.Add(70*time.Second), m0.Add(80*time.Second))))},
	} {
		st, err := s.Stats(ctx, tc.w)
		if err != nil {
			t.Fatal(err)
		}
		if st.Requests != tc.count {
			t.Errorf("%s: %d requests, want %d", tc.name, st.Requests, tc.count)
		}
		var stored int64
		for _, r := range st.Routes {
			if r.Stored > r.Requests {
				t.Errorf("%s: route %s stores %d of %d", tc.name, r.Route, r.Stored, r.Requests)
			}
			stored += r.Stored
		}
		if tc.name == "part of the calm minute" && stored != tc.count {
			t.Errorf("%s: %d stored, want all %d", tc.name, stored, tc.count)
		}
	}
}

func inWindow(recs []*recording.Record, since, until time.Time) []*recording.Record {
	var out []*recording.Record
	for _, r := range recs {
		if !r.Start.Before(since) && r.Start.Before(until) {
			out = append(out, r)
		}
	}
	return out
}
