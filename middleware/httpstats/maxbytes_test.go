package httpstats_test

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

// TestMaxBytesReaderClosesConnection: a handler that reads its body
// through [http.MaxBytesReader] with the writer it was given, past the
// limit, gets net/http to close the connection after the response, with
// "Connection: close" in its header (MaxBytesReader calls the server's
// writer's unexported requestTooLarge). Through the middleware, whose
// writer cannot have that method, the same when the handler put the
// reader in r.Body: the same header, status and body, and a second request
// on a new connection, as bare; and with [http.MaxBytesHandler] mounted
// outside the middleware, as its documentation advises. Over HTTP/1 (TCP
// and TLS); HTTP/2's writer has no such hook.
func TestMaxBytesReaderClosesConnection(t *testing.T) {
	// read413 reads the body, limited by whoever limits it.
	read413 := func(w http.ResponseWriter, r *http.Request, body io.Reader) {
		_, err := io.ReadAll(body)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
		io.WriteString(w, "ok")
	}
	inHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 10)
		read413(w, r, r.Body)
	})
	plain := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { read413(w, r, r.Body) })
	variants := []struct {
		name          string
		bare, wrapped func(*recording.Recorder) http.Handler
	}{
		{"r.Body",
			func(*recording.Recorder) http.Handler { return inHandler },
			func(rec *recording.Recorder) http.Handler { return httpstats.NewHandler(rec, inHandler) }},
		{"MaxBytesHandler-outside",
			func(*recording.Recorder) http.Handler { return http.MaxBytesHandler(plain, 10) },
			func(rec *recording.Recorder) http.Handler {
				return http.MaxBytesHandler(httpstats.NewHandler(rec, plain), 10)
			}},
	}
	for _, p := range protocols[:2] {
		for _, v := range variants {
			t.Run(p.name+"/"+v.name, func(t *testing.T) {
				rec, sink := newRecorder(t)
				bodies := []string{strings.Repeat("x", 100), "small", strings.Repeat("y", 100)}
				bare := postEach(t, v.bare(nil), p.tls, bodies)
				wrapped := postEach(t, v.wrapped(rec), p.tls, bodies)
				if !bare[0].close || bare[1].close || !bare[2].close || bare[1].conns != 2 {
					t.Fatalf("bare: %+v; want Connection: close after each body over the limit, the second request on a new connection", bare)
				}
				for i := range bare {
					if bare[i] != wrapped[i] {
						t.Errorf("request %d: bare %+v, through the middleware %+v", i, bare[i], wrapped[i])
					}
				}
				recs := flush(t, rec, sink)
				if len(recs) != 3 {
					t.Fatalf("%d records, want 3", len(recs))
				}
				statuses := map[int]int{}
				for _, r := range recs {
					statuses[r.Status]++
				}
				if statuses[413] != 2 || statuses[200] != 1 {
					t.Errorf("recorded statuses %v, want two 413s and a 200", statuses)
				}
			})
		}
	}
}

// postResult is what a client saw of one request of postEach.
type postResult struct {
	status int
	body   string
	close  bool  // the response said "Connection: close"
	conns  int64 // the connections the server had accepted by then
}

// postEach serves h on loopback, over TLS when tlsOn, and posts each of
// bodies to it in turn on one connection, dialling a new one only after a
// response said "Connection: close". It writes and reads HTTP/1.1 itself
// rather than through an [http.Client]: the client's Transport, given a
// response before its writer goroutine has reported the request written,
// waits 50 ms for that report and otherwise dials anew, which a loaded
// machine runs out ("conns:2, want conns:1" where the server kept the
// connection).
func postEach(t *testing.T, h http.Handler, tlsOn bool, bodies []string) []postResult {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	if tlsOn {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	defer srv.Close()
	dial := func() net.Conn {
		var c net.Conn
		var err error
		if tlsOn {
			cfg := srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
			cfg.NextProtos = []string{"http/1.1"}
			c, err = tls.Dial("tcp", srv.Listener.Addr().String(), cfg)
		} else {
			c, err = net.Dial("tcp", srv.Listener.Addr().String())
		}
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		return c
	}
	var c net.Conn
	var br *bufio.Reader
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	var res []postResult
	for _, b := range bodies {
		if c == nil {
			c = dial()
			br = bufio.NewReader(c)
		}
		req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/octet-stream")
		if err := req.Write(c); err != nil {
			t.Fatalf("POST: %v", err)
		}
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			t.Fatalf("POST: reading the response: %v", err)
		}
		rb, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("POST: reading the body: %v", err)
		}
		res = append(res, postResult{resp.StatusCode, string(rb), resp.Close, conns.Load()})
		if resp.Close {
			c.Close()
			c = nil
		}
	}
	return res
}
