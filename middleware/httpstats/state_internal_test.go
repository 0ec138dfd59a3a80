package httpstats

import (
	"testing"
	"unsafe"
)

// A recorded call allocates its state in the 896-byte size class: an
// object with pointers over 512 bytes carries an 8-byte header, so the
// state must stay within 888 bytes (on 64-bit platforms), or it takes
// the 1,024-byte class, 128 bytes more a call.
func TestCallStateSizeClass(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are for 64-bit platforms")
	}
	if n := unsafe.Sizeof(callState{}); n > 896-8 {
		t.Errorf("callState is %d bytes, over 888: it takes the 1,024-byte class", n)
	}
}
