package redisstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// Another program's value at an hour's rollups hash or deltas list (a
// string, or a value of another type the store keeps elsewhere), or a
// truncated rollup or delta of the store's own type, costs the rollups
// what it holds, never the hour's records: retention trims the hour as the
// limits say, keeps the rest of its records, and counts the foreign value
// in Skipped. Before, a foreign value made retention delete the hour
// whole, good records included.
func TestRetentionForeignRollupsKeepsRecords(t *testing.T) {
	r := testservers.StartRedis(t)
	ctx := t.Context()
	c := clientOf(t, r.Addr)
	now := time.Now()
	old := now.Add(-3 * time.Hour).Truncate(time.Hour).Add(10 * time.Minute)
	for _, tc := range []struct {
		name, suffix string
		set          func(key string) error
	}{
		{"rollups string", "u", func(k string) error { return c.Set(ctx, k, "another program's", 0).Err() }},
		{"rollups list", "u", func(k string) error { return c.RPush(ctx, k, "another program's").Err() }},
		{"rollups set", "u", func(k string) error { return c.SAdd(ctx, k, "another program's").Err() }},
		{"rollups truncated", "u", func(k string) error { return c.HSet(ctx, k, "h", "\x04\x01", "10", "\x04").Err() }},
		{"deltas string", "d", func(k string) error { return c.Set(ctx, k, "another program's", 0).Err() }},
		{"deltas hash", "d", func(k string) error { return c.HSet(ctx, k, "f", "another program's").Err() }},
		{"deltas truncated", "d", func(k string) error { return c.RPush(ctx, k, "\x14\x04\x01").Err() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := fmt.Sprintf("foreign-rollups-%d", prefixes.Add(1))
			s := openAt(t, "redis://"+r.Addr, redisstore.Options{Prefix: prefix, FoldInterval: -1, RetentionInterval: -1, MaxRecords: 25})
			key := hourKey(prefix, old, tc.suffix)
			if err := c.Del(ctx, key).Err(); err != nil {
				t.Fatal(err)
			}
			if err := tc.set(key); err != nil {
				t.Fatal(err)
			}
			if err := s.Write(ctx, storetest.Records(1, old, time.Second, 10)); err != nil && tc.suffix != "d" {
				t.Fatal(err)
			}
			if err := s.Write(ctx, storetest.Records(2, now.Add(-time.Minute), time.Millisecond, 20)); err != nil {
				t.Fatal(err)
			}
			// MaxRecords 25: the five oldest of the damaged hour go, its
			// five others stay.
			res, err := s.Retain(ctx)
			if err != nil || !res.Ran || res.Hours != 0 || res.Deleted != 5 {
				t.Errorf("Retain = %+v, %v; want 5 records deleted, no hour whole", res, err)
			}
			if p, err := s.List(ctx, store.Query{Limit: 100}); err != nil || len(p.Records) != 25 {
				t.Errorf("List after retention = %d records, %v; want 25", len(p.Records), err)
			}
			if h := s.Health(); h.Skipped == 0 {
				t.Errorf("Health = %+v; want the foreign value counted in Skipped", h)
			}
			// The hour is the store's again: its rollups fold, and Stats
			// reads them.
			if err := s.FoldAll(ctx); err != nil {
				t.Errorf("FoldAll: %v", err)
			}
			w := store.Window{Since: now.Add(-4 * time.Hour), Until: now}
			if st, err := s.Stats(ctx, w); err != nil || st.Requests < 20 {
				t.Errorf("Stats after retention = %d requests, %v", requests(st), err)
			}
			if res, err := s.Retain(ctx); err != nil || res.Deleted != 0 {
				t.Errorf("second Retain = %+v, %v; want nothing more deleted", res, err)
			}
		})
	}
}
