package httpstats_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/goappstats/appstats/middleware/httpstats"
)

// TestMaxBytesReaderElsewhere shows the limit package httpstats documents
// ("One thing no wrapper keeps by itself"): an [http.MaxBytesReader] the
// handler does not put in r.Body — kept in a variable, wrapped further in
// a gzip.Reader or an io.LimitReader, or made by [http.MaxBytesHandler]
// mounted inside the middleware — asks the writer it was given to close
// the connection through net/http's unexported requestTooLarge, which no
// wrapper can have, and is not seen by the middleware. Bare, the response
// to a body over the limit says "Connection: close" and the next request
// opens a new connection; through the middleware the status and body are
// the same, but the server reads the short rest of the body and keeps the
// connection: no "Connection: close", one connection for the three
// requests. Should this test fail, the middleware keeps it: correct the
// package documentation, and TestMaxBytesReaderClosesConnection takes
// these cases. Over HTTP/1 (TCP and TLS); HTTP/2's writer has no such
// hook.
func TestMaxBytesReaderElsewhere(t *testing.T) {
	tooLarge := func(w http.ResponseWriter, err error) bool {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return true
		}
		return false
	}
	readAll := func(w http.ResponseWriter, body io.Reader) {
		if _, err := io.ReadAll(body); !tooLarge(w, err) {
			io.WriteString(w, "ok")
		}
	}
	gz := func(s string) string {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		io.WriteString(zw, s)
		zw.Close()
		return b.String()
	}
	noise := func(seed uint32) string { // bytes gzip cannot shrink below the limit
		b := make([]byte, 200)
		for i := range b {
			seed = seed*1664525 + 1013904223
			b[i] = byte(seed >> 24)
		}
		return string(b)
	}
	plain := []string{strings.Repeat("x", 100), "small", strings.Repeat("y", 100)}
	variants := []struct {
		name   string
		h      http.Handler
		bodies []string
	}{
		{"variable", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body := http.MaxBytesReader(w, r.Body, 10)
			readAll(w, body)
		}), plain},
		{"io.LimitReader", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			readAll(w, io.LimitReader(http.MaxBytesReader(w, r.Body, 10), 1<<20))
		}), plain},
		{"r.Body-wrapped", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Body = io.NopCloser(http.MaxBytesReader(w, r.Body, 10))
			readAll(w, r.Body)
		}), plain},
		{"MaxBytesHandler-inside", http.MaxBytesHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			readAll(w, r.Body) // the request of MaxBytesHandler's own
		}), 10), plain},
		{"gzip.Reader", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			zr, err := gzip.NewReader(http.MaxBytesReader(w, r.Body, 40))
			if err != nil {
				if !tooLarge(w, err) {
					http.Error(w, err.Error(), http.StatusBadRequest)
				}
				return
			}
			readAll(w, zr)
		}), []string{gz(noise(1)), gz("small"), gz(noise(2))}},
	}
	for _, p := range protocols[:2] {
		for _, v := range variants {
			t.Run(p.name+"/"+v.name, func(t *testing.T) {
				rec, _ := newRecorder(t)
				bare := postEach(t, v.h, p.tls, v.bodies)
				wrapped := postEach(t, httpstats.NewHandler(rec, v.h), p.tls, v.bodies)
				if bare[0].status != 413 || bare[1].status != 200 || bare[2].status != 413 ||
					!bare[0].close || bare[1].close || !bare[2].close || bare[1].conns != 2 || bare[2].conns != 2 {
					t.Fatalf("bare: %+v; want 413, 200, 413, Connection: close after each body over the limit, the second request on a new connection", bare)
				}
				for i := range bare {
					want := bare[i]
					want.close, want.conns = false, 1 // the limit: the connection is kept
					if wrapped[i] != want {
						t.Errorf("request %d: through the middleware %+v, want %+v (bare %+v with the connection kept, as documented)", i, wrapped[i], want, bare[i])
					}
				}
			})
		}
	}
}
