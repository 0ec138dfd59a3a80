package httpstats_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

// A seen is what a client got for one request: compared between the bare
// handler and the same handler through the middleware.
type seen struct {
	status  int
	header  string // sorted, Date left out
	body    string
	trailer string
	err     string // the transport's or the body's read error, kind only
	conns   int64  // connections the server had accepted by the answer (0 over h2c: see serveBoth)
	n       int    // body bytes read
}

func headerString(h http.Header) string {
	var lines []string
	for k, vs := range h {
		if k == "Date" {
			continue
		}
		lines = append(lines, k+": "+strings.Join(vs, ", "))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// serveBoth serves h bare and through the middleware (rec's) over protocol
// p, sends each request to both, one after another on one client each, and
// returns what the clients got. The connections the server accepted are
// counted over HTTP/1, where a response may close its connection (an
// aborted handler, Connection: close), and over TLS HTTP/2; not over h2c,
// where no response closes its connection (an abort resets its stream)
// and the client at times dials a second one for the next request, bare
// or wrapped alike (TestReverseProxyThrough/h2c failed about one run in
// ten under -race on the count alone), which says nothing of the
// middleware.
func serveBoth(t *testing.T, rec *recording.Recorder, h http.Handler, useTLS, h2 bool, reqs []func(base string) *http.Request) (bare, wrapped []seen) {
	t.Helper()
	run := func(h http.Handler) []seen {
		var conns atomic.Int64
		srv := httptest.NewUnstartedServer(h)
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				conns.Add(1)
			}
		}
		srv.EnableHTTP2 = h2
		if useTLS {
			srv.StartTLS()
		} else {
			if h2 {
				srv.Config.Protocols = new(http.Protocols)
				srv.Config.Protocols.SetUnencryptedHTTP2(true)
			}
			srv.Start()
		}
		defer srv.Close()
		client := srv.Client()
		tr := client.Transport.(*http.Transport).Clone()
		tr.DisableCompression = true
		if h2 && !useTLS {
			tr.Protocols = new(http.Protocols)
			tr.Protocols.SetUnencryptedHTTP2(true)
		}
		client = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		var out []seen
		count := func() int64 {
			if h2 && !useTLS {
				return 0
			}
			return conns.Load()
		}
		for _, mk := range reqs {
			req := mk(srv.URL)
			resp, err := client.Do(req)
			if err != nil {
				out = append(out, seen{err: errKind(err), conns: count()})
				continue
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			s := seen{status: resp.StatusCode, header: headerString(resp.Header), body: string(b), trailer: headerString(resp.Trailer), conns: count(), n: len(b)}
			if _, bd, ok := strings.Cut(resp.Header.Get("Content-Type"), "boundary="); ok {
				// multipart/byteranges' boundary is random.
				s.header = strings.ReplaceAll(s.header, bd, "BOUNDARY")
				s.body = strings.ReplaceAll(s.body, bd, "BOUNDARY")
			}
			if err != nil {
				s.err = errKind(err)
			}
			out = append(out, s)
		}
		tr.CloseIdleConnections()
		return out
	}
	return run(h), run(httpstats.NewHandler(rec, h))
}

// errKind reduces a client error to what does not name an address.
func errKind(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}

func sameSeen(t *testing.T, what string, bare, wrapped []seen) {
	t.Helper()
	for i := range bare {
		if bare[i] != wrapped[i] {
			t.Errorf("%s, request %d:\nbare    %+v\nwrapped %+v", what, i, bare[i], wrapped[i])
		}
	}
}

func byPath(recs []*recording.Record) map[string][]*recording.Record {
	m := map[string][]*recording.Record{}
	for _, r := range recs {
		m[r.Path] = append(m[r.Path], r)
	}
	return m
}

func newReq(method, path string, hdr ...string) func(string) *http.Request {
	return func(base string) *http.Request {
		req, _ := http.NewRequest(method, base+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		return req
	}
}

// TestReverseProxyThrough: net/http/httputil.ReverseProxy behind the
// middleware, over each protocol: a streamed response, one with
// trailers, one whose backend dies mid-body, gets the client the same
// status, header, body, trailers and error as the bare proxy, and the
// same connection reuse over HTTP/1 and TLS HTTP/2 (not checked over h2c,
// where the client may dial again whether or not the middleware is there:
// see serveBoth); and the records say what the client got.
func TestReverseProxyThrough(t *testing.T) {
	backend := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/stream":
			for i := range 3 {
				fmt.Fprintf(w, "part %d\n", i)
				w.(http.Flusher).Flush()
			}
		case "/trailers":
			w.Header().Set("Trailer", "X-Sum")
			io.WriteString(w, "body")
			w.Header().Set("X-Sum", "42")
		case "/dies":
			w.Header().Set("Content-Length", "100")
			io.WriteString(w, "only ten b")
			w.(http.Flusher).Flush()
			c, _, _ := http.NewResponseController(w).Hijack()
			c.Close()
		case "/dies-late":
			w.Header().Set("Content-Length", "10000")
			io.WriteString(w, strings.Repeat("y", 5000))
			w.(http.Flusher).Flush()
			c, _, _ := http.NewResponseController(w).Hijack()
			c.Close()
		case "/big":
			io.WriteString(w, strings.Repeat("x", 100<<10))
		}
	}))
	backend.Config.ErrorLog = log.New(io.Discard, "", 0)
	backend.Start()
	defer backend.Close()
	u, _ := url.Parse(backend.URL)
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ErrorLog = log.New(io.Discard, "", 0)
	reqs := []func(string) *http.Request{
		newReq("GET", "/stream"), newReq("GET", "/trailers"), newReq("GET", "/big"),
		newReq("GET", "/dies"), newReq("GET", "/stream"), newReq("GET", "/dies-late"),
	}
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			rec, sink := newRecorder(t)
			bare, wrapped := serveBoth(t, rec, proxy, p.tls, p.http2, reqs)
			sameSeen(t, "ReverseProxy", bare, wrapped)
			if bare[1].trailer != "X-Sum: 42" || bare[0].body != "part 0\npart 1\npart 2\n" {
				t.Errorf("bare: %+v", bare)
			}
			recs := byPath(flush(t, rec, sink))
			for path, want := range map[string]int64{"/stream": 21, "/trailers": 4, "/big": 100 << 10} {
				for _, r := range recs[path] {
					if r.Status != 200 || r.ResponseBytes != want || r.Error != "" || r.Panic != "" {
						t.Errorf("%s: recorded status %d, %d bytes, error %q, panic %q; want 200, %d, none", path, r.Status, r.ResponseBytes, r.Error, r.Panic, want)
					}
				}
			}
			// The client got no response or a cut one (HTTP/1's client
			// tries a GET again on a connection that broke before a
			// response: a record each time); the records say which.
			rs := recs["/dies"]
			if len(rs) == 0 {
				t.Errorf("/dies: no record")
			}
			for _, r := range rs {
				gotResp := bare[3].status != 0
				if r.Panic == "" || gotResp != (r.Attr("appstats.http.no_response") == "") || gotResp && int64(bare[3].n) != r.ResponseBytes {
					t.Errorf("/dies: the client got a response: %v, %d bytes (%s); recorded status %d, no_response %q, %d bytes, panic %q",
						gotResp, bare[3].n, bare[3].err, r.Status, r.Attr("appstats.http.no_response"), r.ResponseBytes, r.Panic)
				}
			}
			// Past net/http's buffer: the client got the header and
			// what left the buffer, and so says the record.
			for _, r := range recs["/dies-late"] {
				if bare[5].status != 200 || r.Status != 200 || r.ResponseBytes != int64(bare[5].n) || r.Panic == "" {
					t.Errorf("/dies-late: the client got %d, %d bytes (%s); recorded status %d, %d bytes, panic %q",
						bare[5].status, bare[5].n, bare[5].err, r.Status, r.ResponseBytes, r.Panic)
				}
			}
		})
	}
}

