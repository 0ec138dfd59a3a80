package badgerstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/badgerstore"
	"github.com/goappstats/appstats/store/storetest"
)

// TestRewrittenRecordListedOnce writes again, with the same ID, records
// the budget held in the ring: one now failed, so persisted, and one still
// over budget, so held twice. List shows each once, and Get returns the
// persisted version.
func TestRewrittenRecordListedOnce(t *testing.T) {
	ctx := context.Background()
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	recs := storetest.Records(5, start, time.Microsecond, 50)
	for _, r := range recs {
		r.Route, r.Status, r.Error, r.Panic = "GET /x", 200, "", ""
		r.Duration = time.Millisecond
		for i := range r.Calls {
			r.Calls[i].Error = ""
		}
	}
	s, err := badgerstore.Open(t.TempDir(), badgerstore.Options{RecordBudget: 2, RetentionInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	x := *recs[10] // over budget: in the ring only
	x.Status = 500 // rewritten, failed now: persisted
	y := *recs[11] // over budget again: held twice
	if err := s.Write(ctx, []*recording.Record{&x, &y}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, sum := range storetest.ListAll(t, s, store.Query{Limit: 7}) {
		seen[sum.ID.String()]++
	}
	for _, r := range recs {
		if n := seen[r.ID.String()]; n != 1 {
			t.Errorf("record %s listed %d times", r.ID, n)
		}
	}
	if got, err := s.Get(ctx, x.ID); err != nil || got.Status != 500 {
		t.Errorf("Get(%s) = status %v, %v; want the persisted version, status 500", x.ID, got, err)
	}
}
