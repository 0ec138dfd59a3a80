package recording_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
)

// slowCountSink is a countSink whose Writes take a while, so that a
// ForceFlush finds it still writing the batch every other sink is done
// with; with fail set, each Write also fails (its records are counted, as
// a sink that stored part of them would), and with panics, panics.
type slowCountSink struct {
	countSink
	pause  time.Duration
	fail   bool
	panics bool
}

func (s *slowCountSink) Write(ctx context.Context, recs []*recording.Record) error {
	time.Sleep(s.pause)
	s.countSink.Write(ctx, recs)
	if s.panics {
		panic("slowCountSink")
	}
	if s.fail {
		return errors.New("slowCountSink fails")
	}
	return nil
}

// TestForceFlushSinksConcurrent runs ForceFlush from several goroutines
// while others finish records (a few thousand), with four sinks at once —
// one fast, one slow, one that fails each Write, one that panics in each —
// at batch sizes that make the writer hand on partial batches. In every
// round no ForceFlush waits past its context (a wake missed would). The
// first four rounds' queues (2 to 1024 records) drop records, and there
// that is all that is checked: a dropped record is in no sink. The last
// two rounds' queues (1<<14) hold every record: nothing is dropped by the
// recorder nor by the two sinks whose Writes succeed, and each flusher's
// own record, finished just before its ForceFlush, has been handed to all
// four sinks when ForceFlush returns — the failing and the panicking one
// too (their failed Writes count as dropped, so only the first two are
// held to a Dropped of 0) — as the writer wakes a waiter only when no
// sink will (see Recorder.handed). Then Close.
func TestForceFlushSinksConcurrent(t *testing.T) {
	for round := range 6 {
		// large: the queues hold all of the round's 4,120 records.
		large := round >= 4
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			sinks := []*slowCountSink{
				{},
				{pause: 20 * time.Microsecond},
				{pause: 5 * time.Microsecond, fail: true},
				{panics: true},
			}
			var opts []recording.Option
			for _, s := range sinks {
				s.seen = make(map[string]int)
				opts = append(opts, recording.WithSinks(s))
			}
			queue := []int{2, 8, 64, 1024, 1 << 14, 1 << 14}[round]
			opts = append(opts, recording.WithQueueSize(queue), recording.WithBatch(1+round%3*3, time.Hour))
			rec := recording.New(opts...)
			var wg sync.WaitGroup
			stop := make(chan struct{})
			startLoad(&wg, rec, stop, 2, 2000)
			var flushes sync.WaitGroup
			var ok atomic.Int32
			for f := range 3 {
				flushes.Go(func() {
					for i := range 40 {
						path := fmt.Sprintf("/flush/%d/%d", f, i)
						finish(rec, path)
						ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
						err := rec.ForceFlush(ctx)
						cancel()
						if err != nil {
							t.Errorf("ForceFlush: %v; stats %+v", err, rec.Stats())
							return
						}
						ok.Add(1)
						if !large {
							continue
						}
						st := rec.Stats()
						if st.Dropped != 0 {
							t.Errorf("queue of %d: %d records dropped; stats %+v", queue, st.Dropped, st)
							return
						}
						for k, s := range sinks {
							// Only the sinks whose Writes succeed drop nothing.
							if (k < 2 && st.Sinks[k].Dropped != 0) || !s.has(path) {
								t.Errorf("%s not in sink %d after ForceFlush (the sink dropped %d); stats %+v", path, k, st.Sinks[k].Dropped, st)
								return
							}
						}
					}
				})
			}
			flushes.Wait()
			close(stop)
			wg.Wait()
			if err := rec.Close(flushCtx(t)); err != nil {
				t.Fatal(err)
			}
			if ok.Load() == 0 {
				t.Error("no ForceFlush returned nil")
			}
		})
	}
}

// TestForceFlushSinkFasterThanWriter finishes one record and flushes it,
// again and again, with nothing else running, through one sink that writes
// at once and one that may: a sink can write its batch, store its progress
// and wake the waiter before the writer has stored that it handed the
// batch on, and the waiter, finding the writer not done, waits again. The
// writer must then wake it (Recorder.handed wakes the waiters when a sink
// has written the batch already), as no other progress will: a ForceFlush
// that waits until its context ends fails the test.
func TestForceFlushSinkFasterThanWriter(t *testing.T) {
	for _, sinks := range [][]recording.Sink{
		{&countSink{seen: map[string]int{}}},
		{&countSink{seen: map[string]int{}}, &slowCountSink{countSink: countSink{seen: map[string]int{}}, pause: time.Microsecond}},
	} {
		rec := recording.New(recording.WithSinks(sinks...), recording.WithBatch(128, time.Hour))
		for i := range 2000 {
			finish(rec, fmt.Sprintf("/fast/%d", i))
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			err := rec.ForceFlush(ctx)
			cancel()
			if err != nil {
				t.Fatalf("ForceFlush %d: %v", i, err)
			}
		}
		if err := rec.Close(flushCtx(t)); err != nil {
			t.Fatal(err)
		}
	}
}
