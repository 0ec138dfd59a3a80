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
// that the chunk of ten slots a record that made ten calls last starts
// with takes the 2,688-byte size class: at 296 bytes, its size before the
// raw stack's slice header, the slot's flags and the context of Do were
// folded into Call's room, ten took the 3,072-byte class.
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
	// Call keeps its size too: the slot's state lies in its room.
	if n := unsafe.Sizeof(Call{}); n != 224 {
		t.Errorf("Call is %d bytes, want 224", n)
	}
}
