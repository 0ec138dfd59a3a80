package recording

import (
	"context"
	"fmt"
	"testing"
	"time"
	"unsafe"
)

// TestRoomSlabs checks that Reserve's rooms are carved from slabs sized by
// the rooms the last record took (1, 2, 4 or 8 rooms, each a size class
// of its own): a first record takes them one at a time; the next record of
// ten takes its rooms from a slab of eight and one of two, each room in
// its own place; and a call's attributes and phases past its room go
// elsewhere, leaving its neighbour's as they were.
func TestRoomSlabs(t *testing.T) {
	r := New(WithMaxCalls(1000))
	defer r.Close(context.Background())
	now := time.Now()

	// record makes n calls that reserve rooms, and returns them (the
	// record not finished). Call 0 sets seven attributes and four
	// phases, past its room's six and three.
	record := func(n int) (*ActiveRecord, []*ActiveCall) {
		ctx, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: "/"})
		var calls []*ActiveCall
		for i := range n {
			c := StartCall(ctx, "svc", "m")
			c.Reserve()
			k := 6
			if i == 0 {
				k = 7
			}
			for j := range k {
				c.SetAttr(fmt.Sprint("k", j), fmt.Sprint(i))
			}
			for _, p := range []string{"send", "wait", "receive", "extra"}[:3+min(1, k-6)] {
				c.AddPhase(p, now, now.Add(time.Duration(i+1)*time.Millisecond))
			}
			calls = append(calls, c)
		}
		return ar, calls
	}
	roomOf := func(c *ActiveCall) uintptr { return uintptr(unsafe.Pointer(c.room)) }
	const size = unsafe.Sizeof(callRoom{})

	ar, _ := record(10)
	ar.mu.Lock()
	left, made := ar.roomsLeft, ar.roomsMade
	ar.mu.Unlock()
	if left != 0 || made != 10 {
		t.Errorf("first record: %d rooms left in its slab after %d; want none after 10 (no hint yet: slabs of one)", left, made)
	}
	ar.Finish()
	if got := r.roomHint.Load(); got != 10 {
		t.Fatalf("roomHint %d after ten rooms, want 10", got)
	}

	ar, calls := record(10)
	for i := 1; i < len(calls); i++ {
		follows := roomOf(calls[i]) == roomOf(calls[i-1])+size
		if want := i != 8; follows != want {
			t.Errorf("call %d's room follows call %d's: %v, want %v (slabs of 8 and 2)", i, i-1, follows, want)
		}
	}
	for i, c := range calls {
		ar.mu.Lock()
		attrs, phases := c.c.Attrs, c.c.Phases
		ar.mu.Unlock()
		wantAttrs, wantPhases := 6, 3
		if i == 0 {
			wantAttrs, wantPhases = 7, 4
		}
		if len(attrs) != wantAttrs || len(phases) != wantPhases {
			t.Fatalf("call %d: %d attributes and %d phases, want %d and %d", i, len(attrs), len(phases), wantAttrs, wantPhases)
		}
		for _, a := range attrs {
			if a.Value != fmt.Sprint(i) {
				t.Errorf("call %d: attribute %s = %q, want %q (a neighbour's room overwritten)", i, a.Key, a.Value, fmt.Sprint(i))
			}
		}
		for _, p := range phases {
			if p.Duration != time.Duration(i+1)*time.Millisecond {
				t.Errorf("call %d: phase %s of %v, want %v", i, p.Name, p.Duration, time.Duration(i+1)*time.Millisecond)
			}
		}
		inRoom := uintptr(unsafe.Pointer(unsafe.SliceData(attrs))) == roomOf(c)
		if want := i != 0; inRoom != want {
			t.Errorf("call %d: attributes in its room: %v, want %v (seven do not fit)", i, inRoom, want)
		}
	}
	ar.Finish()

	// Three rooms after ten: the hint follows, and the next record of
	// three takes a slab of two and one of one.
	ar, _ = record(3)
	ar.Finish()
	if got := r.roomHint.Load(); got != 3 {
		t.Fatalf("roomHint %d after three rooms, want 3", got)
	}
	ar, calls = record(3)
	if roomOf(calls[1]) != roomOf(calls[0])+size || roomOf(calls[2]) == roomOf(calls[1])+size {
		t.Errorf("three rooms at %#x, %#x, %#x: want a slab of two and one of one", roomOf(calls[0]), roomOf(calls[1]), roomOf(calls[2]))
	}
	ar.Finish()
}
