package redisstore_test

import (
	"testing"
	"time"

	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// Another program's value at a lease key (an hour's fold lease, or the
// retention lease), which has no expiry where the store's leases all have
// one, no longer stops folding or retention for good: it is deleted,
// counted in Skipped, and the lease taken. Before, the fold of the hour
// and every retention pass saw the lease held by another process,
// forever.
func TestForeignLeaseKeys(t *testing.T) {
	s, r, ctx := startStore(t, redisstore.Options{Prefix: "lease", FoldInterval: -1, RetentionInterval: -1, MaxRecords: 5})
	c := clientOf(t, r.Addr)
	now := time.Now()
	if err := s.Write(ctx, storetest.Records(1, now.Add(-time.Minute), time.Millisecond, 10)); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, hourKey("lease", now.Add(-time.Minute), "f"), "another program's", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "lease:retain", "another program's", 0).Err(); err != nil {
		t.Fatal(err)
	}
	res, err := s.Retain(ctx)
	if err != nil || !res.Ran || res.Deleted != 5 || res.Folded != 1 {
		t.Errorf("Retain = %+v, %v; want it run, the hour folded, 5 deleted", res, err)
	}
	if n, err := s.Pending(ctx); err != nil || n != 0 {
		t.Errorf("Pending = %d, %v; want the deltas folded", n, err)
	}
	if h := s.Health(); h.Skipped != 2 {
		t.Errorf("Health = %+v; want the two foreign leases counted in Skipped", h)
	}
	if p, err := s.List(ctx, store.Query{}); err != nil || len(p.Records) != 5 {
		t.Errorf("List = %d records, %v; want 5", len(p.Records), err)
	}
}
