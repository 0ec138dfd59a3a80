package badgerstore

import (
	"context"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/storetest"
)

// TestBlocksRewrite: records written again with the same IDs (an import
// repeated, a record over budget written again), some of them with an
// execution trace the first time only, are read as written last, counted
// once, in Len, Size and TraceSize as a recount counts them, and deleting
// them leaves nothing counted.
func TestBlocksRewrite(t *testing.T) {
	ctx := context.Background()
	s, dir := openBlockDir(t)
	start := time.Now().Add(-time.Hour)
	recs := noisyRecords(1, start, 200, 300)
	for i, r := range recs[:20] {
		data := storetest.TraceData(uint64(i), 2000)
		r.ExecTrace = &recording.ExecTrace{Data: data, Size: int64(len(data)), Taken: r.Start, Reason: "slow"}
	}
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	again := make([]*recording.Record, len(recs))
	for i, r := range recs {
		c := *r
		c.Status = 503
		if i%2 == 0 {
			c.ExecTrace = nil // the new version has none
		}
		again[i] = &c
	}
	if err := s.Write(ctx, again); err != nil {
		t.Fatal(err)
	}
	checkGet(t, s, again)
	size, n, traces := s.Size(), s.Len(), s.TraceSize()
	if n != len(recs) {
		t.Errorf("written twice: Len %d, want %d", n, len(recs))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = recount(t, dir, blockOpts())
	defer s.Close()
	if s.Size() != size || s.Len() != n || s.TraceSize() != traces {
		t.Errorf("written twice: Size %d, Len %d, TraceSize %d; recounted %d, %d, %d", size, n, traces, s.Size(), s.Len(), s.TraceSize())
	}
	checkGet(t, s, again)
	// Written a third time, then deleted without a recount between.
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	s.opts.MaxAge = time.Minute
	if _, err := s.Retain(ctx); err != nil {
		t.Fatal(err)
	}
	if n, size, traces, blocks := s.Len(), s.Size(), s.TraceSize(), len(blockKeys(t, s)); n != 0 || size != 0 || traces != 0 || blocks != 0 {
		t.Errorf("everything deleted: Len %d, Size %d, TraceSize %d, %d blocks; want 0", n, size, traces, blocks)
	}
}

// TestBlocksRewriteInOneWrite: a record given twice to one Write, in
// one block or in two, is stored once, as given last, and counted once.
func TestBlocksRewriteInOneWrite(t *testing.T) {
	for _, n := range []int{10, 300} {
		ctx := context.Background()
		s, dir := openBlockDir(t)
		recs := noisyRecords(1, time.Now().Add(-time.Hour), n, 100)
		c := *recs[4]
		c.Status = 503
		if err := s.Write(ctx, append(recs, &c)); err != nil {
			t.Fatal(err)
		}
		if b := len(blockKeys(t, s)); n > 10 && b < 2 {
			t.Fatalf("%d records in %d block", n, b)
		}
		recs[4] = &c
		checkGet(t, s, recs)
		size, l := s.Size(), s.Len()
		if l != len(recs) {
			t.Errorf("%d records: Len %d, want %d", n, l, len(recs))
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = recount(t, dir, blockOpts())
		if s.Size() != size || s.Len() != l {
			t.Errorf("%d records: Size %d, Len %d; recounted %d, %d", n, size, l, s.Size(), s.Len())
		}
		s.Close()
	}
}

// TestBlocksRewriteMoved: a record written again with the same ID and
// another start (no later than the newest stored), in another Write or
// the same one, replaces the stored one: it is listed once, at its new
// start, counted once, and retention deleting the records before it
// leaves it whole.
func TestBlocksRewriteMoved(t *testing.T) {
	ctx := context.Background()
	s, dir := openBlockDir(t)
	defer func() { s.Close() }()
	start := time.Now().Add(-time.Hour)
	recs := noisyRecords(1, start, 20, 100)
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	later := noisyRecords(2, start.Add(time.Minute), 20, 100)
	// Moved within the records stored: one started later than all of
	// them is not looked up (see replaced).
	moved := *recs[3]
	moved.Start = start.Add(30 * time.Second)
	twice := *recs[5] // twice in one Write
	twice.Start = start.Add(40 * time.Second)
	if err := s.Write(ctx, append(later, &moved, recs[5], &twice)); err != nil {
		t.Fatal(err)
	}
	want := append(append(append([]*recording.Record{}, recs[:3]...), recs[4]), recs[6:]...)
	want = append(append(want, &moved, &twice), later...)
	checkGet(t, s, want)
	s = listedAndCounted(t, s, dir, want)
	// The first Write's records go, the moved ones stay.
	s.opts.MaxRecords = int64(len(later) + 2)
	if _, err := s.Retain(ctx); err != nil {
		t.Fatal(err)
	}
	checkGet(t, s, want[len(want)-len(later)-2:])
	if s.Len() != len(later)+2 {
		t.Errorf("Len %d after retention, want %d", s.Len(), len(later)+2)
	}
}

// TestBlocksRewriteRefMoves: a record's ref is in an index block when its
// ID holds its start, in its f entry when not; a record written again has
// an f entry and an s entry of its own. Written again from one to the
// other (moved to its ID's time, and away from it), it is read, listed and
// counted once.
func TestBlocksRewriteRefMoves(t *testing.T) {
	ctx := context.Background()
	s, dir := openBlockDir(t)
	defer func() { s.Close() }()
	start := time.Now().Add(-time.Hour)
	recs := noisyRecords(1, start, 20, 100)
	// An f entry for the first ten: started a second after their IDs'
	// time. The newest record starts last, so that the rest are looked
	// up when written again.
	away := make([]*recording.Record, 10)
	for i, r := range recs[:10] {
		c := *r
		c.Start = r.Start.Add(time.Second)
		away[i] = &c
	}
	if err := s.Write(ctx, append(append([]*recording.Record{}, away...), recs[10:]...)); err != nil {
		t.Fatal(err)
	}
	if n := countKeys(t, s, pRecord); n != 10 {
		t.Fatalf("%d f entries, want 10", n)
	}
	// Back to their IDs' time (pairs), and ten others away from it.
	moved := append([]*recording.Record{}, recs[:10]...)
	for _, r := range recs[10:19] {
		c := *r
		c.Start = r.Start.Add(-time.Millisecond / 2)
		moved = append(moved, &c)
	}
	if err := s.Write(ctx, moved); err != nil {
		t.Fatal(err)
	}
	want := append(append([]*recording.Record{}, moved...), recs[19])
	checkGet(t, s, want)
	if n := countKeys(t, s, pRecord); n != 19 {
		t.Errorf("%d f entries, want 19 (the records written again)", n)
	}
	s = listedAndCounted(t, s, dir, want)
	checkGet(t, s, want)
}

// listedAndCounted checks that s, in dir, lists and counts want's records
// once each, and that a recount at Open counts them as s did; it returns
// the store opened again (s is closed).
func listedAndCounted(t *testing.T, s *Store, dir string, want []*recording.Record) *Store {
	t.Helper()
	if ids := listIDs(t, s, store.Query{}); len(ids) != len(want) {
		t.Errorf("List: %d records, want %d", len(ids), len(want))
	}
	size, n := s.Size(), s.Len()
	if n != len(want) {
		t.Errorf("Len %d, want %d", n, len(want))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = recount(t, dir, blockOpts())
	if s.Size() != size || s.Len() != n {
		t.Errorf("Size %d, Len %d; recounted %d, %d", size, n, s.Size(), s.Len())
	}
	return s
}

// TestBlocksRewriteTwiceBackToIDTime: a record stored with an f entry
// (it started after its ID's time), given twice to one Write, first at
// its stored start, then at its ID's time, is stored once, with an f
// entry, its s entry at its stored start gone, and a recount counts the
// Size the store kept.
func TestBlocksRewriteTwiceBackToIDTime(t *testing.T) {
	ctx := context.Background()
	s, dir := openBlockDir(t)
	recs := noisyRecords(1, time.Now().Add(-time.Hour), 20, 300)
	r := recs[5]
	idStart := r.Start
	r.Start = r.Start.Add(time.Second) // not its ID's time: an f entry
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if n := countKeys(t, s, pRecord); n != 1 {
		t.Fatalf("%d f entries, want 1", n)
	}
	again, back := *r, *r
	again.Status = 502
	back.Status = 503
	back.Start = idStart
	if err := s.Write(ctx, []*recording.Record{&again, &back}); err != nil {
		t.Fatal(err)
	}
	if n, m := countKeys(t, s, pRecord), countKeys(t, s, pSummary); n != 1 || m != 1 {
		t.Errorf("%d f entries, %d s entries left, want 1, 1", n, m)
	}
	recs[5] = &back
	s = listedAndCounted(t, s, dir, recs)
	defer s.Close()
	checkGet(t, s, recs)
}

// TestBlocksRewriteLaterThanAll: a record whose ID holds its start,
// written again later than every record stored (not looked up: listed at
// both starts, see replaced), keeps its new version when retention
// deletes the old one: the f entry of the new version is not taken for
// the old one's.
func TestBlocksRewriteLaterThanAll(t *testing.T) {
	ctx := context.Background()
	recs := noisyRecords(1, time.Now().Add(-time.Hour), 20, 100)
	s := openWritten(t, recs)
	moved := *recs[3]
	moved.Start = recs[len(recs)-1].Start.Add(time.Second)
	moved.Status = 503
	if err := s.Write(ctx, []*recording.Record{&moved}); err != nil {
		t.Fatal(err)
	}
	s.opts.MaxRecords = int64(len(recs) + 1 - 4) // recs[:4] go
	if _, err := s.Retain(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Len() != len(recs)-3 {
		t.Fatalf("Len %d, want %d", s.Len(), len(recs)-3)
	}
	checkGet(t, s, append(recs[4:], &moved))
}
