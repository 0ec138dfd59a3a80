package storekit_test

import (
	"fmt"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/internal/storekit"
)

// A store answers List by checking the query once, then matching each
// summary against it; and Stats by resolving the window first.
func Example() {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	q := store.Query{Route: "GET /users/{id}", StatusClass: 5}
	limit, err := storekit.Limit(&q)
	fmt.Println(limit, err)

	s := recording.Summary{Route: "GET /users/{id}", Status: 503, Start: now}
	fmt.Println(storekit.Matches(&q, &s))

	_, err = storekit.ResolveWindow(store.Window{Since: now}, now.Add(-time.Hour))
	fmt.Println(err)
	// Output:
	// 50 <nil>
	// true
	// store: invalid query: window is empty: since must be before until
}

// Exact aggregates records exactly; its histogram has the buckets every
// store uses.
func ExampleExact() {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	a := storekit.NewExact(store.Window{Since: now.Add(-time.Hour), Until: now}, store.DefaultMaxKeys)
	for _, d := range []time.Duration{3, 4, 40} {
		a.AddRecord(&recording.Record{
			Start: now.Add(-time.Minute), Duration: d * time.Millisecond, Route: "GET /", Status: 200,
			Calls: []recording.Call{{Service: "sql", Method: "SELECT users", Duration: time.Millisecond}},
		})
	}
	st := a.Stats()
	fmt.Println(st.Requests, st.Routes[0].P50, st.RPCs[0].Count)
	for _, b := range st.Histogram {
		if b.Count > 0 {
			fmt.Println("≤", b.Le, b.Count)
		}
	}
	// Output:
	// 3 4ms 3
	// ≤ 5ms 2
	// ≤ 50ms 1
}
