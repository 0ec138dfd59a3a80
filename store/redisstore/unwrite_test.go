package redisstore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// A write that replaces a stored record (the same ID) in an hour whose
// summaries set holds another program's value is dropped, but the stored
// record is not lost with it: Get still finds the ID (in its newest
// version: the transaction replaced the older one before unwrite could
// tell). Before, unwrite deleted the full record, and Get found nothing.
func TestUnwriteForeignSummariesReplacedID(t *testing.T) {
	s, r, ctx := startStore(t, redisstore.Options{Prefix: "unwrite-replaced", FoldInterval: -1, RetentionInterval: -1})
	c := clientOf(t, r.Addr)
	old := time.Now().Add(-3 * time.Hour).Truncate(time.Hour).Add(10 * time.Minute)
	recs := storetest.Records(1, old, time.Second, 3)
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, hourKey("unwrite-replaced", old, "s"), "another program's", 0).Err(); err != nil {
		t.Fatal(err)
	}
	again := *recs[0]
	again.Status = 599
	if err := s.Write(ctx, []*recording.Record{&again}); err == nil || errors.Is(err, redisstore.ErrUnavailable) {
		t.Errorf("Write = %v; want the record dropped for the foreign summaries, no outage", err)
	}
	got, err := s.Get(ctx, recs[0].ID)
	if err != nil {
		t.Fatalf("Get after the dropped replacement: %v; want the ID still found", err)
	}
	if got.Status != 599 && got.Status != recs[0].Status {
		t.Errorf("Get = status %d", got.Status)
	}
	if _, err := s.Get(ctx, recs[1].ID); err != nil {
		t.Errorf("Get of another record of the hour: %v", err)
	}
}

// A fold (by another process) landing between a dropped write and its
// undo does not leave the dropped records counted in the rollups: a fold
// leaves the deltas of an hour whose summaries set or records hash holds
// another program's value pending, and the undo removes the write's.
// Before, the fold moved the dropped write's delta into the rollups, the
// undo found nothing to remove, and Stats counted records never stored.
func TestUnwriteFoldBetween(t *testing.T) {
	r := testservers.StartRedis(t)
	ctx := t.Context()
	c := clientOf(t, r.Addr)
	opts := redisstore.Options{Prefix: "unwrite-fold", FoldInterval: -1, RetentionInterval: -1}
	s := openAt(t, "redis://"+r.Addr, opts)
	other := openAt(t, "redis://"+r.Addr, opts)
	now := time.Now()
	old := now.Add(-3 * time.Hour).Truncate(time.Hour).Add(10 * time.Minute)
	if err := s.Write(ctx, storetest.Records(1, old, time.Second, 5)); err != nil {
		t.Fatal(err)
	}
	if err := s.FoldAll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, hourKey("unwrite-fold", old, "s"), "another program's", 0).Err(); err != nil {
		t.Fatal(err)
	}
	folds := 0
	s.SetBeforeUnwrite(func() {
		folds++
		if err := other.FoldAll(ctx); err != nil {
			t.Errorf("FoldAll between the write and its undo: %v", err)
		}
	})
	if err := s.Write(ctx, storetest.Records(2, old.Add(time.Minute), time.Second, 3)); err == nil {
		t.Error("Write succeeded; want its records dropped")
	}
	if folds != 1 {
		t.Fatalf("the hook ran %d times, want 1", folds)
	}
	st, err := s.Stats(ctx, store.Window{Since: now.Add(-4 * time.Hour), Until: now})
	if err != nil || st.Requests != 5 {
		t.Errorf("Stats = %d requests, %v; want the 5 stored, not the 3 dropped", requests(st), err)
	}
}
