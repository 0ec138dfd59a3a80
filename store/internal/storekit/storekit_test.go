package storekit_test

import (
	"cmp"
	"errors"
	"testing"
	"time"
	"unsafe"

	"github.com/goappstats/appstats/recording"
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

// SplitRange covers a range exactly once, with whole hours and minutes where
// they fit.
func TestSplitRange(t *testing.T) {
	m, h := storekit.NsMinute, storekit.NsHour
	base := 1000 * h // an hour boundary
	for _, tt := range []struct {
		name         string
		a, b         int64
		recs         int64 // nanoseconds answered from records
		mins, hours  int64
		wantSegments int
	}{
		{"empty", base, base, 0, 0, 0, 0},
		{"within a minute", base + 5, base + 50, 45, 0, 0, 1},
		{"aligned minutes", base + 3*m, base + 50*m, 0, 47, 0, 1},
		{"aligned hours", base, base + 3*h, 0, 0, 3, 1},
		{"ragged", base - 17*m - 31, base + 2*h + 13*m + 10, 31 + 10, 17 + 13, 2, 5},
		{"before 1970", -2*h - 30, -h + m, 30, 1, 1, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var recs, mins, hours int64
			segs := 0
			covered := map[int64]int{} // minute → times covered (whole minutes count each ns range's minute)
			err := storekit.SplitRange(tt.a, tt.b, storekit.Parts{
				Records: func(a, b int64) error {
					if a >= b || storekit.FloorDiv(a, m) != storekit.FloorDiv(b-1, m) {
						t.Errorf("records part [%d, %d) is empty or spans minutes", a, b)
					}
					recs += b - a
					segs++
					return nil
				},
				Minutes: func(a, b int64) error {
					for x := a; x < b; x++ {
						covered[x]++
					}
					mins += b - a
					segs++
					return nil
				},
				Hours: func(a, b int64) error {
					for x := a * 60; x < b*60; x++ {
						covered[x]++
					}
					hours += b - a
					segs++
					return nil
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if recs != tt.recs || mins != tt.mins || hours != tt.hours || segs != tt.wantSegments {
				t.Errorf("records %d ns, %d minutes, %d hours in %d parts; want %d, %d, %d in %d",
					recs, mins, hours, segs, tt.recs, tt.mins, tt.hours, tt.wantSegments)
			}
			if recs+(mins+60*hours)*m != tt.b-tt.a && tt.b > tt.a {
				t.Errorf("parts add up to %d ns, want %d", recs+(mins+60*hours)*m, tt.b-tt.a)
			}
			for x, n := range covered {
				if n != 1 {
					t.Errorf("minute %d covered %d times", x, n)
				}
			}
		})
	}
	stop := errors.New("stop")
	n := 0
	err := storekit.SplitRange(base+5, base+2*h+5, storekit.Parts{
		Records: func(a, b int64) error { n++; return stop },
		Minutes: func(a, b int64) error { n++; return nil },
		Hours:   func(a, b int64) error { n++; return nil },
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("an error from a part: %v after %d calls, want it returned after 1", err, n)
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

// TestWindowEnds checks the ends the docs of store.MinTime, ClampWindow and
// store.Store give: whole hours an hour or two inside int64's times.
func TestWindowEnds(t *testing.T) {
	if got, want := store.MinTime().UTC(), time.Date(1677, 9, 21, 2, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("MinTime = %v, want %v", got, want)
	}
	if got, want := store.MaxTime().UTC(), time.Date(2262, 4, 11, 22, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("MaxTime = %v, want %v", got, want)
	}
}

// TestAddSummaryKeepsNoString: the aggregate keeps none of a summary's
// strings, but copies: a summary whose strings lie in bytes the caller
// then overwrites (a view of a store's bytes, as memstore's Stats reads
// them) leaves the routes, instances, services and methods it named in
// the answer.
func TestAddSummaryKeepsNoString(t *testing.T) {
	now := time.Now()
	buf := []byte("GET /a|vm/1|sql|SELECT")
	str := func(from, to int) string { return unsafe.String(&buf[from], to-from) }
	s := recording.Summary{Start: now.Add(-time.Minute), Duration: time.Millisecond, Route: str(0, 6), Instance: str(7, 11),
		RPCs: []recording.RPCStat{{Service: str(12, 15), Method: str(16, 22), Count: 1, Total: time.Millisecond}}}
	a := storekit.NewExact(store.Window{Since: now.Add(-time.Hour), Until: now}, 0)
	a.AddSummary(&s, []time.Duration{time.Millisecond})
	copy(buf, "XXXXXXXXXXXXXXXXXXXXXX")
	st := a.Stats()
	if len(st.Routes) != 1 || st.Routes[0].Route != "GET /a" {
		t.Errorf("routes %+v, want GET /a", st.Routes)
	}
	if len(st.Instances) != 1 || st.Instances[0].Instance != "vm/1" {
		t.Errorf("instances %+v, want vm/1", st.Instances)
	}
	if len(st.RPCs) != 1 || st.RPCs[0].Service != "sql" || st.RPCs[0].Method != "SELECT" {
		t.Errorf("RPCs %+v, want sql SELECT", st.RPCs)
	}
	if len(st.RouteRPCs) != 1 || st.RouteRPCs[0].Route != "GET /a" || st.RouteRPCs[0].Service != "sql" || st.RouteRPCs[0].Method != "SELECT" {
		t.Errorf("route RPCs %+v, want GET /a sql SELECT", st.RouteRPCs)
	}
}
