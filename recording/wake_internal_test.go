package recording

import (
	"context"
	"testing"
	"time"
)

// heldSink blocks each Write until the test sends on release, and tells
// the test that a Write began through entered.
type heldSink struct {
	entered chan int // the Write's batch size
	release chan struct{}
}

func newHeldSink() *heldSink {
	return &heldSink{entered: make(chan int, 16), release: make(chan struct{})}
}

func (s *heldSink) Write(ctx context.Context, recs []*Record) error {
	s.entered <- len(recs)
	select {
	case <-s.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flushWakes returns how often the waiting ForceFlush calls were woken.
func flushWakes(r *Recorder) int {
	r.flush.mu.Lock()
	defer r.flush.mu.Unlock()
	return r.flush.wakes
}

// startFlush runs ForceFlush in a goroutine of its own until the preparer
// has handed on the record finished before it and the sink's Write of it
// has begun; it returns the channel ForceFlush's result arrives on.
func startFlush(t *testing.T, r *Recorder, sink *heldSink) chan error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	errc := make(chan error, 1)
	target := r.q.pushed()
	go func() { errc <- r.ForceFlush(ctx) }()
	if n := <-sink.entered; n != 1 {
		t.Fatalf("the sink was handed %d records; want the 1 finished before ForceFlush", n)
	}
	waitFor(t, "the preparer to note the batch handed", func() bool { return r.flush.prepared.Load() >= target })
	return errc
}

// TestForceFlushKicksOnlyForItsRecords: while a ForceFlush waits for a
// sink to write the records it waits for, all of them handed on by the
// preparer, the requests that finish do not kick the preparer, which
// would wake to hand on nothing (a partial batch, which it keeps): before,
// each of them kicked it, a wake-up a request for as long as the sink
// took to write.
func TestForceFlushKicksOnlyForItsRecords(t *testing.T) {
	sink := newHeldSink()
	r := New(WithSinks(sink), WithBatch(128, time.Hour), WithSinkTimeout(time.Hour))
	defer r.Close(t.Context())
	// Runs before Close: a Write still held when a check fails returns,
	// and Close does not wait on it (the test fails instead of hanging).
	defer close(sink.release)
	record := func() {
		_, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: "/kick"})
		ar.Finish()
	}
	record()
	errc := startFlush(t, r, sink)
	kicks := r.kicks.Load()
	for range 20 {
		record()
	}
	if n := r.kicks.Load() - kicks; n != 0 {
		t.Errorf("20 requests finished while ForceFlush waited for the sink alone kicked the preparer %d times; want none", n)
	}
	sink.release <- struct{}{}
	if err := <-errc; err != nil {
		t.Fatalf("ForceFlush: %v", err)
	}
	// The twenty, a partial batch, still reach the sink at the next
	// ForceFlush.
	errc = make(chan error, 1)
	go func() { errc <- r.ForceFlush(t.Context()) }()
	if n := <-sink.entered; n != 20 {
		t.Fatalf("the second ForceFlush handed the sink %d records; want 20", n)
	}
	sink.release <- struct{}{}
	if err := <-errc; err != nil {
		t.Fatalf("the second ForceFlush: %v", err)
	}
	if st := r.Stats(); st.Written != 21 || st.Dropped != 0 {
		t.Fatalf("Stats: written %d, dropped %d; want 21, 0", st.Written, st.Dropped)
	}
}

// TestForceFlushWokenOnceABatch: a ForceFlush waiting for one batch that
// every sink was sent is woken once a sink, by each sink that writes it,
// not also by the preparer when it hands the batch on (the waiter would
// find the sinks not done and wait again). With one sink, once.
func TestForceFlushWokenOnceABatch(t *testing.T) {
	sink := newHeldSink()
	r := New(WithSinks(sink), WithBatch(128, time.Hour), WithSinkTimeout(time.Hour))
	defer r.Close(t.Context())
	// Runs before Close: a Write still held when a check fails returns,
	// and Close does not wait on it (the test fails instead of hanging).
	defer close(sink.release)
	_, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: "/wake"})
	ar.Finish()
	errc := startFlush(t, r, sink)
	if n := flushWakes(r); n != 0 {
		t.Errorf("ForceFlush was woken %d times while the sink had not yet written; want none", n)
	}
	sink.release <- struct{}{}
	if err := <-errc; err != nil {
		t.Fatalf("ForceFlush: %v", err)
	}
	if n := flushWakes(r); n != 1 {
		t.Errorf("ForceFlush was woken %d times in all; want 1 (by the sink)", n)
	}
}
