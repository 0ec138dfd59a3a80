package httpstats_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/goappstats/appstats/middleware/httpstats"
)

// TestReverseProxyUpgradeBytes: a websocket client, written by hand on a
// raw connection, upgrades through httputil.ReverseProxy to a
// coder/websocket echo backend, sends a message and a close, and reads
// all it is sent until the connection ends: through the middleware it
// reads the same bytes as bare (the 101 head, Date left out; the echo and
// the close frames). The record has the status the client got, 101 (on
// main 0: ReverseProxy hijacks first and writes the backend's 101 on the
// connection itself), hijacked, and no HTTP body either way (the frames
// after the upgrade are no part of the HTTP message, as gorillastats
// counts them); it is finished when the connection is, which the proxy's
// handler waits for: none while the connection is open.
func TestReverseProxyUpgradeBytes(t *testing.T) {
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
	date := regexp.MustCompile(`(?m)^Date: .*\r\n`)
	for _, p := range protocols[:2] {
		t.Run(p.name, func(t *testing.T) {
			rec, sink := newRecorder(t)
			var got [2][]byte
			for i, h := range []http.Handler{proxy, httpstats.NewHandler(rec, proxy)} {
				srv, _ := startServer(t, h, p.tls, false, true)
				var c net.Conn
				var err error
				if p.tls {
					c, err = tls.Dial("tcp", srv.Listener.Addr().String(), &tls.Config{InsecureSkipVerify: true})
				} else {
					c, err = net.Dial("tcp", srv.Listener.Addr().String())
				}
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(30 * time.Second))
				io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
					"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
				br := bufio.NewReader(c)
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode != http.StatusSwitchingProtocols {
					t.Fatalf("status %d, want 101", resp.StatusCode)
				}
				var head bytes.Buffer
				resp.Write(&head)
				c.Write(maskedFrame(0x1, []byte("hi")))
				echo := make([]byte, 9) // 0x81 0x07 "echo hi"
				if _, err := io.ReadFull(br, echo); err != nil || string(echo[2:]) != "echo hi" {
					t.Fatalf("echo %q, %v", echo, err)
				}
				if i == 1 {
					// The connection is open: the proxy's handler runs,
					// and its record is not finished.
					if n := len(sink.Records()); n != 0 {
						t.Errorf("%d records while the connection is open, want none", n)
					}
				}
				c.Write(maskedFrame(0x8, []byte{0x03, 0xe8})) // close, 1000
				rest, err := io.ReadAll(br)
				if err != nil {
					t.Fatal(err)
				}
				// The proxy ends its side (CloseWrite) when the backend
				// ends; its handler returns when the client closes.
				c.Close()
				got[i] = append(append(date.ReplaceAll(head.Bytes(), nil), echo...), rest...)
			}
			if !bytes.Equal(got[0], got[1]) {
				t.Errorf("the client read\n%q\nthrough the middleware, and bare\n%q", got[1], got[0])
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			recs := sink.Wait(ctx, 1)
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1", len(recs))
			}
			r := recs[0]
			if r.Status != http.StatusSwitchingProtocols || r.Attr("appstats.http.hijacked") != "true" || r.ResponseBytes != 0 || r.RequestBytes != 0 || r.Error != "" || r.Panic != "" {
				t.Errorf("recorded status %d, hijacked %q, %d response and %d request bytes, error %q, panic %q; want 101, hijacked, none, none",
					r.Status, r.Attr("appstats.http.hijacked"), r.ResponseBytes, r.RequestBytes, r.Error, r.Panic)
			}
		})
	}
}

// maskedFrame returns a final websocket frame of the opcode and a short
// payload, masked as a client's must be.
func maskedFrame(op byte, payload []byte) []byte {
	mask := [4]byte{1, 2, 3, 4}
	f := []byte{0x80 | op, 0x80 | byte(len(payload)), mask[0], mask[1], mask[2], mask[3]}
	for i, b := range payload {
		f = append(f, b^mask[i%4])
	}
	return f
}

// TestHijackStatusWhere: the status a hijacking handler writes itself is
// the record's when written through the hijack's bufio.ReadWriter before
// the handler returns; one written on the connection directly (as
// gorilla/websocket writes its 101), or through the ReadWriter by a
// goroutine after the handler returned, is not seen: status 0, as
// documented. The client reads the same status line each way, and the
// late writer races nothing (-race).
func TestHijackStatusWhere(t *testing.T) {
	for _, tc := range []struct {
		name string
		want int
		h    func(c net.Conn, brw *bufio.ReadWriter) (wait func())
	}{
		{"bufio", http.StatusSwitchingProtocols, func(c net.Conn, brw *bufio.ReadWriter) func() {
			brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n")
			brw.Flush()
			c.Close()
			return func() {}
		}},
		{"bufio-403", http.StatusForbidden, func(c net.Conn, brw *bufio.ReadWriter) func() {
			brw.WriteString("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
			brw.Flush()
			c.Close()
			return func() {}
		}},
		{"conn", 0, func(c net.Conn, brw *bufio.ReadWriter) func() {
			io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n")
			c.Close()
			return func() {}
		}},
		{"late", 0, func(c net.Conn, brw *bufio.ReadWriter) func() {
			done := make(chan struct{})
			go func() {
				defer close(done)
				time.Sleep(10 * time.Millisecond) // after the handler returned, most runs
				brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n")
				brw.Flush()
				c.Close()
			}()
			return func() { <-done }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, sink := newRecorder(t)
			waits := make(chan func(), 1)
			h := httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, brw, err := http.NewResponseController(w).Hijack()
				if err != nil {
					t.Error(err)
					waits <- func() {}
					return
				}
				waits <- tc.h(c, brw)
			}))
			srv := httptest.NewServer(h)
			defer srv.Close()
			c, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n")
			line, _ := bufio.NewReader(c).ReadString('\n')
			(<-waits)()
			if !regexp.MustCompile(`^HTTP/1.1 (101|403) `).MatchString(line) {
				t.Errorf("the client read %q", line)
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			recs := sink.Wait(ctx, 1)
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1", len(recs))
			}
			// "late": the handler returned first (most runs), status 0;
			// a run where the goroutine wrote first records 101.
			if r := recs[0]; r.Status != tc.want && !(tc.name == "late" && r.Status == http.StatusSwitchingProtocols) {
				t.Errorf("recorded status %d, want %d", r.Status, tc.want)
			}
		})
	}
}
