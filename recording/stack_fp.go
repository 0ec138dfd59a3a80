//go:build amd64 && !purego

package recording

// captureStack captures the return PCs of its caller's stack (the first
// is its own return address, into its caller), at most len(buf) of them.
// When they are prev's (slices.Equal), it returns prev and false, and
// buf may not have been written; else it returns them stored in buf, as
// buf[:n:n], and true (fresh). The caller keeps the result: no slice of
// its own is live across the call. It
// walks the frame-pointer chain (stack_amd64.s), as Go's execution tracer
// does since Go 1.21: a few instructions a frame instead of
// runtime.Callers' ~45 ns. It stops at the end of the chain (a nil frame
// pointer), when buf is full, or at a frame pointer that does not move up
// the stack by at most 64 MiB (which would mean a frame without one). A
// zero return address, which no Go frame has, is stored like any other
// PC, as the runtime's own frame-pointer unwinder does: checking every
// frame for one would cost two instructions a frame, and the symbolizer
// ends the stack at one instead (see symbolizer.frames). It is called on the request path, so it
// neither allocates nor symbolizes. buf and prev must not overlap.
//
// It is written in assembly, where the loop takes ~8 instructions a frame
// (the compiler's took 12.5): the frame pointers alternate between two
// registers, one check of buf's room serves two frames, and the step check
// is one subtraction and one comparison (fp−next, unsigned, at least
// −64 MiB: next is above fp by 1 byte to 64 MiB, and a nil next fails it).
// Each PC is compared with prev's while it is in a register, two
// instructions a frame, until one differs: a call made from the same place
// as the one before it (a loop) is found to share its stack without
// comparing the two in memory afterwards. While they match, the PCs are
// not stored and four frames share one check of the slots left (~7.75
// instructions a frame instead of ~9.5); the PCs that matched are copied
// from prev when one differs or the stacks' lengths do. An assembly function is no
// asynchronous preemption point, so the stack cannot move during the walk.
//
//go:noescape
func captureStack(buf, prev []uintptr) (pcs []uintptr, fresh bool)
