package recording

import (
	"slices"
	"testing"
)

// captureVia calls captureStack, from one place for every capture of a test.
//
//go:noinline
func captureVia(buf, prev []uintptr) ([]uintptr, bool) { return captureStack(buf, prev) }

// captured returns how many PCs captureStack captured.
func captured(pcs []uintptr, _ bool) int { return len(pcs) }

// TestCaptureStackSame checks whether captureStack finds the stack the same
// against slices.Equal, for every buffer size and a previous stack that is the
// same, none, longer, shorter, longer than the buffer, or different in any
// one PC, and what it returns: prev itself for the same stack, else the
// PCs stored in buf (those that matched prev's, before one that differs,
// are copied from prev).
func TestCaptureStackSame(t *testing.T) {
	type capture struct {
		size int
		prev []uintptr
	}
	stackLevel(7, func() {
		var all []uintptr
		cases := []capture{{size: stackBuf}}
		for i := 0; i < len(cases); i++ {
			c := cases[i]
			buf := make([]uintptr, c.size)
			got, fresh := captureVia(buf, c.prev) // every capture from this line: the same stack
			n, same := len(got), !fresh
			if i == 0 {
				all = got
				if len(all) < 10 || len(all) >= stackBuf {
					t.Fatalf("%d frames in all", len(all))
				}
				for size := range stackBuf + 1 {
					want := all[:min(size, len(all))]
					prevs := [][]uintptr{nil, slices.Clone(want), append(slices.Clone(want), 1), all, append(slices.Clone(all), 1)}
					if len(want) > 0 {
						prevs = append(prevs, slices.Clone(want[:len(want)-1]))
					}
					for j := range want {
						p := slices.Clone(want)
						p[j]++
						prevs = append(prevs, p)
					}
					for _, p := range prevs {
						cases = append(cases, capture{size, p})
					}
				}
				continue
			}
			want := all[:min(c.size, len(all))]
			if n != len(want) {
				t.Fatalf("buffer of %d, prev %x: %d PCs, want %d", c.size, c.prev, n, len(want))
			}
			if wantSame := slices.Equal(want, c.prev); same != wantSame {
				t.Fatalf("buffer of %d, prev %x: same %v, want %v", c.size, c.prev, same, wantSame)
			}
			switch {
			case same && n > 0 && (&got[0] != &c.prev[0] || cap(got) != cap(c.prev)):
				t.Fatalf("buffer of %d, prev %x: the same stack, not returned as prev", c.size, c.prev)
			case !same && n > 0 && (&got[0] != &buf[0] || cap(got) != n):
				t.Fatalf("buffer of %d, prev %x: a new stack, not returned as buf[:n:n]", c.size, c.prev)
			case !same && !slices.Equal(got, want): // the same stack may be left unwritten in buf: the caller keeps prev
				t.Fatalf("buffer of %d, prev %x: %x, want %x", c.size, c.prev, got, want)
			}
		}
		if len(cases) < 300 {
			t.Fatalf("%d cases", len(cases))
		}
	})
}
