package badgerstore

import (
	"context"
	"encoding/binary"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/storetest"
)

// TestConcurrentWritesListOnce gives the same records (IDs holding their
// starts) to two Writes at once, neither transaction seeing the other's:
// List (paged) lists each record once.
func TestConcurrentWritesListOnce(t *testing.T) {
	s, _ := openBlockDir(t)
	defer s.Close()
	ctx := context.Background()
	base := time.Now().Add(-time.Hour)
	want := 0
	for it := range 60 {
		start := base.Add(time.Duration(it) * time.Second)
		recs := storetest.Records(uint64(it), start, time.Millisecond, 50)
		for i, r := range recs {
			r.Start = start.Add(time.Duration(i) * time.Microsecond)
			binary.BigEndian.PutUint64(r.ID[:8], uint64(r.Start.UnixNano()))
		}
		want += len(recs)
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.Write(ctx, recs); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	got := listIDs(t, s, store.Query{})
	seen := make(map[recording.ID]int)
	dup := 0
	for _, id := range got {
		if seen[id]++; seen[id] == 2 {
			dup++
		}
	}
	if len(got) != want || dup > 0 {
		t.Fatalf("List: %d IDs, %d of them twice; want %d once each", len(got), dup, want)
	}
}

// TestConcurrentWritesCountOnce gives the same records to two Writes at
// once, some with IDs holding their starts (new to both), some not (looked
// up by both), a few twice in each Write: each record is stored once, so
// Len counts it once, and a recount at Open gives the Len and Size the
// store kept.
func TestConcurrentWritesCountOnce(t *testing.T) {
	s, dir := openBlockDir(t)
	ctx := context.Background()
	base := time.Now().Add(-time.Hour)
	var all []*recording.Record
	for it := range 40 {
		start := base.Add(time.Duration(it) * time.Second)
		recs := storetest.Records(uint64(it), start, time.Millisecond, 50)
		for i, r := range recs {
			r.Start = start.Add(time.Duration(i) * time.Microsecond)
			binary.BigEndian.PutUint64(r.ID[:8], uint64(r.Start.UnixNano()))
			if i%5 == 0 {
				r.Start = r.Start.Add(time.Millisecond) // not its ID's time: looked up
			}
		}
		all = append(all, recs...)
		batch := append(slices.Clip(recs), recs[:5]...)
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				if err := s.Write(ctx, batch); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	s = listedAndCounted(t, s, dir, all)
	defer s.Close()
	checkGet(t, s, all)
}
