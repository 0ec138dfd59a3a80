package badgerstore

import (
	"fmt"
	"testing"
	"time"

	"github.com/goappstats/appstats/store"
)

func TestBudgetKeep(t *testing.T) {
	b := newBudget(3, 2)
	sec := int64(time.Second)
	type rec struct {
		route  string
		start  int64
		d      time.Duration
		failed bool
		want   bool
	}
	for i, r := range []rec{
		{"a", 0, 5, false, true},           // within budget
		{"a", 1, 9, false, true},           // within budget
		{"a", 2, 1, false, true},           // within budget (3)
		{"a", 3, 4, false, false},          // over, not the slowest
		{"a", 4, 9, false, false},          // over, as slow as the slowest
		{"a", 5, 10, false, true},          // over, the slowest so far
		{"a", 6, 1, true, true},            // over, failed
		{"b", 7, 1, false, true},           // another route
		{"a", sec, 1, false, true},         // the next second
		{"c", 8, 1, false, true},           // a third route: Other's budget
		{"d", 9, 1, false, true},           // Other's budget
		{"e", 10, 1, false, true},          // Other's budget (3)
		{store.Other, 11, 1, false, false}, // Other is over
		{"f", 12, 2, false, true},          // over, but Other's slowest
		{"a", -1, 1, false, true},          // a second before 1970 is its own
	} {
		if got := b.keep(r.route, r.start, r.d, r.failed); got != r.want {
			t.Errorf("record %d (%s at %d, %v, failed %v): keep = %v, want %v", i, r.route, r.start, r.d, r.failed, got, r.want)
		}
	}
	if len(b.slots) != 2 {
		t.Errorf("%d route slots, want at most 2", len(b.slots))
	}
	// A minute later the idle slots make room for new routes.
	if !b.keep("g", 70*sec, 1, false) || b.slots["g"] == nil {
		t.Errorf("route g has no slot of its own after the others went idle: %v", b.slots)
	}
	// Unbudgeted: every record.
	all := newBudget(-1, 2)
	for i := range 100 {
		if !all.keep("a", 0, 1, false) {
			t.Fatalf("record %d not kept without a budget", i)
		}
	}
}

// TestBudgetNoAlloc checks that deciding costs no allocation once every
// route has its slot.
func TestBudgetNoAlloc(t *testing.T) {
	b := newBudget(20, 500)
	routes := make([]string, 50)
	for i := range routes {
		routes[i] = fmt.Sprintf("GET /r%d", i)
		b.keep(routes[i], 0, 1, false)
	}
	n := 0
	allocs := testing.AllocsPerRun(100, func() {
		for _, r := range routes {
			b.keep(r, int64(n)*int64(time.Millisecond), time.Duration(n%7), false)
		}
		n++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per 50 decisions", allocs)
	}
}

// TestBudgetUncappedSweeps checks that a budget with no cap on routes
// (MaxKeys negative) still forgets idle routes: routes without end do not
// grow its map without end.
func TestBudgetUncappedSweeps(t *testing.T) {
	b := newBudget(20, -1)
	for i := range 5000 {
		b.keep(fmt.Sprintf("GET /r%d", i), 0, time.Millisecond, false)
	}
	if len(b.slots) != 5000 {
		t.Fatalf("%d slots after 5000 routes, want 5000 (none idle yet)", len(b.slots))
	}
	// Two minutes later, new routes: the idle ones are swept.
	for i := range 5000 {
		b.keep(fmt.Sprintf("GET /s%d", i), int64(120*time.Second), time.Millisecond, false)
	}
	if n := len(b.slots); n > 5000 {
		t.Errorf("%d slots after 10000 routes, the first 5000 idle for two minutes; want at most 5000", n)
	}
}

// TestBudgetForgetsLastRoute checks that the slot a budget found last by
// its route's address is forgotten with the others: by reset, and by a
// sweep, after which the route counts afresh in a slot of the map. And
// that a route found by its address is not taken for another one in the
// same memory.
func TestBudgetForgetsLastRoute(t *testing.T) {
	sec := int64(time.Second)
	b := newBudget(1, 0)
	if !b.keep("/a", 0, 1, false) || b.keep("/a", 1, 1, false) {
		t.Fatal("route /a: budget of one not applied")
	}
	b.reset()
	if !b.keep("/a", 2, 1, false) {
		t.Error("route /a over budget after reset, in the slot it had before")
	}

	b = newBudget(1, 1)
	if !b.keep("/a", 0, 1, false) {
		t.Fatal("route /a: first record not kept")
	}
	// A minute later route /b sweeps /a's idle slot and takes its place;
	// /a, come back, finds no room (one route with a slot at most) and
	// goes to Other's slot, not to the slot swept.
	if !b.keep("/b", 70*sec, 1, false) || b.slots["/b"] == nil || b.slots["/a"] != nil {
		t.Fatalf("after the sweep: slots %v", b.slots)
	}
	if !b.keep("/a", 70*sec, 1, false) || b.keep(store.Other, 70*sec, 1, false) {
		t.Error("route /a, after its slot was swept, not counted in Other's slot")
	}

	routes := "/x/y"
	b = newBudget(1, 0)
	if !b.keep(routes, 0, 1, false) || !b.keep(routes[:2], 0, 1, false) {
		t.Error("a route that is the start of the last one counted in its slot")
	}
}
