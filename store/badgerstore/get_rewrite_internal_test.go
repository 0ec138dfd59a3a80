package badgerstore

import (
	"context"
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

