package recording

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// TestRecordQueueBound checks that a queue holds at most its size, also
// when that is not a power of two, in order, lap after lap.
func TestRecordQueueBound(t *testing.T) {
	for _, size := range []int{1, 3, 4, 5} {
		q := newRecordQueue(size)
		recs := make([]*Record, 3*size)
		for i := range recs {
			recs[i] = &Record{Status: i}
		}
		next := 0 // the next record to pop
		for lap := range 3 {
			for i := range size {
				if !q.push(recs[lap*size+i]) {
					t.Fatalf("size %d: push %d of lap %d refused", size, i, lap)
				}
			}
			if q.push(&Record{}) {
				t.Fatalf("size %d: push past the size accepted", size)
			}
			// Stats' Recorded: the pushes accepted, not the refused.
			if n := q.pushed(); n != uint64((lap+1)*size) {
				t.Fatalf("size %d: pushed %d after lap %d, want %d", size, n, lap, (lap+1)*size)
			}
			if n := q.len(); n != size {
				t.Fatalf("size %d: len %d", size, n)
			}
			for range size {
				rec := q.pop()
				if rec != recs[next] {
					t.Fatalf("size %d: popped %v, want record %d", size, rec, next)
				}
				next++
			}
			if rec := q.pop(); rec != nil || q.len() != 0 {
				t.Fatalf("size %d: empty queue popped %v, len %d", size, rec, q.len())
			}
		}
	}
}

// TestRecordQueueConcurrent pushes from several goroutines and pops from
// two (as the preparer and Close may), and checks that every record
// pushed is popped exactly once and none refused is, at sizes from 1 (a
// queue of one slot, where the slot's turn after a pop was the turn
// after a push: a push could write a record over the one being popped,
// and that record was lost, neither written nor counted dropped) to
// 100.
func TestRecordQueueConcurrent(t *testing.T) {
	for _, size := range []int{1, 2, 3, 100} {
		t.Run(fmt.Sprint(size), func(t *testing.T) { testRecordQueueConcurrent(t, size) })
	}
}

func testRecordQueueConcurrent(t *testing.T, size int) {
	const producers, each = 4, 5000
	q := newRecordQueue(size)
	var wg sync.WaitGroup
	var pushed, done atomic.Int64
	refused := make([]map[*Record]bool, producers)
	for p := range producers {
		refused[p] = map[*Record]bool{}
		wg.Go(func() {
			for i := range each {
				rec := &Record{Status: p*each + i}
				if q.push(rec) {
					pushed.Add(1)
				} else {
					refused[p][rec] = true
				}
			}
		})
	}
	var mu sync.Mutex
	seen := map[*Record]int{}
	var consumers sync.WaitGroup
	for range 2 {
		consumers.Go(func() {
			for {
				// A pop that finds nothing once the pushes were
				// all done finds the queue empty for good (the
				// other consumer finishes a pop it began). Not
				// q.len() == 0: a lost record kept it at 1, and
				// the test spun.
				pushesDone := done.Load() == 1
				rec := q.pop()
				if rec == nil {
					if pushesDone {
						return
					}
					continue
				}
				mu.Lock()
				seen[rec]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	done.Store(1)
	consumers.Wait()
	if int64(len(seen)) != pushed.Load() {
		t.Fatalf("%d records popped, %d pushed", len(seen), pushed.Load())
	}
	for rec, n := range seen {
		if n != 1 {
			t.Fatalf("record %d popped %d times", rec.Status, n)
		}
		if refused[rec.Status/each][rec] {
			t.Fatalf("record %d refused and popped", rec.Status)
		}
	}
}
