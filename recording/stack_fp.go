//go:build amd64 && !purego

package recording

import "unsafe"

// getfp returns the frame pointer of its caller (assembly, stack_amd64.s).
func getfp() unsafe.Pointer

// unwind walks the frame-pointer chain, as Go's execution tracer does since Go
// 1.21: a few nanoseconds a frame instead of runtime.Callers' ~45 ns. It stops
// at the end of the chain, when buf is full, or at a frame pointer that does
// not move up the stack (which would mean a frame without one).
//
//go:nosplit
func unwind(buf []uintptr) int {
	fp := getfp()
	// The first return address leads into captureStack; skip it.
	i, skip := 0, 1
	for fp != nil && i < len(buf) {
		ret := *(*uintptr)(unsafe.Add(fp, unsafe.Sizeof(uintptr(0))))
		next := *(*unsafe.Pointer)(fp)
		if ret == 0 {
			break
		}
		if skip > 0 {
			skip--
		} else {
			buf[i] = ret
			i++
		}
		if next != nil && (uintptr(next) <= uintptr(fp) || uintptr(next)-uintptr(fp) > 64<<20) {
			break
		}
		fp = next
	}
	return i
}
