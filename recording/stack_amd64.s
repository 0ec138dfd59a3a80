//go:build amd64 && !purego

#include "textflag.h"

// maxFrameStep is how far above a frame the frame it links to may be.
#define maxFrameStep (64<<20)

// func captureStack(buf, prev []uintptr) (n int, same bool)
//
// See stack_fp.go. Registers: DI is where the next PC goes, SI buf's start,
// R9 buf's end, R8 its last slot (a pair fits while DI < R8), R13 the last
// of the first min(len(buf), len(prev)) slots (a pair is compared with prev
// while DI < R13), R12 prev's address less buf's, DX whether every PC stored
// so far matched prev's; R10 and R11 take turns holding the frame pointer
// being read and the one it links to.
TEXT ·captureStack(SB),NOSPLIT|NOFRAME,$0-57
	MOVQ	buf_base+0(FP), DI
	MOVQ	buf_len+8(FP), CX
	MOVQ	prev_base+24(FP), R12
	MOVQ	prev_len+32(FP), BX
	MOVQ	DI, SI
	LEAQ	(DI)(CX*8), R9
	LEAQ	-8(R9), R8
	CMPQ	CX, BX
	CMOVQGT	BX, CX
	LEAQ	-8(DI)(CX*8), R13
	SUBQ	DI, R12
	MOVL	$1, DX
	CMPQ	DI, R9
	JCC	done
	// The first frame is this function's own, which has no frame pointer:
	// its return address is at 0(SP), and its caller's frame pointer is BP,
	// which must be above SP.
	MOVQ	0(SP), AX
	TESTQ	CX, CX
	JEQ	firstdiff
	CMPQ	AX, (DI)(R12*1)
	JEQ	firststore
firstdiff:
	XORL	DX, DX
firststore:
	MOVQ	AX, (DI)
	ADDQ	$8, DI
	MOVQ	BP, R10
	MOVQ	SP, AX
	SUBQ	R10, AX
	CMPQ	AX, $(-maxFrameStep)
	JCS	done
	TESTL	DX, DX
	JEQ	plain
	CMPQ	DI, R13
	JCC	cleft
cpair:
	// As pair below, each PC compared with prev's before it is stored.
	MOVQ	8(R10), AX
	CMPQ	AX, (DI)(R12*1)
	JNE	diff0
	MOVQ	AX, (DI)
	MOVQ	(R10), R11
	SUBQ	R11, R10
	CMPQ	R10, $(-maxFrameStep)
	JCS	done1
	MOVQ	8(R11), AX
	CMPQ	AX, 8(DI)(R12*1)
	JNE	diff1
	MOVQ	AX, 8(DI)
	MOVQ	(R11), R10
	SUBQ	R10, R11
	CMPQ	R11, $(-maxFrameStep)
	JCS	done2
	ADDQ	$16, DI
	CMPQ	DI, R13
	JCS	cpair
cleft:
	// One of the first min(len(buf), len(prev)) slots may be left to
	// compare; past them, every PC stored makes the stack longer than
	// prev, which done finds.
	LEAQ	8(R13), BX
	CMPQ	DI, BX
	JCC	plain
	MOVQ	8(R10), AX
	CMPQ	AX, (DI)(R12*1)
	JEQ	leftstore
	XORL	DX, DX
leftstore:
	MOVQ	AX, (DI)
	ADDQ	$8, DI
	MOVQ	(R10), R11
	SUBQ	R11, R10
	CMPQ	R10, $(-maxFrameStep)
	JCS	done
	MOVQ	R11, R10
plain:
	CMPQ	DI, R8
	JCC	tail
pair:
	// The frame at R10: its return address, then the frame it links to.
	MOVQ	8(R10), AX
store0:
	MOVQ	AX, (DI)
	MOVQ	(R10), R11
	SUBQ	R11, R10
	CMPQ	R10, $(-maxFrameStep)
	JCS	done1
	// The frame at R11.
	MOVQ	8(R11), AX
store1:
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
	MOVQ	AX, (DI)
done1:
	ADDQ	$8, DI
done:
	SUBQ	SI, DI
	SHRQ	$3, DI
	MOVQ	DI, n+48(FP)
	CMPQ	DI, prev_len+32(FP)
	JNE	notsame
	MOVB	DX, same+56(FP)
	RET
notsame:
	MOVB	$0, same+56(FP)
	RET
done2:
	ADDQ	$16, DI
	JMP	done
diff0:
	XORL	DX, DX
	JMP	store0
diff1:
	XORL	DX, DX
	JMP	store1
