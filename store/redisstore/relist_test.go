package redisstore_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// A write into an hour that retention deleted whole (and so unlisted) —
// this store's own retention, or another process's of the fleet — lists
// it again without setting off a repair of the hours list: the hour had
// no keys left, so nothing older can be missing from the list. Counted
// with INFO commandstats: no SCAN. Before, the write took the hour's
// re-listing for an evicted list, and a repair scanned every key of the
// Redis.
func TestWriteAfterRetentionNoScan(t *testing.T) {
	for _, who := range []string{"own", "fleet"} {
		t.Run(who, func(t *testing.T) {
			prefix := "relist-" + who
			s, r, ctx := startStore(t, redisstore.Options{Prefix: prefix, MaxRecords: 5, FoldInterval: -1, RetentionInterval: -1})
			c := clientOf(t, r.Addr)
			retainer := s
			if who == "fleet" {
				retainer = openAt(t, "redis://"+r.Addr, redisstore.Options{Prefix: prefix, MaxRecords: 5, FoldInterval: -1, RetentionInterval: -1})
			}
			old := time.Now().Add(-4 * time.Hour).Truncate(time.Hour)
			if err := s.Write(ctx, storetest.Records(1, old.Add(time.Minute), time.Second, 10)); err != nil {
				t.Fatal(err)
			}
			if err := s.Write(ctx, storetest.Records(2, old.Add(time.Hour+time.Minute), time.Second, 10)); err != nil {
				t.Fatal(err)
			}
			res, err := retainer.Retain(ctx)
			if err != nil || res.Hours != 1 {
				t.Fatalf("Retain = %+v, %v; want the oldest hour deleted whole", res, err)
			}
			if err := c.ConfigResetStat(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			// Late records, into the hour retention deleted.
			if err := s.Write(ctx, storetest.Records(3, old.Add(2*time.Minute), time.Second, 3)); err != nil {
				t.Fatal(err)
			}
			if err := s.RepairHours(ctx); err != nil {
				t.Fatal(err)
			}
			stats, err := c.Info(ctx, "commandstats").Result()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(stats, "cmdstat_scan:") {
				t.Errorf("a write into an hour retention deleted set off a repair: %s", stats[strings.Index(stats, "cmdstat_scan:"):][:40])
			}
			if n, err := s.Len(ctx); err != nil || n != 8 {
				t.Errorf("Len = %d, %v; want the 5 records kept and the 3 late ones", n, err)
			}
		})
	}
}

// Under an allkeys-* policy the hours list and an hour's size counter can
// be evicted together (here: deleted by hand): the next write into that
// hour, which still held records, repairs the list, so the older hours
// it lost are listed again. Before, the missing counter made the hour
// count as fresh (deleted whole by retention): no repair, and the older
// hour stayed unlisted.
func TestWriteAfterListAndCounterEvicted(t *testing.T) {
	const prefix = "relist-evicted"
	s, r, ctx := startStore(t, redisstore.Options{Prefix: prefix, FoldInterval: -1, RetentionInterval: -1})
	c := clientOf(t, r.Addr)
	old := time.Now().Add(-4 * time.Hour).Truncate(time.Hour)
	if err := s.Write(ctx, storetest.Records(1, old.Add(time.Minute), time.Second, 4)); err != nil {
		t.Fatal(err)
	}
	later := old.Add(time.Hour + time.Minute)
	if err := s.Write(ctx, storetest.Records(2, later, time.Second, 4)); err != nil {
		t.Fatal(err)
	}
	h := strconv.FormatInt(later.Unix()/3600, 10)
	if err := c.Del(ctx, prefix+":hours", "{"+prefix+":"+h+"}:b").Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, storetest.Records(3, later.Add(time.Minute), time.Second, 2)); err != nil {
		t.Fatal(err)
	}
	if err := s.RepairHours(ctx); err != nil {
		t.Fatal(err)
	}
	if got := storetest.ListAll(t, s, store.Query{}); len(got) != 10 {
		t.Errorf("List: %d records, want 10 (the oldest hour's listed again)", len(got))
	}
}
