package badgerstore_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/badgerstore"
	"github.com/goappstats/appstats/store/internal/storekit"
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
// persisted, and each route's Stored says how many. (No ring: List and
// Get find persisted records only.)
func TestRecordBudget(t *testing.T) {
	ctx := context.Background()
	start := time.Now().Add(-2 * time.Hour).Truncate(time.Minute).Add(57 * time.Second)
	recs := storetest.Records(7, start, 2*time.Millisecond, 3000)
	kept := keptByBudget(recs, 10)
	if len(kept) < 200 || len(kept) > 1500 {
		t.Fatalf("the budget keeps %d records of 3000: the test data does not exercise it", len(kept))
	}
	dir := t.TempDir()
	s, err := badgerstore.Open(dir, badgerstore.Options{RecordBudget: 10, RingBytes: -1, RetentionInterval: -1})
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
		listed := listIDs(t, s, store.Query{Limit: store.MaxLimit})
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
	s, err = badgerstore.Open(dir, badgerstore.Options{RecordBudget: 10, RingBytes: -1, RetentionInterval: -1})
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
	// The current minute, most of its records over budget, counts whole
	// in a window that ends now, and by the share of its past part in
	// one that ends a moment ago.
	now := storetest.Records(10, time.Now().Add(-50*time.Millisecond), 50*time.Microsecond, 400)
	if err := s.Write(ctx, now); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stats(ctx, store.Window{Since: m0})
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(600 + 59 + 400); st.Requests != want {
		t.Errorf("window ending now: %d requests, want %d", st.Requests, want)
	}
	bs, err := s.Series(ctx, store.Window{Since: m0, Until: time.Now().Add(time.Minute)}, 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, b := range bs {
		n += b.Requests
	}
	if want := int64(600 + 59 + 400); n < want-8 || n > want+8 {
		t.Errorf("Series in 15 s steps: %d requests, want %d give or take rounding", n, want)
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

// TestRingListAndGet writes records most of which are over budget, with a
// ring large enough for all: List pages through persisted records and
// those held in memory, newest first, under every filter, without
// repeating or skipping one; Get finds both; Clear empties the ring, and
// reopening the store leaves only the persisted ones.
func TestRingListAndGet(t *testing.T) {
	ctx := context.Background()
	start := time.Now().Add(-time.Hour).Truncate(time.Minute)
	recs := storetest.Records(12, start, 3*time.Millisecond, 1500)
	kept := keptByBudget(recs, 4)
	dir := t.TempDir()
	opts := badgerstore.Options{RecordBudget: 4, RingBytes: 16 << 20, RetentionInterval: -1}
	s, err := badgerstore.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	for i := 0; i < len(recs); i += 250 {
		if err := s.Write(ctx, recs[i:i+250]); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(kept); n < 100 || n > 1000 {
		t.Fatalf("the budget keeps %d of %d records", n, len(recs))
	}
	queries := []store.Query{
		{},
		{Route: "POST /b"},
		{ErrorsOnly: true},
		{StatusClass: 2, MinDuration: 5 * time.Millisecond},
		{Since: start.Add(time.Second), Until: start.Add(3 * time.Second)},
		{PathContains: "/p/1"},
		{TraceID: recs[700].TraceID},
		{WarningsOnly: true, Method: "GET"},
	}
	for _, q := range queries {
		want := wantList(recs, q)
		for _, limit := range []int{1, 7, 50, store.MaxLimit} {
			q.Limit = limit
			got := listIDs(t, s, q)
			if !slices.Equal(got, want) {
				t.Fatalf("List(%+v): %d records, want %d", q, len(got), len(want))
			}
		}
	}
	for _, i := range []int{0, 1, 700, 1499} {
		r, err := s.Get(ctx, recs[i].ID)
		if err != nil || r.ID != recs[i].ID || len(r.Calls) != len(recs[i].Calls) {
			t.Fatalf("Get record %d (persisted: %v): %v", i, kept[recs[i].ID], err)
		}
	}
	// Reopened, only the persisted records remain; Stats still counts
	// them all.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = badgerstore.Open(dir, opts); err != nil {
		t.Fatal(err)
	}
	if got := listIDs(t, s, store.Query{}); len(got) != len(kept) {
		t.Fatalf("after reopening: %d records listed, want the %d persisted", len(got), len(kept))
	}
	st, err := s.Stats(ctx, store.Window{Since: start.Add(-time.Minute), Until: start.Add(time.Hour)})
	if err != nil || st.Requests != int64(len(recs)) {
		t.Fatalf("after reopening: Stats counts %d, %v; want %d", st.Requests, err, len(recs))
	}
	// Clear empties the ring too.
	if err := s.Write(ctx, recs[:300]); err != nil {
		t.Fatal(err)
	}
	if err := s.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if got := listIDs(t, s, store.Query{}); len(got) != 0 {
		t.Fatalf("after Clear: %d records listed", len(got))
	}
	if _, err := s.Get(ctx, recs[299].ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after Clear: Get: %v", err)
	}
}

// wantList is what List returns for q over recs, all listed: the matches,
// newest first.
func wantList(recs []*recording.Record, q store.Query) []recording.ID {
	var sums []recording.Summary
	for _, r := range recs {
		sum := r.Summary()
		if storekit.Matches(&q, &sum) && (!q.TraceID.IsValid() || sum.TraceID == q.TraceID) {
			sums = append(sums, sum)
		}
	}
	slices.SortFunc(sums, func(a, b recording.Summary) int {
		return cmp.Or(b.Start.Compare(a.Start), bytes.Compare(b.ID[:], a.ID[:]))
	})
	out := make([]recording.ID, len(sums))
	for i := range sums {
		out[i] = sums[i].ID
	}
	return out
}

// listIDs lists every record q selects, page by page.
func listIDs(t *testing.T, s store.Store, q store.Query) []recording.ID {
	t.Helper()
	var out []recording.ID
	for _, sum := range storetest.ListAll(t, s, q) {
		out = append(out, sum.ID)
	}
	return out
}
