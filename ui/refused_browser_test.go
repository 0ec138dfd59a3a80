package ui_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/goappstats/appstats/internal/browsertest"
	"github.com/goappstats/appstats/ui"
)

// TestBrowserRefusedPageStyled: the 403 page the default (local-only)
// authorizer gives a visitor it refuses — here one behind a reverse proxy,
// which adds X-Forwarded-For — has the dashboard's look: its style comes
// with the page, since the visitor's request for the style sheet under
// static/ is refused too (on main the page was unstyled text, and the
// browser logged the style sheet's 403). It still says why access is
// refused and how to allow it, and is served as a 403 HTML page that no
// cache keeps.
func TestBrowserRefusedPageStyled(t *testing.T) {
	st, _ := newStore(t, 1)
	h := ui.NewHandler(st)
	proxied := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("X-Forwarded-For", "203.0.113.7")
		h.ServeHTTP(w, r)
	})
	mux := http.NewServeMux()
	mux.Handle("/stats/", proxied)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/stats/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "no-store") {
		t.Errorf("refused page: %d, Content-Type %q, Cache-Control %q; want 403, text/html; charset=utf-8, no-store",
			resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}

	b := browsertest.New(t, srv.URL, browsertest.Options{})
	b.Navigate(t, "/stats/")
	if got := b.Eval(t, `performance.getEntriesByType("navigation")[0].responseStatus`); got != float64(403) {
		t.Errorf("navigation status %v, want 403", got)
	}
	// The dashboard's look: its background, its header, its cards.
	for _, c := range []struct{ what, expr, want string }{
		{"page background", `getComputedStyle(document.body).backgroundColor`, "rgb(245, 247, 251)"},
		{"card border radius", `getComputedStyle(document.querySelector(".error-card")).borderTopLeftRadius`, "10px"},
		{"card background", `getComputedStyle(document.querySelector(".error-card")).backgroundColor`, "rgb(255, 255, 255)"},
		{"header layout", `getComputedStyle(document.querySelector("header.top")).display`, "flex"},
	} {
		if got := b.Eval(t, c.expr); got != c.want {
			t.Errorf("%s: %v, want %s (the dashboard's style)", c.what, got, c.want)
		}
	}
	text, _ := b.Eval(t, `document.body.innerText`).(string)
	for _, want := range []string{"403", "only local clients", "X-Forwarded", "Config.Auth", "ui.WithAuth", "ui.BasicAuth"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page does not say %q:\n%s", want, text)
		}
	}
	if n := b.Eval(t, `document.querySelectorAll("a[href]:not([href^='#'])").length`); n != float64(0) {
		t.Errorf("%v links off the refused page, want none: each would be refused the same", n)
	}
	// Nothing the page loads is refused: no error but the page's own 403.
	for _, e := range b.Errors() {
		if !strings.Contains(e, "403") || strings.Contains(e, "/static/") {
			t.Errorf("page error: %s", e)
		}
	}
	if n := b.Eval(t, `performance.getEntriesByType("resource").filter(e => e.responseStatus >= 400).map(e => e.name).join(" ")`); n != "" {
		t.Errorf("resources refused to the page: %v", n)
	}
}
