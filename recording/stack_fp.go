//go:build amd64 && !purego

package recording

// unwind fills buf with the return addresses of the frame-pointer chain
// that starts at its caller's frame, and returns how many it stored
// (assembly, stack_amd64.s). It walks the chain as Go's execution tracer
// does since Go 1.21: a few instructions a frame instead of
// runtime.Callers' ~45 ns. It stops at the end of the chain, when buf is
// full, or at a frame pointer that does not move up the stack by at most
// 64 MiB (which would mean a frame without one).
//
//go:noescape
func unwind(buf []uintptr) int
