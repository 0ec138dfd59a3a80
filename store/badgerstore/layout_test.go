package badgerstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/storetest"
)

// openLayout copies a store of testdata and opens the copy. Both hold
// layoutRecords, written in two Writes: v1-store before records were
// stored in blocks (commit bcb2cf2: a summary and a full record per
// record), v2-store before summaries were (commit 771da5a: a summary and
// a ref into a block of records per record), v3-store (commit c4bdbe7,
// records 0–19 then 20–47) with an s entry per record holding the refs to
// its summary, in a block of summaries, and to its record.
func openLayout(t *testing.T, fixture string, opts Options) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/"+fixture)); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

// shifted returns recs' copies an hour later, with new IDs (holding
// their start if recs' did).
func shifted(recs []*recording.Record) []*recording.Record {
	out := make([]*recording.Record, len(recs))
	for i, r := range recs {
		c := *r
		c.Start = r.Start.Add(time.Hour)
		c.ID[11] ^= 0xff
		if idTime(r.ID) == r.Start.UnixNano() {
			// An ID that holds its start still does.
			binary.BigEndian.PutUint64(c.ID[:8], uint64(c.Start.UnixNano()))
		}
		if r.ExecTrace != nil {
			et := *r.ExecTrace
			c.ExecTrace = &et
		}
		out[i] = &c
	}
	return out
}

// checkGet checks that Get and ExecTrace return recs as they were written.
func checkGet(t *testing.T, s *Store, recs []*recording.Record) {
	t.Helper()
	ctx := context.Background()
	for _, want := range recs {
		got, err := s.Get(ctx, want.ID)
		if err != nil {
			t.Fatalf("Get(%s): %v", want.ID, err)
		}
		w, g := *want, *got
		if !g.Start.Equal(w.Start) {
			t.Errorf("Get(%s).Start = %v, want %v", want.ID, g.Start, w.Start)
		}
		g.Start = w.Start
		var data []byte
		if w.ExecTrace != nil {
			et := *w.ExecTrace
			data, et.Data = et.Data, nil
			w.ExecTrace = &et
			if g.ExecTrace != nil && g.ExecTrace.Taken.Equal(et.Taken) {
				gt := *g.ExecTrace
				gt.Taken = et.Taken
				g.ExecTrace = &gt
			}
		}
		if !reflect.DeepEqual(&g, &w) {
			t.Errorf("Get(%s) =\n%+v\nwant\n%+v", want.ID, g, w)
		}
		d, err := s.ExecTrace(ctx, want.ID)
		switch {
		case data == nil && !errors.Is(err, store.ErrNotFound):
			t.Errorf("ExecTrace(%s) = %d bytes, %v; want ErrNotFound", want.ID, len(d), err)
		case data != nil && (err != nil || !bytes.Equal(d, data)):
			t.Errorf("ExecTrace(%s) = %d bytes, %v; want %d bytes", want.ID, len(d), err, len(data))
		}
	}
}

// listIDs lists q page by page (7 a page) and returns the IDs.
func listIDs(t *testing.T, s *Store, q store.Query) []recording.ID {
	t.Helper()
	q.Limit = 7
	var ids []recording.ID
	for _, sum := range storetest.ListAll(t, s, q) {
		ids = append(ids, sum.ID)
	}
	return ids
}

// wantIDs returns the IDs of the records keep selects, newest first.
func wantIDs(recs []*recording.Record, keep func(*recording.Record) bool) []recording.ID {
	var ids []recording.ID
	for i := len(recs) - 1; i >= 0; i-- {
		if keep(recs[i]) {
			ids = append(ids, recs[i].ID)
		}
	}
	return ids
}

