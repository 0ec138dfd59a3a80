package store_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/memstore"
)

// A consumer lists the slow requests of a route, reads one in full by its
// ID, and aggregates the last hour.
func Example() {
	ctx := context.Background()
	var st store.Store = memstore.New(0)
	defer st.Close()

	start := time.Now().Add(-10 * time.Minute)
	var recs []*recording.Record
	for i, d := range []time.Duration{5, 80, 120} {
		r := &recording.Record{
			Start: start.Add(time.Duration(i) * time.Second), Duration: d * time.Millisecond,
			Method: "GET", Path: fmt.Sprintf("/users/%d", i), Route: "GET /users/{id}", Status: 200,
			Calls: []recording.Call{{Service: "sql", Method: "SELECT users", Duration: d * time.Millisecond / 2}},
		}
		r.ID[15] = byte(i + 1) // normally made by the recorder
		recs = append(recs, r)
	}
	if err := st.Write(ctx, recs); err != nil {
		log.Fatal(err)
	}

	page, err := st.List(ctx, store.Query{Route: "GET /users/{id}", MinDuration: 50 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range page.Records {
		fmt.Println(s.Path, s.Duration)
	}

	id, err := recording.ParseID(page.Records[0].ID.String()) // as from a URL
	if err != nil {
		log.Fatal(err)
	}
	rec, err := st.Get(ctx, id)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rec.Calls[0].Service, rec.Calls[0].Method, rec.Calls[0].Duration)

	stats, err := st.Stats(ctx, store.Window{Since: time.Now().Add(-time.Hour)})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(stats.Requests, "requests;", stats.RPCs[0].Count, "calls of", stats.RPCs[0].Service, stats.RPCs[0].Method)
	// Output:
	// /users/2 120ms
	// /users/1 80ms
	// sql SELECT users 60ms
	// 3 requests; 3 calls of sql SELECT users
}
