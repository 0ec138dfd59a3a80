package badgerstore

import (
	"testing"

	"github.com/goappstats/appstats/recording"
)

// TestClosedRefs: the refs of records whose block is closed are taken by
// ID, in the order they were added or not (a record given twice takes
// its earlier version's out of turn), each once; an ID never added, or
// taken already, is not found; what is left is the refs not taken, in
// their order; and a ref added after every earlier one was taken is
// found as well.
func TestClosedRefs(t *testing.T) {
	id := func(i byte) recording.ID { return recording.ID{0: i, 15: i} }
	rec := func(i byte) closedRef { return closedRef{rf: ref{off: int(i)}, start: int64(i), id: id(i)} }
	var c closedRefs
	for i := range byte(6) {
		c.add(rec(i))
	}
	take := func(i byte, want bool) {
		t.Helper()
		got, ok := c.take(id(i))
		if ok != want || ok && got != rec(i) {
			t.Fatalf("take(%d) = %+v, %v; want found %v", i, got, ok, want)
		}
	}
	take(0, true)
	take(0, false) // taken already
	take(3, true)  // out of turn
	take(9, false) // never added
	take(1, true)
	take(3, false)
	left := c.left()
	if len(left) != 3 || left[0] != rec(2) || left[1] != rec(4) || left[2] != rec(5) {
		t.Fatalf("left = %+v, want the refs of 2, 4, 5", left)
	}
	if left := c.left(); len(left) != 0 {
		t.Fatalf("left again = %+v, want none", left)
	}
	take(2, false)
	// Every ref taken, in turn and out of it, then more added.
	c.add(rec(7))
	c.add(rec(8))
	take(8, true)
	take(7, true)
	c.add(rec(10))
	take(10, true)
	if left := c.left(); len(left) != 0 {
		t.Fatalf("left = %+v, want none", left)
	}
}
