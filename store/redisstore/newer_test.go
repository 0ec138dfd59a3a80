package redisstore_test

import (
	"bytes"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/testlog"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// newerVersion marks an encoded value (tag, version, …) as written by the
// next version of the store's encoding, which this one does not read.
func newerVersion(v string) string {
	b := []byte(v)
	b[1]++
	return string(b)
}

// In a fleet upgraded one instance at a time, an instance of the previous
// release meets the rollups and deltas a newer one wrote, in an encoding
// it does not read. It must leave them as they are: its folds (and
// retention's) leave the hour for a newer instance to fold, rather than
// trimming the newer deltas and writing the hour's rollups again without
// what they held; its reads skip them and count them, saying why; Get of a
// newer record says so. Before, a fold counted the newer values "damaged",
// trimmed the deltas it could not read and overwrote the rollups with its
// own: the newer instances' counts were lost.
func TestNewerVersionLeftAlone(t *testing.T) {
	const prefix = "newer"
	var logs testlog.Buffer
	s, r, ctx := startStore(t, redisstore.Options{Prefix: prefix, FoldInterval: -1, RetentionInterval: -1, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	c := clientOf(t, r.Addr)
	start := time.Now().Add(-2 * time.Hour).Truncate(time.Hour).Add(10 * time.Minute)
	recs := storetest.Records(1, start, 3*time.Second, 20)
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if err := s.FoldAll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, storetest.Records(2, start.Add(5*time.Minute), time.Second, 10)); err != nil {
		t.Fatal(err)
	}
	// A newer instance's values: the rollups, the pending deltas, a record
	// and a summary.
	rollups, deltas := hourKey(prefix, start, "u"), hourKey(prefix, start, "d")
	fields := c.HGetAll(ctx, rollups).Val()
	for f, v := range fields {
		fields[f] = newerVersion(v)
	}
	ds := c.LRange(ctx, deltas, 0, -1).Val()
	if len(fields) == 0 || len(ds) != 1 {
		t.Fatalf("%d rollups, %d deltas; want some rollups and one delta", len(fields), len(ds))
	}
	for i, d := range ds {
		k := bytes.IndexByte([]byte(d), 'R') // after the minute's varint
		ds[i] = d[:k] + newerVersion(d[k:])
	}
	if err := c.HSet(ctx, rollups, fields).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Del(ctx, deltas).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.RPush(ctx, deltas, anys(ds)...).Err(); err != nil {
		t.Fatal(err)
	}
	recsKey := hourKey(prefix, start, "r")
	newest := string(recs[len(recs)-1].ID[:]) // kept by retention
	if err := c.HSet(ctx, recsKey, newest, newerVersion(c.HGet(ctx, recsKey, newest).Val())).Err(); err != nil {
		t.Fatal(err)
	}

	if err := s.FoldAll(ctx); err != nil {
		t.Errorf("FoldAll over a newer instance's values: %v", err)
	}
	if _, err := s.Retain(ctx); err != nil {
		t.Errorf("Retain over a newer instance's values: %v", err)
	}
	if got := c.HGetAll(ctx, rollups).Val(); !maps.Equal(got, fields) {
		t.Errorf("the newer rollups were rewritten: fields %v, want %v as the newer instance left them", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(fields)))
	}
	if got := c.LRange(ctx, deltas, 0, -1).Val(); !slices.Equal(got, ds) {
		t.Errorf("the newer deltas were folded away: %d left, want the %d the newer instance pushed", len(got), len(ds))
	}
	// Retention deleting some of the hour's records leaves its rollups as
	// the newer instance wrote them too (counting the deleted records,
	// until it folds them again), rather than rebuilding them from what
	// this release reads.
	trim := openAt(t, "redis://"+r.Addr, redisstore.Options{Prefix: prefix, FoldInterval: -1, RetentionInterval: -1, MaxRecords: 25})
	if res, err := trim.Retain(ctx); err != nil || res.Deleted != 5 {
		t.Errorf("Retain to 25 records = %+v, %v; want 5 deleted", res, err)
	}
	if got := c.HGetAll(ctx, rollups).Val(); !maps.Equal(got, fields) {
		t.Errorf("retention rebuilt the newer rollups: fields %v, want %v as the newer instance left them", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(fields)))
	}
	if got := c.LRange(ctx, deltas, 0, -1).Val(); !slices.Equal(got, ds) {
		t.Errorf("retention folded the newer deltas away: %d left, want %d", len(got), len(ds))
	}
	// Reads skip what they cannot read, and say why.
	st, err := s.Stats(ctx, store.Window{Since: start.Truncate(time.Hour), Until: start.Truncate(time.Hour).Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if st.Requests != 0 {
		t.Errorf("Stats = %d requests; want 0: every rollup of the hour is a newer instance's", st.Requests)
	}
	if _, err := s.Get(ctx, recs[len(recs)-1].ID); !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), "newer version") {
		t.Errorf("Get of a newer instance's record = %v; want ErrCorrupt saying it is of a newer version", err)
	}
	if h := s.Health(); h.Skipped == 0 {
		t.Errorf("Health = %+v; want the newer values counted skipped", h)
	}
	if !strings.Contains(logs.String(), "newer version") {
		t.Errorf("the log does not say the values are of a newer version:\n%s", logs.String())
	}
}

// A delta whose version byte is damaged far past this release's (0xff) is
// damage, not a newer release's: the fold drops it, counting it skipped,
// and folds the deltas after it. Taken for a newer release's, it held the
// hour's fold at it for good: the deltas after it stayed pending (read
// again by every Stats), and retention left the hour's rollups counting
// records it deleted.
func TestDamagedVersionNotNewer(t *testing.T) {
	const prefix = "damagedversion"
	s, r, ctx := startStore(t, redisstore.Options{Prefix: prefix, FoldInterval: -1, RetentionInterval: -1})
	c := clientOf(t, r.Addr)
	start := time.Now().Add(-2 * time.Hour).Truncate(time.Hour).Add(10 * time.Minute)
	if err := s.Write(ctx, storetest.Records(1, start, time.Second, 5)); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, storetest.Records(2, start.Add(time.Minute), time.Second, 7)); err != nil {
		t.Fatal(err)
	}
	deltas := hourKey(prefix, start, "d")
	ds := c.LRange(ctx, deltas, 0, -1).Val()
	if len(ds) != 2 {
		t.Fatalf("%d deltas; want 2", len(ds))
	}
	k := strings.IndexByte(ds[0], 'R')
	b := []byte(ds[0])
	b[k+1] = 0xff
	if err := c.LSet(ctx, deltas, 0, string(b)).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.FoldAll(ctx); err != nil {
		t.Fatal(err)
	}
	if n := c.LLen(ctx, deltas).Val(); n != 0 {
		t.Errorf("%d deltas pending after FoldAll; want 0: the damaged one dropped, the other folded", n)
	}
	st, err := s.Stats(ctx, store.Window{Since: start.Truncate(time.Hour), Until: start.Truncate(time.Hour).Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if st.Requests != 7 {
		t.Errorf("Stats = %d requests; want the 7 of the delta left whole", st.Requests)
	}
	if h := s.Health(); h.Skipped == 0 {
		t.Errorf("Health = %+v; want the damaged delta counted skipped", h)
	}
}
