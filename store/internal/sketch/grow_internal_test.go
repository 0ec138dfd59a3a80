package sketch

import (
	"testing"
	"time"
	"unsafe"
)

// TestAddDescendingGrowsLogarithmically counts durations one at a time,
// each smaller than the last, over a thousand buckets (a write's delta
// whose first durations reach further and further down): the counts are
// copied into a new array a logarithmic number of times, not once per
// new smallest duration, and the sketch encodes and answers as one built
// from the same durations in ascending order.
func TestAddDescendingGrowsLogarithmically(t *testing.T) {
	var desc, asc Sketch
	var ds []time.Duration
	for d := time.Duration(1 << 40); d > 1000; d = d * 49 / 50 {
		ds = append(ds, d)
	}
	arrays := 0
	var last *uint64
	for _, d := range ds {
		desc.Add(d)
		if p := unsafe.SliceData(desc.counts); p != last {
			arrays, last = arrays+1, p
		}
	}
	for i := len(ds) - 1; i >= 0; i-- {
		asc.Add(ds[i])
	}
	if lo, hi, _ := desc.Span(); hi-lo < 900 {
		t.Fatalf("span %d buckets, want over 900", hi-lo+1)
	}
	if arrays > 16 {
		t.Errorf("%d arrays made for %d descending durations, want at most 16", arrays, len(ds))
	}
	a, _ := desc.AppendBinary(nil)
	b, _ := asc.AppendBinary(nil)
	if string(a) != string(b) {
		t.Errorf("descending encodes %x, ascending %x", a, b)
	}
	for _, q := range []float64{0, 0.01, 0.5, 0.99, 1} {
		if x, y := desc.Quantile(q), asc.Quantile(q); x != y {
			t.Errorf("quantile %v: descending %v, ascending %v", q, x, y)
		}
	}
	desc.Trim()
	if lo, hi, _ := desc.Span(); desc.offset != lo || len(desc.counts) != hi-lo+1 {
		t.Errorf("trimmed: counts %d from %d, want %d from %d", len(desc.counts), desc.offset, hi-lo+1, lo)
	}
}
