package badgerstore

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestCloseWhileWritingSavesTheCount: a Close that meets Writes still
// running saves a count (Len and Size) that holds every record those
// Writes stored before it, as a recount of the directory finds them.
func TestCloseWhileWritingSavesTheCount(t *testing.T) {
	for round := range 4 {
		dir := t.TempDir()
		s, err := Open(dir, blockOpts())
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now().Add(-time.Hour).Truncate(time.Second)
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := 0; ; i++ {
					recs := noisyRecords(uint64(round*1000+g*100+i), start.Add(time.Duration(g*100+i)*time.Second), 8, 200)
					if err := s.Write(context.Background(), recs); err != nil {
						return // closed
					}
				}
			})
		}
		time.Sleep(time.Duration(20+round*15) * time.Millisecond)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		s, err = Open(dir, blockOpts())
		if err != nil {
			t.Fatal(err)
		}
		n, size := s.Len(), s.Size()
		s.Close()
		r := recount(t, dir, blockOpts())
		if r.Len() != n || r.Size() != size {
			t.Errorf("round %d: saved Len %d, Size %d; recounted %d, %d", round, n, size, r.Len(), r.Size())
		}
		r.Close()
	}
}
