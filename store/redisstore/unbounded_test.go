package redisstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// With no cap on keys (MaxKeys < 0), an hour of very many distinct routes
// keeps rollups the store reads: a rollup longer than the longest value
// reads take (64 MiB; a few kilobytes here) has its least busy routes
// folded into store.Other, and Stats counts every record of the hour,
// after every fold. Before, the hour rollup passed the bound, Stats read
// it as absent, and the next fold wrote it again without what it held.
func TestUnboundedRollupStaysReadable(t *testing.T) {
	s, _, ctx := startStore(t, redisstore.Options{MaxKeys: -1, FoldInterval: -1, RetentionInterval: -1})
	s.SetMaxValue(8 << 10)
	now := time.Now()
	old := now.Add(-3 * time.Hour).Truncate(time.Hour).Add(10 * time.Minute)
	want := 0
	for round := range 3 {
		recs := storetest.Records(uint64(round+1), old.Add(time.Duration(round)*time.Minute), 100*time.Millisecond, 200)
		for i, rec := range recs {
			rec.Route = fmt.Sprintf("/distinct/%d/%d", round, i)
		}
		if err := s.Write(ctx, recs); err != nil {
			t.Fatal(err)
		}
		want += len(recs)
		if err := s.FoldAll(ctx); err != nil {
			t.Fatal(err)
		}
		st, err := s.Stats(ctx, store.Window{Since: now.Add(-4 * time.Hour), Until: now})
		if err != nil || st.Requests != int64(want) {
			t.Errorf("after fold %d: Stats = %d requests, %v; want %d", round+1, requests(st), err, want)
		}
		if h := s.Health(); h.Skipped != 0 {
			t.Errorf("after fold %d: Health = %+v; want nothing skipped", round+1, h)
		}
	}
}
