package badgerstore

import (
	"context"
	"encoding/binary"
	"slices"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/storetest"
)

// TestRetainOverlappingBlocks writes records at .1 s and .9 s of a second
// in one Write (one index block) and one at .5 s in another (a second
// block, within the first one's starts): retention down to one record
// keeps the newest, at .9 s, rather than deleting the first block whole
// (which would keep the one at .5 s).
func TestRetainOverlappingBlocks(t *testing.T) {
	s, dir := openBlockDir(t)
	ctx := context.Background()
	_, a, b, c := writeOverlapping(t, s)
	if n := countKeys(t, s, pIndex); n != 2 {
		t.Fatalf("%d index blocks, want 2", n)
	}
	s.opts.MaxRecords, s.opts.MaxBytes = 1, -1
	if _, err := s.Retain(ctx); err != nil {
		t.Fatal(err)
	}
	var got []recording.ID
	for _, sum := range storetest.ListAll(t, s, store.Query{}) {
		got = append(got, sum.ID)
	}
	if !slices.Equal(got, []recording.ID{c.ID}) || s.Len() != 1 {
		t.Fatalf("kept %v (Len %d), want the newest, %v (older: %v, %v)", got, s.Len(), c.ID, a.ID, b.ID)
	}
	checkGet(t, s, []*recording.Record{c})
	size := s.Size()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = recount(t, dir, blockOpts())
	defer s.Close()
	if s.Len() != 1 || s.Size() != size {
		t.Fatalf("recounted: Len %d, Size %d; want 1, %d", s.Len(), s.Size(), size)
	}
}

// writeOverlapping writes records at .1 s and .9 s of a second an hour
// ago in one Write (one index block) and one at .5 s in another (a
// second block, within the first one's starts), their IDs holding their
// starts. It returns the second's start and the records at .1, .5 and
// .9 s.
func writeOverlapping(t *testing.T, s *Store) (base time.Time, a, b, c *recording.Record) {
	t.Helper()
	ctx := context.Background()
	base = time.Now().Add(-time.Hour).Truncate(time.Second)
	mk := func(d time.Duration, seed uint64) *recording.Record {
		r := storetest.Records(seed, base.Add(d), time.Millisecond, 1)[0]
		r.Start = base.Add(d)
		binary.BigEndian.PutUint64(r.ID[:8], uint64(r.Start.UnixNano()))
		return r
	}
	a, c, b = mk(100*time.Millisecond, 1), mk(900*time.Millisecond, 2), mk(500*time.Millisecond, 3)
	for _, batch := range [][]*recording.Record{{a, c}, {b}} {
		if err := s.Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	return base, a, b, c
}
