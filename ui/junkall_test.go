package ui_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/ui"
)

// Every route, given junk in every parameter any route reads (malformed,
// huge, negative, out of range, at the length limit): no answer is a 5xx,
// and every API answer is JSON. Each route gets each junk value in every
// parameter at once, then in each parameter it reads alone (where the
// first refused would hide the others); that a route reads no parameter
// outside its list is checked by giving each other one a value every
// parser refuses ("x"), which must not change the answer's status.
func TestNoServerErrorOnJunkEveryRoute(t *testing.T) {
	st, recs := newStore(t, 5)
	rec := recording.New()
	defer rec.Close(t.Context())
	h := ui.NewHandler(st, ui.WithRecorder(rec), ui.WithSourceRoots(t.TempDir()))
	a, b := recs[0], recs[1]
	id, trace := a.ID.String(), a.TraceID.String()
	list := []string{"before", "call_method", "call_service", "error", "from", "instance", "limit", "max_ms", "min_ms",
		"offset", "q", "route", "since", "sort", "status", "to", "trace_id", "until", "window"}
	window := []string{"from", "to", "window"}
	active := []string{"limit", "calls"}
	routes := []struct {
		path  string
		reads []string // the parameters the route reads
	}{
		{"/stats/", list},
		{"/stats/records/" + id, []string{"call", "page"}},
		{"/stats/traces/" + trace, append([]string{"record", "page"}, window...)},
		{"/stats/compare?a=" + id + "&b=" + b.ID.String(), []string{"page"}},
		{"/stats/active", active},
		{"/stats/part/active", active},
		{"/stats/part/stats", window},
		{"/stats/part/history", list},
		{"/stats/part/refresh", list},
		{"/stats/api/records", list},
		{"/stats/api/records/" + id, []string{"offset", "limit", "download"}},
		{"/stats/api/records/" + id + "/trace", nil},
		{"/stats/api/stats", window},
		{"/stats/api/series", window},
		{"/stats/api/health", nil},
		{"/stats/api/active", active},
		{"/stats/api/traces/" + trace, append([]string{"record"}, window...)},
		{"/stats/api/compare?a=" + id + "&b=" + b.ID.String(), []string{"offset", "limit"}},
		{"/stats/source/src/x.go", []string{"line", "context"}},
	}
	params := []string{"before", "call", "call_method", "call_service", "download", "error", "from", "instance", "limit",
		"max_ms", "min_ms", "offset", "page", "q", "record", "route", "since", "sort", "status", "to", "trace_id", "until",
		"window", "line", "context", "calls"}
	junk := []string{"", "%00", "%ff%fe", "-1", "-9223372036854775808", "9223372036854775807", "1e309", "NaN", "Inf", "0x10",
		"９", strings.Repeat("9", 400), strings.Repeat("%e2%80%a8", 300), "2026-13-45T25:61", "1h1h", "-1h", "0s", "87600h",
		"0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "%3Cscript%3E", url.QueryEscape(strings.Repeat("x", 1024))}
	slow, sent := time.Duration(0), 0
	get := func(p, target string) int {
		start := time.Now()
		w := doBounded(h, "GET", target, nil)
		slow, sent = max(slow, time.Since(start)), sent+1
		if w.Code >= 500 {
			t.Errorf("%.200s: %d %.300s", target, w.Code, w.Body.String())
		}
		if strings.Contains(p, "/api/") && !strings.HasSuffix(p, "/trace") && w.Code != 204 &&
			w.Header().Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("%.200s: Content-Type %q", target, w.Header().Get("Content-Type"))
		}
		return w.Code
	}
	for _, r := range routes {
		p := r.path
		sep := "?"
		if strings.Contains(p, "?") {
			sep = "&"
		}
		for _, v := range junk {
			var all []string
			for _, k := range params {
				all = append(all, k+"="+v)
			}
			get(p, p+sep+strings.Join(all, "&"))
			for _, k := range r.reads {
				get(p, p+sep+k+"="+v)
			}
		}
		plain := get(p, p)
		for _, k := range params {
			if !slices.Contains(r.reads, k) {
				if code := get(p, p+sep+k+"=x"); code != plain {
					t.Errorf("%s%s%s=x: %d, without it %d: add %s to the parameters the route reads", p, sep, k, code, plain, k)
				}
			}
		}
	}
	t.Logf("%d requests; the slowest answer took %v", sent, slow)
}
