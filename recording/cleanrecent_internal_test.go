package recording

import "testing"

// TestRecentTextsMeet checks that two clean texts whose addresses give
// them the same place in the writer's cache by address (cleanTexts.recent)
// are both held after each was seen: a record's route and a call's method
// that meet so (which the layout of a binary decides) are each found by
// their address record after record, rather than each taking the other's
// place.
func TestRecentTextsMeet(t *testing.T) {
	red := DefaultRedaction()
	rules := red.compiled()
	c := newCleanTexts()
	// Two texts of one length 4,096 bytes apart: a multiple of 8 bytes
	// times the cache's entries, the same place.
	s := "GET (unmatched 2xx)" + string(make([]byte, 4096-19)) + "GET (unmatched 4xx)"
	a, b := s[:19], s[4096:]
	for range 3 {
		for _, s := range []string{a, b} {
			if got := c.text(rules, s); got != s {
				t.Fatalf("text(%q) = %q", s, got)
			}
		}
		_, okA := c.recentSlot(a)
		_, okB := c.recentSlot(b)
		if !okA || !okB {
			t.Errorf("after %q and %q: held by address %v and %v, want both", a, b, okA, okB)
		}
	}
}
