package badgerstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// futureBlocks returns how many of the keys start beyond now + futureSkew.
func futureBlocks(keys [][]byte) int {
	n := 0
	for _, k := range keys {
		if keyTime(k[1:9]) > time.Now().Add(futureSkew).UnixNano() {
			n++
		}
	}
	return n
}

// TestFutureRecordRetention: a record that starts far in the future
// (written under a wrong clock), written in one batch with others, gets
// blocks of its own, so the others' block goes with them; MaxAge keeps it
// (its age is not known), and it is the first to go when the store holds
// too much, with its blocks, counted out of Size as a recount counts.
func TestFutureRecordRetention(t *testing.T) {
	ctx := context.Background()
	s, dir := openBlockDir(t)
	recs := noisyRecords(1, time.Now().Add(-time.Hour), 50, 300)
	future := noisyRecords(2, time.Now().Add(10*365*24*time.Hour), 1, 300)[0]
	batch := append(append(recs[:25:25], future), recs[25:]...)
	if err := s.Write(ctx, batch); err != nil {
		t.Fatal(err)
	}
	// Its summary is in its own s entry, not in an index block.
	if b, ib := blockKeys(t, s), prefixKeys(t, s, pIndex); len(b) != 3 || futureBlocks(b) != 1 || len(ib) == 0 || futureBlocks(ib) != 0 || countKeys(t, s, pSummary) != 1 {
		t.Fatalf("%d blocks (%d from the future), %d index blocks (%d), %d s entries; want the future record's own block between the others', and its own s entry", len(b), futureBlocks(b), len(ib), futureBlocks(ib), countKeys(t, s, pSummary))
	}
	checkGet(t, s, batch)

	// By age, the others go, and their blocks with them.
	s.opts.MaxAge = time.Minute
	if _, err := s.Retain(ctx); err != nil {
		t.Fatal(err)
	}
	if b, ib := blockKeys(t, s), prefixKeys(t, s, pIndex); s.Len() != 1 || len(b) != 1 || len(ib) != 0 {
		t.Errorf("after MaxAge: Len %d, %d blocks, %d index blocks; want the future record and its block", s.Len(), len(b), len(ib))
	}
	checkGet(t, s, []*recording.Record{future})

	// Room needed: the future record goes first, with its blocks.
	recent := noisyRecords(3, time.Now().Add(-time.Second), 50, 300)
	if err := s.Write(ctx, recent); err != nil {
		t.Fatal(err)
	}
	s.opts.MaxRecords = 50
	res, err := s.Retain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 1 || s.Len() != 50 {
		t.Errorf("over MaxRecords by one: %+v, Len %d", res, s.Len())
	}
	if _, err := s.Get(ctx, future.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the future record: Get = %v, want ErrNotFound", err)
	}
	checkGet(t, s, recent)
	if b := blockKeys(t, s); futureBlocks(b) != 0 || countKeys(t, s, pSummary) != 0 {
		t.Errorf("%d blocks from the future left, %d s entries", futureBlocks(b), countKeys(t, s, pSummary))
	}
	size, n := s.Size(), s.Len()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = recount(t, dir, blockOpts())
	defer s.Close()
	if s.Size() != size || s.Len() != n {
		t.Errorf("Size %d, Len %d; recounted %d, %d", size, n, s.Size(), s.Len())
	}
}
