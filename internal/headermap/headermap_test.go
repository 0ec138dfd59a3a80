package headermap

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/goappstats/appstats/internal/headermap/headermaptest"
)

// onGo126 reports whether this runtime is the release whose layout Small
// reads (small.go's build constraint).
var onGo126 = strings.HasPrefix(runtime.Version(), "go1.26")

// TestKnown checks that the check at init found small maps laid out as
// Small reads them on Go 1.26, so that the read of the group is what the
// callers' tests compare with the map's own look-ups.
func TestKnown(t *testing.T) {
	if onGo126 && !Known {
		t.Fatal("Known is false on go1.26: Small returns nil for every map")
	}
	if !onGo126 && Known {
		t.Fatalf("Known is true on %s, a release whose layout was not checked", runtime.Version())
	}
}

// sameAsMap fails t unless g, the group Small returned for h, holds
// exactly h's entries: each slot in use a name of h with its very values
// (the same backing array, length and capacity), as many as h holds, and
// Used reporting those slots.
func sameAsMap(t *testing.T, what string, h map[string][]string, g *Group) {
	t.Helper()
	n := 0
	var used uint64
	for j := range g.Slots {
		if g.Ctrl>>(8*j)&0x80 != 0 {
			continue
		}
		used |= 0x80 << (8 * j)
		s := &g.Slots[j]
		vs, ok := h[s.Key]
		if !ok || len(vs) != len(s.Vals) || cap(vs) != cap(s.Vals) || unsafe.SliceData(vs) != unsafe.SliceData(s.Vals) {
			t.Fatalf("%s: slot %d holds %q: %q, the map %q (in it: %v)", what, j, s.Key, s.Vals, vs, ok)
		}
		n++
	}
	if n != len(h) {
		t.Fatalf("%s: %d slots in use, the map holds %d names", what, n, len(h))
	}
	if g.Used() != used {
		t.Fatalf("%s: Used %#x, the slots in use %#x", what, g.Used(), used)
	}
	names := map[string]bool{}
	for full := g.Used(); full != 0; full &= full - 1 {
		names[g.Slots[bits.TrailingZeros64(full)>>3].Key] = true
	}
	if len(names) != len(h) {
		t.Fatalf("%s: a walk of Used finds %d names, the map holds %d", what, len(names), len(h))
	}
}

// TestSmall reads random header maps of 0 to 12 names (a table from 9),
// some deleted, some set again, some with several values, some made with
// a size hint, and checks that Small returns nil for a map that is not
// small, and for a small one a group that holds exactly the map's
// entries; on Go 1.26, that it returns one for every map of up to eight
// names that was never made for more nor written with eight names in it
// (which makes it a table, even for a name it holds), and has a group.
func TestSmall(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	read := 0
	for round := range 3000 {
		m := headermaptest.Random(rng, round)
		h, hint, most := m.H, m.Hint, m.Most
		what := fmt.Sprintf("round %d (hint %d, %d names at most with the last write): %v", round, hint, most, h)
		g := Small(h)
		if g == nil {
			if onGo126 && most <= 8 && hint <= 8 && most > 0 {
				t.Fatalf("%s: Small is nil for a small map", what)
			}
			continue
		}
		if len(h) > 8 || most > 8 {
			t.Fatalf("%s: Small read a map written with eight names in it", what)
		}
		sameAsMap(t, what, h, g)
		read++
	}
	if onGo126 && read < 1000 {
		t.Errorf("Small read %d maps of 3000; the test does not exercise it", read)
	}
}

