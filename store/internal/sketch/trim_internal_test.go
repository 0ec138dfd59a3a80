package sketch

import (
	"bytes"
	"testing"
	"time"
)

// TestTrim reserves sketches a span wider than the durations they count,
// trims them, and checks that their counts then cover exactly the buckets
// counted in, and that the encoding, the quantiles, a merge into another
// sketch, and durations added after the trim (inside and outside the old
// span) give what an untrimmed sketch gives.
func TestTrim(t *testing.T) {
	lo, hi := sketchIndex(10*time.Microsecond), sketchIndex(100*time.Millisecond)
	durs := []time.Duration{300 * time.Microsecond, 450 * time.Microsecond, 2 * time.Millisecond, 0, -time.Millisecond}
	for _, later := range [][]time.Duration{nil, {time.Millisecond}, {time.Nanosecond, time.Hour}} {
		trimmed, plain := trimmedAndPlain(lo, hi, durs)
		if l, h, _ := trimmed.Span(); trimmed.offset != l || len(trimmed.counts) != h-l+1 {
			t.Errorf("trimmed: %d counts from %d; want %d from %d (the span counted in)", len(trimmed.counts), trimmed.offset, h-l+1, l)
		}
		for _, d := range later {
			trimmed.Add(d)
			plain.Add(d)
		}
		sameSketch(t, &trimmed, &plain)
		var a, b Sketch
		a.Add(5 * time.Millisecond)
		b.Add(5 * time.Millisecond)
		a.Merge(&trimmed)
		b.Merge(&plain)
		sameSketch(t, &a, &b)
	}
}

// TestTrimEmpty trims a reserved sketch that counted nothing, and one that
// counted only durations <= 0: no counts are left, and both still count.
func TestTrimEmpty(t *testing.T) {
	lo, hi := sketchIndex(time.Millisecond), sketchIndex(time.Second)
	for _, durs := range [][]time.Duration{nil, {0, -time.Second}} {
		s, plain := trimmedAndPlain(lo, hi, durs)
		if len(s.counts) != 0 {
			t.Errorf("%v: %d counts after Trim; want none", durs, len(s.counts))
		}
		s.Add(3 * time.Millisecond)
		plain.Add(3 * time.Millisecond)
		sameSketch(t, &s, &plain)
	}
}

// trimmedAndPlain counts durs in a sketch reserved lo..hi, then trimmed,
// and in a sketch neither reserved nor trimmed.
func trimmedAndPlain(lo, hi int, durs []time.Duration) (trimmed, plain Sketch) {
	trimmed.Reserve(lo, hi)
	for _, d := range durs {
		trimmed.Add(d)
		plain.Add(d)
	}
	trimmed.Trim()
	return trimmed, plain
}

func sameSketch(t *testing.T, got, want *Sketch) {
	t.Helper()
	g, _ := got.AppendBinary(nil)
	w, _ := want.AppendBinary(nil)
	if !bytes.Equal(g, w) {
		t.Errorf("encoding % x; want % x", g, w)
	}
	for _, q := range []float64{0, 0.25, 0.5, 0.9, 0.99, 1} {
		if a, b := got.Quantile(q), want.Quantile(q); a != b {
			t.Errorf("Quantile(%v) %v; want %v", q, a, b)
		}
	}
}
