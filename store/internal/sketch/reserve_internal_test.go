package sketch

import (
	"testing"
	"time"
	"unsafe"
)

// TestReserveKeepsCounts reserves a sketch the span of two durations and
// counts durations within it: the counts array is the reserved one
// throughout, and Span gives the buckets counted in, not the zeros
// around them.
func TestReserveKeepsCounts(t *testing.T) {
	lo, hi := sketchIndex(100*time.Microsecond), sketchIndex(10*time.Millisecond)
	var s Sketch
	s.Reserve(lo, hi)
	if len(s.counts) != hi-lo+1 || s.offset != lo {
		t.Fatalf("reserved %d buckets from %d, want %d from %d", len(s.counts), s.offset, hi-lo+1, lo)
	}
	p := unsafe.SliceData(s.counts)
	for d := 100 * time.Microsecond; d <= 10*time.Millisecond; d += 37 * time.Microsecond {
		s.Add(d)
	}
	if unsafe.SliceData(s.counts) != p || len(s.counts) != hi-lo+1 {
		t.Error("counts grew for durations within the reserved span")
	}
	var one Sketch
	one.Reserve(lo-10, hi+10)
	one.Add(time.Millisecond)
	if l, h, ok := one.Span(); !ok || l != sketchIndex(time.Millisecond) || h != l {
		t.Errorf("Span %d..%d (%v), want the one bucket %d", l, h, ok, sketchIndex(time.Millisecond))
	}
}

// TestReserveCut cuts a span past the highest index there, and reserves
// nothing for one wholly past it.
func TestReserveCut(t *testing.T) {
	var s Sketch
	s.Reserve(sketchMaxIndex-10, sketchMaxIndex+100)
	if s.offset != sketchMaxIndex-10 || len(s.counts) != 11 {
		t.Errorf("reserved %d buckets from %d, want 11 from %d", len(s.counts), s.offset, sketchMaxIndex-10)
	}
	var past Sketch
	past.Reserve(sketchMaxIndex+1, sketchMaxIndex+5)
	if len(past.counts) != 0 {
		t.Errorf("reserved %d buckets past the highest index", len(past.counts))
	}
}
