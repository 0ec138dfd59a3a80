package recording_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

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

// A cost model pricing a language model's calls by their tokens and
// every other call by the request.
func ExampleWithCostModel() {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink), recording.WithCostModel(recording.CostModel{
		Unit: "USD",
		Price: func(c *recording.Call) float64 {
			if c.Service == "llm" {
				in, _ := strconv.Atoi(c.Attr("gen_ai.usage.input_tokens"))
				out, _ := strconv.Atoi(c.Attr("gen_ai.usage.output_tokens"))
				return float64(in)*3e-6 + float64(out)*15e-6
			}
			return 0.4e-6
		},
	}))

	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/ask"})
	c := recording.StartCall(ctx, "llm", "chat")
	c.SetAttr("gen_ai.usage.input_tokens", "1200")
	c.SetAttr("gen_ai.usage.output_tokens", "300")
	c.End(nil)
	recording.StartCall(ctx, "http", "GET api.example.com/users/{id}").End(nil)
	ar.Finish()

	_ = rec.Close(context.Background())
	r := sink.Records()[0]
	for _, c := range r.Calls {
		fmt.Printf("%s %.7f %s\n", c.Service, c.Cost, rec.CostUnit())
	}
	fmt.Printf("request %.7f %s\n", r.Cost(), rec.CostUnit())
	// Output:
	// llm 0.0081000 USD
	// http 0.0000004 USD
	// request 0.0081004 USD
}

// Execution traces of the requests slower than 500 ms, or than 2 s on
// GET /search: the record of such a request carries a snapshot of the
// runtime's flight recorder, for go tool trace.
func ExampleWithFlightRecorder() {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink), recording.WithFlightRecorder(recording.FlightRecording{
		Threshold: 500 * time.Millisecond,
		Routes:    map[string]time.Duration{"GET /search": 2 * time.Second},
	}))
	defer rec.Close(context.Background())
	fmt.Println("flight recorder running:", rec.Stats().FlightRecorder)
	// Output:
	// flight recorder running: true
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
	// A message's record counts its bytes in RequestBytes (received) or
	// ResponseBytes (sent); the connection's counts its stream's in
	// attributes, apart from its HTTP message's bodies.
	for _, r := range sink.Records() {
		in := strconv.FormatInt(r.RequestBytes, 10)
		if r.Kind != recording.KindMessage {
			in = r.Attr("appstats.stream.bytes_received")
		}
		fmt.Println(r.Kind, r.Method, r.Route, len(r.Calls), "calls", in, "bytes in")
	}
	// Output:
	// running: 1 GET /ws
	// message RECEIVE GET /ws typing 1 calls 18 bytes in
	// http GET GET /ws 2 calls 18 bytes in
}

// ForceFlush in a test: the records of the requests finished so far are
// in the sink, while the recorder goes on recording.
func ExampleRecorder_ForceFlush() {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	defer rec.Close(context.Background())

	for _, path := range []string{"/a", "/b"} {
		_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: path})
		ar.Finish()
	}
	if err := rec.ForceFlush(context.Background()); err != nil {
		fmt.Println(err)
	}
	for _, r := range sink.Records() {
		fmt.Println(r.Path)
	}
	// Output:
	// /a
	// /b
}
