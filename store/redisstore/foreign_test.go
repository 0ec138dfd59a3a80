package redisstore_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// A key of one hour that another program set to a value of another type
// (a string where the store keeps a sorted set, hash or list) is that
// hour's damage alone: List, Stats and Series answer from the other hours,
// and retention still runs, and deletes the hour when the limits say, key
// and all. Before, List, Stats and Series failed (WRONGTYPE) for every
// window that touched the hour, and retention failed every pass.
func TestForeignKeyOfAnotherType(t *testing.T) {
	r := testservers.StartRedis(t)
	ctx := context.Background()
	c := clientOf(t, r.Addr)
	now := time.Now()
	// The damaged hour is three hours back, the good one is this hour.
	old := now.Add(-3 * time.Hour).Truncate(time.Hour).Add(10 * time.Minute)
	recent := now.Add(-time.Minute)
	for _, suffix := range []string{"s", "u", "d"} { // summaries, rollups, deltas
		t.Run(suffix, func(t *testing.T) {
			prefix := "foreign-" + suffix
			s := openAt(t, "redis://"+r.Addr, redisstore.Options{Prefix: prefix, FoldInterval: -1, RetentionInterval: -1, MaxRecords: 15})
			if err := s.Write(ctx, storetest.Records(1, old, time.Second, 10)); err != nil {
				t.Fatal(err)
			}
			if err := s.Write(ctx, storetest.Records(2, recent, time.Millisecond, 20)); err != nil {
				t.Fatal(err)
			}
			key := "{" + prefix + ":" + strconv.FormatInt(old.Unix()/3600, 10) + "}:" + suffix
			if err := c.Set(ctx, key, "another program's", 0).Err(); err != nil {
				t.Fatal(err)
			}
			p, err := s.List(ctx, store.Query{Limit: 100})
			if err != nil || len(p.Records) < 20 {
				t.Errorf("List = %d records, %v; want at least this hour's 20", len(p.Records), err)
			}
			w := store.Window{Since: now.Add(-4 * time.Hour), Until: now}
			if st, err := s.Stats(ctx, w); err != nil || st.Requests < 20 {
				t.Errorf("Stats = %d requests, %v; want at least this hour's 20", requests(st), err)
			}
			if b, err := s.Series(ctx, w, time.Hour); err != nil || len(b) == 0 {
				t.Errorf("Series = %d buckets, %v", len(b), err)
			}
			// Counted once, though List, Stats and Series each met it.
			if h := s.Health(); h.Skipped != 1 {
				t.Errorf("Health = %+v, want the damaged key counted once in Skipped", h)
			}
			// Retention keeps 15 records: the damaged hour (the oldest) goes
			// whole, and 5 of this hour's.
			res, err := s.Retain(ctx)
			if err != nil || !res.Ran || res.Hours != 1 {
				t.Errorf("Retain = %+v, %v; want the damaged hour deleted", res, err)
			}
			if n, err := c.Exists(ctx, key).Result(); err != nil || n != 0 {
				t.Errorf("the foreign key is still there (%d, %v)", n, err)
			}
			if p, err := s.List(ctx, store.Query{Limit: 100}); err != nil || len(p.Records) != 15 {
				t.Errorf("List after retention = %d records, %v; want 15", len(p.Records), err)
			}
			if st, err := s.Stats(ctx, w); err != nil || st.Requests < 15 {
				t.Errorf("Stats after retention = %d requests, %v", requests(st), err)
			}
		})
	}
}

// requests returns st's requests, or -1 for no stats.
func requests(st *store.Stats) int64 {
	if st == nil {
		return -1
	}
	return int64(st.Requests)
}

// An hour's size counter that another program set to a string that is no
// integer is that hour's damage too: retention folds around it and deletes
// the hour whole in its turn. Before, its fold failed (INCRBY: not an
// integer) and so did every retention pass, for the whole store.
func TestForeignSizeCounter(t *testing.T) {
	s, r, ctx := startStore(t, redisstore.Options{Prefix: "foreign-size", FoldInterval: -1, RetentionInterval: -1, MaxRecords: 15})
	c := clientOf(t, r.Addr)
	now := time.Now()
	old := now.Add(-3 * time.Hour).Truncate(time.Hour).Add(10 * time.Minute)
	if err := s.Write(ctx, storetest.Records(1, old, time.Second, 10)); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, storetest.Records(2, now.Add(-time.Minute), time.Millisecond, 20)); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, hourKey("foreign-size", old, "b"), "another program's", 0).Err(); err != nil {
		t.Fatal(err)
	}
	res, err := s.Retain(ctx)
	if err != nil || !res.Ran || res.Hours != 1 {
		t.Errorf("Retain = %+v, %v; want the damaged hour deleted", res, err)
	}
	if p, err := s.List(ctx, store.Query{Limit: 100}); err != nil || len(p.Records) != 15 {
		t.Errorf("List after retention = %d records, %v; want 15", len(p.Records), err)
	}
}

// Another program's value at the global ids hash costs the records whose
// ID's time is in another hour than their start (the recorder makes none)
// alone: Get finds every other record, retention runs, and writes store
// their records. Before, every Get failed (WRONGTYPE), and so did every
// retention pass.
func TestForeignIDsKey(t *testing.T) {
	s, r, ctx := startStore(t, redisstore.Options{Prefix: "foreign-ids", FoldInterval: -1, RetentionInterval: -1, MaxRecords: 5})
	c := clientOf(t, r.Addr)
	recs := storetest.Records(1, time.Now().Add(-time.Minute), time.Millisecond, 10)
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "foreign-ids:ids", "another program's", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, recs[9].ID); err != nil {
		t.Errorf("Get: %v", err)
	}
	if res, err := s.Retain(ctx); err != nil || res.Deleted != 5 {
		t.Errorf("Retain = %+v, %v; want 5 deleted", res, err)
	}
	if h := s.Health(); h.Skipped != 1 {
		t.Errorf("Health = %+v; want the foreign key counted once in Skipped", h)
	}
}
