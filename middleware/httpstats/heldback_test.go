package httpstats_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/middleware/httpstats"
)

// TestPanicHeldBackBody: a handler that set its status and wrote a body
// no longer than net/http holds back — HTTP/1's response buffer of 2 KiB
// (bufferBeforeChunkingSize), HTTP/2's of 4 KiB (handlerChunkWriteSize) —
// then panicked sent nothing: net/http sends the header with the first
// bytes past that buffer, and drops the buffer at a panic (HTTP/1 closes
// the connection, HTTP/2 resets the stream). The record is the 500 of a
// response never sent, marked appstats.http.no_response, with no response
// bytes, as for a handler that wrote nothing. One byte more, and the
// client gets the header: the record keeps the status. Which of the two
// the client saw is checked here too, so that a Go release that changes
// the sizes fails this test.
func TestPanicHeldBackBody(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/write/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, strings.Repeat("x", n))
		panic(http.ErrAbortHandler)
	})
	mux.HandleFunc("/write-twice/{n}", func(w http.ResponseWriter, r *http.Request) {
		// The held-back size in two writes, then one byte more.
		n, _ := strconv.Atoi(r.PathValue("n"))
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(strings.Repeat("x", n-1)))
		w.Write([]byte("x"))
		if r.URL.Query().Has("more") {
			w.Write([]byte("x"))
		}
		panic(http.ErrAbortHandler)
	})
	mux.HandleFunc("/readfrom/{n}", func(w http.ResponseWriter, r *http.Request) {
		// Through ReadFrom (the struct hides strings.Reader's WriteTo).
		n, _ := strconv.Atoi(r.PathValue("n"))
		w.WriteHeader(http.StatusCreated)
		io.Copy(w, struct{ io.Reader }{strings.NewReader(strings.Repeat("x", n))})
		panic(http.ErrAbortHandler)
	})
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			limit := 2 << 10
			if p.http2 {
				limit = 4 << 10
			}
			type probe struct {
				path string
				sent bool // whether the client gets the 201
			}
			probes := []probe{
				{"/write/5", false},
				{fmt.Sprintf("/write/%d", limit), false},
				{fmt.Sprintf("/write/%d", limit+1), true},
				{fmt.Sprintf("/write-twice/%d", limit), false},
				{fmt.Sprintf("/write-twice/%d?more", limit), true},
				{"/readfrom/100", false},
				{fmt.Sprintf("/readfrom/%d", limit+1), true},
			}
			// HTTP/1's ReadFrom flushes after 512 bytes on a TCP
			// connection (one that has ReadFrom); over TLS, whose
			// connection has none, it writes into the held-back
			// buffer as Write does, and HTTP/2's writer has no
			// ReadFrom: 512 to the held-back size sent nothing.
			tcp1 := !p.tls && !p.http2
			probes = append(probes, probe{"/readfrom/511", false}, probe{"/readfrom/512", tcp1},
				probe{"/readfrom/1500", tcp1}, probe{fmt.Sprintf("/readfrom/%d", limit), tcp1})
			rec, sink := newRecorder(t)
			srv, client := startServer(t, httpstats.NewHandler(rec, mux), p.tls, p.http2, true)
			sent := map[string]bool{}
			for _, pr := range probes {
				resp, err := client.Get(srv.URL + pr.path)
				got := err == nil
				if got {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusCreated {
						t.Errorf("%s: the client got %s, want 201", pr.path, resp.Status)
					}
				}
				if got != pr.sent {
					t.Errorf("%s: the client got a response: %v (err %v), want %v", pr.path, got, err, pr.sent)
				}
				sent[strings.TrimSuffix(pr.path, "?more")+fmt.Sprint(strings.HasSuffix(pr.path, "?more"))] = pr.sent
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			recs := sink.Wait(ctx, len(probes))
			if len(recs) != len(probes) {
				t.Fatalf("%d records, want %d", len(recs), len(probes))
			}
			for _, r := range recs {
				s, ok := sent[r.Path+fmt.Sprint(r.Query == "more")]
				if !ok {
					t.Fatalf("a record of %s?%s, not asked for", r.Path, r.Query)
				}
				want, noResponse := http.StatusInternalServerError, "true"
				if s {
					want, noResponse = http.StatusCreated, ""
				}
				if r.Status != want || r.Attr("appstats.http.no_response") != noResponse || r.Panic == "" || !s && r.ResponseBytes != 0 {
					t.Errorf("%s?%s: recorded status %d, appstats.http.no_response=%q, %d response bytes, panic %q; want %d, %q, the panic (sent: %v)",
						r.Path, r.Query, r.Status, r.Attr("appstats.http.no_response"), r.ResponseBytes, r.Panic, want, noResponse, s)
				}
			}
		})
	}
}

