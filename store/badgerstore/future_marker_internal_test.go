package badgerstore

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// TestFutureRecordMovedBack: a record written under a wrong clock, far
// in the future (its ID holding that start), then written again at its
// right start, leaves a gone marker at its ID's time, in the future. When
// MaxRecords needs room, the marker is not taken for a record from the
// future: the oldest record goes, Len counts what List lists, and Get
// still reads the record at its right start.
func TestFutureRecordMovedBack(t *testing.T) {
	ctx := context.Background()
	s, dir := openBlockDir(t)
	future := noisyRecords(2, time.Now().Add(10*365*24*time.Hour), 1, 300)[0]
	if err := s.Write(ctx, []*recording.Record{future}); err != nil {
		t.Fatal(err)
	}
	back := *future
	back.Start = time.Now().Add(-30 * time.Minute)
	back.Status = 503
	recs := noisyRecords(1, time.Now().Add(-time.Hour), 50, 300)
	if err := s.Write(ctx, []*recording.Record{&back}); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	all := append(slices.Clone(recs), &back)
	if s.Len() != len(all) {
		t.Fatalf("Len %d, want %d", s.Len(), len(all))
	}
	s.opts.MaxRecords = int64(len(all) - 1)
	res, err := s.Retain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := all[1:] // recs[0], the oldest, goes
	if res.Deleted != 1 {
		t.Errorf("Retain deleted %d records, want 1", res.Deleted)
	}
	ids := listIDs(t, s, store.Query{})
	if len(ids) != len(want) || slices.Contains(ids, recs[0].ID) {
		t.Errorf("List: %d records (the oldest among them: %v), want %d without the oldest", len(ids), slices.Contains(ids, recs[0].ID), len(want))
	}
	checkGet(t, s, want)
	s = listedAndCounted(t, s, dir, want)
	defer s.Close()
	checkGet(t, s, want)
}
