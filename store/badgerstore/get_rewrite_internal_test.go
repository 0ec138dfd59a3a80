package badgerstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/storetest"
)

// TestGetRewrittenLast: a record written, then others, then written again
// changed and moved past them all (its ID holding its first start), is
// read by Get as written last, listed once as written last, and counted
// once, whether Get read its first version before or not.
func TestGetRewrittenLast(t *testing.T) {
	for _, readFirst := range []bool{false, true} {
		ctx := context.Background()
		s, _ := openBlockDir(t)
		recs := noisyRecords(1, time.Now().Add(-time.Hour), 50, 300)
		if err := s.Write(ctx, recs[:1]); err != nil {
			t.Fatal(err)
		}
		if readFirst {
			checkGet(t, s, recs[:1])
		}
		if err := s.Write(ctx, recs[1:]); err != nil {
			t.Fatal(err)
		}
		if readFirst {
			checkGet(t, s, recs[1:2])
		}
		c := *recs[0]
		c.Status = 503
		c.Start = recs[len(recs)-1].Start.Add(time.Minute) // later than every record stored
		if err := s.Write(ctx, []*recording.Record{&c}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != 503 {
			t.Errorf("read before %v: Get of a record written again returned status %d, want 503", readFirst, got.Status)
		}
		checkGet(t, s, []*recording.Record{&c})
		// List lists it once, at its new start, and Len counts it once.
		n := 0
		for _, sum := range storetest.ListAll(t, s, store.Query{}) {
			if sum.ID == c.ID {
				n++
				if !sum.Start.Equal(c.Start) || sum.Status != 503 {
					t.Errorf("listed at %v with status %d, want %v and 503", sum.Start, sum.Status, c.Start)
				}
			}
		}
		if n != 1 || s.Len() != len(recs) {
			t.Errorf("listed %d times, Len %d; want once, %d", n, s.Len(), len(recs))
		}
		s.Close()
	}
}

// TestClearAsEmpty: after Clear the store is as an empty one: nothing
// counted, its newest start that of a new store (so that the records
// written next are taken as new, not looked up), and a record written
// again after Clear read and counted as written.
func TestClearAsEmpty(t *testing.T) {
	ctx := context.Background()
	empty, _ := openBlockDir(t)
	defer empty.Close()
	s, _ := openBlockDir(t)
	defer s.Close()
	recs := noisyRecords(1, time.Now().Add(-time.Hour), 50, 300)
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if err := s.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := s.newest.Load(), empty.newest.Load(); got != want {
		t.Errorf("after Clear, the newest start is %d, want %d as in an empty store", got, want)
	}
	if got, want := s.future.Load(), empty.future.Load(); got != want {
		t.Errorf("after Clear, the future's earliest start is %d, want %d as in an empty store", got, want)
	}
	if s.Len() != 0 || s.Size() != 0 || s.TraceSize() != 0 {
		t.Errorf("after Clear: Len %d, Size %d, TraceSize %d", s.Len(), s.Size(), s.TraceSize())
	}
	if sums := storetest.ListAll(t, s, store.Query{}); len(sums) != 0 {
		t.Errorf("after Clear: %d listed", len(sums))
	}
	if _, err := s.Get(ctx, recs[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after Clear: Get = %v, want ErrNotFound", err)
	}
	// The oldest record again: read, listed and counted once.
	if err := s.Write(ctx, recs[:1]); err != nil {
		t.Fatal(err)
	}
	checkGet(t, s, recs[:1])
	if s.Len() != 1 || len(storetest.ListAll(t, s, store.Query{})) != 1 {
		t.Errorf("one record written after Clear: Len %d", s.Len())
	}
}
