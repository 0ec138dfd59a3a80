package badgerstore

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/storetest"
)

// TestLostMinuteRace: readers finding a damaged index block while folds,
// retention passes, writes into the minute and a Clear run: nothing
// panics or hangs, and once they are done Stats and Series agree with List.
func TestLostMinuteRace(t *testing.T) {
	for round := range 2 { // the second clears
		dir, all := damagedIndexDir(t)
		start := all[0][0].Start
		s, err := Open(dir, blockOpts())
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				for range 20 {
					listIDs(t, s, store.Query{})
					s.Stats(ctx, store.Window{Since: start.Add(-time.Hour), Until: time.Now()})
					s.Series(ctx, store.Window{Since: start.Add(-time.Hour), Until: time.Now()}, time.Minute)
					s.blocks.put([16]byte{}, nil) // drop cached blocks, so reads find the damage again
					s.damagedMu.Lock()
					s.damagedKeys = nil // and note it again
					s.damagedMu.Unlock()
				}
			})
		}
		wg.Go(func() {
			for i := range 10 {
				more := storetest.Records(uint64(100+round*10+i), start.Add(40*time.Second), time.Millisecond, 3)
				s.Write(ctx, more)
				s.fold()
				s.Retain(ctx)
				if round%2 == 1 && i == 5 {
					if err := s.Clear(ctx); err != nil {
						t.Error(err)
					}
				}
			}
		})
		wg.Wait()
		s.fold()
		n := len(listIDs(t, s, store.Query{}))
		statsAgree(t, s, start, n, "after the race")
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s, err = Open(dir, blockOpts())
		if err != nil {
			t.Fatal(err)
		}
		listIDs(t, s, store.Query{})
		statsAgree(t, s, start, n, "reopened after the race")
		s.Close()
	}
}
