package sketch_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/internal/sketch"
)

func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func within(got, want time.Duration) bool {
	diff := float64(got - want)
	if diff < 0 {
		diff = -diff
	}
	return diff <= sketch.RelativeError*float64(want)+1
}

func TestSketchQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name string
		gen  func() time.Duration
		n    int
	}{
		{"single", func() time.Duration { return 42 * time.Millisecond }, 1},
		{"uniform", func() time.Duration { return time.Duration(rng.Int64N(int64(time.Second))) }, 10000},
		{"lognormal", func() time.Duration {
			return time.Duration(float64(time.Millisecond) * (1 + 100*rng.ExpFloat64()))
		}, 50000},
		{"with zeros", func() time.Duration { return time.Duration(rng.Int64N(3)) * time.Microsecond }, 1000},
		{"wide", func() time.Duration { return time.Duration(1 << rng.IntN(40)) }, 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s sketch.Sketch
			durs := make([]time.Duration, tt.n)
			for i := range durs {
				durs[i] = tt.gen()
				s.Add(durs[i])
			}
			slices.Sort(durs)
			if s.Count() != uint64(tt.n) || s.Min() != durs[0] || s.Max() != durs[len(durs)-1] {
				t.Fatalf("count/min/max = %d/%v/%v, want %d/%v/%v", s.Count(), s.Min(), s.Max(), tt.n, durs[0], durs[len(durs)-1])
			}
			for _, q := range []float64{0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1} {
				if got, want := s.Quantile(q), exactQuantile(durs, q); !within(got, want) {
					t.Errorf("Quantile(%v) = %v, want %v ±1%%", q, got, want)
				}
			}
		})
	}
}

func TestSketchMergeAndEncoding(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var a, b, all sketch.Sketch
	for i := range 20000 {
		d := time.Duration(rng.Int64N(int64(10 * time.Second)))
		if i%2 == 0 {
			a.Add(d)
		} else {
			b.Add(d)
		}
		all.Add(d)
	}
	a.Merge(&b)
	enc, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := all.MarshalBinary()
	if string(enc) != string(want) {
		t.Fatal("merged sketch encodes differently from the sketch of all values")
	}
	var c sketch.Sketch
	if err := c.UnmarshalBinary(enc); err != nil {
		t.Fatal(err)
	}
	if c.Latency() != all.Latency() || c.Count() != all.Count() {
		t.Fatalf("decoded %v/%d, want %v/%d", c.Latency(), c.Count(), all.Latency(), all.Count())
	}
	t.Logf("20000 durations over 10s: %d bytes", len(enc))
	for i := range enc {
		if err := c.UnmarshalBinary(enc[:i]); !errors.Is(err, store.ErrCorrupt) {
			t.Fatalf("truncated at %d: err = %v, want ErrCorrupt", i, err)
		}
	}
}

func FuzzSketchDecode(f *testing.F) {
	var s sketch.Sketch
	for _, d := range []time.Duration{0, 1, time.Millisecond, time.Hour} {
		s.Add(d)
	}
	enc, _ := s.MarshalBinary()
	f.Add(enc)
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var s sketch.Sketch
		if err := s.UnmarshalBinary(b); err != nil {
			return
		}
		s.Latency()
		re, _ := s.MarshalBinary()
		var s2 sketch.Sketch
		if err := s2.UnmarshalBinary(re); err != nil || s2.Latency() != s.Latency() {
			t.Fatalf("re-encoding does not round trip: %v", err)
		}
	})
}

func ExampleSketch() {
	var s sketch.Sketch
	for i := 1; i <= 100; i++ {
		s.Add(time.Duration(i) * time.Millisecond)
	}
	l := s.Latency()
	fmt.Println(s.Count(), l.P50.Round(time.Millisecond), l.P99.Round(time.Millisecond))
	// Output: 100 50ms 99ms
}

