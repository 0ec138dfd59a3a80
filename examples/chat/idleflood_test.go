package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/goappstats/appstats"
)

// countingListener counts the connections its Accept returned and how many
// of them are open (not closed, by the server or by whoever wraps it), and
// the calls of Accept begun.
type countingListener struct {
	net.Listener
	accepted, open, calls atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	l.calls.Add(1)
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.accepted.Add(1)
	l.open.Add(1)
	return &countedConn{Conn: c, l: l}, nil
}

type countedConn struct {
	net.Conn
	l    *countingListener
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}

// TestIdleConnsCapped opens 2,000 TCP connections to the hub that never
// send a request — from one address, then from 253 (127.0.0.2 to
// 127.0.0.254) — and checks that the hub holds a bounded number of them
// (each costs a goroutine and ~20 KB until its header timeout), that
// a browser's websocket opened before the flood is not among those
// closed, and that the app's own requests still get through: a post
// notifies the hub, which pushes UPDATED to the browser and to one that
// connects during the flood.
func TestIdleConnsCapped(t *testing.T) {
	const n = 2000
	for _, tt := range []struct {
		name  string
		from  func(i int) string // the client address of the i-th connection
		bound int64              // the idle connections the hub may keep, and the websocket
	}{
		{"one address", func(int) string { return "127.0.0.2" }, 32 + 1},
		{"253 addresses", func(i int) string { return "127.0.0." + strconv.Itoa(2+i%253) }, 256 + 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config("", slog.New(slog.DiscardHandler))
			cfg.Dir, cfg.InMemory, cfg.NoOTLP = "", true, true
			as, err := appstats.Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer as.Close()
			hubLn := &countingListener{Listener: listen(t, "127.0.0.1:0")}
			c, err := start(as, listen(t, "127.0.0.1:0"), hubLn, filepath.Join(t.TempDir(), "chat.sqlite"), defaultHubConfig(), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				c.shutdown(ctx)
			}()
			tc := &testChat{chat: c, as: as}
			before := tc.dialHub(t)
			for hubLn.accepted.Load() < 1 { // the websocket's connection
				runtime.Gosched()
			}
			goroutines := runtime.NumGoroutine()

			var d net.Dialer
			var conns []net.Conn
			defer func() {
				for _, c := range conns {
					c.Close()
				}
			}()
			for i := range n {
				d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(tt.from(i))}
				conn, err := d.Dial("tcp", hubLn.Addr().String())
				if err != nil {
					t.Fatalf("dial %d: %v", i, err)
				}
				conns = append(conns, conn)
			}
			// A hang guard only: the server accepts all of them. Once
			// Accept is called again, the hub has made room for the last
			// (when its Accept returned the last, the one to close was
			// still open).
			deadline := time.Now().Add(time.Minute)
			for hubLn.calls.Load() < n+2 {
				if time.Now().After(deadline) {
					t.Fatalf("the hub accepted %d of %d connections", hubLn.accepted.Load(), n+1)
				}
				time.Sleep(time.Millisecond)
			}
			if open := hubLn.open.Load(); open > tt.bound {
				t.Fatalf("the hub holds %d of %d idle connections open, want %d at most", open, n, tt.bound)
			}
			// The goroutines of the connections closed end (a hang guard
			// only; the hub holds a goroutine a connection it keeps).
			for runtime.NumGoroutine() > goroutines+int(tt.bound)+50 {
				if time.Now().After(deadline) {
					t.Fatalf("%d goroutines, %d before the flood", runtime.NumGoroutine(), goroutines)
				}
				time.Sleep(time.Millisecond)
			}

			during := tc.dialHub(t)
			resp, err := http.PostForm(c.appURL+"/comments", url.Values{"name": {"ada"}, "text": {"hello"}})
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("post: %s", resp.Status)
			}
			for _, ws := range []*websocket.Conn{before, during} {
				if got := readWS(t, ws); got != updated {
					t.Fatalf("pushed %q, want %q", got, updated)
				}
			}
		})
	}
}

// TestConnCapBusy checks connCap when every connection it holds is busy
// with a request: a new one is answered 503 (429 over the bound of its
// address), with why, and closed.
func TestConnCapBusy(t *testing.T) {
	ln := listen(t, "127.0.0.1:0")
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(2)
	l := newConnCap(ln, 2, 2, nil, slog.New(slog.DiscardHandler))
	srv := &http.Server{ConnState: l.connState, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/block" {
			started.Done()
			<-release
		}
		io.WriteString(w, "ok")
	})}
	go srv.Serve(l)
	defer srv.Close()
	addr := ln.Addr().String()
	get := func(from, path string) (*http.Response, error) {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		cl := &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: path == "/block"}}
		return cl.Get("http://" + addr + path)
	}
	for range 2 {
		go func() {
			if resp, err := get("127.0.0.3", "/block"); err == nil {
				resp.Body.Close()
			}
		}()
	}
	started.Wait()
	for _, tt := range []struct {
		from string
		want int
	}{{"127.0.0.3", http.StatusTooManyRequests}, {"127.0.0.4", http.StatusServiceUnavailable}} {
		resp, err := get(tt.from, "/")
		if err != nil {
			t.Fatalf("from %s: %v", tt.from, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want || !strings.Contains(string(body), "the hub is busy with 2 requests") {
			t.Errorf("from %s, with both connections busy: %s %q, want %d", tt.from, resp.Status, body, tt.want)
		}
	}
	close(release)
}
