package httpstats_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/goappstats/appstats/middleware/httpstats"
)

// flushOnlyWriter is a middleware's writer between the server and the
// recorder: it has Flush (http.Flusher) and no FlushError, so the
// recorder calls its Flush as it is.
type flushOnlyWriter struct{ http.ResponseWriter }

func (w flushOnlyWriter) Flush() { http.NewResponseController(w.ResponseWriter).Flush() }

// TestPanicAfterPlainFlush: a handler behind a writer that is not
// net/http's, which flushes its status through http.Flusher and then
// panics, sent the header: the client got the 201, and the record keeps
// it, without appstats.http.no_response (the flush is noted on the plain
// Flusher path as on FlushError's).
func TestPanicAfterPlainFlush(t *testing.T) {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	})
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			rec, sink := newRecorder(t)
			recorded := httpstats.NewHandler(rec, inner)
			srv, client := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				recorded.ServeHTTP(flushOnlyWriter{w}, r)
			}), p.tls, p.http2, true)
			resp, err := client.Get(srv.URL + "/flushed")
			if err != nil {
				t.Fatalf("%v, want the flushed 201", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("the client got %s, want 201", resp.Status)
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			recs := sink.Wait(ctx, 1)
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1", len(recs))
			}
			r := recs[0]
			if r.Status != http.StatusCreated || r.Attr("appstats.http.no_response") != "" || r.Panic == "" {
				t.Errorf("recorded status %d, appstats.http.no_response=%q, panic %q; want 201, none, the panic",
					r.Status, r.Attr("appstats.http.no_response"), r.Panic)
			}
		})
	}
}
