package sketch

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestSketchIndexIsLogIndex checks that the bucket index read from the
// tables (sketchIndex) is the one the logarithm gives (logIndex), which
// the sketches stored hold: at every index's least duration and the
// durations beside it, every duration under 2^17 ns, and a million
// durations drawn over every bit length.
func TestSketchIndexIsLogIndex(t *testing.T) {
	check := func(d time.Duration) {
		t.Helper()
		if got, want := sketchIndex(d), logIndex(d); got != want {
			t.Fatalf("sketchIndex(%d) = %d, logIndex %d", d, got, want)
		}
	}
	tab := bucketTables()
	top := logIndex(math.MaxInt64)
	for i := 1; i <= top; i++ {
		m := int64(tab.min[i])
		if m <= 0 || logIndex(time.Duration(m)) < i || m > 1 && logIndex(time.Duration(m-1)) >= i {
			t.Fatalf("min[%d] = %d: logIndex %d, of the one before %d", i, m, logIndex(time.Duration(m)), logIndex(time.Duration(m-1)))
		}
		for k := int64(-2); k <= 2; k++ {
			if d := m + k; d > 0 {
				check(time.Duration(d))
			}
		}
	}
	if tab.min[top+1] != noMin {
		t.Fatalf("min[%d] = %d past the largest duration's index %d", top+1, tab.min[top+1], top)
	}
	for d := time.Duration(1); d < 1<<17; d++ {
		check(d)
	}
	check(math.MaxInt64)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1_000_000 {
		l := 1 + rng.IntN(63)
		check(time.Duration(1<<(l-1) | rng.Int64N(1<<(l-1))))
	}
}

// TestBucketOfNotPositive: durations of 0 and less count in no bucket's
// index (zero, as before the tables).
func TestBucketOfNotPositive(t *testing.T) {
	for _, d := range []time.Duration{0, -1, math.MinInt64} {
		if b := BucketOf(d); b.i != 0 || b.d != d {
			t.Errorf("BucketOf(%d) = %+v", d, b)
		}
	}
}
