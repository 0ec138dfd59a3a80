package badgerstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/goappstats/appstats/store"
)

// TestSumBlocksDamagedBytes: a summary block, or the pair of refs of a
// record's s entry, cut anywhere or with a byte changed anywhere, makes
// List skip what it cannot read (counted in Health) and Get return the
// record or an error wrapping ErrCorrupt; Stats, a retention pass and a
// recount at Open go on; nothing panics or hangs.
func TestSumBlocksDamagedBytes(t *testing.T) {
	ctx := context.Background()
	start := time.Now().Add(-time.Hour).Truncate(time.Minute).Add(30 * time.Second)
	recs := noisyRecords(1, start, 20, 100)
	s := openWritten(t, recs)
	keys := prefixKeys(t, s, pSumBlock)
	if len(keys) != 1 {
		t.Fatalf("%d summary blocks, want 1", len(keys))
	}
	sk := summaryKey(recs[7].Start.UnixNano(), recs[7].ID)
	var block, pair []byte
	err := s.db.View(func(txn *badger.Txn) error {
		bi, err := txn.Get(keys[0])
		if err != nil {
			return err
		}
		if block, err = bi.ValueCopy(nil); err != nil {
			return err
		}
		si, err := txn.Get(sk)
		if err != nil {
			return err
		}
		pair, err = si.ValueCopy(nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !isPair(pair) {
		t.Fatalf("s value %x: not a pair of refs", pair)
	}
	set := func(k, v []byte) { t.Helper(); setValue(t, s, k, v) }
	read := func(what string) {
		t.Helper()
		p, err := s.List(ctx, store.Query{Limit: 100})
		if err != nil || len(p.Records) > len(recs) {
			t.Fatalf("%s: List: %d records, %v", what, len(p.Records), err)
		}
		st, err := s.Stats(ctx, store.Window{Since: start.Add(-time.Minute), Until: start.Add(time.Minute)})
		if err != nil || st.Requests != int64(len(recs)) {
			t.Fatalf("%s: Stats: %+v, %v", what, st, err)
		}
		r, err := s.Get(ctx, recs[7].ID)
		if err == nil && r == nil || err != nil && !errors.Is(err, store.ErrCorrupt) {
			t.Fatalf("%s: Get: %v, %v; want the record or ErrCorrupt", what, r, err)
		}
	}
	skipped := s.Health().Skipped
	set(keys[0], block[:len(block)/2])
	read("summary block cut in half")
	if s.Health().Skipped == skipped {
		t.Error("a summary block cut in half: no summary skipped")
	}
	damageBlockAndRef(keys[0], block, sk, pair, 100, set, read)
	// Damaged, then counted and deleted.
	set(keys[0], block[:len(block)/3])
	set(sk, pair[:len(pair)/2])
	dir := s.db.Opts().Dir
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = recount(t, dir, blockOpts())
	defer s.Close()
	if s.Len() != len(recs) {
		t.Errorf("recounted: Len %d, want %d", s.Len(), len(recs))
	}
	s.opts.MaxAge = time.Minute
	if _, err := s.Retain(ctx); err != nil {
		t.Fatal(err)
	}
	checkAllDeleted(t, s)
}
