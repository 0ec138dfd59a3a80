//go:build !amd64 || purego

package recording

import "runtime"

// unwind fills buf with return PCs using runtime.Callers, skipping unwind
// and captureStack.
func unwind(buf []uintptr) int { return runtime.Callers(3, buf) }
