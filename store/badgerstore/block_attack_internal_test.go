package badgerstore

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/storetest"
)

// noisyRecords returns n records from start, a millisecond apart, each
// with size bytes of noise, so that they fill several blocks.
func noisyRecords(seed uint64, start time.Time, n, size int) []*recording.Record {
	recs := storetest.Records(seed, start, time.Millisecond, n)
	for i, r := range recs {
		Noisy(r, seed*1000+uint64(i), size)
	}
	return recs
}

// blockOpts are the options of the tests of blocks: every record
// persisted, none deleted but by the test's own Retain calls.
func blockOpts() Options {
	return Options{RetentionInterval: -1, RecordBudget: -1, MaxAge: -1}
}

// openBlockDir opens a store with blockOpts in a new directory, which it
// returns for the test to reopen; the test closes the store.
func openBlockDir(t *testing.T) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir, blockOpts())
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

// openWritten opens a store in a new directory, closed when t ends, and
// writes each of batches to it.
func openWritten(t *testing.T, batches ...[]*recording.Record) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), blockOpts())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, recs := range batches {
		if err := s.Write(context.Background(), recs); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestBlocksAcrossWritesAndReopen: records written in several Writes,
// across many blocks, are read back whole before and after a reopen, and a
// recount gives the Size the store kept.
func TestBlocksAcrossWritesAndReopen(t *testing.T) {
	ctx := context.Background()
	s, dir := openBlockDir(t)
	start := time.Now().Add(-time.Hour).Truncate(time.Minute)
	var all []*recording.Record
	for i := range 4 {
		recs := noisyRecords(uint64(i+1), start.Add(time.Duration(i)*time.Second), 300, 400)
		if err := s.Write(ctx, recs); err != nil {
			t.Fatal(err)
		}
		all = append(all, recs...)
	}
	if n := len(blockKeys(t, s)); n < 8 {
		t.Fatalf("%d blocks: the records should span many", n)
	}
	checkGet(t, s, all)
	if n := len(listIDs(t, s, store.Query{})); n != len(all) {
		t.Errorf("List: %d records, want %d", n, len(all))
	}
	st, err := s.Stats(ctx, store.Window{Since: start.Add(-time.Minute), Until: start.Add(time.Hour)})
	if err != nil || st.Requests != int64(len(all)) {
		t.Errorf("Stats = %+v, %v; want %d requests", st, err, len(all))
	}
	size := s.Size()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, blockOpts())
	if err != nil {
		t.Fatal(err)
	}
	checkGet(t, s, all)
	if s.Size() != size || s.Len() != len(all) {
		t.Errorf("reopened: Size %d, Len %d; want %d, %d", s.Size(), s.Len(), size, len(all))
	}
	s.Close()
	s = recount(t, dir, blockOpts())
	defer s.Close()
	if s.Size() != size || s.Len() != len(all) {
		t.Errorf("recounted: Size %d, Len %d; want %d, %d", s.Size(), s.Len(), size, len(all))
	}
}

// TestBlocksRetentionKeepsLiveBlocks: retention deleting the oldest half
// leaves every record it keeps readable, and deleting the rest leaves no
// block, no record count and no size.
func TestBlocksRetentionKeepsLiveBlocks(t *testing.T) {
	ctx := context.Background()
	start := time.Now().Add(-time.Hour)
	var all []*recording.Record
	var batches [][]*recording.Record
	// Writes of records out of order: blocks overlap in time.
	for i := range 4 {
		recs := noisyRecords(uint64(i+1), start.Add(time.Duration(i)*100*time.Microsecond), 250, 300)
		batches = append(batches, recs)
		all = append(all, recs...)
	}
	s := openWritten(t, batches...)
	before := len(blockKeys(t, s))
	s.opts.MaxRecords = int64(len(all) / 2)
	if _, err := s.Retain(ctx); err != nil {
		t.Fatal(err)
	}
	var kept []*recording.Record
	listed := map[recording.ID]bool{}
	for _, id := range listIDs(t, s, store.Query{}) {
		listed[id] = true
	}
	for _, r := range all {
		if listed[r.ID] {
			kept = append(kept, r)
		}
	}
	if len(kept) == 0 || len(kept) > len(all)/2 {
		t.Fatalf("%d records kept of %d", len(kept), len(all))
	}
	checkGet(t, s, kept)
	if after := len(blockKeys(t, s)); after >= before {
		t.Errorf("%d blocks after deleting half the records, %d before", after, before)
	}
	s.opts.MaxAge = time.Minute
	if _, err := s.Retain(ctx); err != nil {
		t.Fatal(err)
	}
	if n, size, blocks := s.Len(), s.Size(), len(blockKeys(t, s)); n != 0 || size != 0 || blocks != 0 {
		t.Errorf("everything deleted: Len %d, Size %d, %d blocks; want 0", n, size, blocks)
	}
}

