package codec

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/storetest"
)

// spine returns n frames of distinct functions, the outer frames of a
// deep stack.
func spine(n int) []recording.Frame {
	s := make([]recording.Frame, n)
	for i := range s {
		s[i] = recording.Frame{Function: fmt.Sprintf("pkg.f%d", i), File: "/src/pkg/f.go", Line: i + 1}
	}
	return s
}

// allocBytes returns the bytes f allocates, over a few runs.
func allocBytes(f func()) uint64 {
	const runs = 3
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&b)
	return (b.TotalAlloc - a.TotalAlloc) / runs
}

// TestDecodeSharedStacksLinear: a record whose calls repeat one long
// stack (each call writes only how many frames it shares) decodes into
// memory in proportion to its bytes: the calls share the first call's
// frames instead of each having a copy.
func TestDecodeSharedStacksLinear(t *testing.T) {
	r := &recording.Record{Start: time.Unix(1700000000, 0)}
	stack := spine(2000)
	r.Calls = make([]recording.Call, 2000)
	for i := range r.Calls {
		r.Calls[i] = recording.Call{Service: "s", Method: "m", Stack: stack}
	}
	b := AppendRecord(nil, r)
	var got *recording.Record
	n := allocBytes(func() {
		var err error
		if got, err = DecodeRecord(b); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("%d calls sharing %d frames: %d bytes decoded into %d", len(r.Calls), len(stack), len(b), n)
	// Each call's struct takes a few hundred bytes for its few bytes of
	// input; the frames are shared.
	if limit := uint64(64 * len(b)); n > limit {
		t.Errorf("a %d-byte record allocated %d bytes to decode (%d per byte), over %d", len(b), n, n/uint64(len(b)), limit)
	}
	for i := range got.Calls {
		s := got.Calls[i].Stack
		if len(s) != len(stack) || s[0] != stack[0] || s[len(s)-1] != stack[len(stack)-1] {
			t.Fatalf("call %d: %d frames, want %d", i, len(s), len(stack))
		}
		if cap(s) != len(s) {
			t.Fatalf("call %d: a stack of %d frames has capacity %d: an append would write into another call's", i, len(s), cap(s))
		}
	}
	// An append to one call's stack leaves the others'.
	got.Calls[0].Stack = append(got.Calls[0].Stack, recording.Frame{Function: "x"})
	if got.Calls[1].Stack[len(stack)-1] != stack[len(stack)-1] || len(got.Calls[1].Stack) != len(stack) {
		t.Error("an append to a call's stack changed another call's")
	}

	// A call that shares part of the previous stack shares its memory too.
	r.Calls[1].Stack = stack[1000:]
	r.Calls[2].Stack = stack[1500:]
	got, err := DecodeRecord(AppendRecord(nil, r))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{2000, 1000, 500, 2000} {
		if s := got.Calls[i].Stack; len(s) != want || s[0] != stack[2000-want] || cap(s) != len(s) {
			t.Errorf("call %d: %d frames (capacity %d) from %v, want %d from %v", i, len(s), cap(s), s[0], want, stack[2000-want])
		}
	}
}

// hostileStacks returns a record whose calls each add one frame of their
// own under the whole of the previous call's stack but the innermost
// frame: decoded, each call copies the first call's long stack.
func hostileStacks(frames, calls int) *recording.Record {
	r := &recording.Record{Start: time.Unix(1700000000, 0)}
	stack := spine(frames)
	r.Calls = make([]recording.Call, calls)
	for i := range r.Calls {
		s := make([]recording.Frame, 1, frames+1)
		s[0] = recording.Frame{Function: "pkg.leaf", File: "/src/pkg/leaf.go", Line: i + 1}
		r.Calls[i] = recording.Call{Service: "s", Method: "m", Stack: append(s, stack...)}
	}
	return r
}

// craftStacks returns the encoding of hostileStacks(frames, calls),
// made without the record: its calls after the second are the second's
// bytes again.
func craftStacks(t *testing.T, frames, calls int) []byte {
	two := AppendRecord(nil, hostileStacks(frames, 2))
	r := hostileStacks(frames, 1)
	one := AppendRecord(nil, r)
	const tail = 4 // no dropped calls, warnings, attributes or parts
	head := len(appendRecordHead(nil, codecV4, r))
	if len(appendRecordHead(nil, codecV4, &recording.Record{Start: r.Start, Calls: make([]recording.Call, 2)})) != head {
		t.Fatal("heads of one and two calls differ in length")
	}
	first, second := one[head:len(one)-tail], two[len(one)-tail:len(two)-tail]
	b := appendRecordHead(nil, codecV4, &recording.Record{Start: r.Start, Calls: make([]recording.Call, calls)})
	b = append(b, first...)
	for range calls - 1 {
		b = append(b, second...)
	}
	return append(b, one[len(one)-tail:]...)
}

// TestDecodeCopiedStacksBounded: a record whose calls each copy a long
// stack of an earlier call is refused as corrupt once the frames it would
// copy pass a bound that grows with its size, before they are allocated;
// a record of the recorder's shape under the bound decodes.
func TestDecodeCopiedStacksBounded(t *testing.T) {
	small, err := DecodeRecord(craftStacks(t, 10, 5))
	if err != nil || len(small.Calls) != 5 || len(small.Calls[4].Stack) != 11 || small.Calls[4].Stack[0].Line != 2 || small.Calls[4].Stack[10].Function != "pkg.f9" {
		t.Fatalf("crafted record of 5 calls: %v, %v", err, small)
	}
	b := craftStacks(t, 2000, 20000)
	n := allocBytes(func() { _, err = DecodeRecord(b) })
	if !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("decoding %d bytes that copy %d frames: err = %v, want ErrCorrupt", len(b), 2000*20000, err)
	}
	t.Logf("%d bytes copying %d frames: refused after %d bytes allocated", len(b), 2000*20000, n)
	if limit := uint64(256*len(b)) + 8<<20; n > limit {
		t.Errorf("a %d-byte record allocated %d bytes to decode (%d per byte), over %d", len(b), n, n/uint64(len(b)), limit)
	}

	// Records a recorder makes: its stacks have at most 32 frames from
	// the PCs it captures (a few more with inlined calls), and it keeps
	// many calls (here 20000, each from a place of its own).
	for _, c := range []struct{ frames, calls int }{{16, 1000}, {100, 1000}, {64, 20000}, {1000, 60}} {
		r := hostileStacks(c.frames, c.calls)
		for i := range r.Calls {
			c := &r.Calls[i]
			c.Start, c.Duration, c.SpanID = time.Duration(i)*time.Millisecond, 3*time.Millisecond, recording.SpanID{1, 2, 3, 4, 5, 6, 7, byte(i)}
		}
		b := AppendRecord(nil, r)
		if _, err := DecodeRecord(b); err != nil {
			t.Errorf("%d calls of %d frames each: %v", c.calls, c.frames+1, err)
		}
		t.Logf("%d calls of %d frames: %d bytes, %d frames copied of %d allowed", c.calls, c.frames+1, len(b), c.frames*(c.calls-1), maxCopiedFrames(len(b)))
	}
}

// TestDecodeAllocLinear: the recorder's records decode into memory of a
// small multiple of their bytes, as do their summaries.
func TestDecodeAllocLinear(t *testing.T) {
	r := storetest.Record20(time.Unix(1700000000, 0), 1)
	b := AppendRecord(nil, r)
	n := allocBytes(func() { DecodeRecord(b) })
	if n > uint64(64*len(b)) {
		t.Errorf("a %d-byte record allocated %d bytes to decode", len(b), n)
	}
	sum := r.Summary()
	durs := CallDurations(r, &sum)
	sb := AppendSummary(nil, &sum, durs)
	var got []time.Duration
	n = allocBytes(func() { got = got[:0]; DecodeSummary(sb, &got) })
	if n > uint64(64*len(sb)) {
		t.Errorf("a %d-byte summary allocated %d bytes to decode", len(sb), n)
	}
	rb := AppendRecordWithoutStacks(nil, r)
	n = allocBytes(func() { DecodeRecordWithoutStacks(rb) })
	if n > uint64(64*len(rb)) {
		t.Errorf("a %d-byte record without stacks allocated %d bytes to decode", len(rb), n)
	}
}

// TestAppendRecordAlwaysDecodes: a record whose calls each add one frame
// under a long shared stack, more than DecodeRecord would copy for the
// record's size if each call wrote only its fresh frame, is written with
// whole stacks past that budget, so it decodes, equal to what was written.
func TestAppendRecordAlwaysDecodes(t *testing.T) {
	for _, c := range []struct{ frames, calls int }{{300, 2000}, {2000, 300}} {
		r := hostileStacks(c.frames, c.calls)
		if copies := c.frames * (c.calls - 1); copies <= maxCopiedFrames(64*c.calls) {
			t.Fatalf("%d calls of %d frames copy only %d frames: not past the budget", c.calls, c.frames+1, copies)
		}
		b := AppendRecord(nil, r)
		got, err := DecodeRecord(b)
		if err != nil {
			t.Fatalf("%d calls of %d frames: %v", c.calls, c.frames+1, err)
		}
		for i := range r.Calls {
			if !slices.Equal(got.Calls[i].Stack, r.Calls[i].Stack) {
				t.Fatalf("%d calls of %d frames: call %d's stack decoded differently", c.calls, c.frames+1, i)
			}
		}
		t.Logf("%d calls of %d frames: %d bytes", c.calls, c.frames+1, len(b))
	}
}
