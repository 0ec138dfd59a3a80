// Package traceparent holds the hex formatting that recording's
// AppendTraceparent and httpstats' in-place rewrite of a kept traceparent
// share: one copy of the digit function and of the writer of a
// traceparent's span ID and flags.
package traceparent

import "encoding/binary"

// Len is the length of a version-00 traceparent value
// (recording.TraceparentLen).
const Len = 55

// Digits returns u's eight lower-case hex digits as a word's bytes, the
// most significant digit in the most significant byte (a look-up a byte,
// as encoding/hex's, took ~4 instructions a byte): each nibble is
// spread to a byte of its own, then each byte n becomes '0'+n, plus
// 'a'-'0'-10 when n is 10 or more (n+6 then carries into the byte's bit
// 4, which no other byte's sum reaches: n+6 is at most 21).
func Digits(u uint32) uint64 {
	v := uint64(u)
	v = (v | v<<16) & 0x0000ffff0000ffff
	v = (v | v<<8) & 0x00ff00ff00ff00ff
	v = (v | v<<4) & 0x0f0f0f0f0f0f0f0f
	letters := (v + 0x0606060606060606) >> 4 & 0x0101010101010101
	return v + 0x3030303030303030 + letters*('a'-'0'-10)
}

// SpanInto writes span's sixteen hex digits into b[36:52] and the flags'
// last digit into b[54] (sampled its bit 0, random its bit 1), where a
// version-00 traceparent has them. The rest of b (the version, the trace
// ID, the dashes and the flags' first digit, '0') is left as it is.
func SpanInto(b *[Len]byte, span [8]byte, sampled, random bool) {
	s := binary.BigEndian.Uint64(span[:])
	binary.BigEndian.PutUint64(b[36:44], Digits(uint32(s>>32)))
	binary.BigEndian.PutUint64(b[44:52], Digits(uint32(s)))
	f := byte('0')
	if sampled {
		f = '1'
	}
	if random {
		f += 2
	}
	b[54] = f
}
