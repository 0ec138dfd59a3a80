package codec

import (
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// TestSameBytesAtPageEdges compares, with sameBytes8 and sameBytes24,
// strings of every length from 1 to 30 whose bytes end where a page
// ends, before a page that cannot be read, or begin where a page begins,
// after one: a load past either end of a string would fault (the test
// dies with SIGSEGV). The strings are made with unsafe.String over the
// mapped memory, as a decoder's view of a buffer makes them.
func TestSameBytesAtPageEdges(t *testing.T) {
	page := syscall.Getpagesize()
	// Four pages: unreadable, readable, readable, unreadable. The lo
	// strings begin at the second page's start, the hi strings end at the
	// third page's end.
	mem, err := syscall.Mmap(-1, 0, 4*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skip("mmap:", err)
	}
	defer syscall.Munmap(mem)
	if err := syscall.Mprotect(mem[:page], syscall.PROT_NONE); err != nil {
		t.Skip("mprotect:", err)
	}
	if err := syscall.Mprotect(mem[3*page:], syscall.PROT_NONE); err != nil {
		t.Skip("mprotect:", err)
	}
	first, last := mem[page:2*page], mem[2*page:3*page]
	pattern := strings.Repeat("abcdefgh", 4)
	copy(first, pattern)
	copy(last[len(last)-len(pattern):], pattern)
	for n := 1; n <= 30; n++ {
		lo := unsafe.String(&first[0], n)                // begins at a page's start
		hi := unsafe.String(&last[len(last)-n], n)       // ends at a page's end
		other := strings.Clone(pattern[len(pattern)-n:]) // hi's bytes, on the heap
		want := lo == other && n <= 24                   // sameBytes24 false past 24
		wantHi := hi == other && n <= 24
		got, gotHi := false, false
		if n <= 8 {
			got, gotHi = sameBytes8(lo, other), sameBytes8(hi, other)
			_, _ = sameBytes8(other, lo), sameBytes8(other, hi)
		} else {
			got, gotHi = sameBytes24(lo, other), sameBytes24(hi, other)
			_, _ = sameBytes24(other, lo), sameBytes24(other, hi)
		}
		if got != want || gotHi != wantHi {
			t.Errorf("length %d: at a page's start %v (want %v), at its end %v (want %v)", n, got, want, gotHi, wantHi)
		}
	}
}
