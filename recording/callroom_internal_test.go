package recording

import (
	"testing"
	"unsafe"
)

// TestCallRoomSizeClass checks that the room Reserve makes takes the
// 288-byte size class: six attributes and three phases, the send, wait and
// receive of an HTTP call on a connection already open (six phases took
// the 384-byte class, 96 bytes more a call).
func TestCallRoomSizeClass(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are for 64-bit platforms")
	}
	if n := unsafe.Sizeof(callRoom{}); n > 288 {
		t.Errorf("callRoom is %d bytes, over 288: it takes a larger size class", n)
	}
	if reservedAttrs < 6 || reservedPhases < 3 {
		t.Errorf("room for %d attributes and %d phases, want at least 6 and 3", reservedAttrs, reservedPhases)
	}
}

// TestCallSlotSizeClass checks the sizes a record's calls take: a slot of
// callSlotBytes (64), whose call lies in the record's array of calls, so
// that ten slots take the 640-byte size class (a slot that held its call
// took 264 bytes: ten of them the 3,072-byte class, see
// TestChunkSkips2688), and a Call of 224 bytes (the slot's state lies in
// its room), so that ten calls take the 2,304-byte class, with the
// allocator's header, and thirteen the 3,072-byte one (see
// callsPast2688).
func TestCallSlotSizeClass(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are for 64-bit platforms")
	}
	if n := unsafe.Sizeof(ActiveCall{}); n != callSlotBytes {
		t.Errorf("ActiveCall is %d bytes, not callSlotBytes (%d)", n, callSlotBytes)
	}
	if n := 10 * callSlotBytes; n > 640 {
		t.Errorf("ten slots are %d bytes, over 640", n)
	}
	if n := unsafe.Sizeof(Call{}); n != 224 {
		t.Errorf("Call is %d bytes, want 224", n)
	}
	if n := 10*callSize + mallocHeader; n > 2304 {
		t.Errorf("ten calls are %d bytes, over 2,304", n)
	}
	if n := callsPast2688*callSize + mallocHeader; n > 3072 || n+callSize <= 3072 {
		t.Errorf("%d calls are %d bytes: not what the 3,072-byte class holds", callsPast2688, n)
	}
}

// TestChunkSkips2688 checks that no fresh array of calls is of the
// 2,688-byte size class, whose spans hold three objects: a record's
// first array, for eleven calls, takes as many as the 3,072-byte class
// holds (thirteen), one for fewer or more as many as asked, and the call
// limit still bounds it; and that the first chunk of slots is sized by
// the hint as before.
func TestChunkSkips2688(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are for 64-bit platforms")
	}
	if callsPast2688 != 13 {
		t.Errorf("the 3,072-byte class holds %d calls, want 13", callsPast2688)
	}
	for _, tc := range []struct{ hint, maxCalls, want, slots int }{
		{1, 1000, minChunk, minChunk}, {4, 1000, 4, 4}, {8, 1000, 8, 8}, {9, 1000, 9, 9}, {10, 1000, 10, 10},
		{11, 1000, 13, 11}, {12, 1000, 12, 12}, {13, 1000, 13, 13}, {32, 1000, 32, 32}, {40, 1000, 40, 32},
		{11, 11, 11, 11}, {11, 10, 10, 10},
	} {
		r := New(WithMaxCalls(tc.maxCalls))
		r.callHint.Store(int32(tc.hint))
		ctx, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: "/"})
		StartCall(ctx, "svc", "m").End(nil)
		if n := cap(ar.r.spare.calls); n != tc.want {
			t.Errorf("hint %d, limit %d: an array of %d calls, want %d", tc.hint, tc.maxCalls, n, tc.want)
		}
		if n := len(ar.chunks[0]); n != tc.slots {
			t.Errorf("hint %d, limit %d: a first chunk of %d slots, want %d", tc.hint, tc.maxCalls, n, tc.slots)
		}
		ar.Finish()
		r.Close(t.Context())
	}
}
