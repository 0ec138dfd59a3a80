package appstats_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/goappstats/appstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// A service records its requests, serves until it is told to stop, then
// shuts down in the order that loses nothing: the server first (requests in
// flight finish, dashboards' live streams end), then appstats (the last
// records are written, the store closed).
func Example() {
	as, err := appstats.Open(appstats.Config{InMemory: true})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	mux.Handle("/stats/", as.UI())
	srv := &http.Server{Handler: as.Middleware(mux)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go srv.Serve(ln)

	// A real service waits for a signal:
	//
	//	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	//	defer stop()
	//	<-ctx.Done()
	//
	// This one stops after one request.
	resp, err := http.Get("http://" + ln.Addr().String() + "/hello")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()

	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		panic(err)
	}
	if err := as.Close(); err != nil {
		panic(err)
	}
	fmt.Println(as.Recorder().Stats().Written, "record written")
	// Output: 1 record written
}

// A test reads what a request recorded: ForceFlush returns once the records
// of the requests finished before it are in the store (and handed to the
// OTLP collector, when exporting), without closing anything.
func ExampleAppstats_ForceFlush() {
	as, err := appstats.Open(appstats.Config{InMemory: true})
	if err != nil {
		panic(err)
	}
	defer as.Close()
	srv := httptest.NewServer(as.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := recording.StartCall(r.Context(), "cache", "Get")
		c.End(nil)
	})))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/cart")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := as.ForceFlush(ctx); err != nil {
		panic(err)
	}
	page, err := as.Store().List(ctx, store.Query{})
	if err != nil {
		panic(err)
	}
	for _, s := range page.Records {
		fmt.Println(s.Method, s.Path, s.CallCount, "call")
	}
	// Output: GET /cart 1 call
}
