package memstore_test

import (
	"context"
	"fmt"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/memstore"
)

func ExampleNew() {
	s := memstore.New(1000)
	defer s.Close()
	ctx := context.Background()
	rec := &recording.Record{Start: time.Now(), Method: "GET", Path: "/", Status: 200}
	rec.ID[0] = 1
	if err := s.Write(ctx, []*recording.Record{rec}); err != nil {
		panic(err)
	}
	page, _ := s.List(ctx, store.Query{})
	fmt.Println(len(page.Records), page.Records[0].Path)
	// Output: 1 /
}