// wrappedListener hands out its connections wrapped in a type that embeds
// net.Conn, as many listener wrappers do (netutil.LimitListener's, a
// PROXY-protocol reader's): the connection has no ReadFrom.
type wrappedListener struct{ net.Listener }

type wrappedConn struct{ net.Conn }

func (l wrappedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return wrappedConn{c}, nil
}

// TestPanicReadFromWrappedListener: over TCP through a listener whose
// connections lack ReadFrom, HTTP/1's ReadFrom does not flush after 512
// bytes (as over TLS): a ReadFrom of 512 to 2,048 bytes, then a panic,
// sent nothing — the client gets no response, and the record says so.
func TestPanicReadFromWrappedListener(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		w.WriteHeader(http.StatusCreated)
		io.Copy(w, struct{ io.Reader }{strings.NewReader(strings.Repeat("x", n))})
		panic(http.ErrAbortHandler)
	})
	rec, sink := newRecorder(t)
	srv := httptest.NewUnstartedServer(httpstats.NewHandler(rec, h))
	srv.Listener = wrappedListener{srv.Listener}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	defer srv.Close()
	sizes := map[string]bool{"512": false, "2048": false, "2049": true} // sent
	for n, want := range sizes {
		resp, err := srv.Client().Get(srv.URL + "/?n=" + n)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		if got := err == nil; got != want {
			t.Errorf("n=%s: the client got a response: %v (err %v), want %v", n, got, err, want)
		}
	}
	recs := flush(t, rec, sink)
	if len(recs) != len(sizes) {
		t.Fatalf("%d records, want %d", len(recs), len(sizes))
	}
	for _, r := range recs {
		n := strings.TrimPrefix(r.Query, "n=")
		want, noResponse := http.StatusInternalServerError, "true"
		if sizes[n] {
			want, noResponse = http.StatusCreated, ""
		}
		if r.Status != want || r.Attr("appstats.http.no_response") != noResponse {
			t.Errorf("n=%s: recorded status %d, appstats.http.no_response=%q; want %d, %q", n, r.Status, r.Attr("appstats.http.no_response"), want, noResponse)
		}
	}
}

// TestPanicPartialBodyBytes: a handler that wrote past net/http's
// held-back buffer, in writes of 1,000 bytes, then panicked: the client
// gets the header and the bytes that left the buffer — not those still
// in it, which net/http drops — and the record's response bytes are
// those, not all the handler wrote. On main they were all it wrote.
func TestPanicPartialBodyBytes(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		for ; n > 0; n -= 1000 {
			io.WriteString(w, strings.Repeat("x", min(n, 1000)))
		}
		panic(http.ErrAbortHandler)
	})
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			rec, sink := newRecorder(t)
			srv, client := startServer(t, httpstats.NewHandler(rec, h), p.tls, p.http2, true)
			got := map[string]int64{}
			for _, n := range []string{"3000", "5000", "9500"} {
				resp, err := client.Get(srv.URL + "/?n=" + n)
				if err != nil {
					got["n="+n] = -1 // no response: 3,000 bytes over HTTP/2
					continue
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err == nil {
					t.Errorf("n=%s: the body read whole, want it cut", n)
				}
				got["n="+n] = int64(len(b))
			}
			for _, r := range flush(t, rec, sink) {
				if got[r.Query] < 0 {
					if r.Status != 500 || r.ResponseBytes != 0 || r.Attr("appstats.http.no_response") != "true" {
						t.Errorf("%s: recorded status %d, %d bytes, no_response %q; the client got no response",
							r.Query, r.Status, r.ResponseBytes, r.Attr("appstats.http.no_response"))
					}
					continue
				}
				if r.Status != 200 || r.ResponseBytes != got[r.Query] || r.Attr("appstats.http.no_response") != "" {
					t.Errorf("%s: recorded status %d, %d bytes, no_response %q; the client got 200 and %d bytes",
						r.Query, r.Status, r.ResponseBytes, r.Attr("appstats.http.no_response"), got[r.Query])
				}
			}
		})
	}
}
