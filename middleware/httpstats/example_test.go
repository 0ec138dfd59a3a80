package httpstats_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

func Example() {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))

	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "42 users")
	}))
	defer backend.Close()
	client := &http.Client{Transport: httpstats.NewTransport(nil)}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		// The request's context attributes the call to this request.
		req, _ := http.NewRequestWithContext(r.Context(), "GET", backend.URL+"/count", nil)
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		io.Copy(w, resp.Body)
	})
	app := httptest.NewServer(httpstats.NewHandler(rec, mux))
	defer app.Close()

	resp, _ := http.Get(app.URL + "/users/7")
	resp.Body.Close()

	_ = rec.Close(context.Background())
	r := sink.Records()[0]
	fmt.Println(r.Route, r.Status, len(r.Calls), r.Calls[0].Service, r.Calls[0].Attr("http.response.status_code"))
	// Output: GET /users/{id} 200 1 http 200
}

func ExampleNormalizePath() {
	for _, p := range []string{"/users/42/orders", "/a/550e8400-e29b-41d4-a716-446655440000", "/day/2024-01-02", "/v2/items", ""} {
		fmt.Println(httpstats.NormalizePath(p))
	}
	// Output:
	// /users/{id}/orders
	// /a/{id}
	// /day/{id}
	// /v2/items
	// /
}