// TestFileServerThrough: http.FileServer under http.StripPrefix on a
// ServeMux, behind the middleware: Range (one and two ranges),
// If-None-Match and If-Modified-Since (304), HEAD, a directory redirect,
// a missing file — the client gets what it gets from the bare handler,
// and each record has the status and the body bytes the client got, and
// the mux's pattern for the route.
func TestFileServerThrough(t *testing.T) {
	dir := t.TempDir()
	content := bytes.Repeat([]byte("0123456789"), 1000)
	if err := os.WriteFile(filepath.Join(dir, "f.txt"), content, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	os.Chtimes(filepath.Join(dir, "f.txt"), mtime, mtime)
	fs := http.FileServer(http.Dir(dir))
	mux := http.NewServeMux()
	mux.Handle("/static/", http.StripPrefix("/static", fs))
	mux.Handle("GET /etag/{name}", http.StripPrefix("/etag", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		fs.ServeHTTP(w, r)
	})))
	reqs := []func(string) *http.Request{
		newReq("GET", "/static/f.txt"),
		newReq("GET", "/static/f.txt", "Range", "bytes=10-19"),
		newReq("GET", "/static/f.txt", "Range", "bytes=0-4,100-104"),
		newReq("GET", "/static/f.txt", "Range", "bytes=20000-"),
		newReq("GET", "/etag/f.txt", "If-None-Match", `"v1"`),
		newReq("GET", "/etag/f.txt", "If-None-Match", `"v0"`, "Range", "bytes=0-0"),
		newReq("GET", "/static/f.txt", "If-Modified-Since", mtime.Add(time.Hour).Format(http.TimeFormat)),
		newReq("HEAD", "/static/f.txt"),
		newReq("GET", "/static/sub"),
		newReq("GET", "/static/missing"),
	}
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			rec, sink := newRecorder(t)
			bare, wrapped := serveBoth(t, rec, mux, p.tls, p.http2, reqs)
			sameSeen(t, "FileServer", bare, wrapped)
			recs := flush(t, rec, sink)
			if len(recs) != len(reqs) {
				t.Fatalf("%d records, want %d", len(recs), len(reqs))
			}
			// The records come in the order the requests were served.
			slices.SortFunc(recs, func(a, b *recording.Record) int { return a.Start.Compare(b.Start) })
			for i, r := range recs {
				got := wrapped[i]
				wantBytes := int64(got.n)
				if r.Method == "HEAD" {
					wantBytes = 0
				}
				if r.Status != got.status || r.ResponseBytes != wantBytes {
					t.Errorf("request %d (%s %s): recorded status %d, %d bytes; the client got %d, %d bytes", i, r.Method, r.Path, r.Status, r.ResponseBytes, got.status, wantBytes)
				}
				wantRoute := "/static/"
				if strings.HasPrefix(r.Path, "/etag/") {
					wantRoute = "GET /etag/{name}"
				}
				if r.Route != wantRoute {
					t.Errorf("request %d (%s): route %q, want %q", i, r.Path, r.Route, wantRoute)
				}
			}
		})
	}
}

