package ui_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/goappstats/appstats/ui"
)

// TestRefusedPageNoBackLink: the page of a request the authorizer refused
// (403 by the default local-only check, 401 with an authorizer of one's
// own) offered "Back to the dashboard", a link to the same refusal. It now
// offers none; other error pages (404) keep it.
func TestRefusedPageNoBackLink(t *testing.T) {
	st, _ := newStore(t, 1)
	for _, tc := range []struct {
		name string
		h    http.Handler
		code int
	}{
		{"local only", ui.NewHandler(st), 403},
		{"basic auth", ui.NewHandler(st, ui.WithAuth(ui.BasicAuth("admin", "s3cret"))), 401},
	} {
		r := httptest.NewRequest("GET", "/stats/records/nosuch", nil)
		r.RemoteAddr = "10.0.0.1:1"
		w := httptest.NewRecorder()
		tc.h.ServeHTTP(w, r)
		if w.Code != tc.code {
			t.Fatalf("%s: %d, want %d", tc.name, w.Code, tc.code)
		}
		if body := w.Body.String(); strings.Contains(body, "Back to the dashboard") {
			t.Errorf("%s: the %d page links back to the dashboard, which refuses the same", tc.name, tc.code)
		}
	}
	// A page not found, to an admitted client, still links back.
	w := do(ui.NewHandler(st), "GET", "/stats/nosuch", nil)
	if w.Code != 404 || !strings.Contains(w.Body.String(), "Back to the dashboard") {
		t.Errorf("404 page: %d, no link back to the dashboard", w.Code)
	}
}
