//go:build amd64 && !purego

package recording

import "unsafe"

// getfp returns the frame pointer of its caller (assembly, stack_amd64.s).
func getfp() unsafe.Pointer

// unwind walks the frame-pointer chain, as Go's execution tracer does since Go
// 1.21: a few nanoseconds a frame instead of runtime.Callers' ~45 ns. It stops
// at the end of the chain, when buf is full, or at a frame pointer that does
// not move up the stack by at most maxFrameStep (which would mean a frame
// without one).
//
//go:nosplit
func unwind(buf []uintptr) int {
	fp := getfp()
	// The first return address leads into captureStack; skip it.
	if fp == nil || *(*uintptr)(unsafe.Add(fp, ptrSize)) == 0 {
		return 0
	}
	next := *(*unsafe.Pointer)(fp)
	if uintptr(next)-uintptr(fp)-1 >= maxFrameStep {
		return 0
	}
	fp = next
	for i := range buf {
		ret := *(*uintptr)(unsafe.Add(fp, ptrSize))
		if ret == 0 {
			return i
		}
		buf[i] = ret
		next := *(*unsafe.Pointer)(fp)
		// One comparison for both checks: next is above fp, by at most
		// maxFrameStep (a nil next, the chain's end, fails it too).
		if uintptr(next)-uintptr(fp)-1 >= maxFrameStep {
			return i + 1
		}
		fp = next
	}
	return len(buf)
}

const (
	ptrSize      = unsafe.Sizeof(uintptr(0))
	maxFrameStep = 64 << 20
)
