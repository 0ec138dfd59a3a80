package recording_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
)

// countSink is a Borrower that counts every record it is given, by its
// path, under a lock.
type countSink struct {
	mu   sync.Mutex
	seen map[string]int
}

func (s *countSink) Write(_ context.Context, recs []*recording.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		s.seen[r.Path]++
	}
	return nil
}

func (*countSink) BorrowsRecords() bool { return true }

// has reports whether the sink was given a record of path.
func (s *countSink) has(path string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[path] > 0
}

// TestCloseRacingFinish finishes records from many goroutines while Close
// runs, with a queue small enough to fill: every finished record is
// written once or dropped, none twice, and once Close has returned (in
// time, or given no time) the counters add up — Written + Dropped + the
// sink's Dropped is every record finished — with nothing left in the
// queue.
func TestCloseRacingFinish(t *testing.T) {
	const producers, each = 8, 200
	for round := range 30 {
		sink := &countSink{seen: make(map[string]int)}
		rec := recording.New(recording.WithSinks(sink), recording.WithQueueSize(16), recording.WithBatch(4, time.Millisecond))
		var wg sync.WaitGroup
		var finished atomic.Uint64
		start := make(chan struct{})
		for p := range producers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for i := range each {
					_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: fmt.Sprintf("/p%d/%d", p, i)})
					if ar != nil {
						finished.Add(1)
					}
					ar.Finish()
				}
			}()
		}
		close(start)
		time.Sleep(time.Duration(round%5) * 100 * time.Microsecond)
		// One round in three, Close is given no time: the records not
		// yet written are dropped.
		ctx, cancel := context.WithCancel(context.Background())
		if round%3 == 2 {
			cancel()
		}
		if err := rec.Close(ctx); err != nil && round%3 != 2 {
			t.Fatal(err)
		}
		cancel()
		wg.Wait()
		st := rec.Stats()
		sink.mu.Lock()
		got := uint64(0)
		for path, n := range sink.seen {
			if n != 1 {
				t.Errorf("round %d: %s written %d times", round, path, n)
			}
			got += uint64(n)
		}
		sink.mu.Unlock()
		if got != st.Written {
			t.Errorf("round %d: the sink got %d records, Written = %d", round, got, st.Written)
		}
		// A record the sink's queue had no room for is counted in its
		// SinkStats.Dropped.
		sinkDropped := st.Sinks[0].Dropped
		if total := finished.Load(); st.Written+st.Dropped+sinkDropped != total {
			t.Fatalf("round %d: %d records finished, Written %d + Dropped %d + the sink's Dropped %d = %d (Recorded %d, QueueDepth %d): records lost",
				round, total, st.Written, st.Dropped, sinkDropped, st.Written+st.Dropped+sinkDropped, st.Recorded, st.QueueDepth)
		}
		if st.QueueDepth != 0 || st.QueueBytes != 0 {
			t.Errorf("round %d: after Close the queue holds %d records, %d bytes", round, st.QueueDepth, st.QueueBytes)
		}
	}
}
