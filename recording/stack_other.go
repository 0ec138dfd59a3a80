//go:build !amd64 || purego

package recording

import "runtime"

// captureStack captures the return PCs of its caller's stack, using
// runtime.Callers (skipping itself), into buf: it returns prev and false
// when they are prev's, else buf[:n:n] and true (see the amd64 version).
// It is called on the request path, so it neither allocates nor
// symbolizes.
//
//go:noinline
func captureStack(buf, prev []uintptr) (pcs []uintptr, fresh bool) {
	n := runtime.Callers(2, buf)
	if samePCs(buf[:n], prev) {
		return prev, false
	}
	return buf[:n:n], true
}
