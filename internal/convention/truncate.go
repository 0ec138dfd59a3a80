package convention

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// TruncatedMarker begins the note [Truncate] puts where it cut a string:
// "…[truncated 1234 bytes]".
const TruncatedMarker = "…[truncated "

// Truncate returns s cut to at most n bytes (less, to end on a UTF-8
// boundary), followed by a note of how many bytes were cut:
//
//	Truncate("SELECT * FROM orders", 6) == "SELECT…[truncated 14 bytes]"
//
// A string of at most n bytes is returned as it is, without allocating. A
// cut string is a copy, made with one allocation, so it does not keep the
// memory of s alive. n < 0 counts as 0.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := max(n, 0)
	// Back off at most a rune's length to the start of a rune, so the
	// kept part is valid UTF-8 whenever s is.
	for i := 0; i < utf8.UTFMax-1 && cut > 0 && !utf8.RuneStart(s[cut]); i++ {
		cut--
	}
	if !utf8.RuneStart(s[cut]) {
		cut = max(n, 0) // not UTF-8 there: cut at n
	}
	var num [20]byte
	count := strconv.AppendInt(num[:0], int64(len(s)-cut), 10)
	var b strings.Builder
	b.Grow(cut + len(TruncatedMarker) + len(count) + len(truncatedEnd))
	b.WriteString(s[:cut])
	b.WriteString(TruncatedMarker)
	b.Write(count)
	b.WriteString(truncatedEnd)
	return b.String()
}

const truncatedEnd = " bytes]"

// TruncatedLen returns the length of Truncate(s, n) for a string s of size
// bytes, without building it (within the few bytes a cut backed off to a
// rune boundary: it assumes the cut falls at n).
func TruncatedLen(size, n int) int {
	if size <= n {
		return size
	}
	n = max(n, 0)
	return n + len(TruncatedMarker) + len(strconv.Itoa(size-n)) + len(truncatedEnd)
}
