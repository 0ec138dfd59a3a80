package badgerstore

import (
	"context"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/storetest"
)

// TestFutureRecordKeepsWritesNew: a record from the future (see
// futureSkew) does not make the records written after it look
// themselves up until the clock reaches it, before and after a reopen,
// and a record from the future written again at its start is still
// replaced, not stored twice.
//
// Reported: one record written under a clock ten years ahead raised the
// newest start to it, and every later Write looked each of its records
// up (~4.4 → ~11 µs of CPU a record in the sixteenth round's
// BenchmarkWriteAfterFuture, before its warm-up; now
// BenchmarkWriteAfterFuture/persisted).
func TestFutureRecordKeepsWritesNew(t *testing.T) {
	ctx := context.Background()
	s, dir := openBlockDir(t)
	now := time.Now()
	tmpl := storetest.Records(1, now, time.Millisecond, 1)[0]
	rec := func(start time.Time, n uint64, status int) *recording.Record {
		r := withID(tmpl, start, n)
		r.Status = status
		return r
	}
	write := func(rs ...*recording.Record) {
		t.Helper()
		if err := s.Write(ctx, rs); err != nil {
			t.Fatal(err)
		}
	}
	check := func(when string, newest, future time.Time, n int) {
		t.Helper()
		if got := s.newest.Load(); got != newest.UnixNano() {
			t.Errorf("%s: newest start %v, want %v", when, time.Unix(0, got), newest)
		}
		if got := s.future.Load(); got != future.UnixNano() {
			t.Errorf("%s: the future's earliest start %v, want %v", when, time.Unix(0, got), future)
		}
		if s.Len() != n {
			t.Errorf("%s: Len %d, want %d", when, s.Len(), n)
		}
		if got := len(storetest.ListAll(t, s, store.Query{})); got != n {
			t.Errorf("%s: %d listed, want %d", when, got, n)
		}
	}
	a1, f := rec(now.Add(-time.Hour), 1, 200), rec(now.Add(10*365*24*time.Hour), 2, 200)
	write(a1, f)
	check("a record and one from the future", a1.Start, f.Start, 2)
	// A later record is new: it lies between the newest start and the
	// future's earliest, and raises the newest start.
	a2 := rec(now.Add(-30*time.Minute), 3, 200)
	write(a2)
	check("a later record", a2.Start, f.Start, 3)
	// The record from the future written again at its start is looked
	// up and replaced.
	f = rec(f.Start, 2, 500)
	write(f)
	check("the future's record again", a2.Start, f.Start, 3)
	checkGet(t, s, []*recording.Record{a1, a2, f})
	// An earlier record from the future lowers the earliest.
	f2 := rec(now.Add(5*365*24*time.Hour), 4, 200)
	write(f2)
	check("an earlier record from the future", a2.Start, f2.Start, 4)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Open finds both again: the newest start up to futureSkew from now,
	// from the index blocks, and the future's earliest, from its s entry.
	var err error
	if s, err = Open(dir, blockOpts()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check("reopened", a2.Start, f2.Start, 4)
	f2 = rec(f2.Start, 4, 503)
	a2 = rec(a2.Start, 3, 404)
	write(f2, a2)
	check("both written again after the reopen", a2.Start, f2.Start, 4)
	a3 := rec(now.Add(-time.Minute), 5, 200)
	write(a3)
	check("a later record after the reopen", a3.Start, f2.Start, 5)
	checkGet(t, s, []*recording.Record{a1, a2, a3, f, f2})
}

// TestOpenFindsUnindexedEdges checks the two seeks by which Open finds,
// among records kept by s entries rather than index blocks (here, records
// whose start is not their ID's time), the newest start up to futureSkew
// from now and the earliest start after it. The records' starts lie on
// both sides of the horizon and newer than every indexed record, so that
// the index walk alone cannot find either.
func TestOpenFindsUnindexedEdges(t *testing.T) {
	ctx := context.Background()
	s, dir := openBlockDir(t)
	now := time.Now()
	tmpl := storetest.Records(1, now, time.Millisecond, 1)[0]
	moved := func(id, start time.Time, n uint64) *recording.Record {
		r := withID(tmpl, id, n)
		r.Start = start
		return r
	}
	old := withID(tmpl, now.Add(-3*time.Hour), 1)
	near := moved(now.Add(-2*time.Hour), now.Add(-time.Minute), 2)
	// Within futureSkew: not from the future, and the newest.
	ahead := moved(now.Add(-2*time.Hour), now.Add(futureSkew-time.Hour), 3)
	far := moved(now.Add(-2*time.Hour), now.Add(futureSkew+time.Hour), 4)
	farther := moved(now.Add(-2*time.Hour), now.Add(2*futureSkew), 5)
	if err := s.Write(ctx, []*recording.Record{old, near, ahead, far, farther}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var err error
	if s, err = Open(dir, blockOpts()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.newest.Load(); got != ahead.Start.UnixNano() {
		t.Errorf("newest start %v, want %v", time.Unix(0, got), ahead.Start)
	}
	if got := s.future.Load(); got != far.Start.UnixNano() {
		t.Errorf("the future's earliest start %v, want %v", time.Unix(0, got), far.Start)
	}
	checkGet(t, s, []*recording.Record{old, near, ahead, far, farther})
}
