package badgerstore

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/storetest"
)

// blockKeys returns the keys of the blocks of records stored.
func blockKeys(t *testing.T, s *Store) [][]byte { return prefixKeys(t, s, pBlock) }

// prefixKeys returns the keys with prefix p.
func prefixKeys(t *testing.T, s *Store, p byte) [][]byte {
	t.Helper()
	var keys [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{p}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			keys = append(keys, it.Item().KeyCopy(nil))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestBlockLargeRecord: a record larger than a block gets a block of its
// own, and the records around it are read back whole.
func TestBlockLargeRecord(t *testing.T) {
	s, err := Open(t.TempDir(), Options{RetentionInterval: -1, RecordBudget: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now().Add(-time.Hour)
	recs := []*recording.Record{
		storetest.FullRecord(start, 1),
		storetest.FullRecord(start.Add(time.Millisecond), 2),
		Noisy(storetest.FullRecord(start.Add(2*time.Millisecond), 3), 3, 3*blockBytes),
		storetest.FullRecord(start.Add(3*time.Millisecond), 4),
	}
	if err := s.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	checkGet(t, s, recs)
	// The two before it, itself, the one after.
	if n := len(blockKeys(t, s)); n != 3 {
		t.Errorf("%d blocks, want 3", n)
	}
}

// damagedBlocks opens a store, writes three Writes of ten records from
// start, a second apart, each into a block of its own with prefix p
// (pBlock or pIndex), damages the first block and deletes the second.
// It returns the store, closed with the test, and the three Writes'
// records.
func damagedBlocks(t *testing.T, p byte, start time.Time) (*Store, [][]*recording.Record) {
	t.Helper()
	s, err := Open(t.TempDir(), Options{RetentionInterval: -1, RecordBudget: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var all [][]*recording.Record
	for i := range 3 {
		recs := storetest.Records(uint64(i+1), start.Add(time.Duration(i)*time.Second), time.Millisecond, 10)
		if err := s.Write(context.Background(), recs); err != nil {
			t.Fatal(err)
		}
		all = append(all, recs)
	}
	keys := prefixKeys(t, s, p)
	if len(keys) != 3 {
		t.Fatalf("%d blocks with prefix %c, want 3", len(keys), p)
	}
	err = s.db.Update(func(txn *badger.Txn) error {
		if err := txn.Set(keys[0], []byte{tagBlock, blockV1, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3}); err != nil {
			return err
		}
		return txn.Delete(keys[1])
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, all
}

// TestBlockDamaged: a record whose block is damaged or missing is skipped
// like a damaged record: Get says not found and corrupt, Health counts it,
// and the other records of the store are still read.
func TestBlockDamaged(t *testing.T) {
	ctx := context.Background()
	s, recs := damagedBlocks(t, pBlock, time.Now().Add(-time.Hour))
	first, second, third := recs[0], recs[1], recs[2]
	s.blocks.put([16]byte{}, nil)
	for _, recs := range [][]*recording.Record{first, second} {
		for _, r := range recs {
			_, err := s.Get(ctx, r.ID)
			if !errors.Is(err, store.ErrNotFound) || !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("Get(%s) = %v, want ErrNotFound and ErrCorrupt", r.ID, err)
			}
		}
	}
	if h := s.Health(); h.Skipped == 0 {
		t.Errorf("Health = %+v: damaged records not counted", h)
	}
	checkGet(t, s, third)
	// What is listed is unchanged: summaries are apart from blocks.
	if n := len(listIDs(t, s, store.Query{})); n != 30 {
		t.Errorf("List: %d records, want 30", n)
	}
}

// TestIndexBlockDamaged: the records of a damaged or missing index block
// are skipped by List and Stats (a damaged one counted in Health; a
// missing one leaves no trace) and not found by Get (a damaged one's with
// ErrCorrupt), and the other records are listed, counted and read.
func TestIndexBlockDamaged(t *testing.T) {
	ctx := context.Background()
	start := time.Now().Add(-time.Hour).Truncate(time.Minute)
	s, all := damagedBlocks(t, pIndex, start)
	if got, want := listIDs(t, s, store.Query{}), wantIDs(all[2], func(*recording.Record) bool { return true }); !slices.Equal(got, want) {
		t.Errorf("List: %d records, want the %d of the block left", len(got), len(want))
	}
	if h := s.Health(); h.Skipped != 1 {
		t.Errorf("Health = %+v: want the damaged index block counted", h)
	}
	// A window that cuts its minute on both sides is counted from
	// summaries: the third Write's first five.
	w := store.Window{Since: start.Add(500 * time.Millisecond), Until: start.Add(2*time.Second + 5*time.Millisecond)}
	st, err := s.Stats(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	if st.Requests != 5 {
		t.Errorf("Stats over the summaries: %d requests, want 5", st.Requests)
	}
	for i, recs := range all[:2] {
		for _, r := range recs {
			_, err := s.Get(ctx, r.ID)
			if !errors.Is(err, store.ErrNotFound) || i == 0 && !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("Get(%s) = %v, want ErrNotFound (and ErrCorrupt, damaged)", r.ID, err)
			}
		}
	}
	checkGet(t, s, all[2])
}

// TestDecodeRefShort: every cut of a ref, and a ref with bytes after it, is
// refused without a panic.
func TestDecodeRefShort(t *testing.T) {
	v := appendRef(nil, ref{key: [16]byte{1, 2, 3}, off: 1 << 20, n: 70000, share: 12345})
	got, err := decodeRef(v)
	if err != nil || got.off != 1<<20 || got.n != 70000 || got.share != 12345 || got.key[2] != 3 {
		t.Fatalf("decodeRef = %+v, %v", got, err)
	}
	for i := range v {
		if _, err := decodeRef(v[:i]); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("decodeRef of %d of %d bytes: %v, want ErrCorrupt", i, len(v), err)
		}
	}
	if _, err := decodeRef(append(v, 0)); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("decodeRef with a byte after it: %v, want ErrCorrupt", err)
	}
	if _, err := decodeBlock([]byte{tagBlock, blockV1, 0x80}, 1<<20); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("decodeBlock of a cut length: %v, want ErrCorrupt", err)
	}
	// A damaged length claiming more than a block can hold is refused
	// before anything is allocated for it.
	blk := appendBlock(nil, make([]byte, 1000))
	if raw, err := decodeBlock(blk, 1<<20); err != nil || len(raw) != 1000 {
		t.Fatalf("decodeBlock of a good block = %d bytes, %v", len(raw), err)
	}
	if _, err := decodeBlock(blk, 999); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("decodeBlock of a block decoding to more than its bound: %v, want ErrCorrupt", err)
	}
	huge := append([]byte{tagBlock, blockV1}, 0x80, 0x80, 0x80, 0x80, 0x04) // a length of 1 GiB, no data
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = decodeBlock(huge, 64<<20)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("decodeBlock of a block claiming 1 GiB: %v, want ErrCorrupt", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("decodeBlock of a block claiming 1 GiB allocated %d bytes", n)
	}
}
