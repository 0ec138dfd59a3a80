package recording_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
)

// TestStatsAddUpWhileRecording reads Stats while requests finish and a
// sink writes and drops (its queue is small): at every read, the records
// counted written are among those its only sink accepted, and the
// records the sink accepted or dropped are among those recorded. (On
// main, Stats read Recorded first and the sink's counts after, so that a
// read now and then counted more records written and dropped than
// recorded.)
func TestStatsAddUpWhileRecording(t *testing.T) {
	sink := &countSink{seen: make(map[string]int)}
	rec := recording.New(recording.WithSinks(sink), recording.WithQueueSize(64), recording.WithBatch(4, time.Millisecond))
	defer rec.Close(context.Background())
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/x"})
				ar.Finish()
			}
		}()
	}
	defer func() {
		stop.Store(true)
		wg.Wait()
	}()
	reads := 0
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); reads++ {
		st := rec.Stats()
		k := st.Sinks[0]
		if st.Written > k.Written {
			t.Fatalf("read %d: Written %d, but the only sink accepted %d", reads, st.Written, k.Written)
		}
		if k.Written+k.Dropped > st.Recorded {
			t.Fatalf("read %d: the sink accepted %d and dropped %d records, %d in all, of %d recorded",
				reads, k.Written, k.Dropped, k.Written+k.Dropped, st.Recorded)
		}
	}
	if st := rec.Stats(); st.Written == 0 || st.Sinks[0].Dropped == 0 {
		t.Logf("no record written or none dropped: %+v", st)
	}
	t.Logf("%d reads", reads)
}
