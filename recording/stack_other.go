//go:build !amd64 || purego

package recording

import "runtime"

// captureStack fills buf with the return PCs of its caller's stack and
// returns the filled part, using runtime.Callers (skipping itself). It is
// called on the request path, so it neither allocates nor symbolizes.
//
//go:noinline
func captureStack(buf []uintptr) []uintptr { return buf[:runtime.Callers(2, buf)] }
