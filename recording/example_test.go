package recording_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// A request recorded by hand: wrappers such as the HTTP middleware do the
// same around each request.
func Example() {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))

	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/report"})

	c := recording.StartCall(ctx, "memcache", "Get")
	c.SetRequest("report:daily")
	c.End(errors.New("cache miss"))

	recording.Event(ctx, "rebuild", "report:daily")

	_ = recording.Do(ctx, "datastore", "Query", func(ctx context.Context) error {
		return nil // the work being timed
	})

	ar.Record().Status = 200
	ar.Finish()

	_ = rec.Close(context.Background())
	r := sink.Records()[0]
	for _, c := range r.Calls {
		fmt.Printf("%s.%s event=%v error=%q\n", c.Service, c.Method, c.Event, c.Error)
	}
	// Output:
	// memcache.Get event=false error="cache miss"
	// event.rebuild event=true error=""
	// datastore.Query event=false error=""
}

func ExampleAnalyze() {
	r := &recording.Record{}
	for range 6 {
		r.Calls = append(r.Calls, recording.Call{Service: "sql", Method: "SELECT items", Request: "SELECT * FROM items WHERE id = ?"})
	}
	for _, w := range recording.Analyze(r, 5) {
		fmt.Println(w.Kind, w.Count, w.Method)
	}
	// Output: repeated 6 SELECT items
}
