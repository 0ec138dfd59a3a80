package badgerstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// TestSumBlocksDamagedBytes: in a directory written with summary blocks
// and an s entry per record (testdata/v3-store), a summary block, or the
// pair of refs of a record's s entry, cut anywhere or with a byte changed
// anywhere, makes List skip what it cannot read (counted in Health) and
// Get return the record or an error wrapping ErrCorrupt; Stats, a
// retention pass and a recount at Open go on; nothing panics or hangs.
func TestSumBlocksDamagedBytes(t *testing.T) {
	ctx := context.Background()
	start := layoutStart
	recs := layoutRecords()
	s, dir := openLayout(t, "v3-store", blockOpts())
	defer func() { s.Close() }()
	keys := prefixKeys(t, s, pSumBlock)
	if len(keys) != 2 {
		t.Fatalf("%d summary blocks, want 2", len(keys))
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
	read := readDamaged(t, s, start, recs, -1)
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
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = recount(t, dir, blockOpts())
	if s.Len() != len(recs) {
		t.Errorf("recounted: Len %d, want %d", s.Len(), len(recs))
	}
	s.opts.MaxAge = time.Minute
	if _, err := s.Retain(ctx); err != nil {
		t.Fatal(err)
	}
	checkAllDeleted(t, s)
}

// TestIndexBlockDamagedBytes: an index block cut anywhere or with a byte
// changed anywhere (its checksum says so) makes List skip its records
// (counted in Health) and Get return the record or an error wrapping
// ErrCorrupt; Stats counts what List shows, and a retention pass and a
// recount at Open go on; nothing panics or hangs. Unlike a damaged
// summary block, it loses Get of its records too.
func TestIndexBlockDamagedBytes(t *testing.T) {
	ctx := context.Background()
	start := time.Now().Add(-time.Hour).Truncate(time.Minute).Add(30 * time.Second)
	recs := noisyRecords(1, start, 20, 100)
	s := openWritten(t, recs)
	bk, ik := blockKeys(t, s), prefixKeys(t, s, pIndex)
	if len(bk) != 1 || len(ik) != 1 {
		t.Fatalf("%d blocks, %d index blocks; want 1, 1", len(bk), len(ik))
	}
	var block, index []byte
	err := s.db.View(func(txn *badger.Txn) error {
		bi, err := txn.Get(bk[0])
		if err != nil {
			return err
		}
		if block, err = bi.ValueCopy(nil); err != nil {
			return err
		}
		ii, err := txn.Get(ik[0])
		if err != nil {
			return err
		}
		index, err = ii.ValueCopy(nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	set := func(k, v []byte) { t.Helper(); setValue(t, s, k, v) }
	read := readDamaged(t, s, start, recs, -1)
	skipped := s.Health().Skipped
	set(ik[0], index[:len(index)/2])
	read("index block cut in half")
	if s.Health().Skipped == skipped {
		t.Error("an index block cut in half: nothing skipped")
	}
	if p, _ := s.List(ctx, store.Query{Limit: 100}); len(p.Records) != 0 {
		t.Errorf("an index block cut in half: %d records listed, want 0", len(p.Records))
	}
	// The block of records, its index block whole again (List shows
	// every record, and Stats counts them all), then the index block,
	// each at about 100 places (every byte of an index block takes
	// minutes).
	set(ik[0], index)
	damageBlockAndRef(bk[0], block, nil, nil, 100, set, readDamaged(t, s, start, recs, len(recs)))
	damageBlockAndRef(ik[0], index, nil, nil, 100, set, read)
	set(ik[0], index[:len(index)/3])
	dir := s.db.Opts().Dir
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = recount(t, dir, blockOpts())
	defer s.Close()
	if s.Len() != 0 {
		t.Errorf("recounted: Len %d, want 0 (the index block is damaged)", s.Len())
	}
	s.opts.MaxAge = time.Minute
	if _, err := s.Retain(ctx); err != nil {
		t.Fatal(err)
	}
	checkAllDeleted(t, s)
}

// readDamaged returns a check that s, its directory damaged, still lists
// no more than recs (exactly listed of them, if listed is not -1), counts
// in Stats around start what it lists, and gets recs[7] or says it is
// damaged (ErrCorrupt).
func readDamaged(t *testing.T, s *Store, start time.Time, recs []*recording.Record, listed int) func(what string) {
	ctx := context.Background()
	return func(what string) {
		t.Helper()
		p, err := s.List(ctx, store.Query{Limit: 100})
		if err != nil || len(p.Records) > len(recs) || listed >= 0 && len(p.Records) != listed {
			t.Fatalf("%s: List: %d records, %v; want %d of %d", what, len(p.Records), err, listed, len(recs))
		}
		st, err := s.Stats(ctx, store.Window{Since: start.Add(-time.Minute), Until: start.Add(time.Minute)})
		if err != nil || st.Requests != int64(len(p.Records)) {
			t.Fatalf("%s: Stats: %+v, %v; List shows %d records", what, st, err, len(p.Records))
		}
		r, err := s.Get(ctx, recs[7].ID)
		if err == nil && r == nil || err != nil && !errors.Is(err, store.ErrCorrupt) {
			t.Fatalf("%s: Get: %v, %v; want the record or ErrCorrupt", what, r, err)
		}
	}
}
