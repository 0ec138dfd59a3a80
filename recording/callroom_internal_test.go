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

// TestCallSlotSizeClass checks that a call's slot is callSlotBytes, so
// that ten slots fit the 2,688-byte size class (at 296 bytes, its size
// before the raw stack's slice header, the slot's flags and the context
// of Do were folded into Call's room, ten took the 3,072-byte class),
// and eleven the 3,072-byte one (see slotsPast2688).
func TestCallSlotSizeClass(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are for 64-bit platforms")
	}
	if n := unsafe.Sizeof(ActiveCall{}); n != callSlotBytes {
		t.Errorf("ActiveCall is %d bytes, not callSlotBytes (%d)", n, callSlotBytes)
	}
	if n := 10 * callSlotBytes; n > 2688 {
		t.Errorf("ten slots are %d bytes, over 2,688: they take the 3,072-byte class", n)
	}
	if n := 11 * callSlotBytes; n > 3072 {
		t.Errorf("eleven slots are %d bytes, over 3,072", n)
	}
	// Call keeps its size too: the slot's state lies in its room.
	if n := unsafe.Sizeof(Call{}); n != 224 {
		t.Errorf("Call is %d bytes, want 224", n)
	}
}

// TestChunkSkips2688 checks that no chunk of call slots is of the
// 2,688-byte size class, whose spans hold three objects: a first chunk
// for nine or ten calls takes as many slots as the 3,072-byte class holds
// (eleven), one for fewer or more takes as many as asked, and the call
// limit still bounds it.
func TestChunkSkips2688(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are for 64-bit platforms")
	}
	if slotsPast2688 != 11 {
		t.Errorf("the 3,072-byte class holds %d slots, want 11", slotsPast2688)
	}
	for _, tc := range []struct{ hint, maxCalls, want int }{
		{1, 1000, minChunk}, {4, 1000, 4}, {8, 1000, 8}, {9, 1000, 11}, {10, 1000, 11}, {11, 1000, 11},
		{12, 1000, 12}, {32, 1000, 32}, {10, 10, 10}, {10, 9, 9},
	} {
		r := New(WithMaxCalls(tc.maxCalls))
		r.callHint.Store(int32(tc.hint))
		ctx, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: "/"})
		StartCall(ctx, "svc", "m").End(nil)
		if n := len(ar.chunks[0]); n != tc.want {
			t.Errorf("hint %d, limit %d: a first chunk of %d slots, want %d", tc.hint, tc.maxCalls, n, tc.want)
		}
		for range 40 {
			StartCall(ctx, "svc", "m").End(nil)
		}
		for i, c := range ar.chunks {
			if b := len(c) * slotSize; b > 2304 && b <= 2688 && len(c) < tc.maxCalls {
				t.Errorf("hint %d: chunk %d of %d slots, %d bytes: the 2,688-byte class", tc.hint, i, len(c), b)
			}
		}
		ar.Finish()
		r.Close(t.Context())
	}
}