// TestBlocksClear: Clear leaves no block and no size, and records written
// after it are read back (the block cache holds nothing from before).
func TestBlocksClear(t *testing.T) {
	ctx := context.Background()
	start := time.Now().Add(-time.Hour)
	recs := noisyRecords(1, start, 100, 300)
	s := openWritten(t, recs)
	checkGet(t, s, recs[:1]) // its block is cached
	if err := s.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if n, size, blocks := s.Len(), s.Size(), len(blockKeys(t, s)); n != 0 || size != 0 || blocks != 0 {
		t.Errorf("cleared: Len %d, Size %d, %d blocks; want 0", n, size, blocks)
	}
	if _, err := s.Get(ctx, recs[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after Clear: %v, want ErrNotFound", err)
	}
	next := noisyRecords(2, start, 100, 300)
	if err := s.Write(ctx, next); err != nil {
		t.Fatal(err)
	}
	checkGet(t, s, next)
}

// TestBlocksDamagedBytes: a block or an index block cut anywhere, or with
// a byte changed anywhere, makes Get return an error (or, for a change the
// checks cannot see, a record), never panic or hang.
func TestBlocksDamagedBytes(t *testing.T) {
	ctx := context.Background()
	// Within one second: one index block.
	recs := noisyRecords(1, time.Now().Add(-time.Hour).Truncate(time.Second), 20, 100)
	s := openWritten(t, recs)
	keys := blockKeys(t, s)
	if len(keys) != 1 {
		t.Fatalf("%d blocks, want 1", len(keys))
	}
	var block, rv, fk []byte // fk: the entry of the record's ref, its index block
	err := s.db.View(func(txn *badger.Txn) error {
		bi, err := txn.Get(keys[0])
		if err != nil {
			return err
		}
		if block, err = bi.ValueCopy(nil); err != nil {
			return err
		}
		ik := prefixKeys(t, s, pIndex)
		if len(ik) != 1 {
			t.Fatalf("%d index blocks, want 1", len(ik))
		}
		ii, err := txn.Get(ik[0])
		if err != nil {
			return err
		}
		fk = ik[0]
		rv, err = ii.ValueCopy(nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	set := func(k, v []byte) { t.Helper(); setValue(t, s, k, v) }
	get := func(what string) {
		t.Helper()
		r, err := s.Get(ctx, recs[7].ID)
		if err == nil && r == nil {
			t.Fatalf("%s: Get returned no record and no error", what)
		}
		if err != nil && !errors.Is(err, store.ErrCorrupt) {
			t.Fatalf("%s: Get: %v, want ErrCorrupt", what, err)
		}
	}
	damageBlockAndRef(keys[0], block, fk, rv, 200, set, get)
}

// setValue sets key k of s to v, as damage would, and empties the cache
// of the block last read.
func setValue(t *testing.T, s *Store, k, v []byte) {
	t.Helper()
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(k, v) }); err != nil {
		t.Fatal(err)
	}
	s.blocks.put([16]byte{}, nil)
}

// damageBlockAndRef sets, with set, the value block of key bk cut and
// with a byte changed at about every n-th place, then the value ref of
// key rk cut and changed at every place, calling check after each (with
// what was damaged), and block again before the ref's.
func damageBlockAndRef(bk, block, rk, ref []byte, n int, set func(k, v []byte), check func(what string)) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < len(block); i += 1 + len(block)/n {
		set(bk, block[:i])
		check("block cut")
		d := append([]byte(nil), block...)
		d[i] ^= byte(1 + rng.IntN(255))
		set(bk, d)
		check("block changed")
	}
	set(bk, block)
	for i := range ref {
		set(rk, ref[:i])
		check("ref cut")
		for _, x := range []byte{1, 0x80, 0xff} {
			d := append([]byte(nil), ref...)
			d[i] ^= x
			set(rk, d)
			check("ref changed")
		}
	}
}

// TestBlocksGetDuringRetention: Gets of records while retention deletes
// their blocks return the record or ErrNotFound, never a damaged or wrong
// record (run with -race for the block cache).
func TestBlocksGetDuringRetention(t *testing.T) {
	ctx := context.Background()
	start := time.Now().Add(-time.Hour)
	recs := noisyRecords(1, start, 600, 300)
	s := openWritten(t, recs)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 4)
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; ; i = (i + 7) % len(recs) {
				select {
				case <-stop:
					return
				default:
				}
				r, err := s.Get(ctx, recs[i].ID)
				switch {
				case errors.Is(err, store.ErrCorrupt) || err != nil && !errors.Is(err, store.ErrNotFound):
					errs <- err
					return
				case err == nil && (r.ID != recs[i].ID || r.Status != recs[i].Status || len(r.Attrs) != len(recs[i].Attrs)):
					errs <- errors.New("Get returned another record")
					return
				}
			}
		}()
	}
	for n := len(recs) - 50; n >= 0; n -= 50 {
		s.opts.MaxRecords = int64(max(n, 1))
		if _, err := s.Retain(ctx); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if s.Len() != 1 {
		t.Errorf("Len = %d, want 1", s.Len())
	}
}

