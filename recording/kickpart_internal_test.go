package recording

import (
	"testing"
	"time"
)

// TestPartBatchHandedOn: the requests kick the preparer once the queue
// holds a quarter of a batch (kickShare), and the preparer hands those
// records to the sinks then, without waiting for a full batch or the
// batch interval (an hour here): records that wait for a batch hold
// their memory, which the garbage collector scans every cycle. Before,
// the kick came at a full batch (128 records), and 32 records waited for
// the interval.
func TestPartBatchHandedOn(t *testing.T) {
	const size = 128
	sink := newHeldSink()
	r := New(WithSinks(sink), WithBatch(size, time.Hour), WithSinkTimeout(time.Hour))
	defer r.Close(t.Context())
	defer close(sink.release) // before Close: see TestForceFlushKicksOnlyForItsRecords
	record := func() {
		_, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: "/part"})
		ar.Finish()
	}
	part := kickAt(size)
	if part != size/kickShare {
		t.Fatalf("kickAt(%d) = %d; want a quarter, %d", size, part, size/kickShare)
	}
	for range part - 1 {
		record()
	}
	if n := r.kicks.Load(); n != 0 {
		t.Fatalf("%d records queued kicked the preparer %d times; want none below %d", part-1, n, part)
	}
	record()
	if n := r.kicks.Load(); n != 1 {
		t.Fatalf("%d records queued kicked the preparer %d times; want once", part, n)
	}
	select {
	case n := <-sink.entered:
		if n != part {
			t.Fatalf("the sink was handed %d records; want the %d queued", n, part)
		}
	case <-time.After(time.Minute):
		t.Fatalf("the %d records queued never reached the sink (the batch interval is an hour)", part)
	}
	sink.release <- struct{}{}
	waitFor(t, "the records written", func() bool { return r.Stats().Written == uint64(part) })
}

// TestKickAtSmallBatch: a batch of minKick records or fewer is handed on
// whole, as before parts (TestPartialWriteError counts a batch of four
// so); a larger one from a quarter on, never fewer than minKick.
func TestKickAtSmallBatch(t *testing.T) {
	for _, c := range []struct{ size, want int }{{1, 1}, {4, 4}, {16, 16}, {32, 16}, {64, 16}, {128, 32}, {1024, 256}} {
		if got := kickAt(c.size); got != c.want {
			t.Errorf("kickAt(%d) = %d; want %d", c.size, got, c.want)
		}
	}
}
