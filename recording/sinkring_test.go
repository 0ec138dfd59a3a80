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

// orderSink keeps the paths of the records it is given, in the order it
// is given them, sleeping pause in each Write.
type orderSink struct {
	pause time.Duration
	mu    sync.Mutex
	paths []string
}

func (s *orderSink) Write(_ context.Context, recs []*recording.Record) error {
	if s.pause > 0 {
		time.Sleep(s.pause)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		s.paths = append(s.paths, r.Path)
	}
	return nil
}

// TestSinkQueueRingAcrossGoroutines drives two sinks' queues, one slow,
// through their rings (a queue of 7 records, batches of 3, so that the
// batches wrap around the ring's end) from four producers: each sink is
// given no record twice, each producer's records in the order they were
// finished, and as many records as its Written counts; every record
// finished is written to each sink or counted dropped (by the recorder or
// by that sink's queue).
func TestSinkQueueRingAcrossGoroutines(t *testing.T) {
	const producers, each = 4, 1500
	fast, slow := &orderSink{}, &orderSink{pause: 200 * time.Microsecond}
	rec := recording.New(recording.WithSinks(fast, slow), recording.WithQueueSize(7), recording.WithBatch(3, time.Millisecond))
	// A pause every third record, so that many records reach the sinks'
	// queues rather than being dropped at the recorder's.
	finished := produceRecords(t, rec, producers, each, 3, 100*time.Microsecond, nil)
	st := rec.Stats()
	if len(st.Sinks) != 2 {
		t.Fatalf("%d sinks' stats, want 2", len(st.Sinks))
	}
	for k, s := range []*orderSink{fast, slow} {
		s.mu.Lock()
		seen := make(map[string]bool, len(s.paths))
		last := [producers]int{-1, -1, -1, -1}
		for _, path := range s.paths {
			if seen[path] {
				t.Errorf("sink %d: %s written twice", k, path)
			}
			seen[path] = true
			var p, i int
			if _, err := fmt.Sscanf(path, "/p%d/%d", &p, &i); err != nil || p < 0 || p >= producers {
				t.Fatalf("sink %d: a record of path %q, not a producer's", k, path)
			}
			if i <= last[p] {
				t.Errorf("sink %d: producer %d's record %d after its record %d", k, p, i, last[p])
			}
			last[p] = i
		}
		got := uint64(len(s.paths))
		s.mu.Unlock()
		ss := st.Sinks[k]
		if got != ss.Written {
			t.Errorf("sink %d was handed %d records, its Written = %d", k, got, ss.Written)
		}
		if total := finished; ss.Written+ss.Dropped+st.Dropped != total {
			t.Errorf("sink %d: %d records finished, its Written %d + its Dropped %d + the recorder's Dropped %d = %d",
				k, total, ss.Written, ss.Dropped, st.Dropped, ss.Written+ss.Dropped+st.Dropped)
		}
		if ss.QueueDepth != 0 || ss.QueueBytes != 0 {
			t.Errorf("sink %d: after Close its queue holds %d records, %d bytes", k, ss.QueueDepth, ss.QueueBytes)
		}
	}
	t.Logf("finished %d; recorder dropped %d; fast: written %d, dropped %d; slow: written %d, dropped %d",
		finished, st.Dropped, st.Sinks[0].Written, st.Sinks[0].Dropped, st.Sinks[1].Written, st.Sinks[1].Dropped)
}

// produceRecords finishes each records from each of producers goroutines
// at once, each with a path naming its producer and its number
// ("/p1/7"), calling call, if not nil, in each record; each producer
// pauses for pause after every pauseEvery records. It then closes rec,
// and returns how many records were started (not dropped at the start).
func produceRecords(t *testing.T, rec *recording.Recorder, producers, each, pauseEvery int, pause time.Duration, call func(context.Context)) uint64 {
	t.Helper()
	var wg sync.WaitGroup
	var finished atomic.Uint64
	for p := range producers {
		wg.Go(func() {
			for i := range each {
				ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: fmt.Sprintf("/p%d/%d", p, i)})
				if ar != nil {
					finished.Add(1)
					if call != nil {
						call(ctx)
					}
				}
				ar.Finish()
				if i%pauseEvery == pauseEvery-1 {
					time.Sleep(pause)
				}
			}
		})
	}
	wg.Wait()
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	return finished.Load()
}
