package redisstore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// Writer processes writing the same minutes at once, each folding every
// few milliseconds, lose no update: the rollups of every route, RPC and
// instance add up to exactly what they wrote, before the last fold and
// after it.
func TestConcurrentProcesses(t *testing.T) {
	t.Run("server", func(t *testing.T) {
		r := testservers.StartRedis(t)
		testConcurrentProcesses(t, "redis://"+r.Addr)
	})
	t.Run("cluster", func(t *testing.T) {
		nodes := testservers.StartRedisCluster(t, 3)
		testConcurrentProcesses(t, "redis://"+nodes[0].Addr)
	})
}

func testConcurrentProcesses(t *testing.T, url string) {
	const procs, n = 4, 300
	prefix := fmt.Sprintf("procs%d", prefixes.Add(1))
	// 300 records 2 s apart: ten minutes, each written by every process,
	// across an hour boundary.
	start := time.Now().Add(-90 * time.Minute).Truncate(time.Hour).Add(55 * time.Minute)
	spacing := 2 * time.Second
	specs := make([]writerSpec, procs)
	for k := range specs {
		specs[k] = writerSpec{url: url, prefix: prefix, k: k, start: start, spacing: spacing, n: n, batch: 7, fold: 3 * time.Millisecond}
	}
	startWriters(t, specs)()

	var all []*recording.Record
	for k := range procs {
		all = append(all, writerRecords(k, start, spacing, n, false)...)
	}
	slices.SortFunc(all, func(a, b *recording.Record) int { return a.Start.Compare(b.Start) })
	s := openAt(t, url, redisstore.Options{Prefix: prefix, FoldInterval: -1, RetentionInterval: -1})
	ctx := context.Background()
	pending, err := s.Pending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Each write pushed a delta per minute it touched: about 4×300/7 writes.
	if pending >= procs*n/7 {
		t.Errorf("%d deltas pending: the writers' folds did not run", pending)
	}
	windows := []store.Window{
		{Since: start.Add(-time.Minute), Until: start.Add(time.Hour)},
		{Since: start.Add(3 * time.Minute), Until: start.Add(7*time.Minute + 30*time.Second)},
		{Since: start.Truncate(time.Hour), Until: start.Truncate(time.Hour).Add(time.Hour)},
	}
	check := func(when string) {
		t.Helper()
		for _, w := range windows {
			got, err := s.Stats(ctx, w)
			if err != nil {
				t.Fatal(err)
			}
			want := storetest.ExpectStats(all, w)
			if want.Requests == 0 {
				t.Fatalf("window %v selects nothing", w)
			}
			t.Logf("%s, %v: %d requests, %d instances", when, w, got.Requests, len(got.Instances))
			storetest.CompareStats(t, got, want)
		}
		if l, err := s.Len(ctx); err != nil || l != procs*n {
			t.Errorf("%s: Len = %d, %v; want %d", when, l, err, procs*n)
		}
	}
	check(fmt.Sprintf("%d deltas pending", pending))
	if err := s.FoldAll(ctx); err != nil {
		t.Fatal(err)
	}
	if p, err := s.Pending(ctx); err != nil || p != 0 {
		t.Fatalf("after folding: %d pending, %v", p, err)
	}
	check("all folded")
}
