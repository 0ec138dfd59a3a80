package recording

import (
	"context"
	"sync"
	"sync/atomic"
)

// ForceFlush returns once every record finished before the call has been
// handed to every sink: written, or dropped and counted ([Stats]), as a
// record that does not fit a sink's queue is. A record that did not fit
// the recorder's own queue was dropped when it finished, and is not waited
// for. ForceFlush returns ctx's error if ctx ends first (a sink that does
// not return from Write keeps it waiting), and [ErrClosed] if the recorder
// is closed, before the call or while it waits: [Recorder.Close] itself
// hands the queued records to the sinks.
//
// It wakes the recorder's writer, which hands the records it has queued to
// the sinks at once rather than at the end of its batch interval
// ([WithBatch]), and waits to be told, by each sink's goroutine (or by
// the writer, for records no sink was handed), that they are done with
// them. Call it where records must be stored before going on: a test that
// reads the store, a job that exits.
// It may be called concurrently with anything, from several goroutines.
func (r *Recorder) ForceFlush(ctx context.Context) error {
	if r.closed.Load() {
		return ErrClosed
	}
	f := r.flush
	// Every record finished before the call was pushed before it: its
	// sequence number is below pushed.
	target := r.q.pushed()
	f.waiters.Add(1)
	defer f.waiters.Add(-1)
	if f.prepared.Load() < target {
		for want := f.want.Load(); want < target && !f.want.CompareAndSwap(want, target); want = f.want.Load() {
		}
		select {
		case r.kick <- struct{}{}: // the writer reads want after taking it
		default: // a kick is pending: the writer reads want after taking it
		}
	}
	for {
		// The channel is taken before the progress is read, and the
		// writer and sinks close it after storing theirs, if waiters
		// was set (see flushState.progressed): no progress is missed.
		f.mu.Lock()
		ch := f.ch
		f.mu.Unlock()
		if r.flushed(target) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-r.stop:
			return ErrClosed
		}
	}
}

// flushed reports whether the writer and every sink are done with the
// records numbered below target (in the order they were queued).
func (r *Recorder) flushed(target uint64) bool {
	if r.flush.prepared.Load() < target {
		return false
	}
	// The writer stored each sink's sent before prepared: the batches
	// that hold records below target are all sent by now, sent or
	// before. A sink is done with them once it has written the batch
	// that holds record target-1, or any after, or every batch sent
	// (records below target that are in none were dropped at its queue,
	// and counted).
	for _, q := range r.sinks {
		sent := q.sent.Load()
		if w := q.wrote.Load(); w < target && w < sent {
			return false
		}
	}
	return true
}

// flushState is what ForceFlush waits on. Records are numbered in the
// order they enter the recorder's queue (recordQueue.pushed): the writer
// takes them off it in that order, and a sink's goroutine writes the
// batches it is sent in the order they were sent. Each stores how far it
// has got once a batch, and wakes the waiters, if any (the writer only
// when no sink will: see Recorder.handed): nothing is done a request,
// and nothing wakes the writer when no one flushes.
type flushState struct {
	// prepared counts the records the writer has taken off the queue and
	// handed to the sinks (or dropped): those numbered below it.
	prepared atomic.Uint64
	// want is the highest target of a ForceFlush: until prepared reaches
	// it, the writer hands partial batches to the sinks too.
	want atomic.Uint64
	// waiters counts the ForceFlush calls waiting.
	waiters atomic.Int32

	mu    sync.Mutex
	ch    chan struct{} // closed, and replaced, when progress is made while waiters wait
	wakes int           // how often ch was closed (for tests), under mu
}

func newFlushState() *flushState { return &flushState{ch: make(chan struct{})} }

// wanted reports whether a ForceFlush waits for records the writer holds
// or has queued: then the writer hands them on, a partial batch too.
func (f *flushState) wanted() bool { return f.want.Load() > f.prepared.Load() }

// handed notes that the writer has handed the records numbered below n
// to the sinks, each sink's sent stored before, and wakes the waiting
// ForceFlush calls, if any, unless each sink will: when every sink was
// sent the batch that ends at n and has not yet written it, each stores
// its progress after prepared (which is stored first here) and then wakes
// them, and a waiter woken now would find a sink not done and wait again.
func (r *Recorder) handed(n uint64) {
	f := r.flush
	f.prepared.Store(n)
	if f.waiters.Load() == 0 {
		return
	}
	for _, q := range r.sinks {
		if q.sent.Load() != n || q.wrote.Load() >= n {
			f.wake()
			return
		}
	}
	if len(r.sinks) == 0 {
		f.wake()
	}
}

// progressed wakes the waiting ForceFlush calls, if any, after the writer
// or a sink has stored its progress. When none waits, it costs a load,
// inlined.
func (f *flushState) progressed() {
	if f.waiters.Load() != 0 {
		f.wake()
	}
}

// wake wakes the waiting ForceFlush calls.
func (f *flushState) wake() {
	f.mu.Lock()
	close(f.ch)
	f.ch = make(chan struct{})
	f.wakes++
	f.mu.Unlock()
}
