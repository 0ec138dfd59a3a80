package recording

import (
	"context"
	"fmt"
	"testing"
	"time"
	"unsafe"
)

// TestRoomSlabs checks that Reserve's rooms, for a recorder whose sinks
// may keep records (which are then never reused, nor their rooms: see
// TestPooledRoomsInSpare for the others), are carved from slabs sized by
// the rooms the last record took (1, 3, 7 or 11 rooms): a first record
// takes them one at a time; the next record of ten takes its rooms from a
// slab of seven and one of three, each room in its own place; a call's
// attributes and phases past its room go elsewhere, leaving its
// neighbour's as they were; and the hint follows the last record.
func TestRoomSlabs(t *testing.T) {
	keeps := SinkFunc(func(context.Context, []*Record) error { return nil })
	r := New(WithSinks(keeps), WithMaxCalls(1000))
	defer r.Close(context.Background())
	if r.pool != nil {
		t.Fatal("a recorder with a SinkFunc reuses records")
	}
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
		if want := i != 7; follows != want {
			t.Errorf("call %d's room follows call %d's: %v, want %v (slabs of 7 and 3)", i, i-1, follows, want)
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

	// Five rooms after ten: the hint follows, and the next record of five
	// takes a slab of three and then single rooms.
	ar, _ = record(5)
	ar.Finish()
	if got := r.roomHint.Load(); got != 5 {
		t.Fatalf("roomHint %d after five rooms, want 5", got)
	}
	ar, calls = record(5)
	if roomOf(calls[1]) != roomOf(calls[0])+size || roomOf(calls[2]) != roomOf(calls[1])+size || roomOf(calls[3]) == roomOf(calls[2])+size {
		t.Errorf("five rooms at %#x: want a slab of three, then one of one", []uintptr{roomOf(calls[0]), roomOf(calls[1]), roomOf(calls[2]), roomOf(calls[3])})
	}
	ar.Finish()
}

// TestRoomSlabSizeClasses checks roomSlab's choice against the size
// classes (an object with pointers over 512 bytes carries an 8-byte
// header): a slab of 3, 7 or 11 rooms leaves at most 24 bytes of its
// class, and takes 32 bytes more than its rooms one at a time, while 2,
// 4 and 8 would take 32 bytes or more a room.
func TestRoomSlabSizeClasses(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are for 64-bit platforms")
	}
	const room = int(unsafe.Sizeof(callRoom{}))
	classes := []int{288, 640, 896, 1280, 2048, 2688, 3200}
	class := func(b int) int {
		if b > 512 {
			b += 8
		}
		for _, c := range classes {
			if b <= c {
				return c
			}
		}
		t.Fatalf("%d bytes: no class in the table", b)
		return 0
	}
	for _, tc := range []struct{ left, want int }{{-3, 1}, {0, 1}, {1, 1}, {2, 1}, {3, 3}, {6, 3}, {7, 7}, {10, 7}, {11, 11}, {1000, 11}} {
		if got := roomSlab(tc.left); got != tc.want {
			t.Errorf("roomSlab(%d) = %d, want %d", tc.left, got, tc.want)
		}
	}
	for _, n := range []int{3, 7, 11} {
		if c := class(n * room); c-(n*room+8) > 24 || c-n*class(room) > 32 {
			t.Errorf("a slab of %d rooms takes %d bytes, %d of them unused, %d more than its rooms one at a time", n, c, c-n*room-8, c-n*class(room))
		}
	}
	for _, n := range []int{2, 4, 8} {
		if c := class(n * room); c-n*class(room) < 32*n {
			t.Errorf("a slab of %d rooms takes %d bytes: roomSlab should use it", n, c)
		}
	}
}
