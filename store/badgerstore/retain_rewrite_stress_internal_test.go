package badgerstore

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats/store"
)

// TestRetainRewriteStress has Writes give the same records again and
// again while retention passes trim them to MaxRecords: afterwards Len
// counts what List lists, each listed record is read by Get, and a
// recount at Open counts what the store counted.
func TestRetainRewriteStress(t *testing.T) {
	dir := t.TempDir()
	opts := stressOpts()
	opts.MaxRecords = 500
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	base := time.Now().Add(-time.Hour)
	const per = 400
	done, steps := make(chan struct{}), newProgress()
	go func() {
		defer close(done)
		stop := make(chan struct{})
		var bg sync.WaitGroup
		bg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.Retain(ctx); err != nil {
					t.Error(err)
				}
			}
		})
		var wg sync.WaitGroup
		for g := range 3 {
			wg.Go(func() {
				for round := range 8 {
					// Each round's records, and the last round's
					// again: oldest, trimmed as they are written.
					for _, r := range []int{round, max(round-1, 0)} {
						recs := stressRecords(uint64(r+1), base.Add(time.Duration(r)*time.Second), per)
						for i := g; i < len(recs); i += 50 {
							if err := s.Write(ctx, recs[i:min(i+50, len(recs))]); err != nil {
								t.Error(err)
							}
							steps.step()
						}
					}
				}
			})
		}
		wg.Wait()
		close(stop)
		bg.Wait()
	}()
	watchdog(t, 3*time.Minute, done, steps)
	if t.Failed() {
		s.Close()
		return
	}
	ids := listIDs(t, s, store.Query{})
	if s.Len() != len(ids) {
		t.Errorf("Len %d, List %d records", s.Len(), len(ids))
	}
	for _, id := range ids {
		if _, err := s.Get(ctx, id); err != nil {
			t.Errorf("Get(%s) of a listed record: %v", id, err)
		}
	}
	size, n := s.Size(), s.Len()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = recount(t, dir, blockOpts())
	defer s.Close()
	if s.Size() != size || s.Len() != n {
		t.Errorf("Size %d, Len %d; recounted %d, %d", size, n, s.Size(), s.Len())
	}
}
