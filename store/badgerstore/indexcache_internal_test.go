package badgerstore

import (
	"context"
	"testing"
	"time"
)

// TestDefaultOpenStartsNoIndexCache: a store opened with the default
// Options starts no Badger index cache, which Badger consults only for
// encrypted tables; a positive IndexCacheSize is still passed on.
func TestDefaultOpenStartsNoIndexCache(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m := s.db.IndexCacheMetrics(); m != nil {
		t.Errorf("default Options: Badger runs an index cache (%s); want none", m)
	}
	s.Close()
	s, err = Open(t.TempDir(), Options{IndexCacheSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if s.db.IndexCacheMetrics() == nil {
		t.Error("IndexCacheSize 1 MiB: Badger runs no index cache; want one")
	}
	s.Close()
}

// writeReopenGet writes 4,000 records into a new store opened with o,
// closes it (Close flushes Badger's memtable into a table), reopens it,
// so that every key is read from a table, and checks that each record
// reads back. The caller closes the store.
func writeReopenGet(t *testing.T, o Options) *Store {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	ctx := context.Background()
	recs := noisyRecords(7, start, 4000, 600)
	for i := 0; i < len(recs); i += 100 {
		if err := s.Write(ctx, recs[i:i+100]); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(dir, o); err != nil {
		t.Fatal(err)
	}
	if n := len(s.db.Tables()); n < 1 {
		s.Close()
		t.Fatalf("%d tables after writing and reopening; want at least one", n)
	}
	for _, r := range recs {
		got, err := s.Get(ctx, r.ID)
		if err != nil {
			s.Close()
			t.Fatalf("Get %v: %v", r.ID, err)
		}
		if got.ID != r.ID || !got.Start.Equal(r.Start) {
			s.Close()
			t.Fatalf("Get %v: record %v at %v, want %v", r.ID, got.ID, got.Start, r.Start)
		}
	}
	return s
}

// TestReadsFromTablesWithoutIndexCache: without an index cache (the
// default), records whose keys are in Badger's tables all read back.
func TestReadsFromTablesWithoutIndexCache(t *testing.T) {
	s := writeReopenGet(t, blockOpts())
	defer s.Close()
	if s.db.IndexCacheMetrics() != nil {
		t.Error("an index cache with the default IndexCacheSize")
	}
}

// TestIndexCacheNeverAsked: with an index cache (IndexCacheSize 1 MiB),
// the same writes and reads never ask it nor add to it: Badger reads an
// unencrypted table's index from the table's memory-mapped file, which
// is what Options.IndexCacheSize's documentation says.
func TestIndexCacheNeverAsked(t *testing.T) {
	o := blockOpts()
	o.IndexCacheSize = 1 << 20
	s := writeReopenGet(t, o)
	defer s.Close()
	m := s.db.IndexCacheMetrics()
	if m == nil {
		t.Fatal("IndexCacheSize 1 MiB: no index cache")
	}
	if m.Hits()+m.Misses() != 0 || m.KeysAdded() != 0 {
		t.Errorf("index cache asked: %s; want never", m)
	}
}
