package httpstats_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/middleware/httpstats"
)

// contentLengthHandler declares a Content-Length and writes the body of
// its path: /long declares 10 and writes 5 (the client's body is cut
// short), /short declares 3 and writes 5 (net/http refuses the write,
// http.ErrContentLength), /exact declares 5 and writes 5, /none declares
// 4 and writes nothing, /head-ok is /long asked with HEAD, /nocontent
// declares 10 with a 204, /notmodified declares 10 with a 304 (the length
// of the representation, not of a body), /late writes 5 and flushes, then
// sets a Content-Length of 99 that net/http does not send (the header went
// out with the first write), /afterstatus sets one of 99 after
// WriteHeader(200) (which fixed the header), then writes 5, /lowered
// declares 10, writes 5 and flushes, then lowers it to 5 (the client's
// body is cut short all the same). Each handler
// reports its write's error.
func contentLengthHandler(werr chan<- error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		decl := map[string]string{"/long": "10", "/short": "3", "/exact": "5", "/none": "4", "/nocontent": "10", "/notmodified": "10", "/lowered": "10"}[r.URL.Path]
		if decl != "" {
			w.Header().Set("Content-Length", decl)
		}
		var err error
		switch r.URL.Path {
		case "/none":
		case "/nocontent":
			w.WriteHeader(http.StatusNoContent)
		case "/notmodified":
			w.WriteHeader(http.StatusNotModified)
		case "/late":
			_, err = io.WriteString(w, "hello")
			w.(http.Flusher).Flush()
			w.Header().Set("Content-Length", "99")
		case "/lowered":
			_, err = io.WriteString(w, "hello")
			w.(http.Flusher).Flush()
			w.Header().Set("Content-Length", "5")
		case "/afterstatus":
			w.WriteHeader(http.StatusOK)
			w.Header().Set("Content-Length", "99")
			_, err = io.WriteString(w, "hello")
		default:
			_, err = io.WriteString(w, "hello")
		}
		werr <- err
	})
}

// TestContentLengthWrong serves handlers that declare a Content-Length
// their body does not match, over each protocol, with and without the
// middleware: the client and the handler see the same either way, and
// the record says the response failed when the client's body was cut
// short (it said nothing when the handler wrote less than it declared).
func TestContentLengthWrong(t *testing.T) {
	cases := []struct {
		method, path string
		// wantErr is the record's error; an empty one, none.
		wantErr string
		// anyClient: the client's read may fail without the record
		// saying so (the Go client's HTTP/2 transport takes a 204's
		// Content-Length for a body's, which no server sends).
		anyClient bool
	}{
		{"GET", "/long", "response failed: body cut short: 5 of the 10 bytes its Content-Length declared", false},
		{"GET", "/short", "response failed: ", false}, // HTTP/1 refuses the write (http.ErrContentLength); HTTP/2 takes it and sends the client more than declared
		{"GET", "/exact", "", false},
		{"GET", "/none", "response failed: body cut short: 0 of the 4 bytes its Content-Length declared", false},
		{"HEAD", "/long", "", false},
		{"GET", "/nocontent", "", true},
		{"GET", "/notmodified", "", true},
		{"GET", "/late", "", false},
		{"GET", "/afterstatus", "", false},
		{"GET", "/lowered", "response failed: body cut short: 5 of the 10 bytes its Content-Length declared", false},
	}
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			type outcome struct {
				status   int
				body     string
				clientOK bool
				handler  string
			}
			serve := func(h http.Handler, werr chan error, method, path string) outcome {
				srv, client := startServer(t, h, p.tls, p.http2, true)
				req, _ := http.NewRequest(method, srv.URL+path, nil)
				resp, err := client.Do(req)
				if err != nil {
					t.Fatalf("%s %s: %v", method, path, err)
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				herr := <-werr
				hs := ""
				if herr != nil {
					hs = herr.Error()
				}
				return outcome{resp.StatusCode, string(b), err == nil, hs}
			}
			for _, c := range cases {
				bare := make(chan error, 1)
				want := serve(contentLengthHandler(bare), bare, c.method, c.path)
				rec, sink := newRecorder(t)
				wrapped := make(chan error, 1)
				got := serve(httpstats.NewHandler(rec, contentLengthHandler(wrapped)), wrapped, c.method, c.path)
				if got != want {
					t.Errorf("%s %s: with appstats %+v, without %+v", c.method, c.path, got, want)
				}
				if !c.anyClient && (c.wantErr == "") != want.clientOK {
					t.Errorf("%s %s: the client's read failed: %v; the case expects %q", c.method, c.path, !want.clientOK, c.wantErr)
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				recs := sink.Wait(ctx, 1)
				cancel()
				if len(recs) != 1 {
					t.Fatalf("%s %s: %d records", c.method, c.path, len(recs))
				}
				r := recs[0]
				if c.wantErr == "" && r.Error != "" || !strings.HasPrefix(r.Error, c.wantErr) {
					t.Errorf("%s %s: record error %q, want %q", c.method, c.path, r.Error, c.wantErr)
				}
				if r.Status != want.status {
					t.Errorf("%s %s: record status %d, client's %d", c.method, c.path, r.Status, want.status)
				}
			}
		})
	}
}

// TestContentLengthLateInsideTimeoutHandler: http.TimeoutHandler buffers
// the response and sends the handler's header map as the handler left it,
// when the handler returns, so a Content-Length set after the status was
// fixed is the one sent there (net/http's own writers send the header as
// it was at the status): a body shorter than it is cut short for the
// client, and the record says so.
func TestContentLengthLateInsideTimeoutHandler(t *testing.T) {
	for _, path := range []string{"/late", "/afterstatus"} {
		t.Run(path, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/late" {
					io.WriteString(w, "hello")
					w.Header().Set("Content-Length", "99")
					return
				}
				w.WriteHeader(http.StatusOK)
				w.Header().Set("Content-Length", "99")
				io.WriteString(w, "hello")
			})
			rec, sink := newRecorder(t)
			srv, client := startServer(t, http.TimeoutHandler(httpstats.NewHandler(rec, h), time.Minute, "slow"), false, false, true)
			resp, err := client.Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			_, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.ContentLength != 99 || rerr == nil {
				t.Fatalf("client: Content-Length %d, read error %v; want 99 and the body cut short (TimeoutHandler sends the late length)", resp.ContentLength, rerr)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			recs := sink.Wait(ctx, 1)
			if len(recs) != 1 {
				t.Fatalf("got %d records, want 1", len(recs))
			}
			if want := "response failed: body cut short: 5 of the 99 bytes its Content-Length declared"; recs[0].Error != want {
				t.Errorf("record's error = %q, want %q", recs[0].Error, want)
			}
		})
	}
}
