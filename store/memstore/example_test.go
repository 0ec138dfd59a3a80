package memstore_test

import (
	"context"
	"fmt"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/memstore"
)

func Example() {
	st := memstore.New(1000)
	defer st.Close()
	rec := recording.New(recording.WithSinks(st))
	for _, path := range []string{"/a", "/b"} {
		_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: path})
		ar.Record().Status = 200
		ar.Finish()
	}
	_ = rec.Close(context.Background())

	page, _ := st.List(context.Background(), store.Query{Limit: 10})
	for _, s := range page.Records {
		fmt.Println(s.Method, s.Path, s.Status)
	}
	// Output:
	// GET /b 200
	// GET /a 200
}
