//go:build amd64 && !purego

#include "textflag.h"

// maxFrameStep is how far above a frame the frame it links to may be.
#define maxFrameStep (64<<20)

// func captureStack(buf, prev []uintptr) (pcs []uintptr, fresh bool)
//
// See stack_fp.go. Registers: DI is where the next PC goes, SI buf's start,
// R9 buf's end, R8 its last slot (a pair fits while DI < R8), R13 the end
// of the first min(len(buf), len(prev)) slots, which are compared with
// prev's, R12 prev's address less buf's, DX whether every PC stored so far
// matched prev's; R10 and R11 take turns holding the frame pointer being
// read and the one it links to.
//
// After the first frame, the PCs that match prev's are compared and not
// stored, four frames a turn of cquad: when every one matches, the caller
// keeps prev and has no use for buf. The slots to compare are mostly not
// a multiple of four: the first turn starts at the frame that leaves a
// multiple after it (DI set back by the frames skipped, so that each
// frame's slot is where the turn compares it). The first PC that differs,
// the end of the slots to compare while the stack goes on, or an end of
// the stack short of prev's length copies the matched part of prev into
// buf (cgo, cstop) before the walk goes on or returns.
TEXT ·captureStack(SB),NOSPLIT|NOFRAME,$0-73
	MOVQ	buf_base+0(FP), DI
	MOVQ	buf_len+8(FP), CX
	MOVQ	prev_base+24(FP), R12
	MOVQ	prev_len+32(FP), BX
	MOVQ	DI, SI
	LEAQ	(DI)(CX*8), R9
	LEAQ	-8(R9), R8
	CMPQ	CX, BX
	CMOVQGT	BX, CX
	LEAQ	(DI)(CX*8), R13
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
	// The slots left to compare, modulo four, pick the first turn's
	// first frame: none left goes to cout; a multiple of four starts
	// at the turn's first.
	MOVQ	R13, CX
	SUBQ	DI, CX
	JLS	cout
	ANDQ	$24, CX
	JEQ	cquad
	CMPQ	CX, $16
	JHI	from1
	JEQ	from2
	SUBQ	$24, DI
	MOVQ	R10, R11
	JMP	cquad3
from1:
	SUBQ	$8, DI
	MOVQ	R10, R11
	JMP	cquad1
from2:
	SUBQ	$16, DI
	JMP	cquad2
cquad:
	// Four frames, each PC compared with prev's and not stored; the
	// frames are read as in pair below.
	MOVQ	8(R10), AX
	CMPQ	AX, (DI)(R12*1)
	JNE	cgo
	MOVQ	(R10), R11
	SUBQ	R11, R10
	CMPQ	R10, $(-maxFrameStep)
	JCS	cend1
cquad1:
	MOVQ	8(R11), AX
	CMPQ	AX, 8(DI)(R12*1)
	JNE	cdiff1
	MOVQ	(R11), R10
	SUBQ	R10, R11
	CMPQ	R11, $(-maxFrameStep)
	JCS	cend2
cquad2:
	MOVQ	8(R10), AX
	CMPQ	AX, 16(DI)(R12*1)
	JNE	cdiff2
	MOVQ	(R10), R11
	SUBQ	R11, R10
	CMPQ	R10, $(-maxFrameStep)
	JCS	cend3
cquad3:
	MOVQ	8(R11), AX
	CMPQ	AX, 24(DI)(R12*1)
	JNE	cdiff3
	MOVQ	(R11), R10
	SUBQ	R10, R11
	CMPQ	R11, $(-maxFrameStep)
	JCS	cend4
	ADDQ	$32, DI
	CMPQ	DI, R13
	JCS	cquad
cout:
	// Every slot compared matched, and the stack goes on at R10: with
	// room left in buf, the stack is longer than prev; with none, the
	// capture ends here.
	CMPQ	DI, R9
	JCC	cstop
cgo:
	// The PCs before DI matched prev's, and the walk goes on with the
	// frame at R10 stored at DI: the matched ones are copied first.
	LEAQ	8(SI), CX
cgocopy:
	CMPQ	CX, DI
	JCC	cgodone
	MOVQ	(CX)(R12*1), AX
	MOVQ	AX, (CX)
	ADDQ	$8, CX
	JMP	cgocopy
cgodone:
	XORL	DX, DX
plain:
	CMPQ	DI, R8
	JCC	tail
pair:
	// The frame at R10: its return address, then the frame it links to.
	MOVQ	8(R10), AX
	MOVQ	AX, (DI)
	MOVQ	(R10), R11
	SUBQ	R11, R10
	CMPQ	R10, $(-maxFrameStep)
	JCS	done1
	// The frame at R11.
	MOVQ	8(R11), AX
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
	CMPQ	DI, prev_len+32(FP)
	JNE	fresh
	TESTL	DX, DX
	JEQ	fresh
same:
	// The stack is prev's, DI PCs: prev is the result.
	MOVQ	prev_base+24(FP), AX
	MOVQ	AX, pcs_base+48(FP)
	MOVQ	DI, pcs_len+56(FP)
	MOVQ	prev_cap+40(FP), AX
	MOVQ	AX, pcs_cap+64(FP)
	MOVB	$0, fresh+72(FP)
	RET
fresh:
	// A new stack of DI PCs, in buf.
	MOVQ	SI, pcs_base+48(FP)
	MOVQ	DI, pcs_len+56(FP)
	MOVQ	DI, pcs_cap+64(FP)
	MOVB	$1, fresh+72(FP)
	RET
done2:
	ADDQ	$16, DI
	JMP	done
cdiff1:
	// The frame at R11 differs from prev's.
	ADDQ	$8, DI
	MOVQ	R11, R10
	JMP	cgo
cdiff2:
	ADDQ	$16, DI
	JMP	cgo
cdiff3:
	ADDQ	$24, DI
	MOVQ	R11, R10
	JMP	cgo
cend1:
	// The stack ended after a frame that matched prev's.
	ADDQ	$8, DI
	JMP	cstop
cend2:
	ADDQ	$16, DI
	JMP	cstop
cend3:
	ADDQ	$24, DI
	JMP	cstop
cend4:
	ADDQ	$32, DI
cstop:
	// The capture ends at DI, every PC matching prev's: the same stack
	// if prev is as long, else the matched PCs are copied into buf.
	SUBQ	SI, DI
	SHRQ	$3, DI
	CMPQ	DI, prev_len+32(FP)
	JEQ	same
	LEAQ	8(SI), CX
	LEAQ	(SI)(DI*8), BX
cstoploop:
	CMPQ	CX, BX
	JCC	fresh
	MOVQ	(CX)(R12*1), AX
	MOVQ	AX, (CX)
	ADDQ	$8, CX
	JMP	cstoploop
