package httpstats_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

// protocols are the ways a client reaches a server in the tests: HTTP/1.1
// in clear and over TLS, HTTP/2 in clear (h2c, prior knowledge) and over
// TLS; curl holds the flags that have curl speak it.
var protocols = []struct {
	name       string
	tls, http2 bool
	curl       []string
}{
	{"http1", false, false, []string{"--http1.1"}},
	{"http1-tls", true, false, []string{"--http1.1", "-k"}},
	{"h2c", false, true, []string{"--http2-prior-knowledge"}},
	{"h2-tls", true, true, []string{"--http2", "-k"}},
}

// startServer starts h on loopback speaking the protocol, and returns it
// with a client that speaks the same. The server's error log is discarded
// when quiet is set.
func startServer(t *testing.T, h http.Handler, useTLS, h2 bool, quiet ...bool) (*httptest.Server, *http.Client) {
	t.Helper()
	return startServerWith(t, h, useTLS, h2, len(quiet) > 0 && quiet[0], nil)
}

// startServerWith is startServer with configure, when not nil, called on
// the server's http.Server before it starts (to set a ConnState hook).
func startServerWith(t *testing.T, h http.Handler, useTLS, h2, quiet bool, configure func(*http.Server)) (*httptest.Server, *http.Client) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = h2
	if quiet {
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	}
	if configure != nil {
		configure(srv.Config)
	}
	if useTLS {
		srv.StartTLS()
	} else {
		if h2 {
			srv.Config.Protocols = new(http.Protocols)
			srv.Config.Protocols.SetUnencryptedHTTP2(true)
		}
		srv.Start()
	}
	t.Cleanup(srv.Close)
	client := srv.Client()
	if h2 && !useTLS {
		tr := client.Transport.(*http.Transport).Clone()
		tr.Protocols = new(http.Protocols)
		tr.Protocols.SetUnencryptedHTTP2(true)
		client = &http.Client{Transport: tr}
	}
	return srv, client
}

// TestWriterInterfaces checks, over each protocol, that the wrapped writer
// claims exactly what the server's writer claims, that streaming through
// http.ResponseController works, and that the response is recorded.
func TestWriterInterfaces(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			rec, sink := newRecorder(t)
			var bare, wrapped uint
			var proto string
			probe := func(dst *uint) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					*dst = claims(w)
					proto = r.Proto
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
			srv, client := startServer(t, mux, p.tls, p.http2)
			_, b1 := get(t, client, srv.URL+"/bare")
			_, b2 := get(t, client, srv.URL+"/wrapped")
			if b1 != "part1;part2" || b2 != b1 {
				t.Fatalf("bodies %q %q", b1, b2)
			}
			if want := map[bool]string{false: "HTTP/1.1", true: "HTTP/2.0"}[p.http2]; proto != want {
				t.Fatalf("served over %s, want %s", proto, want)
			}
			if bare != wrapped {
				t.Fatalf("interfaces differ: bare %s, wrapped %s", maskNames(bare), maskNames(wrapped))
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
	// The client has the body before the handler returns and the record is
	// queued: wait for it rather than close the recorder under it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sink.Wait(ctx, 1)
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
// only Unwrap: the hijack works and the record says so, with the 101
// the handler wrote through the hijack's bufio.ReadWriter (0 on main).
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
	if len(recs) != 1 || recs[0].Status != http.StatusSwitchingProtocols || recs[0].Attr("appstats.http.hijacked") != "true" {
		t.Fatalf("records %+v, want one with status 101 and http.hijacked", recs)
	}
}

// TestWriterStringWriter checks that the wrapped writer keeps the server's
// io.StringWriter without copying the string, and its http.CloseNotifier,
// whose channel fires when the client goes away.
func TestWriterStringWriter(t *testing.T) {
	rec, _ := newRecorder(t, recording.WithMaxStack(0))
	s := strings.Repeat("x", 512)
	var isSW bool
	allocs := -1.0
	gone := make(chan bool, 1)
	mux := http.NewServeMux()
	mux.Handle("/write", httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, isSW = w.(io.StringWriter)
		allocs = testing.AllocsPerRun(100, func() { io.WriteString(w, s) })
	})))
	mux.Handle("/notify", httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		//lint:ignore SA1019 the wrapper must keep the deprecated interface that handlers still assert
		cn, ok := w.(http.CloseNotifier)
		if !ok {
			t.Error("the wrapped writer is no http.CloseNotifier")
			gone <- false
			return
		}
		w.WriteHeader(http.StatusAccepted)
		w.(http.Flusher).Flush()
		select {
		case <-cn.CloseNotify():
			gone <- true
		case <-time.After(time.Minute):
			gone <- false
		}
	})))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	_, body := get(t, srv.Client(), srv.URL+"/write")
	if !isSW {
		t.Error("the wrapped writer is no io.StringWriter")
	}
	if allocs != 0 {
		t.Errorf("io.WriteString allocates %v times through the wrapped writer, want 0", allocs)
	}
	if len(body) != 101*len(s) {
		t.Errorf("body is %d bytes, want %d", len(body), 101*len(s))
	}

	// The client hangs up once the header is in; CloseNotify says so.
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(conn, "GET /notify HTTP/1.1\r\nHost: x\r\n\r\n")
	line, _ := bufio.NewReader(conn).ReadString('\n')
	conn.Close()
	if !strings.HasPrefix(line, "HTTP/1.1 202") {
		t.Fatalf("status line %q", line)
	}
	if !<-gone {
		t.Error("CloseNotify did not fire when the client went away")
	}
}
