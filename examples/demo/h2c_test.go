package main

import (
	"io"
	"net"
	"net/http"
	"testing"

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
	srv := newServer(h)
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
