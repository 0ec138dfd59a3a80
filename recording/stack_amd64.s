//go:build amd64 && !purego

#include "textflag.h"

// func unwind(buf []uintptr) int
//
// unwind walks the frame-pointer chain from its caller's frame
// (captureStack's: unwind has no frame of its own, and Go calls it
// directly, as an ABI0 function of its package): it stores each frame's
// return address, starting with captureStack's, until the chain ends (a
// zero return address), buf is full, or the next frame pointer does not
// move up the stack by 1 to 64 MiB (which would mean a frame without one).
// Six instructions a frame.
TEXT ·unwind(SB),NOSPLIT|NOFRAME,$0-32
	MOVQ	buf_base+0(FP), DI
	MOVQ	buf_len+8(FP), CX
	MOVQ	BP, AX // fp
	XORQ	DX, DX // i
	TESTQ	AX, AX
	JZ	done
loop:
	CMPQ	DX, CX
	JGE	done
	MOVQ	8(AX), BX // return address
	TESTQ	BX, BX
	JZ	done
	MOVQ	BX, (DI)(DX*8)
	INCQ	DX
	MOVQ	(AX), SI // next frame pointer
	MOVQ	SI, R8
	SUBQ	AX, R8
	DECQ	R8
	CMPQ	R8, $0x3ffffff // next-fp-1 < 64 MiB, unsigned: above fp, by 64 MiB at most
	JAE	done
	MOVQ	SI, AX
	JMP	loop
done:
	MOVQ	DX, ret+24(FP)
	RET
