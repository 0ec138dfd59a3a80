package main

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats"
)

// TestH2C: the demo's server speaks HTTP/2 without TLS to a client that
// knows it does (curl --http2-prior-knowledge, a Go client with
// Protocols.SetUnencryptedHTTP2), and HTTP/1.1 as before: the shop's pages
// and the dashboard, its API and its event stream.
func TestH2C(t *testing.T) {
	as, err := appstats.Open(appstats.Config{InMemory: true, NoOTLP: true})
	if err != nil {
		t.Fatal(err)
	}
	defer as.Close()
	h, closeApp, err := newApp(as)
	if err != nil {
		t.Fatal(err)
	}
	defer closeApp()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(h, idleTimeout)
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	for _, proto := range []struct {
		name  string
		major int
		set   func(*http.Protocols)
	}{
		{"h2c", 2, func(p *http.Protocols) { p.SetUnencryptedHTTP2(true) }},
		{"HTTP/1.1", 1, func(p *http.Protocols) { p.SetHTTP1(true) }},
	} {
		tr := &http.Transport{Protocols: new(http.Protocols)}
		proto.set(tr.Protocols)
		c := &http.Client{Transport: tr}
		for _, path := range []string{"/", "/home", "/stats/", "/stats/api/stats", "/stats/api/records"} {
			resp, err := c.Get(base + path)
			if err != nil {
				t.Errorf("%s %s: %v", proto.name, path, err)
				continue
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.ProtoMajor != proto.major {
				t.Errorf("%s %s: %d over %s", proto.name, path, resp.StatusCode, resp.Proto)
			}
		}
		// The dashboard's live stream opens and sends its first event.
		resp, err := c.Get(base + "/stats/events")
		if err != nil {
			t.Errorf("%s events: %v", proto.name, err)
		} else {
			buf := make([]byte, 1)
			_, rerr := io.ReadFull(resp.Body, buf)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.ProtoMajor != proto.major || rerr != nil {
				t.Errorf("%s events: %d over %s, first byte: %v", proto.name, resp.StatusCode, resp.Proto, rerr)
			}
		}
		tr.CloseIdleConnections()
	}
}

// TestProductID: a product page's ID goes into the backend's URL, so one
// that is not a number (dot segments, a query, a fragment: a path of the
// backend's other than a product's) is refused with 400 and a message,
// rather than sent on (/product/%2e%2e fetched the backend's
// /api/products/.. and answered 502).
func TestProductID(t *testing.T) {
	_, srv := serveDemo(t, appstats.Config{InMemory: true, NoOTLP: true})
	for _, tt := range []struct {
		path string
		code int
	}{
		{"/product/7", 200}, {"/product/%2e%2e", 400}, {"/product/..%2f..%2fapi%2fcart", 400},
		{"/product/7%3Fx=1", 400}, {"/product/7%23x", 400}, {"/product/abc", 400}, {"/product/-1", 400},
		{"/product/99999999999999999999999", 400},
	} {
		resp, err := http.Get(srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.code || tt.code == 400 && !strings.Contains(string(b), "product id") {
			t.Errorf("%s: %d %q, want %d", tt.path, resp.StatusCode, b, tt.code)
		}
	}
}

// TestIdleH2CClosed: an h2c connection that sends the preface and its
// settings and then nothing is closed once idle for the server's idle
// time (without IdleTimeout it stayed open for good: ReadHeaderTimeout
// does not bound HTTP/2).
func TestIdleH2CClosed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(http.NotFoundHandler(), 200*time.Millisecond)
	go srv.Serve(ln)
	defer srv.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The client preface, then an empty SETTINGS frame.
	if _, err := io.WriteString(c, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00"); err != nil {
		t.Fatal(err)
	}
	// A hang guard only: the server closes after 200 ms idle.
	c.SetReadDeadline(time.Now().Add(time.Minute))
	if _, err := io.Copy(io.Discard, c); err != nil {
		t.Fatalf("the idle connection was not closed by the server: %v", err)
	}
}