// TestSmallNotSmall checks the maps Small must not read as a group: a nil
// map, a map that grew past eight names (a table, which it stays when
// names are deleted down to one), a map made for more than eight names;
// and the small ones at their edges: eight names, a map emptied by
// delete or clear and filled again.
func TestSmallNotSmall(t *testing.T) {
	if g := Small(nil); g != nil {
		t.Fatalf("Small(nil) = %p, want nil", g)
	}
	if g := Small(http.Header{}); g != nil && g.Used() != 0 {
		t.Fatalf("Small(empty) has slots in use: %#x", g.Used())
	}
	fill := func(h map[string][]string, n int) {
		for i := range n {
			h[fmt.Sprintf("X-Name-%d", i)] = []string{fmt.Sprint(i)}
		}
	}

	h := map[string][]string{}
	fill(h, 8)
	g := Small(h)
	if onGo126 && g == nil {
		t.Fatal("Small is nil for a map of eight names")
	}
	if g != nil {
		sameAsMap(t, "eight names", h, g)
	}

	fill(h, 9) // a ninth name: a table
	if g := Small(h); g != nil {
		t.Fatalf("Small read a map of nine names: %p", g)
	}
	for i := 8; i >= 1; i-- { // shrunk: still a table
		delete(h, fmt.Sprintf("X-Name-%d", i))
		if g := Small(h); g != nil {
			t.Fatalf("Small read a map of %d names that held nine: %p", len(h), g)
		}
		if vs := h["X-Name-0"]; len(vs) != 1 || vs[0] != "0" {
			t.Fatalf("the map's own look-up after the shrink: %q", vs)
		}
	}

	if g := Small(make(map[string][]string, 64)); g != nil && g.Used() != 0 {
		t.Fatalf("Small(make(64)) has slots in use: %#x", g.Used())
	}
	big := make(map[string][]string, 64)
	fill(big, 2)
	if g := Small(big); g != nil {
		t.Fatalf("Small read a map made for 64 names: %p", g)
	}

	small := map[string][]string{}
	fill(small, 5)
	for _, empty := range []func(){
		func() { clear(small) },
		func() {
			for k := range small {
				delete(small, k)
			}
		},
	} {
		empty()
		if g := Small(small); g != nil && g.Used() != 0 {
			t.Fatalf("Small of an emptied map has slots in use: %#x", g.Used())
		}
		fill(small, 3)
		g := Small(small)
		if onGo126 && g == nil {
			t.Fatal("Small is nil for a small map emptied and filled again")
		}
		if g != nil {
			sameAsMap(t, "emptied and filled again", small, g)
		}
	}
}

// TestSmallConcurrentReads checks, under -race, that reads of a map
// through Small beside the map's own reads on other goroutines are not
// reported as a race (reads do not race reads), and that every reader
// sees the map's entries.
func TestSmallConcurrentReads(t *testing.T) {
	h := http.Header{"Accept": {"*/*"}, "User-Agent": {"test"}}
	done := make(chan int)
	for range 4 {
		go func() {
			n := 0
			for range 1000 {
				if g := Small(h); g != nil {
					n += bits.OnesCount64(g.Used())
				}
				n += len(h["Accept"])
			}
			done <- n
		}()
	}
	// Each read saw the map as it is: two names used in its group (where
	// the layout is known) and Accept's one value, a thousand times.
	want := 1000 * len(h["Accept"])
	if Known {
		want += 1000 * len(h)
	}
	for range 4 {
		if n := <-done; n != want {
			t.Errorf("a reader counted %d, want %d", n, want)
		}
	}
}

// TestTable checks that Table reports the maps Small does not read for
// their size: a map grown to nine names, and shrunk (by delete or clear),
// a map made for more than eight, a small map written with eight names in
// it; and not a nil, empty or small map.
func TestTable(t *testing.T) {
	fill := func(h map[string][]string, n int) map[string][]string {
		for i := range n {
			h[fmt.Sprintf("X-Name-%d", i)] = []string{fmt.Sprint(i)}
		}
		return h
	}
	full := fill(map[string][]string{}, 8)
	written := fill(map[string][]string{}, 8)
	written["X-Name-0"] = []string{"again"}
	grown := fill(map[string][]string{}, 9)
	cleared := fill(map[string][]string{}, 12)
	clear(cleared)
	shrunk := fill(map[string][]string{}, 9)
	for i := 1; i < 9; i++ {
		delete(shrunk, fmt.Sprintf("X-Name-%d", i))
	}
	for _, c := range []struct {
		name  string
		h     map[string][]string
		table bool
	}{
		{"nil", nil, false},
		{"empty", map[string][]string{}, false},
		{"two names", fill(map[string][]string{}, 2), false},
		{"eight names", full, false},
		{"made for eight", make(map[string][]string, 8), false},
		{"eight names, one written again", written, true},
		{"nine names", grown, true},
		{"twelve names, cleared", cleared, true},
		{"nine names, shrunk to one", shrunk, true},
		{"made for 64", make(map[string][]string, 64), true},
	} {
		want := c.table && Known
		if got := Table(c.h); got != want {
			t.Errorf("%s: Table = %v, want %v", c.name, got, want)
		}
		if Table(c.h) && Small(c.h) != nil {
			t.Errorf("%s: Table, and Small reads it", c.name)
		}
		if onGo126 && !c.table && c.h != nil && len(c.h) > 0 && Small(c.h) == nil {
			t.Errorf("%s: not a table, and Small does not read it", c.name)
		}
	}
}