// countKeys counts the keys with prefix p.
func countKeys(t *testing.T, s *Store, p byte) int {
	t.Helper()
	n := 0
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{p}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// recount reopens dir after deleting the record count a clean Close saved,
// so that Open counts the records and their size from the keys.
func recount(t *testing.T, dir string, opts Options) *Store {
	t.Helper()
	o, err := opts.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	db, err := badger.Open(o.badger(dir))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(txn *badger.Txn) error { return txn.Delete([]byte{pMeta}) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestLayoutV1 reads a store written with a summary and a full record per
// record (testdata/v1-store), writes records and summaries in blocks
// beside them, and reads, lists, counts, trims and clears them together.
func TestLayoutV1(t *testing.T) { testLayout(t, "v1-store") }

// TestLayoutV2 does the same with a store written with records in blocks
// and their summaries in the LSM tree (testdata/v2-store).
func TestLayoutV2(t *testing.T) { testLayout(t, "v2-store") }

// TestLayoutV3 does the same with a store written with summaries in
// blocks and an s entry per record holding the refs to its summary and its
// record (testdata/v3-store, written by commit c4bdbe7).
func TestLayoutV3(t *testing.T) { testLayout(t, "v3-store") }

func testLayout(t *testing.T, fixture string) {
	ctx := context.Background()
	opts := Options{RetentionInterval: -1, MaxAge: -1, RecordBudget: -1}
	s, dir := openLayout(t, fixture, opts)
	old := layoutRecords()
	if s.Len() != len(old) {
		t.Fatalf("Len = %d, want %d", s.Len(), len(old))
	}
	oldSumBlocks := countKeys(t, s, pSumBlock)
	if n := oldSumBlocks; fixture != "v3-store" && n != 0 || fixture == "v3-store" && n != 2 {
		t.Fatalf("%d summary blocks in the old store (%s)", n, fixture)
	}
	if n := countKeys(t, s, pBlock); fixture == "v1-store" && n != 0 || fixture != "v1-store" && n == 0 {
		t.Fatalf("%d blocks in the old store (%s)", n, fixture)
	}
	oldBlocks := countKeys(t, s, pBlock)
	oldEntries := countKeys(t, s, pSummary) + countKeys(t, s, pRecord)
	checkGet(t, s, old)

	recs := shifted(old)
	if err := s.Write(ctx, recs[:20]); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, recs[20:]); err != nil {
		t.Fatal(err)
	}
	if n := countKeys(t, s, pBlock); n < oldBlocks+2 {
		t.Fatalf("%d blocks after two Writes, want %d or more", n, oldBlocks+2)
	}
	if n := countKeys(t, s, pSumBlock); n != oldSumBlocks {
		t.Fatalf("%d summary blocks after two Writes, want %d", n, oldSumBlocks)
	}
	// The new records are in index blocks, one a second (four records
	// a second), with no s or f entry of their own.
	if n := countKeys(t, s, pIndex); n != 12 {
		t.Fatalf("%d index blocks after two Writes, want 12", n)
	}
	if n := countKeys(t, s, pSummary) + countKeys(t, s, pRecord); n != oldEntries {
		t.Fatalf("%d s and f entries after two Writes, want the old store's %d", n, oldEntries)
	}
	all := append(slices.Clone(old), recs...)
	checkGet(t, s, all)
	for _, tt := range []struct {
		name string
		q    store.Query
		keep func(*recording.Record) bool
	}{
		{"all", store.Query{}, func(*recording.Record) bool { return true }},
		{"route", store.Query{Route: "POST /orders"}, func(r *recording.Record) bool { return r.Route == "POST /orders" }},
		{"status class", store.Query{StatusClass: 5}, func(r *recording.Record) bool { return r.Status >= 500 }},
		{"min duration", store.Query{MinDuration: 60 * time.Millisecond}, func(r *recording.Record) bool { return r.Duration >= 60*time.Millisecond }},
		{"range", store.Query{Since: layoutStart.Add(5 * time.Second), Until: layoutStart.Add(time.Hour + 5*time.Second)},
			func(r *recording.Record) bool {
				return !r.Start.Before(layoutStart.Add(5*time.Second)) && r.Start.Before(layoutStart.Add(time.Hour+5*time.Second))
			}},
	} {
		if got, want := listIDs(t, s, tt.q), wantIDs(all, tt.keep); !slices.Equal(got, want) {
			t.Errorf("List %s: %d records, want %d", tt.name, len(got), len(want))
		}
	}
	w := store.Window{Since: layoutStart.Add(-time.Minute), Until: layoutStart.Add(2 * time.Hour)}
	st, err := s.Stats(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	storetest.CompareStats(t, st, storetest.ExpectStats(all, w))

	// The size counted as records are written is the size counted from
	// the keys at Open.
	n, size := s.Len(), s.Size()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = recount(t, dir, opts)
	if s.Len() != n || s.Size() != size {
		t.Errorf("recounted: %d records, %d bytes; counted while writing: %d, %d", s.Len(), s.Size(), n, size)
	}
	checkGet(t, s, all)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Retention deletes the old records and those of the first Write in
	// blocks, and the blocks whose records are all gone.
	const keep = 28 // the second Write's
	opts.MaxRecords = keep
	s, err = Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	blocks, idxBlocks := countKeys(t, s, pBlock), countKeys(t, s, pIndex)
	res, err := s.Retain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != int64(len(all)-keep) || s.Len() != keep {
		t.Fatalf("retention deleted %d records, %d left; want %d, %d", res.Deleted, s.Len(), len(all)-keep, keep)
	}
	if after := countKeys(t, s, pBlock); after >= blocks || after == 0 {
		t.Errorf("blocks: %d before retention, %d after; want fewer, not none", blocks, after)
	}
	if after := countKeys(t, s, pSumBlock); after != 0 {
		t.Errorf("summary blocks: %d after retention; want 0", after)
	}
	// The first Write's records (20, 5 seconds) go with their index
	// blocks; the second's first record shares a second with them.
	if after := countKeys(t, s, pIndex); after != idxBlocks-5 {
		t.Errorf("index blocks: %d before retention, %d after; want %d", idxBlocks, after, idxBlocks-5)
	}
	checkGet(t, s, all[len(all)-keep:])
	for _, r := range all[:len(all)-keep] {
		if _, err := s.Get(ctx, r.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get(%s) after retention: %v, want ErrNotFound", r.ID, err)
		}
	}
	if got, want := listIDs(t, s, store.Query{}), wantIDs(all[len(all)-keep:], func(*recording.Record) bool { return true }); !slices.Equal(got, want) {
		t.Errorf("List after retention: %d records, want %d", len(got), len(want))
	}
	n, size = s.Len(), s.Size()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = recount(t, dir, opts)
	defer s.Close()
	if s.Len() != n || s.Size() != size {
		t.Errorf("recounted after retention: %d records, %d bytes; counted: %d, %d", s.Len(), s.Size(), n, size)
	}
	if err := s.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countKeys(t, s, pBlock) + countKeys(t, s, pRecord) + countKeys(t, s, pSummary) + countKeys(t, s, pSumBlock) + countKeys(t, s, pIndex); n != 0 || s.Len() != 0 || s.Size() != 0 {
		t.Errorf("after Clear: %d keys, Len %d, Size %d", n, s.Len(), s.Size())
	}
}
