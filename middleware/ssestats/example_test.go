package ssestats_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/middleware/ssestats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// A stream of three price events, each recorded with the call that
// produced it.
func ExampleNew() {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /prices", func(w http.ResponseWriter, r *http.Request) {
		s, err := ssestats.New(w, r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer s.Close()
		for i := range 3 {
			ctx, ev := s.StartEvent(r.Context(), "price")
			err := recording.Do(ctx, "quotes", "Price", func(context.Context) error { return nil })
			if err == nil {
				err = s.Send(ctx, ssestats.Event{Name: "price", Data: fmt.Sprint(100 + i)})
			}
			ev.End(err)
		}
	})
	srv := httptest.NewServer(httpstats.NewHandler(rec, mux))

	resp, err := http.Get(srv.URL + "/prices")
	if err != nil {
		fmt.Println(err)
		return
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if line := sc.Text(); line != "" {
			fmt.Println(line)
		}
	}
	resp.Body.Close()
	recordingtest.WaitIdle(context.Background(), rec) // until the handler has returned
	srv.Close()
	rec.Close(context.Background())

	for _, r := range sink.Records() {
		fmt.Printf("%s %s %q: %d calls\n", r.Kind, r.Method, r.Route, len(r.Calls))
	}
	// Output:
	// event: price
	// data: 100
	// event: price
	// data: 101
	// event: price
	// data: 102
	// message SEND "GET /prices price": 2 calls
	// message SEND "GET /prices price": 2 calls
	// message SEND "GET /prices price": 2 calls
	// http GET "GET /prices": 2 calls
}
