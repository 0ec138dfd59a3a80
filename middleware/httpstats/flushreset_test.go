package httpstats_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/goappstats/appstats/middleware/httpstats"
)

// resetFlusher is a writer between the server's and the middleware's
// whose FlushError flushes and, once the client has reset the stream (it
// got the header and closed the body), reports what net/http's HTTP/2
// writer then reports: the stream closed (the first flush may report it
// already, when the reset came before it returned: it is sent on failed
// too). It makes the sequence of
// TestPanicNothingSent's rare failure certain: over HTTP/2, a FlushError
// whose HEADERS frame went out returns "http2: stream closed" when the
// client's RST_STREAM is processed before FlushError's last check, and
// the client has its status all the same.
type resetFlusher struct {
	http.ResponseWriter
	ctx    context.Context
	failed chan error
}

func (w resetFlusher) Flush() { _ = w.FlushError() }

func (w resetFlusher) FlushError() error {
	rc := http.NewResponseController(w.ResponseWriter)
	if err := rc.Flush(); err != nil {
		// The stream was reset before the header's flush returned:
		// the same case, a flush that failed once the client had the
		// header.
		w.failed <- err
		return err
	}
	<-w.ctx.Done() // the client got the header, and reset the stream
	err := rc.Flush()
	w.failed <- err
	return err
}

// TestPanicAfterFailedFlush: a handler that set 201, flushed and panicked
// sent the client its 201 — even when the flush reported an error, as
// net/http's HTTP/2 writer does when the client resets the stream just
// after the header reached it. The record keeps the 201 (and the panic);
// on main it said 500 with appstats.http.no_response, a response never
// sent, as TestPanicNothingSent's /flushed case did about one run in 150.
func TestPanicAfterFailedFlush(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	})
	for _, p := range protocols[2:] { // HTTP/2, whose flush reports the reset
		t.Run(p.name, func(t *testing.T) {
			rec, sink := newRecorder(t)
			failed := make(chan error, 1)
			mw := httpstats.NewHandler(rec, h)
			outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mw.ServeHTTP(resetFlusher{w, r.Context(), failed}, r)
			})
			srv, client := startServer(t, outer, p.tls, p.http2, true)
			resp, err := client.Get(srv.URL + "/flushed")
			if err != nil {
				t.Fatalf("%v, want the flushed 201", err)
			}
			resp.Body.Close() // resets the stream
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("the client got %s, want 201", resp.Status)
			}
			// Bounded, so that a flush that never comes fails the
			// test rather than hangs it.
			select {
			case err := <-failed:
				if err == nil {
					t.Skip("the flush after the reset reported no error: the run shows nothing")
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no flush reported its outcome in 10 s")
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			recs := sink.Wait(ctx, 1)
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1", len(recs))
			}
			r := recs[0]
			if r.Status != http.StatusCreated || r.Attr("appstats.http.no_response") != "" || r.Panic == "" {
				t.Errorf("recorded status %d, appstats.http.no_response=%q, panic %q; want the 201 the client got, unmarked, the panic",
					r.Status, r.Attr("appstats.http.no_response"), r.Panic)
			}
		})
	}
}
