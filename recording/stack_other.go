//go:build !amd64 || purego

package recording

import "runtime"

// captureStack fills buf with the return PCs of its caller's stack and
// returns how many it stored, and whether they are prev's (see the
// amd64 version, which may leave buf unwritten when they are), using
// runtime.Callers (skipping itself). It is called on the request path, so it
// neither allocates nor symbolizes.
//
//go:noinline
func captureStack(buf, prev []uintptr) (n int, same bool) {
	n = runtime.Callers(2, buf)
	return n, samePCs(buf[:n], prev)
}