// TestReverseProxyWebSocket: ReverseProxy behind the middleware passes a
// websocket upgrade (101 Switching Protocols) on to a websocket backend
// and copies the frames both ways, as bare (it hijacks the connection
// through the wrapped writer); the record is hijacked. Over
// HTTP/1 and TLS, where upgrades are.
func TestReverseProxyWebSocket(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		typ, b, err := c.Read(r.Context())
		if err != nil {
			return
		}
		c.Write(r.Context(), typ, append([]byte("echo "), b...))
		c.Close(websocket.StatusNormalClosure, "")
	}))
	defer backend.Close()
	u, _ := url.Parse(backend.URL)
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ErrorLog = log.New(io.Discard, "", 0)
	for _, p := range protocols[:2] {
		t.Run(p.name, func(t *testing.T) {
			rec, sink := newRecorder(t)
			for _, h := range []http.Handler{proxy, httpstats.NewHandler(rec, proxy)} {
				srv, client := startServer(t, h, p.tls, false, true)
				ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
				c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", &websocket.DialOptions{HTTPClient: client})
				if err != nil {
					cancel()
					t.Fatalf("dial: %v", err)
				}
				if resp.StatusCode != http.StatusSwitchingProtocols {
					t.Errorf("status %d, want 101", resp.StatusCode)
				}
				if err := c.Write(ctx, websocket.MessageText, []byte("hi")); err != nil {
					t.Fatal(err)
				}
				if _, b, err := c.Read(ctx); err != nil || string(b) != "echo hi" {
					t.Errorf("read %q, %v; want echo hi", b, err)
				}
				c.Close(websocket.StatusNormalClosure, "")
				cancel()
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			recs := sink.Wait(ctx, 1)
			// ReverseProxy hijacks the connection first and writes the
			// backend's 101 on it itself, through the hijack's
			// bufio.ReadWriter: the record reads it there (on main it
			// had status 0).
			if len(recs) != 1 || recs[0].Status != http.StatusSwitchingProtocols || recs[0].Attr("appstats.http.hijacked") != "true" || recs[0].Panic != "" || recs[0].Error != "" {
				t.Fatalf("records %d: status %d, hijacked %q, panic %q, error %q, attrs %v; want one, hijacked, status 101", len(recs), recs[0].Status, recs[0].Attr("appstats.http.hijacked"), recs[0].Panic, recs[0].Error, recs[0].Attrs)
			}
		})
	}
}
