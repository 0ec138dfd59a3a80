package badgerstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/storetest"
)

// damagedIndexDir writes three Writes of ten records, a second apart, each
// into an index block of its own, damages the second index block (which
// retention keeps: records after the oldest kept lie after it), and
// closes the store, which saves its count (30: the damage is not known).
// It returns the directory and the Writes' records.
func damagedIndexDir(t *testing.T) (string, [][]*recording.Record) {
	t.Helper()
	s, dir := openBlockDir(t)
	defer s.Close()
	start := time.Now().Add(-time.Hour).Truncate(time.Minute)
	var all [][]*recording.Record
	for i := range 3 {
		recs := storetest.Records(uint64(i+1), start.Add(time.Duration(i)*time.Second), time.Millisecond, 10)
		// Traces count in Size, whether their records can be read or
		// not.
		data := storetest.TraceData(uint64(i), 2000)
		recs[1].ExecTrace = &recording.ExecTrace{Data: data, Size: int64(len(data)), Taken: recs[1].Start, Reason: "slow"}
		if err := s.Write(context.Background(), recs); err != nil {
			t.Fatal(err)
		}
		all = append(all, recs)
	}
	keys := prefixKeys(t, s, pIndex)
	if len(keys) != 3 {
		t.Fatalf("%d index blocks, want 3", len(keys))
	}
	setValue(t, s, keys[1], []byte{tagBlock, blockV1, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3})
	if s.Len() != 30 || s.TraceSize() == 0 {
		t.Fatalf("Len %d, TraceSize %d; want 30 and traces", s.Len(), s.TraceSize())
	}
	return dir, all
}

// findDamaged lists s and gets a record of the damaged index block of
// damagedIndexDir, which both find damaged.
func findDamaged(t *testing.T, s *Store, all [][]*recording.Record) {
	t.Helper()
	if n := len(listIDs(t, s, store.Query{})); n != 20 {
		t.Fatalf("List: %d records, want 20", n)
	}
	if _, err := s.Get(context.Background(), all[1][0].ID); !errors.Is(err, store.ErrNotFound) || !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("Get = %v, want ErrNotFound and ErrCorrupt", err)
	}
}

// TestIndexBlockDamagedUncounted: the records of an index block that reads
// find damaged, which can no longer be listed or got, leave Len and Size
// at the next retention pass, once (reads finding it again change
// nothing), and so a Close then saves the count that Open would count.
func TestIndexBlockDamagedUncounted(t *testing.T) {
	ctx := context.Background()
	dir, all := damagedIndexDir(t)
	s, err := Open(dir, blockOpts())
	if err != nil {
		t.Fatal(err)
	}
	findDamaged(t, s, all)
	if _, err := s.Retain(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Len() != 20 {
		t.Fatalf("Len %d after a retention pass, want 20", s.Len())
	}
	size := s.Size()
	findDamaged(t, s, all)
	if _, err := s.Retain(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Len() != 20 || s.Size() != size {
		t.Fatalf("found again, after a pass: Len %d, Size %d; want 20, %d", s.Len(), s.Size(), size)
	}
	if n := len(prefixKeys(t, s, pIndex)); n != 3 {
		t.Errorf("%d index blocks left, want 3", n)
	}
	s.Close()
	s, err = Open(dir, blockOpts()) // the count Close saved
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 20 || s.Size() != size {
		t.Errorf("reopened: Len %d, Size %d; want 20, %d", s.Len(), s.Size(), size)
	}
	s.Close()
	s = recount(t, dir, blockOpts())
	defer s.Close()
	if s.Len() != 20 || s.Size() != size {
		t.Errorf("recounted: Len %d, Size %d; want 20, %d", s.Len(), s.Size(), size)
	}
	checkGet(t, s, append(all[0], all[2]...))
}

// TestIndexBlockDamagedClose: a Close after reads found an index block
// damaged, before a retention pass counted again, does not save the count:
// the next Open counts the records that can be read.
func TestIndexBlockDamagedClose(t *testing.T) {
	dir, all := damagedIndexDir(t)
	s, err := Open(dir, blockOpts())
	if err != nil {
		t.Fatal(err)
	}
	findDamaged(t, s, all)
	s.Close()
	s, err = Open(dir, blockOpts())
	if err != nil {
		t.Fatal(err)
	}
	n, size := s.Len(), s.Size()
	if n != 20 {
		t.Errorf("reopened: Len %d, want 20", n)
	}
	findDamaged(t, s, all) // found again: counted already
	if _, err := s.Retain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s.Len() != n || s.Size() != size {
		t.Errorf("after a pass: Len %d, Size %d; want %d, %d", s.Len(), s.Size(), n, size)
	}
	s.Close()
	s = recount(t, dir, blockOpts())
	defer s.Close()
	if s.Len() != n || s.Size() != size {
		t.Errorf("recounted: Len %d, Size %d; want %d, %d", s.Len(), s.Size(), n, size)
	}
}

// TestIndexBlockDamagedRecountQuiet: a retention pass's recount that
// finds a damaged index block no read found yet does not count its
// records, and so leaves nothing to count again: it neither asks for
// another pass nor keeps the next Close from saving the count.
func TestIndexBlockDamagedRecountQuiet(t *testing.T) {
	dir, all := damagedIndexDir(t)
	s, err := Open(dir, blockOpts())
	if err != nil {
		t.Fatal(err)
	}
	// The third index block is damaged too; no read finds it.
	keys := prefixKeys(t, s, pIndex)
	setValue(t, s, keys[2], []byte{tagBlock, blockV1, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3})
	if _, err := s.Get(context.Background(), all[1][0].ID); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("Get = %v, want ErrCorrupt", err)
	}
	select {
	case <-s.retainNow: // asked for by the Get
	default:
		t.Fatal("the damaged index block a Get found asked for no retention pass")
	}
	if _, err := s.Retain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s.Len() != 10 {
		t.Errorf("Len %d after a retention pass, want 10", s.Len())
	}
	if s.miscounted.Load() {
		t.Error("recounted, the count is still stale")
	}
	select {
	case <-s.retainNow:
		t.Error("the recount asked for another retention pass")
	default:
	}
	size := s.Size()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	o, err := blockOpts().withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	db, err := badger.Open(o.badger(dir))
	if err != nil {
		t.Fatal(err)
	}
	err = db.View(func(txn *badger.Txn) error {
		_, err := txn.Get([]byte{pMeta})
		return err
	})
	db.Close()
	if err != nil {
		t.Errorf("the count Close saved: %v", err)
	}
	s = recount(t, dir, blockOpts())
	defer s.Close()
	if s.Len() != 10 || s.Size() != size {
		t.Errorf("recounted: Len %d, Size %d; want 10, %d", s.Len(), s.Size(), size)
	}
}
