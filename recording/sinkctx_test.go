package recording_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
)

// ctxSink notes the context of each Write, when the Write began, and
// its context's error then; with errs set, a Write whose context is done
// returns its error, as a store's would.
type ctxSink struct {
	errs       bool
	mu         sync.Mutex
	ctxs       []context.Context
	begins     []time.Time
	errAtWrite []error
}

func (s *ctxSink) Write(ctx context.Context, recs []*recording.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ctxs = append(s.ctxs, ctx)
	s.begins = append(s.begins, time.Now())
	err := ctx.Err()
	s.errAtWrite = append(s.errAtWrite, err)
	if s.errs {
		return err
	}
	return nil
}

func (s *ctxSink) seen() ([]context.Context, []time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ctxs, s.begins
}

// TestSinkCtxShared: a sink's Writes that begin within an eighth of the
// sink timeout of each other share one context (one context a batch cost
// ~2,900 instructions), whose deadline gives each of them the whole sink
// timeout and an eighth more at most.
func TestSinkCtxShared(t *testing.T) {
	const timeout = time.Hour
	sink := &ctxSink{}
	rec := recording.New(recording.WithSinks(sink), recording.WithBatch(1, time.Millisecond),
		recording.WithSinkTimeout(timeout))
	defer rec.Close(context.Background())
	for range 3 {
		requestFlushed(t, rec, "/shared")
	}
	ctxs, begins := sink.seen()
	if len(ctxs) != 3 {
		t.Fatalf("%d Writes, want 3 (a batch of one record each)", len(ctxs))
	}
	for i, ctx := range ctxs {
		if ctx != ctxs[0] {
			t.Errorf("Write %d had a context of its own; want the first Write's", i)
		}
		d, ok := ctx.Deadline()
		if !ok {
			t.Fatalf("Write %d: its context has no deadline", i)
		}
		if left := d.Sub(begins[i]); left < timeout || left > timeout+timeout/8 {
			t.Errorf("Write %d: its context ends %v after it began; want between %v and %v", i, left, timeout, timeout+timeout/8)
		}
		if ctx.Err() != nil {
			t.Errorf("Write %d: context done before its deadline: %v", i, ctx.Err())
		}
	}
}

// TestSinkCtxKeptEnds: a sink that keeps its context after its Write has
// returned (to finish the work in a goroutine of its own) sees it done once
// the sink timeout, and an eighth more at most, has passed; a Write stuck
// until its context ends is cut off, and counted as an error.
func TestSinkCtxKeptEnds(t *testing.T) {
	const timeout = 50 * time.Millisecond
	kept := make(chan context.Context, 1)
	calls := 0
	sink := recording.SinkFunc(func(ctx context.Context, recs []*recording.Record) error {
		calls++
		if calls == 1 {
			kept <- ctx
			return nil
		}
		<-ctx.Done() // stuck until its context ends
		return ctx.Err()
	})
	rec := recording.New(recording.WithSinks(sink), recording.WithBatch(1, time.Millisecond),
		recording.WithSinkTimeout(timeout))
	defer rec.Close(context.Background())
	oneRequest(rec, "/kept", 1)
	ctx := <-kept
	select {
	case <-ctx.Done():
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Errorf("kept context ended with %v; want its deadline", ctx.Err())
		}
	case <-time.After(time.Minute):
		t.Fatal("a context kept after its Write never ended")
	}
	oneRequest(rec, "/stuck", 1)
	st := waitStats(rec, func(st recording.Stats) bool { return st.Sinks[0].Errors == 1 })
	if st.Sinks[0].Errors != 1 || st.Sinks[0].Written != 1 {
		t.Errorf("sink stats %+v; want the stuck Write cut off by its timeout and counted as an error", st.Sinks[0])
	}
}

// TestSinkCtxLongTimeout: a sink timeout as long as a Duration holds (a
// caller's "no timeout", math.MaxInt64) gives every Write a context that is
// not done: the timeout and its eighth more, summed, must not wrap around to
// a deadline in the past. A timeout past the cap (math.MaxInt64/2, some 146
// years) is cut to it; one just under the cap is kept, and the sum, its
// nine eighths, still fits in a Duration (about 1.125 × 2⁶²).
func TestSinkCtxLongTimeout(t *testing.T) {
	for _, timeout := range []time.Duration{math.MaxInt64, 270 * 365 * 24 * time.Hour, math.MaxInt64/2 - 1} {
		t.Run(timeout.String(), func(t *testing.T) {
			sink := &ctxSink{errs: true}
			rec := recording.New(recording.WithSinks(sink), recording.WithBatch(1, time.Millisecond),
				recording.WithSinkTimeout(timeout))
			// Closed below; here too when the test stops before (a second
			// Close returns ErrClosed).
			t.Cleanup(func() { rec.Close(context.Background()) })
			for range 2 {
				requestFlushed(t, rec, "/long")
			}
			if err := rec.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			ctxs, _ := sink.seen()
			if len(ctxs) != 2 {
				t.Fatalf("%d Writes, want 2", len(ctxs))
			}
			if ctxs[1] != ctxs[0] {
				t.Errorf("the second Write had a context of its own; want the first's")
			}
			for i, err := range sink.errAtWrite {
				if err != nil {
					t.Errorf("Write %d began with its context done: %v", i, err)
				}
			}
			if st := rec.Stats(); st.SinkErrors != 0 || st.Written != 2 {
				t.Errorf("%d written, %d sink errors; want 2 and 0", st.Written, st.SinkErrors)
			}
		})
	}
}

// requestFlushed records one request of one call on path and flushes it
// to the sinks.
func requestFlushed(t *testing.T, rec *recording.Recorder, path string) {
	t.Helper()
	oneRequest(rec, path, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rec.ForceFlush(ctx); err != nil {
		t.Fatalf("ForceFlush after a request on %s: %v", path, err)
	}
}
