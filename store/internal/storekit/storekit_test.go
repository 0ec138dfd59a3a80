package storekit_test

import (
	"cmp"
	"errors"
	"testing"
	"time"

	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/internal/storekit"
)

func TestHistogram(t *testing.T) {
	h := storekit.Histogram([]time.Duration{0, time.Millisecond, time.Millisecond + 1, 10 * time.Second, time.Hour})
	if len(h) != storekit.HistogramBuckets || h[len(h)-1].Le != 0 {
		t.Fatalf("%d buckets, last Le %v; want %d ending with 0", len(h), h[len(h)-1].Le, storekit.HistogramBuckets)
	}
	for i := 1; i < len(h)-1; i++ {
		if h[i].Le <= h[i-1].Le {
			t.Fatalf("bounds not increasing at %d: %v", i, h)
		}
	}
	// A duration equal to a bound counts in that bound's bucket.
	want := map[time.Duration]int64{time.Millisecond: 2, 2 * time.Millisecond: 1, 10 * time.Second: 1, 0: 1}
	for _, b := range h {
		if b.Count != want[b.Le] {
			t.Errorf("bucket ≤ %v counts %d, want %d", b.Le, b.Count, want[b.Le])
		}
	}
	// Every call returns its own buckets.
	h[0].Le = time.Hour
	if storekit.NewHistogram()[0].Le != time.Millisecond {
		t.Error("changing one histogram changed the bounds of the next")
	}
}

func TestLimit(t *testing.T) {
	for _, tt := range []struct {
		q    store.Query
		want int
	}{
		{store.Query{}, store.DefaultLimit},
		{store.Query{Limit: 7}, 7},
		{store.Query{Limit: store.MaxLimit + 1}, store.MaxLimit},
		{store.Query{Limit: -1}, -1},
		{store.Query{MinDuration: -1}, -1},
		{store.Query{StatusClass: 6}, -1},
		{store.Query{Status: 1000}, -1},
	} {
		got, err := storekit.Limit(&tt.q)
		if tt.want < 0 {
			if !errors.Is(err, store.ErrInvalidQuery) {
				t.Errorf("Limit(%+v) = %d, %v; want ErrInvalidQuery", tt.q, got, err)
			}
			continue
		}
		if got != tt.want || err != nil {
			t.Errorf("Limit(%+v) = %d, %v; want %d", tt.q, got, err, tt.want)
		}
	}
}

func TestResolveSeries(t *testing.T) {
	now := time.Now()
	w := store.Window{Since: now.Add(-time.Hour)}
	got, err := storekit.ResolveSeries(w, time.Minute, now)
	if err != nil || !got.Until.Equal(now) {
		t.Fatalf("ResolveSeries = %v, %v; want Until filled in", got, err)
	}
	for _, step := range []time.Duration{0, -time.Second, time.Hour / (storekit.MaxSteps + 1)} {
		if _, err := storekit.ResolveSeries(w, step, now); !errors.Is(err, store.ErrInvalidQuery) {
			t.Errorf("ResolveSeries(step %v) = %v, want ErrInvalidQuery", step, err)
		}
	}
}

func TestFold(t *testing.T) {
	type v struct{ n int64 }
	rank := func(ka string, a *v, kb string, b *v) int {
		return cmp.Or(storekit.Rank(a.n, 0, b.n, 0), cmp.Compare(ka, kb))
	}
	mk := func() *v { return new(v) }
	merge := func(dst, src *v) { dst.n += src.n }
	m := map[string]*v{"a": {5}, "b": {1}, "c": {9}, "d": {1}, store.Other: {100}}
	storekit.Fold(m, 3, store.Other, rank, mk, merge)
	// c and a are kept, then b (before d, by key); d goes to Other.
	if len(m) != 4 || m["c"] == nil || m["a"] == nil || m["b"] == nil || m[store.Other].n != 101 {
		t.Errorf("Fold to 3 = %v", m)
	}
	storekit.Fold(m, 3, store.Other, rank, mk, merge) // already within bounds
	if len(m) != 4 || m[store.Other].n != 101 {
		t.Errorf("Fold again changed %v", m)
	}
	m = map[string]*v{"a": {1}, "b": {2}}
	storekit.Fold(m, 1, store.Other, rank, mk, merge)
	if len(m) != 2 || m["b"].n != 2 || m[store.Other].n != 1 {
		t.Errorf("Fold to 1 = %v, want b and a new Other", m)
	}
	storekit.Fold(m, 0, store.Other, rank, mk, merge) // no limit
	if len(m) != 2 {
		t.Errorf("Fold with no limit changed %v", m)
	}
}
