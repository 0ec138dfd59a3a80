package otelexport

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
)

// A collector that answers every export "retry after 20 ms" while the
// app records as fast as it can, and ForceFlush is called all along:
// what the exporter keeps for after the waits stays within the queue's
// size and one batch (the queue, and the batch the wait kept), the
// records past it are dropped and counted, and every record written is
// counted once (failed or dropped) after Close.
func TestRetryAfterForeverBounded(t *testing.T) {
	const queue, batchSpans = 64, 8
	var exports atomic.Int64
	e := New(throttling(20*time.Millisecond, &exports), WithQueueSize(queue), WithBatchSpans(batchSpans))
	// A record has 3 spans: a batch is at most batchSpans+2 spans, so
	// batchSpans records.
	const bound = queue + batchSpans
	var written, maxPending atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // the app, at full speed
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			e.Write(context.Background(), []*recording.Record{testRecord(2)})
			written.Add(1)
			if p := e.pending.Load(); p > maxPending.Load() {
				maxPending.Store(p)
			}
		}
	}()
	go func() { // a job flushing all along
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			e.ForceFlush(context.Background())
		}
	}()
	for end := time.Now().Add(time.Second); time.Now().Before(end) || exports.Load() < 5; {
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if p := maxPending.Load(); p > bound {
		t.Errorf("%d records held at most, want at most %d (the queue and one batch)", p, bound)
	}
	e.Close(context.Background())
	s := e.Stats()
	if n := uint64(written.Load()); s.Exported+s.Failed+s.Dropped != n || s.Exported != 0 {
		t.Errorf("stats %+v: %d records counted (exported, failed, dropped), want the %d written, none exported", s, s.Exported+s.Failed+s.Dropped, n)
	}
	if s.Dropped == 0 {
		t.Errorf("stats %+v: none dropped; want those past the queue dropped", s)
	}
}
