package redisstore_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// heldSize is what MaxBytes would count for what hour h holds, from its
// keys: each listed record's member and full record and the overhead, the
// pending deltas and the rollups; and Redis's own MEMORY USAGE of the
// records hash and summaries set.
func heldSize(t *testing.T, c *redis.Client, prefix string, h int64) (counted, held, memory int64) {
	t.Helper()
	ctx := context.Background()
	tag := "{" + prefix + ":" + strconv.FormatInt(h, 10) + "}:"
	if v, err := c.Get(ctx, tag+"b").Int64(); err == nil {
		counted = v
	}
	ms, err := c.ZRange(ctx, tag+"s", 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		full, err := c.HStrLen(ctx, tag+"r", m[8:24]).Result()
		if err != nil {
			t.Fatal(err)
		}
		held += redisstore.AllocSize(int64(len(m))) + redisstore.AllocSize(full) + redisstore.RecordOverhead
	}
	ds, _ := c.LRange(ctx, tag+"d", 0, -1).Result()
	for _, d := range ds {
		held += redisstore.AllocSize(int64(len(d)))
	}
	vs, _ := c.HVals(ctx, tag+"u").Result()
	for _, v := range vs {
		held += redisstore.AllocSize(int64(len(v)))
	}
	for _, k := range []string{"r", "s"} {
		n, _ := c.MemoryUsage(ctx, tag+k, 0).Result()
		memory += n
	}
	return counted, held, memory
}

// Records written again many times — at the same start with another
// size, identical, twice in one Write, at another start of the hour, in
// another hour and back — leave each hour's size counter (what MaxBytes
// and Usage read) at what the hour holds. Before, every version written
// stayed counted: the counter grew with each rewrite while the hour held
// one record per ID.
func TestRewriteSizeCounter(t *testing.T) {
	const prefix = "rewrite-size"
	s, r, ctx := startStore(t, redisstore.Options{Prefix: prefix, FoldInterval: -1, RetentionInterval: -1})
	c := clientOf(t, r.Addr)
	base := time.Now().Add(-5 * time.Hour).Truncate(time.Hour).Add(5 * time.Minute)
	recs := storetest.Records(7, base, 10*time.Second, 200)
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	for round := range 12 {
		batch := make([]*recording.Record, 0, len(recs)+10)
		for i, rec := range recs {
			v := *rec
			switch (i + round) % 6 {
			case 0: // the same record again
			case 1, 2: // another size
				v.Path = rec.Path + strings.Repeat("x", (round*37+i)%300)
				v.Status = 200 + round
			case 3: // another start, in the same hour
				v.Start = rec.Start.Add(time.Duration(round+1) * time.Second)
			case 4: // another hour, every other round, else back
				if round%2 == 0 {
					v.Start = rec.Start.Add(2 * time.Hour)
				}
			case 5: // twice in the write: an earlier copy first
				early := v
				early.Path = rec.Path + "/early" + strings.Repeat("y", round*11)
				batch = append(batch, &early)
			}
			batch = append(batch, &v)
		}
		if err := s.Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	if got := storetest.ListAll(t, s, store.Query{}); len(got) != len(recs) {
		t.Errorf("List: %d records for %d IDs", len(got), len(recs))
	}
	// Writes wake the fold loop (many deltas pending): fold them all, so
	// that nothing changes the hours while they are measured.
	for {
		if err := s.FoldAll(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := s.Pending(ctx); err != nil || n == 0 {
			break
		}
	}
	u, err := s.Usage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var held, memory int64
	for _, h := range []int64{base.Unix() / 3600, base.Unix()/3600 + 2} {
		hc, hh, hm := heldSize(t, c, prefix, h)
		held += hh
		memory += hm
		if hc != hh {
			t.Errorf("hour %d: size counter %d, what it holds %d (%+d)", h, hc, hh, hc-hh)
		}
	}
	if u.Bytes != held || u.Records != int64(len(recs)) {
		t.Errorf("Usage = %d records, %d bytes; want %d, %d", u.Records, u.Bytes, len(recs), held)
	}
	t.Logf("counted %d bytes; the records hash and summaries set: MEMORY USAGE %d", u.Bytes, memory)
}
