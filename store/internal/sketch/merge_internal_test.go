package sketch

import (
	"maps"
	"slices"
	"testing"
	"time"
)

// TestMergeAddsEveryCount merges sketches of sparse and dense counts, at
// every offset from the destination's and every length around a
// multiple of eight (Merge passes over zero counts eight at a time): the
// counts are those added a count at a time, and the totals the sum.
func TestMergeAddsEveryCount(t *testing.T) {
	var rng uint64 = 3
	next := func() uint64 {
		rng = rng*6364136223846793005 + 1442695040888963407
		return rng >> 33
	}
	for iter := range 3000 {
		var dst, src Sketch
		dlo, slo := 50+iter%13, 40+int(next()%40)
		dst.Reserve(dlo, dlo+int(next()%60))
		for range next() % 20 {
			i := dlo + int(next()%70)
			dst.AddBucket(Bucket{d: time.Duration(i + 1), i: i}, 1+next()%5)
		}
		n := 1 + int(next()%40)
		dense := iter%3 == 0
		for k := range n {
			if dense || next()%9 == 0 {
				i := slo + k
				src.AddBucket(Bucket{d: time.Duration(i + 1), i: i}, 1+next()%1000)
			}
		}
		// The counts a count at a time would give.
		want := make(map[int]uint64)
		for j, c := range dst.counts {
			want[dst.offset+j] += c
		}
		for j, c := range src.counts {
			want[src.offset+j] += c
		}
		n0 := dst.Count() + src.Count()
		dst.Merge(&src)
		got := make(map[int]uint64)
		for j, c := range dst.counts {
			if c != 0 {
				got[dst.offset+j] = c
			}
		}
		for k, c := range want {
			if c == 0 {
				delete(want, k)
			}
		}
		if len(got) != len(want) || dst.Count() != n0 {
			t.Fatalf("merge %d: %d counts (n %d), want %d (n %d)", iter, len(got), dst.Count(), len(want), n0)
		}
		for _, k := range slices.Sorted(maps.Keys(want)) {
			if got[k] != want[k] {
				t.Fatalf("merge %d: index %d counts %d, want %d", iter, k, got[k], want[k])
			}
		}
	}
}