// TestBlockDamagedLengthBounded: a block whose damaged length claims tens
// of MiB, within a value-log file, is refused by Get before its buffer is
// allocated: its records are small, so it holds two blocks' worth at most.
func TestBlockDamagedLengthBounded(t *testing.T) {
	ctx := context.Background()
	recs := noisyRecords(1, time.Now().Add(-time.Hour), 10, 100)
	s := openWritten(t, recs)
	keys := blockKeys(t, s)
	if len(keys) != 1 {
		t.Fatalf("%d blocks, want 1", len(keys))
	}
	claim := binary.AppendUvarint([]byte{tagBlock, blockV1}, uint64(s.opts.ValueLogFileSize-1<<20))
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(keys[0], append(claim, 0, 1, 2, 3)) }); err != nil {
		t.Fatal(err)
	}
	s.blocks.put([16]byte{}, nil)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := s.Get(ctx, recs[3].ID)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("Get of a record in a block claiming %d MiB: %v, want ErrCorrupt", s.opts.ValueLogFileSize>>20-1, err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("Get of a record in a block claiming %d MiB allocated %d bytes", s.opts.ValueLogFileSize>>20-1, n)
	}
}

// TestBlocksRetentionInChunks: a retention pass deleting thousands of
// records, in several chunks, deletes the blocks of the records it
// deleted and keeps those of the records it kept.
func TestBlocksRetentionInChunks(t *testing.T) {
	ctx := context.Background()
	start := time.Now().Add(-time.Hour)
	recs := noisyRecords(1, start, 3000, 50)
	s := openWritten(t, recs)
	s.opts.MaxRecords = 400
	res, err := s.Retain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 2600 || s.Len() != 400 {
		t.Fatalf("deleted %d, %d left; want 2600, 400", res.Deleted, s.Len())
	}
	checkGet(t, s, recs[2600:])
	// Every block left holds a record kept.
	live := map[[16]byte]bool{}
	err = s.db.View(func(txn *badger.Txn) error {
		for _, r := range recs[2600:] {
			rf, err := recordRef(txn, r.ID)
			if err != nil {
				return err
			}
			live[rf.key] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range blockKeys(t, s) {
		if !live[[16]byte(k[1:])] {
			t.Errorf("block %x left with no record kept", k)
		}
	}
}
