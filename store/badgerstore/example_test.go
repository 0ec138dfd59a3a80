package badgerstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/badgerstore"
)

// exampleDir makes a directory for an example's store; the caller removes
// it.
func exampleDir() string {
	dir, err := os.MkdirTemp("", "appstats-example")
	if err != nil {
		log.Fatal(err)
	}
	return dir
}

func ExampleOpen() {
	dir := exampleDir() // a real program keeps its data, e.g. in "appstats-data"
	defer os.RemoveAll(dir)

	// The zero Options are the memory-lean defaults: 7 days, 1M records, 1 GiB.
	s, err := badgerstore.Open(dir, badgerstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	ctx := context.Background()
	start := time.Now().Add(-time.Minute)
	rec := &recording.Record{
		Start: start, Duration: 12 * time.Millisecond,
		Method: "GET", Path: "/users/7", Route: "GET /users/{id}", Status: 200,
		Calls: []recording.Call{
			{Service: "sql", Method: "SELECT users", Duration: 3 * time.Millisecond},
			{Service: "sql", Method: "SELECT users", Duration: 4 * time.Millisecond},
		},
	}
	rec.ID[0] = 1 // normally made by the recorder
	if err := s.Write(ctx, []*recording.Record{rec}); err != nil {
		log.Fatal(err)
	}

	page, err := s.List(ctx, store.Query{Route: "GET /users/{id}"})
	if err != nil {
		log.Fatal(err)
	}
	for _, sum := range page.Records {
		fmt.Println(sum.Method, sum.Path, sum.Status, sum.CallCount, "calls")
	}
	st, err := s.Stats(ctx, store.Window{Since: start.Add(-time.Hour)})
	if err != nil {
		log.Fatal(err)
	}
	for _, rpc := range st.RPCs {
		fmt.Println(rpc.Service, rpc.Method, rpc.Count, rpc.Total)
	}
	// Output:
	// GET /users/7 200 2 calls
	// sql SELECT users 2 7ms
}

func ExampleOpenReadOnly() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	s, err := badgerstore.Open(dir, badgerstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	s.Close() // the writer must be gone before a read-only open

	ro, err := badgerstore.OpenReadOnly(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer ro.Close()
	fmt.Println(ro.Len(), ro.Write(context.Background(), nil))
	// Output: 0 badgerstore: store is read-only
}

// A store says what keeps it from working normally — a full disk (records
// are then dropped and counted), damaged entries skipped, a damaged
// directory moved aside at Open — and how much it holds against MaxBytes.
// The dashboard's health panel and api/health show the same.
func ExampleStore_Health() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	s, err := badgerstore.Open(dir, badgerstore.Options{MaxBytes: 64 << 20})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	h := s.Health()
	if h.State == store.StateDiskFull {
		log.Printf("appstats: %s (%d records dropped)", h.Detail, h.Dropped)
	}
	fmt.Println(h.State, h.Dropped, h.Skipped, h.MovedAside == "", h.MaxBytes>>20, "MiB")
	fmt.Println("slack:", badgerstore.Options{MaxBytes: 64 << 20}.DiskSlack()>>20, "MiB")
	// Output:
	// ok 0 0 true 64 MiB
	// slack: 16 MiB
}
