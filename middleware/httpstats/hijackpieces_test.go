package httpstats_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/middleware/httpstats"
)

// TestHijackStatusInPieces: a status line written through the hijack's
// bufio.ReadWriter in pieces, each flushed, is the record's status as a
// whole one is (on main, one split before its 13th byte was recorded 0);
// and every piece reaches the client at its flush, before the handler
// writes the next — the client reads each piece, then lets the handler
// go on: a watch that held bytes back for its parse would hang here
// (the connection's deadline ends it with an error). What the client
// reads is what the handler wrote, byte for byte.
func TestHijackStatusInPieces(t *testing.T) {
	const head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n"
	for _, tc := range []struct {
		name   string
		pieces []string
		want   int
	}{
		{"whole", []string{head}, http.StatusSwitchingProtocols},
		{"10|1", []string{"HTTP/1.1 10", head[11:]}, http.StatusSwitchingProtocols},
		{"101|crlf", []string{"HTTP/1.1 101", head[12:]}, http.StatusSwitchingProtocols},
		{"bytes", strings.Split(head[:20], ""), http.StatusSwitchingProtocols},
		{"403", []string{"HTT", "P/1.1 4", "03 Forbidden\r\nContent-Length: 0\r\n\r\n"}, http.StatusForbidden},
		{"not-a-status", []string{"HTTP/1.", "1 abc", " rest\r\n\r\n"}, 0},
		{"not-http", []string{"hell", "o world, not a status line"}, 0},
		{"http1.0-bytes", strings.Split("HTTP/1.0 200 OK\r\n\r\n", ""), http.StatusOK},
		{"not-http-bytes", strings.Split("hello world, not a status line", ""), 0},
		{"13|rest", []string{head[:13], head[13:]}, http.StatusSwitchingProtocols},
		{"12|1|rest", []string{head[:12], head[12:13], head[13:]}, http.StatusSwitchingProtocols},
		{"5|long", []string{head[:5], head[5:]}, http.StatusSwitchingProtocols},
		{"nothing", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, sink := newRecorder(t)
			read := make(chan struct{})
			h := httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, brw, err := http.NewResponseController(w).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				defer c.Close()
				for _, p := range tc.pieces {
					brw.WriteString(p)
					brw.Flush()
					select { // the client read the piece
					case <-read:
					case <-time.After(30 * time.Second):
						t.Error("the client did not read a piece")
						return
					}
				}
			}))
			srv := httptest.NewServer(h)
			defer srv.Close()
			c := dialUpgrade(t, srv)
			var got strings.Builder
			for i, p := range tc.pieces {
				b := make([]byte, len(p))
				if _, err := io.ReadFull(c, b); err != nil {
					t.Fatalf("piece %d (%q): %v, read %q before it", i, p, err, got.String())
				}
				got.Write(b)
				read <- struct{}{}
			}
			if want := strings.Join(tc.pieces, ""); got.String() != want {
				t.Errorf("the client read %q, want %q", got.String(), want)
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			recs := sink.Wait(ctx, 1)
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1", len(recs))
			}
			if r := recs[0]; r.Status != tc.want || r.Error != "" {
				t.Errorf("recorded status %d, error %q; want %d, none", r.Status, r.Error, tc.want)
			}
		})
	}
}

// TestHijackStatusWriteFailed: a status line written through the hijack's
// bufio.ReadWriter on a connection already closed reaches no client: the
// record keeps the status the handler wrote and takes the failed write as
// its error ("response failed: write: …"), as it does for a response
// whose write or flush failed without a hijack (on main, 101 with no
// error: the record said the upgrade went through); one whose first piece
// failed is recorded with status 0 (the rest never left the handler's
// bufio.Writer) and the error. The handler sees the write fail as it
// would unwrapped.
func TestHijackStatusWriteFailed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		pieces []string
		want   int
	}{
		{"whole", []string{"HTTP/1.1 101 Switching Protocols\r\n\r\n"}, http.StatusSwitchingProtocols},
		// The bufio.Writer keeps its first error: the second piece
		// never reaches the connection, nor the watch, which saw no
		// status line.
		{"pieces", []string{"HTTP/1.1 1", "01 Switching Protocols\r\n\r\n"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, sink := newRecorder(t)
			var flushErrs []error
			h := httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, brw, err := http.NewResponseController(w).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				c.Close()
				for _, p := range tc.pieces {
					brw.WriteString(p)
					flushErrs = append(flushErrs, brw.Flush())
				}
			}))
			srv := httptest.NewServer(h)
			defer srv.Close()
			c := dialUpgrade(t, srv)
			if b, _ := io.ReadAll(bufio.NewReader(c)); len(b) != 0 {
				t.Errorf("the client read %q, want nothing", b)
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			recs := sink.Wait(ctx, 1)
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1", len(recs))
			}
			if flushErrs[0] == nil {
				t.Errorf("the handler's flush on a closed connection did not fail")
			}
			r := recs[0]
			if r.Status != tc.want || !strings.HasPrefix(r.Error, "response failed: write: ") || !strings.Contains(r.Error, "closed") {
				t.Errorf("recorded status %d, error %q; want %d, response failed: write: …closed…", r.Status, r.Error, tc.want)
			}
		})
	}
}