// TestSketchAddBucket: counting a duration through its bucket, in two
// sketches, n at a time, gives each what n Adds do, byte for byte.
func TestSketchAddBucket(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var want, a, b sketch.Sketch
	for i := range 2000 {
		d := time.Duration(rng.ExpFloat64() * float64(time.Millisecond))
		switch i % 50 {
		case 0:
			d = 0
		case 1:
			d = -time.Microsecond
		case 2:
			d = time.Hour
		}
		n := uint64(i % 3) // 0 counts nothing
		for range n {
			want.Add(d)
		}
		bk := sketch.BucketOf(d)
		a.AddBucket(bk, n)
		b.AddBucket(bk, n)
	}
	w, _ := want.MarshalBinary()
	for _, s := range []*sketch.Sketch{&a, &b} {
		if got, _ := s.MarshalBinary(); !slices.Equal(got, w) || s.Count() != want.Count() || s.Min() != want.Min() || s.Max() != want.Max() {
			t.Fatalf("AddBucket: %d durations, min %v, max %v; Add: %d, %v, %v", s.Count(), s.Min(), s.Max(), want.Count(), want.Min(), want.Max())
		}
	}
	if want.Count() == 0 || want.Min() >= 0 {
		t.Fatalf("the test added %d durations, the least %v", want.Count(), want.Min())
	}
}

// TestSketchReserve counts durations in a sketch that reserved a span
// and in one that did not: the same encoding, quantiles, count, minimum
// and maximum; Span gives the buckets counted in, not the reserved
// zeros; Reserve leaves a sketch with counts, and an invalid span, alone.
func TestSketchReserve(t *testing.T) {
	var plain, reserved sketch.Sketch
	if _, _, ok := plain.Span(); ok {
		t.Error("Span of an empty sketch")
	}
	lo := sketch.BucketOf(50 * time.Microsecond)
	hi := sketch.BucketOf(20 * time.Millisecond)
	var probe sketch.Sketch
	probe.AddBucket(lo, 1)
	probe.AddBucket(hi, 1)
	l, h, ok := probe.Span()
	if !ok || l >= h {
		t.Fatalf("Span %d, %d, %v", l, h, ok)
	}
	reserved.Reserve(l-5, h+5)
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		d := time.Duration(r.Int64N(int64(40*time.Millisecond))) - time.Millisecond // some <= 0, some past the span
		plain.Add(d)
		reserved.Add(d)
	}
	a, err := plain.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := reserved.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a, b) {
		t.Errorf("reserved sketch encodes %d bytes, unreserved %d, not the same", len(b), len(a))
	}
	for _, q := range []float64{0, 0.01, 0.5, 0.9, 0.99, 1} {
		if g, w := reserved.Quantile(q), plain.Quantile(q); g != w {
			t.Errorf("q%v: %v, want %v", q, g, w)
		}
	}
	if reserved.Count() != plain.Count() || reserved.Min() != plain.Min() || reserved.Max() != plain.Max() {
		t.Error("count, minimum or maximum differ")
	}
	pl, ph, _ := plain.Span()
	if rl, rh, _ := reserved.Span(); rl != pl || rh != ph {
		t.Errorf("reserved Span %d..%d, want %d..%d", rl, rh, pl, ph)
	}
	// Counts already, or a span out of bounds: nothing reserved.
	before, _ := plain.AppendBinary(nil)
	plain.Reserve(0, 100)
	after, _ := plain.AppendBinary(nil)
	if !slices.Equal(before, after) {
		t.Error("Reserve changed a sketch with counts")
	}
	var bad sketch.Sketch
	bad.Reserve(-1, 10)
	bad.Reserve(10, 5)
	bad.Reserve(1<<20, 1<<21) // past the highest index
	if _, _, ok := bad.Span(); ok {
		t.Error("Span after invalid reservations")
	}
	bad.Add(time.Millisecond)
	var one sketch.Sketch
	one.Add(time.Millisecond)
	x, _ := bad.AppendBinary(nil)
	y, _ := one.AppendBinary(nil)
	if !slices.Equal(x, y) {
		t.Error("a sketch after invalid reservations encodes otherwise")
	}
}
