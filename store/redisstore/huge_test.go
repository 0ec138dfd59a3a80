package redisstore_test

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// netOut returns the bytes Redis has sent to its clients.
func netOut(t *testing.T, c *redis.Client) int64 {
	return infoInt(t, c, "stats", "total_net_output_bytes")
}

// A value larger than the store ever writes, put under its keys by another
// program (a record, a summary, a rollup, a delta, a size), stays in Redis:
// reads (the dashboard's, and the fold's) skip it, count it in Skipped,
// and answer with the rest, so a hostile 512 MB value cannot make a
// process allocate without bound.
// The test lowers the bound (64 MiB) to 64 KiB and plants 4 MiB values;
// what Redis sends for every read must stay under one of them. Before,
// every read received them whole.
func TestHugeForeignValues(t *testing.T) {
	r := testservers.StartRedis(t)
	ctx := context.Background()
	c := clientOf(t, r.Addr)
	prefix := "huge"
	s := openAt(t, "redis://"+r.Addr, redisstore.Options{Prefix: prefix, FoldInterval: -1, RetentionInterval: -1})
	s.SetMaxValue(64 << 10)
	// Three whole hours back, so that Stats reads the hour rollup, minute
	// rollups, deltas and edge summaries.
	base := time.Now().Add(-3 * time.Hour).Truncate(time.Hour)
	recs := storetest.Records(1, base, time.Minute, 60)
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if err := s.FoldAll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, storetest.Records(2, base.Add(30*time.Second), time.Minute, 60)); err != nil {
		t.Fatal(err)
	}
	huge := strings.Repeat("x", 4<<20)
	id := recs[7].ID
	hk := func(suffix string) string { return hourKey(prefix, base, suffix) }
	// A summary member that sorts last in the hour: its key part is the
	// largest start of the hour.
	last := string(binary.BigEndian.AppendUint64(nil, uint64(base.Add(59*time.Minute+30*time.Second).UnixNano())^(1<<63))) + strings.Repeat("\xff", 16)
	for _, err := range []error{
		c.HSet(ctx, hk("r"), string(id[:]), huge).Err(),
		c.ZAdd(ctx, hk("s"), redis.Z{Member: last + huge}).Err(),
		c.HSet(ctx, hk("u"), "h", huge, "oh", huge, "3", huge, "o3", huge).Err(),
		c.RPush(ctx, hk("d"), "\x02"+huge).Err(),
		c.Set(ctx, hk("b"), huge, 0).Err(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	within := func(what string, f func() error) {
		t.Helper()
		before := netOut(t, c)
		err := f()
		if sent := netOut(t, c) - before; sent >= int64(len(huge)) {
			t.Errorf("%s: Redis sent %d bytes, a foreign value whole (err %v)", what, sent, err)
		}
		if err != nil && !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("%s: %v", what, err)
		}
	}
	within("Get", func() error { _, err := s.Get(ctx, id); return err })
	within("List", func() error {
		p, err := s.List(ctx, store.Query{Limit: 200})
		if err == nil && len(p.Records) != 120 {
			t.Errorf("List = %d records, want 120", len(p.Records))
		}
		return err
	})
	for _, w := range []store.Window{
		{Since: base.Add(-time.Hour), Until: base.Add(2 * time.Hour)},                                       // the hour whole
		{Since: base.Add(2*time.Minute + 10*time.Second), Until: base.Add(59*time.Minute + 50*time.Second)}, // minutes, edges
	} {
		within("Stats", func() error { _, err := s.Stats(ctx, w); return err })
		within("Series", func() error { _, err := s.Series(ctx, w, time.Minute); return err })
	}
	within("Usage", func() error { _, err := s.Usage(ctx); return err })
	// The fold, in the writing processes, reads deltas and rollups too.
	// (It fails, for the hour's foreign size counter: retention reads
	// that as the hour's damage.)
	within("FoldAll", func() error { s.FoldAll(ctx); return nil })
	within("Retain", func() error { _, err := s.Retain(ctx); return err })
	// Retention that trims the hour reads its summaries in chunks.
	trim := openAt(t, "redis://"+r.Addr, redisstore.Options{Prefix: prefix, FoldInterval: -1, RetentionInterval: -1, MaxRecords: 100})
	trim.SetMaxValue(64 << 10)
	within("Retain trimming", func() error {
		res, err := trim.Retain(ctx)
		if err == nil && res.Deleted == 0 {
			t.Errorf("Retain = %+v; want records trimmed", res)
		}
		return err
	})
	if h := s.Health(); h.Skipped == 0 {
		t.Errorf("Health = %+v; want the foreign values counted in Skipped", h)
	}
}
