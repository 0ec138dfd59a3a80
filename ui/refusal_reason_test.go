package ui_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/goappstats/appstats/ui"
)

// TestRefusalSaysWhichCheck: the dashboard's refusal (403 by the default
// local-only check, or for a cross-origin POST; 401 by an authorizer of
// one's own) did not say which check the request failed: a visitor, or
// its operator, could not tell a non-loopback client from a proxy header
// from a Host that names no local host. The refusal now names the check,
// from what the request itself carried, on the page and in the API's
// JSON; it names no configured value (the extra local host names).
func TestRefusalSaysWhichCheck(t *testing.T) {
	st, _ := newStore(t, 1)
	const secretHost = "admin-only.internal.example"
	local := ui.NewHandler(st, ui.WithLocalHosts(secretHost))
	custom := ui.NewHandler(st, ui.WithAuth(func(*http.Request) bool { return false }))
	for _, tc := range []struct {
		name         string
		h            http.Handler
		method, path string
		remote, host string
		hdr          http.Header
		code         int
		want         string // the message says so
	}{
		{"not loopback", local, "GET", "/stats/", "10.0.0.1:1234", "localhost:8080", nil,
			403, "not from a loopback address"},
		{"unix socket", local, "GET", "/stats/", "@", "localhost:8080", nil,
			403, "not from a loopback address"},
		{"proxy header", local, "GET", "/stats/", "127.0.0.1:1234", "localhost:8080",
			http.Header{"X-Forwarded-For": {"203.0.113.9"}}, 403, "X-Forwarded-For"},
		{"host", local, "GET", "/stats/", "127.0.0.1:1234", "rebind.attacker.example:8080", nil,
			403, "its Host names no local host"},
		{"host, API", local, "GET", "/stats/api/records", "127.0.0.1:1234", "rebind.attacker.example", nil,
			403, "its Host names no local host"},
		{"cross-site POST", local, "POST", "/stats/clear", "127.0.0.1:1234", "localhost:8080",
			http.Header{"Sec-Fetch-Site": {"cross-site"}}, 403, "Sec-Fetch-Site is cross-site"},
		{"foreign Origin", local, "POST", "/stats/clear", "127.0.0.1:1234", "localhost:8080",
			http.Header{"Origin": {"http://evil.example"}}, 403, "its Origin does not match its Host"},
		{"authorizer, no credentials", custom, "GET", "/stats/", "127.0.0.1:1234", "localhost:8080", nil,
			401, "the dashboard's authorizer (Config.Auth, ui.WithAuth) refused this request, which carries no Authorization header"},
		{"authorizer, credentials", custom, "GET", "/stats/api/records", "127.0.0.1:1234", "localhost:8080",
			http.Header{"Authorization": {"Basic YTpi"}}, 401, "the dashboard's authorizer (Config.Auth, ui.WithAuth) refused this request's credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.path, nil)
			r.RemoteAddr, r.Host = tc.remote, tc.host
			for k, v := range tc.hdr {
				r.Header[k] = v
			}
			w := httptest.NewRecorder()
			tc.h.ServeHTTP(w, r)
			if w.Code != tc.code {
				t.Fatalf("%d, want %d", w.Code, tc.code)
			}
			body := html.UnescapeString(w.Body.String())
			if strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
				var e struct{ Error string }
				if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
					t.Fatal(err)
				}
				body = e.Error
			}
			if !strings.Contains(body, tc.want) {
				t.Errorf("the refusal does not say %q: %.2000s", tc.want, body)
			}
			if strings.Contains(body, secretHost) {
				t.Errorf("the refusal names a configured host: %s", body)
			}
		})
	}
}
