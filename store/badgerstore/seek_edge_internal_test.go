package badgerstore

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// TestListUntilEndOfTime: List with Until at the last time a time.Time
// holds in Unix nanoseconds lists the records of the index blocks: the
// walk's seek to the second after its bound does not wrap around.
func TestListUntilEndOfTime(t *testing.T) {
	ctx := context.Background()
	s, _ := openBlockDir(t)
	defer s.Close()
	recs := noisyRecords(1, time.Now().Add(-time.Hour), 20, 100)
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	end := time.Unix(0, math.MaxInt64)
	if ids := listIDs(t, s, store.Query{Until: end}); len(ids) != len(recs) {
		t.Errorf("List until %v: %d records, want %d", end, len(ids), len(recs))
	}
}

// TestListFarFuture: a record that starts in the last years a time.Time
// holds in Unix nanoseconds (a clock gone wild), whose key's time leads
// with 0xFF, is listed first, and counted once when written again after
// a reopen (the newest start read at Open includes it).
func TestListFarFuture(t *testing.T) {
	ctx := context.Background()
	s, dir := openBlockDir(t)
	recs := noisyRecords(1, time.Now().Add(-time.Hour), 20, 100)
	far := noisyRecords(2, time.Unix(0, math.MaxInt64-int64(time.Hour)), 1, 100)[0]
	all := append(slices.Clone(recs), far)
	if err := s.Write(ctx, all); err != nil {
		t.Fatal(err)
	}
	ids := listIDs(t, s, store.Query{})
	if len(ids) != len(all) || ids[0] != far.ID {
		t.Errorf("List: %d records, the first %v; want %d, the first %v", len(ids), ids[0], len(all), far.ID)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, blockOpts())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, []*recording.Record{far}); err != nil {
		t.Fatal(err)
	}
	s = listedAndCounted(t, s, dir, all)
	defer s.Close()
	checkGet(t, s, all)
}
