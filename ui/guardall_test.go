package ui_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/ui"
)

// Every route, in every method, static files, the live stream, the JSON
// API, the redirect of the prefix without its slash and paths the
// dashboard does not serve: a request the default authorizer refuses (a
// client not on loopback; one on loopback through a proxy; a rebound
// Host) gets 403 and nothing of the records, its POST clears nothing and
// pauses nothing; the security headers are on the refusal too.
func TestGuardEveryRoute(t *testing.T) {
	st, recs := newStore(t, 3)
	rec := recording.New()
	defer rec.Close(context.Background())
	live := ui.NewLive()
	defer live.Close()
	h := ui.NewHandler(st, ui.WithRecorder(rec), ui.WithLive(live), ui.WithSourceRoots(t.TempDir()))
	id, tid := recs[0].ID.String(), recs[0].TraceID.String()
	paths := []string{"/stats/", "/stats", "/stats/records/" + id, "/stats/traces/" + tid, "/stats/compare?a=" + id + "&b=" + id,
		"/stats/active", "/stats/part/active", "/stats/part/stats", "/stats/part/history", "/stats/part/refresh",
		"/stats/api/records", "/stats/api/records/" + id, "/stats/api/records/" + id + "?download=1", "/stats/api/records/" + id + "/trace",
		"/stats/api/stats", "/stats/api/series", "/stats/api/health", "/stats/api/active", "/stats/api/traces/" + tid,
		"/stats/api/compare?a=" + id + "&b=" + id, "/stats/events", "/stats/static/app.js", "/stats/static/echarts.min.js",
		"/stats/static/favicon.svg", "/stats/source/src/x.go", "/stats/clear", "/stats/pause", "/stats/resume",
		"/stats/nope", "/elsewhere", "/stats/../etc/passwd", "/stats/api/records/..%2f..%2fetc"}
	refused := []struct {
		name, remote, host string
		hdr                http.Header
	}{
		{"remote client", "10.0.0.1:1", "localhost", nil},
		{"proxied", "127.0.0.1:1", "localhost", http.Header{"X-Forwarded-For": {"10.0.0.1"}}},
		{"rebound host", "127.0.0.1:1", "attacker.test", nil},
	}
	for _, rf := range refused {
		for _, p := range paths {
			for _, method := range []string{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"} {
				r := httptest.NewRequestWithContext(t.Context(), method, p, nil)
				r.RemoteAddr, r.Host = rf.remote, rf.host
				r.Header.Set("Sec-Fetch-Site", "same-origin")
				r.Header.Set("Accept", "application/json")
				for k, vs := range rf.hdr {
					r.Header[k] = vs
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusForbidden {
					t.Errorf("%s: %s %s: %d, want 403", rf.name, method, p, w.Code)
				}
				body := w.Body.String()
				for _, leak := range []string{id, tid, recs[0].Path, "echarts", "AppStats"} {
					if strings.Contains(body, leak) {
						t.Errorf("%s: %s %s: the refusal holds %q", rf.name, method, p, leak)
					}
				}
				hd := w.Header()
				if !strings.Contains(hd.Get("Content-Security-Policy"), "frame-ancestors 'none'") || hd.Get("X-Frame-Options") != "DENY" ||
					hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("Referrer-Policy") != "no-referrer" ||
					hd.Get("Cache-Control") != "private, no-store" {
					t.Errorf("%s: %s %s: headers %v", rf.name, method, p, hd)
				}
			}
		}
	}
	if rec.Paused() {
		t.Error("a refused POST paused the recorder")
	}
	page, err := st.List(context.Background(), store.Query{Limit: 10})
	if err != nil || len(page.Records) != 3 {
		t.Errorf("a refused POST cleared the store: %d records, %v", len(page.Records), err)
	}
}