// TestHijackReadFromFailed: the first bytes sent through the hijack's
// bufio.ReadWriter by its ReadFrom (which hands them to the connection's
// own ReadFrom, TCP's splice or sendfile) on a connection already closed
// reach no client, as a failed Write's: the record has the failed send as
// its error ("response failed: write: …"), not a response that went
// through (on land71 no error: a first Write that failed was recorded, a
// first ReadFrom not). The status line the ReadFrom sent is the record's
// status, as a failed Write's is (TestHijackStatusWriteFailed; 0 on
// i46-http's base, where a ReadFrom's status line was not read).
func TestHijackReadFromFailed(t *testing.T) {
	rec, sink := newRecorder(t)
	var copyErr error
	h := httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		c.Close()
		_, copyErr = brw.ReadFrom(strings.NewReader("HTTP/1.1 101 Switching Protocols\r\n\r\n"))
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := dialUpgrade(t, srv)
	if b, _ := io.ReadAll(bufio.NewReader(c)); len(b) != 0 {
		t.Errorf("the client read %q, want nothing", b)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	recs := sink.Wait(ctx, 1)
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	if copyErr == nil {
		t.Errorf("the handler's ReadFrom on a closed connection did not fail")
	}
	if r := recs[0]; r.Status != http.StatusSwitchingProtocols || !strings.HasPrefix(r.Error, "response failed: write: ") || !strings.Contains(r.Error, "closed") {
		t.Errorf("recorded status %d, error %q; want 101, response failed: write: …closed…", r.Status, r.Error)
	}
}

// TestHijackAfterStatusWriteFailed: a handler that wrote its 101 before
// the hijack (coder/websocket's Accept does, then writes its frames
// through the hijack's bufio.ReadWriter) and whose first bytes after it
// fail — the client gone right after the upgrade — is recorded 101 with
// no error: the status went through, and the bytes after the upgrade are
// no part of the HTTP response (on land71, "response failed: write: …
// closed …": the watch, there for a status line the handler might write,
// took the first frame's failed write as the response's).
func TestHijackAfterStatusWriteFailed(t *testing.T) {
	rec, sink := newRecorder(t)
	var flushErr error
	h := httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Upgrade", "x")
		w.Header().Set("Connection", "Upgrade")
		w.WriteHeader(http.StatusSwitchingProtocols)
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		c.Close()
		brw.WriteString("\x81\x02hi") // a WebSocket text frame
		flushErr = brw.Flush()
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := dialUpgrade(t, srv)
	if b, _ := io.ReadAll(bufio.NewReader(c)); !strings.HasPrefix(string(b), "HTTP/1.1 101 ") || !strings.HasSuffix(string(b), "\r\n\r\n") {
		t.Errorf("the client read %q, want the 101 alone", b)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	recs := sink.Wait(ctx, 1)
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	if flushErr == nil {
		t.Errorf("the handler's flush on a closed connection did not fail")
	}
	if r := recs[0]; r.Status != http.StatusSwitchingProtocols || r.Error != "" {
		t.Errorf("recorded status %d, error %q; want 101, none", r.Status, r.Error)
	}
}

// dialUpgrade connects to srv and sends the request the hijack tests
// answer, a GET asking to upgrade the connection. The connection is closed
// when the test ends, and its reads and writes fail after 30 s rather than
// hang.
func dialUpgrade(t *testing.T, srv *httptest.Server) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n")
	return c
}
