package httpstats_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/goappstats/appstats/middleware/httpstats"
)

// TestPanicAfterFlushToGoneClientNoResponse: the client is gone (HTTP/1: it
// reset the connection; HTTP/2: it cancelled the request, resetting the
// stream) before the handler sets 201 and flushes; the flush fails, the
// handler panics. The client never got a header: the record should say
// 500 with appstats.http.no_response: a flush that failed is not one made
// (HTTP/1), nor one begun after the client's reset (HTTP/2).
func TestPanicAfterFlushToGoneClientNoResponse(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			rec, sink := newRecorder(t)
			flushErr := make(chan error, 1)
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				<-r.Context().Done() // the client has gone
				time.Sleep(50 * time.Millisecond)
				w.WriteHeader(http.StatusCreated)
				flushErr <- http.NewResponseController(w).Flush()
				panic(http.ErrAbortHandler)
			})
			srv, client := startServer(t, httpstats.NewHandler(rec, h), p.tls, p.http2, true)
			if !p.http2 && !p.tls {
				c, err := net.Dial("tcp", srv.Listener.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(c, "GET /gone HTTP/1.1\r\nHost: x\r\n\r\n")
				time.Sleep(100 * time.Millisecond)
				c.(*net.TCPConn).SetLinger(0)
				c.Close() // RST
			} else {
				ctx, cancel := context.WithCancel(t.Context())
				req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/gone", nil)
				go func() { time.Sleep(100 * time.Millisecond); cancel() }()
				if resp, err := client.Do(req); err == nil {
					resp.Body.Close()
					t.Fatalf("client got %s, want none", resp.Status)
				}
			}
			var err error
			select { // bounded: a handler that never ran fails no wait
			case err = <-flushErr:
			case <-time.After(10 * time.Second):
				t.Skip("the handler never flushed in 10 s (the client went before the request was read): shows nothing")
			}
			t.Logf("flush: %v", err)
			if err == nil {
				t.Skip("the flush reported no error (FIN, not RST): shows nothing")
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			recs := sink.Wait(ctx, 1)
			if len(recs) != 1 {
				t.Fatalf("%d records", len(recs))
			}
			r := recs[0]
			if r.Status != http.StatusInternalServerError || r.Attr("appstats.http.no_response") != "true" {
				t.Errorf("recorded status %d, appstats.http.no_response=%q, error %q; the client got no header: want 500, no_response=true",
					r.Status, r.Attr("appstats.http.no_response"), r.Error)
			}
		})
	}
}
