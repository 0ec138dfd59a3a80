package recording

import (
	"fmt"
	"hash/maphash"
	"testing"
)

// TestCleanTextsSharedSlot checks that two clean texts whose hashes give
// the same slot of cleanTexts.clean are both held: each record redacted
// both again when one slot held one text, the two taking it from each
// other record after record (a texts' pair the process's seed makes meet:
// with some thirty texts to hold, about one process in ten).
func TestCleanTextsSharedSlot(t *testing.T) {
	c := newCleanTexts()
	first := make(map[uint64]string)
	var a, b string
	for i := 0; b == ""; i++ {
		s := fmt.Sprintf("a clean text, number %d", i)
		slot := maphash.String(c.seed, s) % maxCleanTexts
		if o, ok := first[slot]; ok {
			a, b = o, s
		}
		first[slot] = s
	}
	redacted := 0
	red := func(s string) string { redacted++; return s }
	for range 2 { // seen once, then held
		c.redactHashed(red, a)
		c.redactHashed(red, b)
	}
	redacted = 0
	for range 10 {
		if got := c.redactHashed(red, a); got != a {
			t.Fatalf("redactHashed(%q) = %q", a, got)
		}
		if got := c.redactHashed(red, b); got != b {
			t.Fatalf("redactHashed(%q) = %q", b, got)
		}
	}
	if redacted != 0 {
		t.Errorf("%q and %q, sharing a slot, redacted %d times in 10 records, want 0: one took the other's place", a, b, redacted)
	}
}
