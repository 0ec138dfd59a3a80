package ui_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/ui"
)

// Every route, given junk in every parameter any route reads (malformed,
// huge, negative, out of range, at the length limit): no answer is a 5xx,
// and every API answer is JSON.
func TestNoServerErrorOnJunkEveryRoute(t *testing.T) {
	st, recs := newStore(t, 5)
	rec := recording.New()
	defer rec.Close(t.Context())
	h := ui.NewHandler(st, ui.WithRecorder(rec), ui.WithSourceRoots(t.TempDir()))
	a, b := recs[0], recs[1]
	id, trace := a.ID.String(), a.TraceID.String()
	paths := []string{"/stats/", "/stats/records/" + id, "/stats/traces/" + trace, "/stats/compare?a=" + id + "&b=" + b.ID.String(),
		"/stats/active", "/stats/part/active", "/stats/part/stats", "/stats/part/history", "/stats/part/refresh",
		"/stats/api/records", "/stats/api/records/" + id, "/stats/api/records/" + id + "/trace", "/stats/api/stats",
		"/stats/api/series", "/stats/api/health", "/stats/api/active", "/stats/api/traces/" + trace,
		"/stats/api/compare?a=" + id + "&b=" + b.ID.String(), "/stats/source/src/x.go"}
	params := []string{"before", "call", "call_method", "call_service", "download", "error", "from", "instance", "limit",
		"max_ms", "min_ms", "offset", "page", "q", "record", "route", "since", "sort", "status", "to", "trace_id", "until",
		"window", "line", "context", "calls"}
	junk := []string{"", "%00", "%ff%fe", "-1", "-9223372036854775808", "9223372036854775807", "1e309", "NaN", "Inf", "0x10",
		"９", strings.Repeat("9", 400), strings.Repeat("%e2%80%a8", 300), "2026-13-45T25:61", "1h1h", "-1h", "0s", "87600h",
		"0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "%3Cscript%3E", url.QueryEscape(strings.Repeat("x", 1024))}
	slow := time.Duration(0)
	for _, p := range paths {
		sep := "?"
		if strings.Contains(p, "?") {
			sep = "&"
		}
		for _, k := range params {
			for _, v := range junk {
				target := p + sep + k + "=" + v
				start := time.Now()
				w := doBounded(h, "GET", target, nil)
				slow = max(slow, time.Since(start))
				if w.Code >= 500 {
					t.Errorf("%.200s: %d %.300s", target, w.Code, w.Body.String())
				}
				if strings.Contains(p, "/api/") && !strings.HasSuffix(p, "/trace") && w.Code != 204 &&
					w.Header().Get("Content-Type") != "application/json; charset=utf-8" {
					t.Errorf("%.200s: Content-Type %q", target, w.Header().Get("Content-Type"))
				}
			}
		}
	}
	t.Logf("the slowest answer took %v", slow)
}
