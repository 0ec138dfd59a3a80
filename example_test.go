package appstats_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/goappstats/appstats"
)

func Example() {
	as, err := appstats.Open(appstats.Config{InMemory: true})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	srv := httptest.NewServer(as.Middleware(mux))
	defer srv.Close()

	resp, _ := http.Get(srv.URL + "/hello")
	resp.Body.Close()

	as.Close() // flushes the pending record into the store
	fmt.Println(as.Recorder().Stats().Written, "record written")
	// Output: 1 record written
}
