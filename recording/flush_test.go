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
	"github.com/goappstats/appstats/recording/recordingtest"
)

// finish records one request to path.
func finish(rec *recording.Recorder, path string) {
	_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: path})
	ar.Finish()
}

// flushCtx bounds a test's waits, so that a Flush that never returns fails
// the test rather than hanging it: it is no measure of time.
func flushCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// gateSink blocks in each Write until release is closed, after telling
// entered (if set); done counts the Writes that returned.
type gateSink struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
	done    atomic.Int32
}

// open releases the Writes, once.
func (s *gateSink) open() { s.once.Do(func() { close(s.release) }) }

func newGateSink() *gateSink {
	return &gateSink{entered: make(chan struct{}, 100), release: make(chan struct{})}
}

func (s *gateSink) Write(ctx context.Context, recs []*recording.Record) error {
	s.entered <- struct{}{}
	defer s.done.Add(1)
	select {
	case <-s.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestForceFlushWritesFinished: the records finished before ForceFlush
// are in the sink when it returns, though the batch is far from full and
// its interval an hour away.
func TestForceFlushWritesFinished(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink), recording.WithBatch(100, time.Hour))
	defer rec.Close(context.Background())
	ctx := flushCtx(t)
	for round := range 3 {
		for i := range 5 {
			finish(rec, fmt.Sprintf("/r%d/%d", round, i))
		}
		if err := rec.ForceFlush(ctx); err != nil {
			t.Fatalf("round %d: ForceFlush: %v", round, err)
		}
		if n := sink.Len(); n != 5*(round+1) {
			t.Fatalf("round %d: the sink holds %d records after ForceFlush, want %d", round, n, 5*(round+1))
		}
		st := rec.Stats()
		if st.Written != uint64(5*(round+1)) || st.QueueDepth != 0 {
			t.Fatalf("round %d: Written %d, QueueDepth %d after ForceFlush", round, st.Written, st.QueueDepth)
		}
	}
	// Nothing finished since: it returns at once.
	if err := rec.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestForceFlushNoSinks: with no sink, ForceFlush waits for the writer
// alone.
func TestForceFlushNoSinks(t *testing.T) {
	rec := recording.New(recording.WithBatch(100, time.Hour))
	defer rec.Close(context.Background())
	finish(rec, "/a")
	if err := rec.ForceFlush(flushCtx(t)); err != nil {
		t.Fatal(err)
	}
	if st := rec.Stats(); st.Written != 1 {
		t.Fatalf("Written %d after ForceFlush, want 1", st.Written)
	}
}

// TestForceFlushWaitsForSink: ForceFlush waits for a sink's Write to
// return, and ctx's end ends the wait.
func TestForceFlushWaitsForSink(t *testing.T) {
	sink := newGateSink()
	rec := recording.New(recording.WithSinks(sink), recording.WithBatch(100, time.Hour), recording.WithSinkTimeout(time.Hour))
	defer rec.Close(context.Background())
	defer sink.open() // before Close, should the test fail
	finish(rec, "/a")

	ctx, cancel := context.WithCancel(flushCtx(t))
	errc := make(chan error, 1)
	go func() { errc <- rec.ForceFlush(ctx) }()
	<-sink.entered
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("ForceFlush with its context cancelled while the sink writes: %v, want context.Canceled", err)
	}
	if sink.done.Load() != 0 {
		t.Fatal("the sink returned before it was released")
	}

	go func() { errc <- rec.ForceFlush(flushCtx(t)) }()
	sink.open()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if sink.done.Load() != 1 {
		t.Fatalf("ForceFlush returned with %d Writes returned, want 1", sink.done.Load())
	}
	if st := rec.Stats(); st.Written != 1 || st.Sinks[0].Written != 1 {
		t.Fatalf("Written %d, the sink's %d after ForceFlush, want 1", st.Written, st.Sinks[0].Written)
	}
}

// TestForceFlushDropped: a record a sink's full queue drops does not
// keep ForceFlush waiting for it, and a failed Write counts as done too.
func TestForceFlushDropped(t *testing.T) {
	gate := newGateSink()
	seen := make(chan string, 10)
	after := recording.SinkFunc(func(_ context.Context, recs []*recording.Record) error {
		for _, r := range recs {
			seen <- r.Path
		}
		return nil
	})
	// One record a queue, one a batch: the gate's queue is full while it
	// writes A, and B is dropped there (the sinks are offered a batch in
	// order, so B has been when the second sink sees it).
	rec := recording.New(recording.WithSinks(gate, after), recording.WithQueueSize(1), recording.WithBatch(1, time.Hour),
		recording.WithSinkTimeout(time.Hour))
	defer rec.Close(context.Background())
	defer gate.open() // before Close, should the test fail
	finish(rec, "/a")
	<-gate.entered
	if p := <-seen; p != "/a" {
		t.Fatalf("the second sink saw %s, want /a", p)
	}
	// The second sink's queue holds /a until its Write has returned, after
	// the send to seen: with room for one record, /b would be dropped there
	// too if it came before (the test hung so, waiting for /b).
	for ctx := flushCtx(t); rec.Stats().Sinks[1].QueueDepth != 0; time.Sleep(time.Millisecond) {
		if ctx.Err() != nil {
			t.Fatal("the second sink's queue did not empty after its Write of /a")
		}
	}
	finish(rec, "/b")
	if p := <-seen; p != "/b" {
		t.Fatalf("the second sink saw %s, want /b", p)
	}

	errc := make(chan error, 1)
	go func() { errc <- rec.ForceFlush(flushCtx(t)) }()
	gate.open()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if gate.done.Load() != 1 {
		t.Fatalf("ForceFlush returned with %d of the gate's Writes returned, want 1", gate.done.Load())
	}
	if st := rec.Stats().Sinks[0]; st.Written != 1 || st.Dropped != 1 {
		t.Fatalf("the gate wrote %d and dropped %d, want 1 and 1", st.Written, st.Dropped)
	}

	// A Write that fails: its records are dropped, and done with.
	failing := recording.SinkFunc(func(context.Context, []*recording.Record) error { return errors.New("full") })
	rec2 := recording.New(recording.WithSinks(failing), recording.WithBatch(100, time.Hour))
	defer rec2.Close(context.Background())
	finish(rec2, "/c")
	if err := rec2.ForceFlush(flushCtx(t)); err != nil {
		t.Fatal(err)
	}
	if st := rec2.Stats().Sinks[0]; st.Dropped != 1 {
		t.Fatalf("the failing sink dropped %d, want 1", st.Dropped)
	}
}

