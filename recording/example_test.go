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

// A long-lived connection whose messages are recorded one by one, as the
// websocket and SSE adapters do it.
func ExampleStartStream() {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))

	// The request that opened the connection (the HTTP middleware starts it).
	ctx, conn := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/ws"})
	s := recording.StartStream(ctx, recording.StreamInfo{System: "websocket", Route: "GET /ws"})

	// While open, the connection is listed as running.
	active, _ := rec.Active(0, 0)
	fmt.Println("running:", len(active), active[0].Route)

	// One message received and handled: a record of its own.
	mctx, m := s.StartMessage(ctx, recording.Receive, "typing", 18)
	recording.StartCall(mctx, "cache", "Get").End(nil)
	m.End(nil)

	s.Close("1000 normal closure")
	conn.Finish()

	_ = rec.Close(context.Background())
	for _, r := range sink.Records() {
		fmt.Println(r.Kind, r.Method, r.Route, len(r.Calls), "calls", r.RequestBytes, "bytes in")
	}
	// Output:
	// running: 1 GET /ws
	// message RECEIVE GET /ws typing 1 calls 18 bytes in
	// http GET GET /ws 2 calls 18 bytes in
}
