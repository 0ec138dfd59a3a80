package badgerstore

import (
	"math"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/internal/sketch"
)

// TestWriteReservesWideDeltaSpan writes a batch of records over budget
// whose latencies span ~400 sketch buckets (2 µs to 6 ms, as a loaded
// hello handler's do): a span that a quarter's margin on either side
// would take past what a rollup reserves (512 buckets), so that the next
// Write's deltas would reserve nothing and grow their sketches record by
// record. The store keeps a span for the next Write that covers the
// batch's and that a rollup reserves.
func TestWriteReservesWideDeltaSpan(t *testing.T) {
	s, err := Open(t.TempDir(), Options{RecordBudget: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now().Add(-10 * time.Minute).Truncate(time.Minute)
	var recs []*recording.Record
	for i := range 128 {
		// Geometric from 2 µs to 6 ms.
		d := time.Duration(2000 * math.Pow(3000, float64(i)/127))
		recs = append(recs, withID(&recording.Record{Kind: recording.KindHTTP, Duration: d,
			Method: "GET", Path: "/hello", Route: "GET /hello", Status: 200, Instance: "t/1"},
			start.Add(time.Duration(i)*time.Microsecond), uint64(i)))
	}
	lo, hi := sketch.BucketOf(recs[0].Duration), sketch.BucketOf(recs[127].Duration)
	if err := s.Write(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	s.budget.mu.Lock()
	span, has := s.deltaSpan, s.hasSpan
	s.budget.mu.Unlock()
	wlo, whi := bucketIndex(lo), bucketIndex(hi)
	if whi-wlo < 341 || whi-wlo >= 512 {
		t.Fatalf("the records span buckets %d..%d, want 341 to 511 of them", wlo, whi)
	}
	if !has || span.lo > wlo || span.hi < whi || span.hi-span.lo >= 512 {
		t.Errorf("after a Write: span %d..%d (set %v), want one covering %d..%d within 512 buckets", span.lo, span.hi, has, wlo, whi)
	}
}

// bucketIndex returns b's bucket index, through a sketch counting it.
func bucketIndex(b sketch.Bucket) int {
	var s sketch.Sketch
	s.AddBucket(b, 1)
	lo, _, _ := s.Span()
	return lo
}