// TestForceFlushClosed: ForceFlush after Close returns ErrClosed, and so
// does one waiting when Close begins.
func TestForceFlushClosed(t *testing.T) {
	rec := recording.New()
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := rec.ForceFlush(flushCtx(t)); !errors.Is(err, recording.ErrClosed) {
		t.Fatalf("ForceFlush after Close: %v, want ErrClosed", err)
	}

	sink := newGateSink()
	rec = recording.New(recording.WithSinks(sink), recording.WithBatch(100, time.Hour), recording.WithSinkTimeout(time.Hour))
	defer sink.open() // should the test fail
	finish(rec, "/a")
	errc := make(chan error, 1)
	go func() { errc <- rec.ForceFlush(flushCtx(t)) }()
	<-sink.entered
	closed := make(chan error, 1)
	go func() { closed <- rec.Close(flushCtx(t)) }()
	if err := <-errc; !errors.Is(err, recording.ErrClosed) {
		t.Fatalf("ForceFlush waiting as Close began: %v, want ErrClosed", err)
	}
	sink.open()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
}

// TestForceFlushConcurrent runs ForceFlush from several goroutines while
// Close runs (under -race), and in odd rounds while others finish records
// as fast as they can: each flusher's own record, finished just before its
// ForceFlush, is in the sink when ForceFlush returns nil, unless records
// were dropped (the load's small queues drop many, at the recorder's queue
// and the sink's); once Close has begun it returns ErrClosed.
func TestForceFlushConcurrent(t *testing.T) {
	for round := range 5 {
		sink := &countSink{seen: make(map[string]int)}
		queue := 8 << (round % 3)
		rec := recording.New(recording.WithSinks(sink), recording.WithQueueSize(queue), recording.WithBatch(4, time.Hour))
		var wg sync.WaitGroup
		stop := make(chan struct{})
		startLoad(&wg, rec, stop, 4*(round%2), -1) // load in odd rounds: records dropped
		var flushed atomic.Int32
		for f := range 3 {
			wg.Go(func() {
				for i := range 200 {
					path := fmt.Sprintf("/flush/%d/%d", f, i)
					finish(rec, path)
					err := rec.ForceFlush(flushCtx(t))
					if errors.Is(err, recording.ErrClosed) {
						return
					}
					if err != nil {
						t.Error(err)
						return
					}
					flushed.Add(1)
					// The record was written, or dropped: at the
					// recorder's queue (never handed on), or at the
					// sink's; only a written one must be there.
					if sink.has(path) {
						continue
					}
					if st := rec.Stats(); st.Dropped == 0 && st.Sinks[0].Dropped == 0 {
						t.Errorf("%s is not in the sink after ForceFlush, and nothing was dropped", path)
						return
					}
				}
			})
		}
		for flushed.Load() < 30 && !t.Failed() {
			finish(rec, "/main")
			if err := rec.ForceFlush(flushCtx(t)); err != nil {
				t.Fatal(err)
			}
		}
		if err := rec.Close(flushCtx(t)); err != nil {
			t.Fatal(err)
		}
		close(stop)
		wg.Wait()
	}
}

// mustFlush flushes rec and checks that it has written n records.
func mustFlush(t *testing.T, rec *recording.Recorder, n uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := rec.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	if w := rec.Stats().Written; w != n {
		t.Fatalf("%d records written after ForceFlush, want %d", w, n)
	}
}

// startLoad starts loaders goroutines on wg, each finishing records
// ("/load/LOADER/I") until stop is closed or, if each ≥ 0, each records
// are finished.
func startLoad(wg *sync.WaitGroup, rec *recording.Recorder, stop <-chan struct{}, loaders, each int) {
	for p := range loaders {
		wg.Go(func() {
			for i := 0; each < 0 || i < each; i++ {
				select {
				case <-stop:
					return
				default:
				}
				finish(rec, fmt.Sprintf("/load/%d/%d", p, i))
			}
		})
	}
}
