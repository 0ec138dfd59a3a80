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

// TestCleanTextsTableGrows checks that cleanTexts.clean is made small and
// grows only when a text to hold finds its slot full: a writer holding two
// texts keeps a table of minCleanTexts entries (it made one of
// maxCleanTexts, 96 KiB of string pointers the garbage collector scans at
// every cycle), and three texts of one slot of that table are all held
// (none took another's place) once it has grown, each in the slot of its
// own hash.
func TestCleanTextsTableGrows(t *testing.T) {
	c := newCleanTexts()
	hold := func(s string) {
		for range 2 { // seen once, then held
			c.redactHashed(func(s string) string { return s }, s)
		}
	}
	slot := func(s string) uint64 { return maphash.String(c.seed, s) % (minCleanTexts / 2) }
	// Three texts of one slot of the first table, not all three of one
	// slot of the largest (where one would take another's place, as it
	// must; with the process's seed, about one run in 4,096 picked such).
	last := func(s string) uint64 { return maphash.String(c.seed, s) % (maxCleanTexts / 2) }
	texts := []string{}
	for i := 0; len(texts) < 3; i++ {
		s := fmt.Sprintf("a clean text, number %d", i)
		if len(texts) == 0 || slot(s) == slot(texts[0]) &&
			(len(texts) < 2 || last(s) != last(texts[0]) || last(s) != last(texts[1])) {
			texts = append(texts, s)
		}
	}
	hold(texts[0])
	hold(texts[1])
	if len(c.clean) != minCleanTexts {
		t.Fatalf("two texts held: a table of %d entries, want %d", len(c.clean), minCleanTexts)
	}
	hold(texts[2])
	if len(c.clean) <= minCleanTexts || len(c.clean) > maxCleanTexts {
		t.Errorf("three texts of one slot held: a table of %d entries, want more than %d, at most %d", len(c.clean), minCleanTexts, maxCleanTexts)
	}
	if n := redactedAgain(t, c, texts); n != 0 {
		t.Errorf("three texts of one slot of the first table: %d redacted again once held, want 0", n)
	}
	for i, e := range c.clean {
		if e.s != "" && &c.cleanSlot(e.h)[i%2] != &c.clean[i] {
			t.Errorf("entry %d (%q) is not in the slot of its hash", i, e.s)
		}
	}
}

// TestCleanTextsGrowsUntilRoom checks that a text to hold that finds its
// slot full is held once the table has grown as far as it takes to give it
// room (up to maxCleanTexts), none of the others losing its place: three
// texts of one slot of the first table and of the second (fourfold), not
// of the largest. The table grew once, and the third text took the place
// of the first, which was then redacted again record after record; with
// the process's seed, three texts of one slot of the first table were
// also of one slot of the second in one process in sixteen
// (TestCleanTextsTableGrows failed so).
func TestCleanTextsGrowsUntilRoom(t *testing.T) {
	c := newCleanTexts()
	hold := func(s string) {
		for range 2 { // seen once, then held
			c.redactHashed(func(s string) string { return s }, s)
		}
	}
	slot := func(s string, n int) uint64 { return maphash.String(c.seed, s) % uint64(n/2) }
	texts := []string{}
	for i := 0; len(texts) < 3; i++ {
		s := fmt.Sprintf("a clean text, number %d", i)
		if len(texts) == 0 || slot(s, 4*minCleanTexts) == slot(texts[0], 4*minCleanTexts) &&
			(len(texts) < 2 || slot(s, maxCleanTexts) != slot(texts[0], maxCleanTexts) || slot(s, maxCleanTexts) != slot(texts[1], maxCleanTexts)) {
			texts = append(texts, s)
		}
	}
	for _, s := range texts {
		hold(s)
	}
	if len(c.clean) <= 4*minCleanTexts {
		t.Errorf("three texts of one slot of the first two tables held: a table of %d entries, want more than %d", len(c.clean), 4*minCleanTexts)
	}
	if n := redactedAgain(t, c, texts); n != 0 {
		t.Errorf("three texts of one slot of the first two tables: %d redacted again once held, want 0", n)
	}
}

// redactedAgain passes each of texts through c.redactHashed, failing t if
// one comes back changed, and returns how many of them c redacted again
// (0 once c holds them all).
func redactedAgain(t *testing.T, c *cleanTexts, texts []string) int {
	t.Helper()
	n := 0
	red := func(s string) string { n++; return s }
	for _, s := range texts {
		if got := c.redactHashed(red, s); got != s {
			t.Fatalf("redactHashed(%q) = %q", s, got)
		}
	}
	return n
}
