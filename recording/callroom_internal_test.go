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
