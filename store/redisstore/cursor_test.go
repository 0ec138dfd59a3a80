package redisstore_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// TestListCursorFromKey: List's cursor is where the page ended in the
// summaries' order, whatever a summary says of itself. A member whose
// summary is another record's (a hostile writer to a shared Redis, or
// damage that still decodes) sent the cursor back to that record, so
// that paging from it listed the same records again, forever: appstats
// export never ended.
func TestListCursorFromKey(t *testing.T) {
	s, r, ctx := startStore(t, redisstore.Options{Prefix: "cur", FoldInterval: -1})
	start := time.Now().Add(-10 * time.Minute).Truncate(time.Hour)
	if time.Since(start) < 10*time.Minute {
		start = start.Add(-time.Hour)
	}
	recs := storetest.Records(1, start.Add(time.Minute), time.Second, 5)
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	c := clientOf(t, r.Addr)
	sums := "{cur:" + strconv.FormatInt(start.Unix()/3600, 10) + "}:s"
	members, err := c.ZRange(ctx, sums, 0, -1).Result()
	if err != nil || len(members) != 5 {
		t.Fatalf("%d members, %v", len(members), err)
	}
	// A member between the two oldest, holding the newest record's
	// summary.
	odd := members[1][:8] + string(make([]byte, 16)) + members[4][24:]
	if err := c.ZAdd(ctx, sums, redis.Z{Member: odd}).Err(); err != nil {
		t.Fatal(err)
	}
	pages, listed := 0, 0
	for q := (store.Query{Limit: 1}); ; pages++ {
		if pages == 20 {
			t.Fatalf("paging by one has not ended after %d pages (%d summaries stored)", pages, 6)
		}
		p, err := s.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		listed += len(p.Records)
		if q.Cursor = p.Next; q.Cursor == "" {
			break
		}
	}
	if listed != 6 {
		t.Errorf("listed %d summaries in %d pages, want the 6 stored", listed, pages+1)
	}
}
