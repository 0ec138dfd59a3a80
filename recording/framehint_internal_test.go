package recording

import (
	"context"
	"testing"
)

// callFromOnePlace starts and ends a call, from one place for every call
// of a test: calls made through it share one stack.
//
//go:noinline
func callFromOnePlace(ctx context.Context) { StartCall(ctx, "svc", "m").End(nil) }

// stackFrames returns how many raw frames the stacks of ar's calls take in
// its buffers: a call's own, or none when it shares the stack of the call
// before it.
func stackFrames(ar *ActiveRecord) int {
	ar.mu.Lock()
	defer ar.mu.Unlock()
	n := 0
	var last *uintptr
	ar.callsLocked(func(ac *ActiveCall) bool {
		if ac.c.pcs != last {
			n += int(ac.c.npcs)
			last = ac.c.pcs
		}
		return true
	})
	return n
}

// TestStackBufferSizedByFrames checks that a record's buffer of stacks is
// first sized by the frames the last record's stacks took, plus stackBuf:
// ten calls made in a loop share one stack, and the next record's buffer
// has room for that one stack and grows no further (it was sized for ten
// stacks of stackBuf/2 frames, 1,280 bytes). Calls of distinct stacks
// outgrow the first buffer, and the frames of every buffer count in the
// hint.
func TestStackBufferSizedByFrames(t *testing.T) {
	r := New()
	defer r.Close(context.Background())

	loop := func() (frames int, ar *ActiveRecord) {
		ctx, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: "/"})
		for range 10 {
			callFromOnePlace(ctx)
		}
		return stackFrames(ar), ar
	}
	one, ar := loop()
	if one < 5 || one > stackBuf {
		t.Fatalf("ten calls from one place take %d frames, want one stack's (5 to %d)", one, stackBuf)
	}
	ar.Finish()
	if got := int(r.frameHint.Load()); got != one {
		t.Fatalf("frameHint %d after ten calls from one place, want their one stack's %d", got, one)
	}
	for range 3 {
		frames, ar := loop()
		ar.mu.Lock()
		c, before := cap(ar.r.spare.pcs), ar.pcsBefore
		ar.mu.Unlock()
		if frames != one || before != 0 {
			t.Errorf("%d frames, %d in buffers outgrown; want %d, none", frames, before, one)
		}
		if c < one+stackBuf || c >= 10*stackBuf/2 {
			t.Errorf("a buffer of %d frames for ten calls of one stack; want at least %d, below main's %d", c, one+stackBuf, 10*stackBuf/2)
		}
		ar.Finish()
	}

	// Calls of distinct stacks, at twelve depths: the first buffer
	// (one stack's frames and stackBuf) is outgrown, and the hint counts
	// the frames of every buffer.
	ctx, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: "/"})
	for d := range 12 {
		stackLevel(d, func() { callFromOnePlace(ctx) })
	}
	want := stackFrames(ar)
	ar.mu.Lock()
	before := ar.pcsBefore
	ar.mu.Unlock()
	if before == 0 || want <= one+stackBuf {
		t.Fatalf("twelve stacks take %d frames, %d in buffers outgrown: want the first buffer (%d) outgrown", want, before, one+stackBuf)
	}
	ar.Finish()
	if got := int(r.frameHint.Load()); got != want {
		t.Errorf("frameHint %d after twelve stacks, want their %d frames", got, want)
	}
	// The next such record gets them in one buffer.
	ctx, ar = r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: "/"})
	for d := range 12 {
		stackLevel(d, func() { callFromOnePlace(ctx) })
	}
	ar.mu.Lock()
	before = ar.pcsBefore
	ar.mu.Unlock()
	if before != 0 {
		t.Errorf("the next record of twelve stacks outgrew its first buffer (%d frames in it)", before)
	}
	ar.Finish()
}
