package badgerstore

import (
	"testing"
	"time"

	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/internal/codec"
	"github.com/goappstats/appstats/store/storetest"
)

// TestWriteReservesDeltaSpan writes two batches of records: after the
// first, the store holds the span of sketch buckets its delta counted
// requests in, widened, for the next Write's deltas to reserve; the
// second batch's requests are all counted, with the latencies of a
// rollup made without reservation.
func TestWriteReservesDeltaSpan(t *testing.T) {
	ctx := t.Context()
	s, err := Open(t.TempDir(), Options{RecordBudget: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now().Add(-10 * time.Minute).Truncate(time.Minute)
	recs := storetest.Records(3, start, time.Millisecond, 400)
	want := codec.NewRollup()
	for _, r := range recs[:200] {
		sum := r.Summary()
		want.AddCounted(&sum, codec.CallDurations(r, &sum))
	}
	lo, hi, _ := want.Span()
	if err := s.Write(ctx, recs[:200]); err != nil {
		t.Fatal(err)
	}
	s.budget.mu.Lock()
	span, has := s.deltaSpan, s.hasSpan
	s.budget.mu.Unlock()
	if !has || span.lo > lo || span.hi < hi {
		t.Fatalf("after a Write: span %d..%d (set %v), want one covering %d..%d", span.lo, span.hi, has, lo, hi)
	}
	if err := s.Write(ctx, recs[200:]); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs[200:] {
		sum := r.Summary()
		want.AddCounted(&sum, codec.CallDurations(r, &sum))
	}
	st, err := s.Stats(ctx, store.Window{Since: start, Until: start.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	ws := want.Stats(store.Window{Since: start, Until: start.Add(time.Minute)})
	if st.Requests != 400 || len(st.Routes) != len(ws.Routes) {
		t.Fatalf("stats: %d requests, %d routes; want 400, %d", st.Requests, len(st.Routes), len(ws.Routes))
	}
	for i, r := range st.Routes {
		if w := ws.Routes[i]; r.Route != w.Route || r.Requests != w.Requests || r.Latency != w.Latency {
			t.Errorf("route %s: %d requests, latency %+v; want %s, %d, %+v", r.Route, r.Requests, r.Latency, w.Route, w.Requests, w.Latency)
		}
	}
}
