package sketch

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestMergeEveryCount checks that Merge adds every count of the sketch
// merged, whatever its place: a delta's counts are passed over eight at
// a time where all eight are zero, and the rest one by one. Each case
// merges a sketch of durations (dense; one bucket in 2 to 17; runs of
// zero counts of every length up to 17 between counts; a delta's
// exponential durations, trimmed or not) into one whose counts start
// below, at or above its own and end anywhere, and compares the counts
// with those of a sketch that counted every duration of both itself
// (the merged sketch's as each bucket's least duration, its count times).
func TestMergeEveryCount(t *testing.T) {
	rng := rand.New(rand.NewPCG(44, 1))
	// durs returns n durations whose buckets are every step-th from
	// index lo on (step 1: every bucket).
	durs := func(lo, n, step int) []time.Duration {
		var out []time.Duration
		for i := 0; i < n; i++ {
			out = append(out, time.Duration(leastWithIndex(lo+i*step)))
		}
		return out
	}
	for c := 0; c < 400; c++ {
		lo := 200 + rng.IntN(400)
		var src []time.Duration
		switch c % 4 {
		case 0: // dense
			src = durs(lo, 1+rng.IntN(70), 1)
		case 1: // one bucket in step
			src = durs(lo, 1+rng.IntN(20), 2+rng.IntN(16))
		case 2: // a run of zero counts of every length between counts
			for gap, i := 0, lo; gap <= 17; gap++ {
				src = append(src, time.Duration(leastWithIndex(i)))
				i += gap + 1
			}
		case 3: // a delta's: random durations around 50 µs
			for range 1 + rng.IntN(300) {
				src = append(src, time.Duration(rng.ExpFloat64()*float64(50*time.Microsecond))+1)
			}
		}
		dst := durs(lo-50+rng.IntN(100), rng.IntN(40), 1+rng.IntN(3))
		var a, b, want Sketch
		for _, d := range dst {
			a.Add(d)
			want.Add(d)
		}
		for _, d := range src {
			b.AddN(d, uint64(1+rng.IntN(3)))
		}
		// want counts src's durations as b does: by the same buckets,
		// n times each, one at a time.
		for i := range b.counts {
			for range b.counts[i] {
				want.Add(time.Duration(leastWithIndex(b.offset + i)))
			}
		}
		if c%3 == 0 {
			b.Trim() // its counts as a delta's, trimmed
		}
		a.Merge(&b)
		if a.n != want.n {
			t.Fatalf("case %d: merged n %d, want %d", c, a.n, want.n)
		}
		// Compare by bucket index: the two may differ in the zero
		// counts at their ends.
		at := func(s *Sketch, i int) uint64 {
			if j := i - s.offset; j >= 0 && j < len(s.counts) {
				return s.counts[j]
			}
			return 0
		}
		first, last := min(a.offset, want.offset), max(a.offset+len(a.counts), want.offset+len(want.counts))
		for i := first; i < last; i++ {
			if g, w := at(&a, i), at(&want, i); g != w {
				t.Fatalf("case %d (kind %d): bucket %d holds %d after the merge, want %d (counts merged %v from %d)",
					c, c%4, i, g, w, slices.Clip(b.counts), b.offset)
			}
		}
	}
}
