package ui_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// TestNoSharedCaching: the dashboard is admin-only, so no answer of it may
// be kept by a shared cache (a proxy, a CDN) and handed to someone else:
// every answer, of every route, status and method — pages, parts, the
// JSON API, the execution trace download, redirects, answers to POSTs,
// errors, refusals — says Cache-Control: private, no-store. The static
// files, which browsers revalidate by ETag, say private, no-cache. On main
// the execution trace was served with private, max-age=3600, and
// redirects, 204s and the mux's own 405s with no Cache-Control at all.
func TestNoSharedCaching(t *testing.T) {
	st := memstore.New(0)
	defer st.Close()
	now := time.Now()
	traced := makeRecord(now.Add(-2*time.Second), 1, "/slow", 200, 3)
	data := append([]byte("go 1.26 trace\x00\x00\x00"), bytes.Repeat([]byte{1, 2, 3}, 500)...)
	traced.ExecTrace = &recording.ExecTrace{Data: data, Size: int64(len(data)), Taken: now, Reason: "slow"}
	if err := st.Write(context.Background(), []*recording.Record{traced}); err != nil {
		t.Fatal(err)
	}
	rec := recording.New(recording.WithSinks(st))
	defer rec.Close(context.Background())
	h := ui.NewHandler(st, ui.WithRecorder(rec))
	noLive := ui.NewHandler(st)
	id, trace := traced.ID.String(), traced.TraceID.String()
	json := http.Header{"Accept": {"application/json"}}

	for _, c := range []struct {
		h      http.Handler
		method string
		target string
		hdr    http.Header
		remote string
		static bool
	}{
		{h, "GET", "/stats/", nil, "", false},
		{h, "HEAD", "/stats/", nil, "", false},
		{h, "GET", "/stats", nil, "", false}, // 301 to /stats/
		{h, "GET", "/stats/records/" + id, nil, "", false},
		{h, "GET", "/stats/records/nosuch", nil, "", false},
		{h, "GET", "/stats/traces/" + trace, nil, "", false},
		{h, "GET", "/stats/compare?a=" + id + "&b=" + id, nil, "", false},
		{h, "GET", "/stats/active", nil, "", false},
		{h, "GET", "/stats/part/active", nil, "", false},
		{h, "GET", "/stats/part/stats", nil, "", false},
		{h, "GET", "/stats/part/history", nil, "", false},
		{h, "GET", "/stats/part/refresh", nil, "", false},
		{h, "GET", "/stats/?q=" + id, nil, "", false}, // 303 to the record
		{h, "GET", "/stats/api/active", nil, "", false},
		{h, "GET", "/stats/api/traces/" + trace, nil, "", false},
		{h, "GET", "/stats/api/compare?a=" + id + "&b=" + id, nil, "", false},
		{h, "GET", "/stats/api/records", nil, "", false},
		{h, "GET", "/stats/api/records/" + id, nil, "", false},
		{h, "GET", "/stats/api/records/" + id + "/trace", nil, "", false},
		{h, "HEAD", "/stats/api/records/" + id + "/trace", nil, "", false},
		{h, "GET", "/stats/api/records/not-an-id/trace", nil, "", false},
		{h, "GET", "/stats/api/stats", nil, "", false},
		{h, "GET", "/stats/api/series", nil, "", false},
		{h, "GET", "/stats/api/health", nil, "", false},
		{noLive, "GET", "/stats/events", nil, "", false}, // 204: no live updates
		{h, "GET", "/stats/source/main.go", nil, "", false},
		{h, "POST", "/stats/pause", json, "", false}, // 204
		{h, "POST", "/stats/resume", nil, "", false}, // 303
		{h, "GET", "/stats/pause", nil, "", false},   // 405
		{h, "GET", "/stats/nosuch", nil, "", false},
		{h, "GET", "/stats/", nil, "10.0.0.1:1", false},          // 403
		{h, "GET", "/stats/api/stats", nil, "10.0.0.1:1", false}, // 403
		{h, "GET", "/stats/static/app.css", nil, "", true},
		{h, "GET", "/stats/static/echarts.min.js", nil, "", true},
	} {
		r := httptest.NewRequest(c.method, c.target, nil)
		r.RemoteAddr, r.Host = local, local
		for k, v := range c.hdr {
			r.Header[k] = v
		}
		if c.remote != "" {
			r.RemoteAddr = c.remote
		}
		w := httptest.NewRecorder()
		c.h.ServeHTTP(w, r)
		got := w.Header().Get("Cache-Control")
		want := "private, no-store"
		if c.static {
			want = "private, no-cache"
		}
		if got != want || strings.Contains(got, "max-age") {
			t.Errorf("%s %s (from %q): %d with Cache-Control %q, want %q", c.method, c.target, c.remote, w.Code, got, want)
		}
	}
}
