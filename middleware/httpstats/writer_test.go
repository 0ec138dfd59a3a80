package httpstats_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

// TestWriterInterfaces checks the wrapped writer offers exactly what the
// server's writer offers, over HTTP/1 and HTTP/2, and that streaming works.
func TestWriterInterfaces(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("http2=%v", h2), func(t *testing.T) {
			rec, sink := newRecorder(t)
			type caps struct{ flusher, hijacker, pusher, readerFrom bool }
			var bare, wrapped caps
			probe := func(dst *caps) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					_, dst.flusher = w.(http.Flusher)
					_, dst.hijacker = w.(http.Hijacker)
					_, dst.pusher = w.(http.Pusher)
					_, dst.readerFrom = w.(io.ReaderFrom)
					// Streaming through the controller.
					rc := http.NewResponseController(w)
					fmt.Fprint(w, "part1;")
					if err := rc.Flush(); err != nil {
						t.Errorf("flush: %v", err)
					}
					fmt.Fprint(w, "part2")
				}
			}
			mux := http.NewServeMux()
			mux.Handle("/bare", probe(&bare))
			mux.Handle("/wrapped", httpstats.NewHandler(rec, probe(&wrapped)))
			srv := httptest.NewUnstartedServer(mux)
			srv.EnableHTTP2 = h2
			srv.StartTLS()
			defer srv.Close()
			_, b1 := get(t, srv.Client(), srv.URL+"/bare")
			_, b2 := get(t, srv.Client(), srv.URL+"/wrapped")
			if b1 != "part1;part2" || b2 != b1 {
				t.Fatalf("bodies %q %q", b1, b2)
			}
			if bare != wrapped {
				t.Fatalf("interfaces differ: bare %+v wrapped %+v", bare, wrapped)
			}
			recs := flush(t, rec, sink)
			if len(recs) != 1 || recs[0].ResponseBytes != int64(len(b2)) || recs[0].Status != 200 {
				t.Fatalf("record: %+v", recs)
			}
		})
	}
}

func TestHijack(t *testing.T) {
	rec, sink := newRecorder(t)
	h := httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nraw ok")
		brw.Flush()
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	_, body := get(t, srv.Client(), srv.URL+"/ws")
	if body != "raw ok" {
		t.Fatalf("body %q", body)
	}
	recs := flush(t, rec, sink)
	if len(recs) != 1 || recs[0].Attr("appstats.http.hijacked") != "true" {
		t.Fatalf("records %+v", recs)
	}
}

func TestReadFromCountsBytes(t *testing.T) {
	rec, sink := newRecorder(t)
	payload := strings.Repeat("x", 100000)
	h := httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, strings.NewReader(payload)) // uses ReaderFrom on HTTP/1
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	_, body := get(t, srv.Client(), srv.URL)
	if len(body) != len(payload) {
		t.Fatalf("body %d bytes", len(body))
	}
	recs := flush(t, rec, sink)
	if recs[0].ResponseBytes != int64(len(payload)) {
		t.Fatalf("response bytes %d", recs[0].ResponseBytes)
	}
}

// unwrapOnly hides every optional interface of a ResponseWriter but Unwrap,
// as some third-party middleware do.
type unwrapOnly struct{ http.ResponseWriter }

func (u unwrapOnly) Unwrap() http.ResponseWriter { return u.ResponseWriter }

// TestHijackViaController checks a hijack made through
// http.ResponseController when the writer the middleware is given offers
// only Unwrap: the hijack works and the record says so.
func TestHijackViaController(t *testing.T) {
	rec, sink := newRecorder(t)
	inner := httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n")
		brw.Flush()
		c.Close()
	}))
	done := make(chan struct{})
	outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		inner.ServeHTTP(unwrapOnly{w}, r)
	})
	srv := httptest.NewServer(outer)
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n"))
	line, _ := bufio.NewReader(conn).ReadString('\n')
	conn.Close()
	<-done // a hijacked handler outlives srv.Close
	srv.Close()
	if got := strings.TrimSpace(line); got != "HTTP/1.1 101 Switching Protocols" {
		t.Errorf("client read %q", got)
	}
	recs := flush(t, rec, sink)
	if len(recs) != 1 || recs[0].Status != 0 || recs[0].Attr("appstats.http.hijacked") != "true" {
		t.Fatalf("records %+v, want one with status 0 and http.hijacked", recs)
	}
}

// TestWriterStringWriter checks that the wrapped writer keeps io.StringWriter
// without copying the string, and leaves out the deprecated CloseNotifier,
// as the package documentation says.
func TestWriterStringWriter(t *testing.T) {
	rec, _ := newRecorder(t, recording.WithMaxStack(0))
	s := strings.Repeat("x", 512)
	var bareCN, isCN, isSW bool
	allocs := -1.0
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		//lint:ignore SA1019 the test checks that the deprecated interface is not offered.
		_, bareCN = w.(http.CloseNotifier)
	})
	wrapped := httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		//lint:ignore SA1019 the test checks that the deprecated interface is not offered.
		_, isCN = w.(http.CloseNotifier)
		_, isSW = w.(io.StringWriter)
		allocs = testing.AllocsPerRun(100, func() { io.WriteString(w, s) })
	}))
	mux := http.NewServeMux()
	mux.Handle("/bare", bare)
	mux.Handle("/wrapped", wrapped)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get(t, srv.Client(), srv.URL+"/bare")
	_, body := get(t, srv.Client(), srv.URL+"/wrapped")
	if !bareCN {
		t.Fatal("the server's own writer is no CloseNotifier: the test proves nothing")
	}
	if isCN {
		t.Error("the wrapped writer offers http.CloseNotifier")
	}
	if !isSW {
		t.Error("the wrapped writer is no io.StringWriter")
	}
	if allocs != 0 {
		t.Errorf("io.WriteString allocates %v times through the wrapped writer, want 0", allocs)
	}
	if len(body) != 101*len(s) {
		t.Errorf("body is %d bytes, want %d", len(body), 101*len(s))
	}
}
