package redisstore_test

import (
	"strings"
	"testing"
	"time"

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
