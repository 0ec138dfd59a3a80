//go:build amd64 && !purego

#include "textflag.h"

// maxFrameStep is how far above a frame the frame it links to may be.
#define maxFrameStep (64<<20)

// func captureStack(buf []uintptr) []uintptr
//
// See stack_fp.go. Registers: DI is where the next PC goes, SI buf's start,
// R8 the last slot (a pair fits while DI < R8), R9 buf's end; R10 and R11
// take turns holding the frame pointer being read and the one it links to.
TEXT ·captureStack(SB),NOSPLIT|NOFRAME,$0-48
	MOVQ	buf_base+0(FP), DI
	MOVQ	buf_len+8(FP), CX
	MOVQ	buf_cap+16(FP), AX
	MOVQ	DI, ret_base+24(FP)
	MOVQ	AX, ret_cap+40(FP)
	MOVQ	DI, SI
	LEAQ	(DI)(CX*8), R9
	LEAQ	-8(R9), R8
	CMPQ	DI, R9
	JCC	done
	// The first frame is this function's own, which has no frame pointer:
	// its return address is at 0(SP), and its caller's frame pointer is BP,
	// which must be above SP.
	MOVQ	0(SP), AX
	MOVQ	AX, (DI)
	ADDQ	$8, DI
	MOVQ	BP, R10
	MOVQ	SP, AX
	SUBQ	R10, AX
	CMPQ	AX, $(-maxFrameStep)
	JCS	done
	CMPQ	DI, R8
	JCC	tail
pair:
	// The frame at R10: its return address, then the frame it links to.
	MOVQ	8(R10), AX
	TESTQ	AX, AX
	JEQ	done
	MOVQ	AX, (DI)
	MOVQ	(R10), R11
	SUBQ	R11, R10
	CMPQ	R10, $(-maxFrameStep)
	JCS	done1
	// The frame at R11.
	MOVQ	8(R11), AX
	TESTQ	AX, AX
	JEQ	done1
	MOVQ	AX, 8(DI)
	MOVQ	(R11), R10
	SUBQ	R10, R11
	CMPQ	R11, $(-maxFrameStep)
	JCS	done2
	ADDQ	$16, DI
	CMPQ	DI, R8
	JCS	pair
tail:
	// Room for one frame at most: the frame at R10, if any room.
	CMPQ	DI, R9
	JCC	done
	MOVQ	8(R10), AX
	TESTQ	AX, AX
	JEQ	done
	MOVQ	AX, (DI)
done1:
	ADDQ	$8, DI
done:
	SUBQ	SI, DI
	SHRQ	$3, DI
	MOVQ	DI, ret_len+32(FP)
	RET
done2:
	ADDQ	$16, DI
	JMP	done
