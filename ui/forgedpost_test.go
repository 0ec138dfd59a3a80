package ui_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/ui"
)

// TestPOSTForgedFetchHeaders: what a page on another site can make a
// browser send to the state-changing endpoints (clear, pause, resume), and
// headers forged or bent around the checks, against a loopback dashboard:
// each refused with 403, and the store and the recorder left as they were.
// A GET of them changes nothing either (405). A request that says it is
// same-origin (or typed by the user: none) passes: no browser lets a page
// on another origin say so, and a client that is not a browser can send
// anything but is no cross-site forgery.
func TestPOSTForgedFetchHeaders(t *testing.T) {
	st, _ := newStore(t, 3)
	rec := recording.New()
	defer rec.Close(context.Background())
	h := ui.NewHandler(st, ui.WithRecorder(rec))
	const host = "localhost:8080"
	count := func() int {
		rs, err := st.List(context.Background(), store.Query{})
		if err != nil {
			t.Fatal(err)
		}
		return len(rs.Records)
	}
	for _, tc := range []struct {
		name   string
		method string
		hdr    map[string]string
		code   int
	}{
		{"cross-site", "POST", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"same-site (a sibling subdomain)", "POST", map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		{"cross-site with an Origin that matches", "POST", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "http://" + host}, 403},
		{"Same-Origin capitalized", "POST", map[string]string{"Sec-Fetch-Site": "Same-Origin"}, 403},
		{"same-origin with a space", "POST", map[string]string{"Sec-Fetch-Site": "same-origin "}, 403},
		{"empty Sec-Fetch-Site, foreign Origin", "POST", map[string]string{"Sec-Fetch-Site": "", "Origin": "http://evil.example"}, 403},
		{"Origin null (a sandboxed frame)", "POST", map[string]string{"Origin": "null"}, 403},
		{"Origin on another port", "POST", map[string]string{"Origin": "http://localhost:9999"}, 403},
		{"Origin with the host as a subdomain", "POST", map[string]string{"Origin": "http://localhost:8080.evil.example"}, 403},
		{"Origin with credentials", "POST", map[string]string{"Origin": "http://localhost:8080@evil.example"}, 403},
		{"GET", "GET", map[string]string{"Sec-Fetch-Site": "same-origin"}, 405},
		{"HEAD", "HEAD", map[string]string{"Sec-Fetch-Site": "same-origin"}, 405},
		{"method override header", "GET", map[string]string{"X-HTTP-Method-Override": "POST"}, 405},
	} {
		for _, path := range []string{"/stats/pause", "/stats/clear"} {
			t.Run(tc.name+" "+path, func(t *testing.T) {
				r := httptest.NewRequest(tc.method, path, nil)
				r.RemoteAddr, r.Host = "127.0.0.1:1234", host
				for k, v := range tc.hdr {
					r.Header[k] = []string{v}
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != tc.code {
					t.Errorf("%s %s: %d, want %d", tc.method, path, w.Code, tc.code)
				}
				if n := count(); n != 3 || rec.Paused() {
					t.Errorf("after a refused %s %s: %d records (want 3), paused %v", tc.method, path, n, rec.Paused())
				}
			})
		}
	}
	// What a browser sends for the page's own form passes, and does what
	// it says.
	for _, hdr := range []map[string]string{{"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"}, {"Origin": "http://" + host}} {
		r := httptest.NewRequest("POST", "/stats/pause", nil)
		r.RemoteAddr, r.Host = "127.0.0.1:1234", host
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusSeeOther || !rec.Paused() {
			t.Errorf("POST /stats/pause with %v: %d, paused %v; want 303 and paused", hdr, w.Code, rec.Paused())
		}
		rec.SetPaused(false)
	}
}
