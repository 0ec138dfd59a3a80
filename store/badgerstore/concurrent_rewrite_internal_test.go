package badgerstore

import (
	"context"
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/storetest"
)

// TestConcurrentWritesListOnce gives the same records (IDs holding their
// starts) to two Writes at once: each may take them as new, neither
// transaction seeing the other's, and put them into an index block of
// its own; List (paged) still lists each record once.
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
