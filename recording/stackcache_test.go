package recording

import (
	"slices"
	"testing"
)

// captureAt returns the stack captured n frames below a fixed call site.
//
//go:noinline
func captureAt(n int) []uintptr {
	var pcs []uintptr
	stackLevel(n, func() {
		var buf [stackBuf]uintptr
		n := captured(captureStack(buf[:], nil))
		pcs = slices.Clone(buf[:n])
	})
	return pcs
}

func TestStackCache(t *testing.T) {
	sym := newSymbolizer()
	c := newStackCache(maxStackCache)
	var s [3][]uintptr
	for i := range s {
		s[i] = captureAt(3 + i/2*2) // one call site, twice; then another
	}
	a1, a2, b := s[0], s[1], s[2]
	if !slices.Equal(a1, a2) || slices.Equal(a1, b) {
		t.Fatal("captureAt: want equal stacks from one call site, different ones from another")
	}
	for _, tc := range []struct {
		name string
		pcs  []uintptr
		max  int
	}{
		{"a", a1, 16},
		{"a again", a2, 16},
		{"a, fewer frames", a1, 3},
		{"b", b, 16},
		{"no frames kept", a1, 0},
		{"empty stack", nil, 16},
	} {
		got, want := c.frames(sym, tc.pcs, tc.max), sym.frames(tc.pcs, tc.max)
		if !slices.Equal(got, want) {
			t.Errorf("%s: cached %v, uncached %v", tc.name, got, want)
		}
	}
	// A hit returns the frames of the first miss, and they are clipped, so
	// that appending to one record's stack cannot write into another's.
	f1, f2 := c.frames(sym, a1, 16), c.frames(sym, a2, 16)
	if len(f1) == 0 || &f1[0] != &f2[0] {
		t.Fatal("second lookup of the same stack was not a cache hit")
	}
	if cap(f1) != len(f1) {
		t.Fatalf("cached stack has cap %d > len %d", cap(f1), len(f1))
	}
	_ = append(f1, Frame{Function: "appended"})
	if f3 := c.frames(sym, a1, 16); !slices.Equal(f3, sym.frames(a1, 16)) {
		t.Fatalf("append changed the cached stack: %v", f3)
	}
}

func TestStackCacheBounded(t *testing.T) {
	sym := newSymbolizer()
	c := newStackCache(4)
	pcs := captureAt(8)
	for i := 1; i <= len(pcs); i++ {
		if got, want := c.frames(sym, pcs[:i], 16), sym.frames(pcs[:i], 16); !slices.Equal(got, want) {
			t.Fatalf("prefix %d: cached %v, uncached %v", i, got, want)
		}
		if len(c.m) > 4 {
			t.Fatalf("cache holds %d stacks, bound 4", len(c.m))
		}
	}
}
