//go:build linux && amd64 && !purego

package recording

import (
	"syscall"
	"testing"
	"unsafe"
)

// TestCaptureStackPrevBounds puts the previous stack at the very end of a
// page followed by one that cannot be read: captureStack must compare
// within prev (a read past it would crash the test), for a stack longer
// than prev and one as long.
func TestCaptureStackPrevBounds(t *testing.T) {
	page := syscall.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, 2*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skip(err)
	}
	defer syscall.Munmap(mem)
	if err := syscall.Mprotect(mem[page:], syscall.PROT_NONE); err != nil {
		t.Skip(err)
	}
	words := unsafe.Slice((*uintptr)(unsafe.Pointer(&mem[0])), page/int(ptrSize))
	stackLevel(3, func() {
		var all []uintptr
		for i := range 3 {
			var buf [stackBuf]uintptr
			var prev []uintptr
			if i > 0 {
				// All of the stack but its last frame, then all of it.
				k := len(all) - 2 + i
				prev = words[len(words)-k:]
				copy(prev, all)
			}
			// Every capture from this line: the same stack.
			pcs, fresh := captureStack(buf[:], prev)
			if i == 0 {
				all = append([]uintptr(nil), pcs...)
			}
			if same := !fresh; same != (i == 2) {
				t.Fatalf("prev of %d of %d frames: same %v", len(prev), len(pcs), same)
			}
		}
	})
}

const ptrSize = unsafe.Sizeof(uintptr(0))
