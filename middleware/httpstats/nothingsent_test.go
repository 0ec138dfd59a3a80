package httpstats_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/goappstats/appstats/middleware/httpstats"
)

// TestPanicNothingSent: a handler that set its status, and wrote and
// flushed nothing, then panicked (http.ErrAbortHandler or any panic) sent
// no response: net/http sends the header with the body's first bytes past
// its buffer, or at a flush, and drops a panicking handler's connection
// (HTTP/1: curl's "Empty reply from server") or resets its stream
// (HTTP/2), so the client got no status at all. The record is the 500 of
// a response never sent, marked appstats.http.no_response, as for a
// handler that set no status: it said 201, unmarked. Once the header was
// flushed, the client did get the status, and the record keeps it.
func TestPanicNothingSent(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/abort", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		panic(http.ErrAbortHandler)
	})
	mux.HandleFunc("/panic", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		panic("handler bug")
	})
	mux.HandleFunc("/flushed", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	})
	mux.HandleFunc("/flushed-old", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	})
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			rec, sink := newRecorder(t)
			srv, client := startServer(t, httpstats.NewHandler(rec, mux), p.tls, p.http2, true)
			for _, path := range []string{"/abort", "/panic"} {
				if resp, err := client.Get(srv.URL + path); err == nil {
					resp.Body.Close()
					t.Fatalf("%s: the client got %s, want no response", path, resp.Status)
				}
			}
			for _, path := range []string{"/flushed", "/flushed-old"} {
				resp, err := client.Get(srv.URL + path)
				if err != nil {
					t.Fatalf("%s: %v, want the flushed 201", path, err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					t.Fatalf("%s: the client got %s, want 201", path, resp.Status)
				}
			}
			// The flushed handlers' panics follow their 201: wait for
			// their records.
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			recs := sink.Wait(ctx, 4)
			if len(recs) != 4 {
				t.Fatalf("%d records, want 4", len(recs))
			}
			for _, r := range recs {
				want, noResponse := http.StatusInternalServerError, "true"
				if r.Path == "/flushed" || r.Path == "/flushed-old" {
					want, noResponse = http.StatusCreated, ""
				}
				if r.Status != want || r.Attr("appstats.http.no_response") != noResponse || r.Panic == "" {
					t.Errorf("%s: recorded status %d, appstats.http.no_response=%q, panic %q; want %d, %q, the panic",
						r.Path, r.Status, r.Attr("appstats.http.no_response"), r.Panic, want, noResponse)
				}
			}
		})
	}
}
