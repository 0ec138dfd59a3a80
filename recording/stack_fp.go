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
	// Two frames a turn: one check of buf's room for both, and fp and
	// next take turns, where one frame a turn would copy one to the other.
	// The frames are stored through p, which i+1 < len(buf) keeps
	// within buf: no index check of its own.
	p := unsafe.Pointer(unsafe.SliceData(buf))
	i := 0
	for ; i+1 < len(buf); i += 2 {
		ret := *(*uintptr)(unsafe.Add(fp, ptrSize))
		if ret == 0 {
			return i
		}
		*(*uintptr)(unsafe.Add(p, uintptr(i)*ptrSize)) = ret
		next := *(*unsafe.Pointer)(fp)
		// One comparison for both checks: next is above fp, by at most
		// maxFrameStep (a nil next, the chain's end, fails it too).
		if uintptr(next)-uintptr(fp)-1 >= maxFrameStep {
			return i + 1
		}
		ret = *(*uintptr)(unsafe.Add(next, ptrSize))
		if ret == 0 {
			return i + 1
		}
		*(*uintptr)(unsafe.Add(p, uintptr(i+1)*ptrSize)) = ret
		fp = *(*unsafe.Pointer)(next)
		if uintptr(fp)-uintptr(next)-1 >= maxFrameStep {
			return i + 2
		}
	}
	if i < len(buf) {
		ret := *(*uintptr)(unsafe.Add(fp, ptrSize))
		if ret == 0 {
			return i
		}
		buf[i] = ret
		i++
	}
	return i
}

const (
	ptrSize      = unsafe.Sizeof(uintptr(0))
	maxFrameStep = 64 << 20
)
