package ui_test

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

const local = "127.0.0.1:40000"

// do serves one request from a loopback client.
func do(h http.Handler, method, target string, hdr http.Header) *httptest.ResponseRecorder {
	return doCtx(context.Background(), h, method, target, hdr)
}

// location is where w's Location header sends a browser that asked for
// target: the header resolved against target, as a browser resolves it
// ("" without one).
func location(target string, w *httptest.ResponseRecorder) string {
	loc := w.Header().Get("Location")
	if loc == "" {
		return ""
	}
	base, err := url.Parse(target)
	if err != nil {
		return "bad target " + target
	}
	u, err := base.Parse(loc)
	if err != nil {
		return "bad Location " + loc
	}
	return u.RequestURI()
}

// doBounded is do with a request context that ends after 30 seconds, for
// requests that might open an event stream if the handler misroutes them:
// long enough that a loaded machine never cuts short a request the handler
// answers.
func doBounded(h http.Handler, method, target string, hdr http.Header) *httptest.ResponseRecorder {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return doCtx(ctx, h, method, target, hdr)
}

func doCtx(ctx context.Context, h http.Handler, method, target string, hdr http.Header) *httptest.ResponseRecorder {
	r := httptest.NewRequestWithContext(ctx, method, target, nil)
	r.RemoteAddr, r.Host = local, local
	for k, vs := range hdr {
		r.Header[k] = vs
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q, want JSON; body: %s", ct, w.Body.String())
	}
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decoding %s: %v", w.Body.String(), err)
	}
	return v
}

func TestRoutes(t *testing.T) {
	st, recs := newStore(t, 30)
	id := recs[5].ID.String()
	unknown := recID(time.Unix(1, 0), 99).String()
	h := ui.NewHandler(st)
	tests := []struct {
		method, target string
		code           int
		ctype          string
		contains       []string
	}{
		{"GET", "/stats/", 200, "text/html", []string{"RPC stats", "Path stats", "Requests history", `id="chartRequests"`, `id="chartLatency"`, `id="chartHistogram"`, "static/echarts.min.js"}},
		{"GET", "/stats/?window=15m", 200, "text/html", []string{`class="on" aria-current="true">15m`}},
		{"GET", "/stats/?window=7d&route=POST+%2Forders&status=2xx&min_ms=0.5&error=false", 200, "text/html", []string{"Requests history"}},
		{"GET", "/stats/?status=404&route=POST+%2Forders&min_ms=1.5&error=true", 200, "text/html", []string{`<option value="404" selected>404</option>`, `<option value="POST /orders" selected>`, `value="1.5"`, `value="true" checked`}},
		{"GET", "/stats/?limit=2", 200, "text/html", []string{"Older records", "limit=2", "before=" + recs[28].ID.String()}},
		{"GET", "/stats/?status=5xx&limit=5", 200, "text/html", []string{`<option value="5xx" selected>5xx</option>`}},
		{"GET", "/stats/records/" + id, 200, "text/html", []string{`id="chartGantt"`, `id="gantt-data"`, "Download JSON", "/users/5", "Request headers"}},
		{"GET", "/stats/part/stats?window=1h", 200, "text/html", []string{"RPC stats", `id="hist-data"`, `{"labels":["≤ 1ms","≤ 2ms","≤ 5ms",`, `"\u003e 10s"],"counts":[`}},
		{"GET", "/stats/part/history?window=1h&route=GET+%2Fusers%2F%7Bid%7D", 200, "text/html", []string{"records/" + recs[28].ID.String()}},
		{"GET", "/stats/part/refresh?window=1h&route=GET+%2Fusers%2F%7Bid%7D", 200, "text/html", []string{`<template id="refresh-stats">`, "RPC stats", `<template id="refresh-history">`, "records/" + recs[28].ID.String()}},
		{"GET", "/stats/api/health", 200, "application/json", []string{`"recorder":null`}},
		{"GET", "/stats/api/series?window=15m", 200, "application/json", []string{`"buckets"`}},
		{"GET", "/stats/static/app.js", 200, "text/javascript", []string{"AppStats"}},
		{"GET", "/stats/static/app.css", 200, "text/css", nil},
		{"GET", "/stats/static/favicon.svg", 200, "image/svg+xml", nil},
		{"GET", "/stats/static/ECHARTS-LICENSE", 200, "text/plain", []string{"Apache License"}},
		{"GET", "/stats/events", 204, "", nil},

		{"GET", "/stats/records/not-an-id", 400, "text/html", []string{"malformed record id"}},
		{"GET", "/stats/records/" + unknown, 404, "text/html", []string{"not found"}},
		{"GET", "/stats/api/records/" + strings.ToUpper(id), 400, "application/json", []string{"malformed"}},
		{"GET", "/stats/api/records/" + unknown, 404, "application/json", []string{"not found"}},
		{"GET", "/stats/api/records?limit=abc", 400, "application/json", []string{"limit"}},
		{"GET", "/stats/api/records?limit=-1", 400, "application/json", []string{"limit"}},
		{"GET", "/stats/api/records?limit=0", 400, "application/json", []string{"limit"}},
		{"GET", "/stats/api/records?limit=1.5", 400, "application/json", []string{"limit"}},
		{"GET", "/stats/api/records?limit=1&limit=2", 400, "application/json", []string{"more than once"}},
		{"GET", "/stats/api/records?status=6xx", 400, "application/json", []string{"status"}},
		{"GET", "/stats/api/records?status=abc", 400, "application/json", []string{"status"}},
		{"GET", "/stats/api/records?status=99", 400, "application/json", []string{"status"}},
		{"GET", "/stats/api/records?min_ms=-1", 400, "application/json", []string{"min_ms"}},
		{"GET", "/stats/api/records?min_ms=NaN", 400, "application/json", []string{"min_ms"}},
		{"GET", "/stats/api/records?min_ms=1e300", 400, "application/json", []string{"min_ms"}},
		{"GET", "/stats/api/records?min_ms=x", 400, "application/json", []string{"min_ms"}},
		{"GET", "/stats/api/records?error=maybe", 400, "application/json", []string{"error"}},
		{"GET", "/stats/api/records?before=zzz", 400, "application/json", []string{"before"}},
		{"GET", "/stats/api/records?route=" + strings.Repeat("x", 2000), 400, "application/json", []string{"too long"}},
		{"GET", "/stats/api/stats?window=bogus", 400, "application/json", []string{"window"}},
		{"GET", "/stats/api/stats?window=0s", 400, "application/json", []string{"window"}},
		{"GET", "/stats/api/stats?window=-1h", 400, "application/json", []string{"window"}},
		{"GET", "/stats/api/stats?window=99d", 400, "application/json", []string{"window"}},
		{"GET", "/stats/api/stats?window=9999999999999999h", 400, "application/json", []string{"window"}},
		{"GET", "/stats/api/series?window=x", 400, "application/json", []string{"window"}},
		{"GET", "/stats/?window=1y", 400, "text/html", []string{"window"}},
		{"GET", "/stats/?min_ms=-5", 400, "text/html", []string{"min_ms"}},
		{"GET", "/stats/part/stats?window=x", 400, "text/html", nil},
		{"GET", "/stats/part/history?status=x", 400, "text/html", nil},
		{"GET", "/stats/part/refresh?status=x", 400, "text/html", nil},
		{"GET", "/stats/part/refresh?window=x", 400, "text/html", nil},
		{"GET", "/stats/static/nope.js", 404, "text/html", nil},
		{"GET", "/stats/nope", 404, "text/html", nil},
		{"GET", "/other/", 404, "text/html", nil},
		{"GET", "/stats/clear", 405, "", nil},
		{"DELETE", "/stats/api/records/" + id, 405, "", nil},
		{"POST", "/stats/pause", 404, "text/html", []string{"no recorder"}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target[:min(len(tt.target), 80)], func(t *testing.T) {
			w := do(h, tt.method, tt.target, nil)
			if w.Code != tt.code {
				t.Fatalf("status = %d, want %d; body: %.300s", w.Code, tt.code, w.Body.String())
			}
			if ct := w.Header().Get("Content-Type"); tt.ctype != "" && !strings.HasPrefix(ct, tt.ctype) {
				t.Errorf("Content-Type = %q, want %q", ct, tt.ctype)
			}
			for _, s := range tt.contains {
				if !strings.Contains(w.Body.String(), s) {
					t.Errorf("body does not contain %q; body: %.500s", s, w.Body.String())
				}
			}
			checkSecurityHeaders(t, w)
		})
	}
}

func checkSecurityHeaders(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	want := map[string]string{
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Referrer-Policy":        "no-referrer",
	}
	for k, v := range want {
		if got := w.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	csp := w.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") ||
		strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "style-src 'self'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
}

// TestPageNonce checks that every inline script of a page carries the
// response's nonce, and that the nonce changes per response.
func TestPageNonce(t *testing.T) {
	st, recs := newStore(t, 5)
	h := ui.NewHandler(st)
	seen := map[string]bool{}
	for _, target := range []string{"/stats/", "/stats/records/" + recs[2].ID.String()} {
		for range 2 {
			w := do(h, "GET", target, nil)
			csp := w.Header().Get("Content-Security-Policy")
			i := strings.Index(csp, "'nonce-")
			if i < 0 {
				t.Fatalf("%s: no nonce in CSP %q", target, csp)
			}
			nonce := csp[i+7 : i+7+strings.Index(csp[i+7:], "'")]
			if seen[nonce] {
				t.Fatalf("nonce %q reused", nonce)
			}
			seen[nonce] = true
			body := w.Body.String()
			inline := 0
			for rest := body; ; {
				j := strings.Index(rest, "<script")
				if j < 0 {
					break
				}
				tag := rest[j : j+strings.Index(rest[j:], ">")+1]
				rest = rest[j+len(tag):]
				if strings.Contains(tag, "src=") || strings.Contains(tag, "application/json") {
					continue
				}
				inline++
				if !strings.Contains(tag, `nonce="`+nonce+`"`) {
					t.Errorf("%s: inline script %q without the nonce", target, tag)
				}
			}
			if inline == 0 {
				t.Errorf("%s: no inline chart script", target)
			}
		}
	}
}

func TestAPIRecords(t *testing.T) {
	st, recs := newStore(t, 30)
	h := ui.NewHandler(st)

	type list struct {
		Records []map[string]any `json:"records"`
		Next    string           `json:"next"`
	}
	// Paging: newest first, cursor to the next page, all records once.
	var ids []string
	next := ""
	for page := 0; ; page++ {
		target := "/stats/api/records?limit=7"
		if next != "" {
			target += "&before=" + url.QueryEscape(next)
		}
		w := do(h, "GET", target, nil)
		if w.Code != 200 {
			t.Fatalf("page %d: %d %s", page, w.Code, w.Body.String())
		}
		l := decode[list](t, w)
		for _, r := range l.Records {
			ids = append(ids, r["id"].(string))
		}
		if l.Next == "" {
			break
		}
		next = l.Next
		if page > 10 {
			t.Fatal("paging does not end")
		}
	}
	if len(ids) != len(recs) {
		t.Fatalf("paged through %d records, want %d", len(ids), len(recs))
	}
	for i, id := range ids {
		if want := recs[len(recs)-1-i].ID.String(); id != want {
			t.Fatalf("record %d = %s, want %s (newest first)", i, id, want)
		}
	}

	// Summary fields.
	w := do(h, "GET", "/stats/api/records?limit=1", nil)
	l := decode[list](t, w)
	r := l.Records[0]
	last := recs[len(recs)-1]
	for _, k := range []string{"id", "trace_id", "start", "duration_ms", "method", "path", "route", "status", "call_count", "overhead_ms"} {
		if _, ok := r[k]; !ok {
			t.Errorf("summary lacks %q: %v", k, r)
		}
	}
	if r["path"] != last.Path || r["trace_id"] != last.TraceID.String() || int(r["call_count"].(float64)) != len(last.Calls) {
		t.Errorf("summary = %v", r)
	}
	if _, err := time.Parse(time.RFC3339, r["start"].(string)); err != nil {
		t.Errorf("start is not RFC 3339: %v", err)
	}
	if got, want := r["duration_ms"].(float64), float64(last.Duration.Microseconds())/1000; got != want {
		t.Errorf("duration_ms = %v, want %v", got, want)
	}

	// Filters.
	filters := []struct {
		q     string
		check func(map[string]any) bool
	}{
		{"status=5xx", func(m map[string]any) bool { return m["status"].(float64) >= 500 }},
		{"status=404", func(m map[string]any) bool { return m["status"].(float64) == 404 }},
		{"route=POST+%2Forders", func(m map[string]any) bool { return m["route"] == "POST /orders" }},
		{"error=true", func(m map[string]any) bool { return m["failed"] == true }},
		{"min_ms=3.5", func(m map[string]any) bool { return m["duration_ms"].(float64) >= 3.5 }},
	}
	for _, f := range filters {
		l := decode[list](t, do(h, "GET", "/stats/api/records?limit=1000&"+f.q, nil))
		if len(l.Records) == 0 {
			t.Errorf("%s: no records", f.q)
		}
		for _, m := range l.Records {
			if !f.check(m) {
				t.Errorf("%s: record %v does not match", f.q, m)
			}
		}
	}

	// An oversized limit is clamped, not refused.
	for _, lim := range []string{"5000", "99999999999999999999999"} {
		w := do(h, "GET", "/stats/api/records?limit="+lim, nil)
		if w.Code != 200 {
			t.Errorf("limit=%s: %d", lim, w.Code)
		}
	}
}

func TestAPIRecord(t *testing.T) {
	st, recs := newStore(t, 12)
	h := ui.NewHandler(st)
	rec := recs[10]
	w := do(h, "GET", "/stats/api/records/"+rec.ID.String(), nil)
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body.String())
	}
	var full struct {
		ID       string              `json:"id"`
		TraceID  string              `json:"trace_id"`
		Headers  map[string][]string `json:"headers"`
		Warnings []map[string]any    `json:"warnings"`
		RPCStats []map[string]any    `json:"rpc_stats"`
		Calls    []struct {
			Service      string  `json:"service"`
			Method       string  `json:"method"`
			StartMS      float64 `json:"start_ms"`
			DurationMS   float64 `json:"duration_ms"`
			Error        string  `json:"error"`
			RequestSize  int64   `json:"request_size"`
			ResponseSize int64   `json:"response_size"`
			Request      string  `json:"request"`
			Response     string  `json:"response"`
			Stack        []struct {
				Function string `json:"function"`
				File     string `json:"file"`
				Line     int    `json:"line"`
			} `json:"stack"`
			Phases []struct {
				Name string `json:"name"`
			} `json:"phases"`
		} `json:"calls"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &full); err != nil {
		t.Fatal(err)
	}
	if full.ID != rec.ID.String() || len(full.Calls) != len(rec.Calls) {
		t.Fatalf("full = %+v", full)
	}
	c0 := full.Calls[0]
	if c0.Service != rec.Calls[0].Service || c0.Request != rec.Calls[0].Request || len(c0.Stack) != 3 ||
		c0.Stack[0].Function != rec.Calls[0].Stack[0].Function || c0.Stack[0].Line != rec.Calls[0].Stack[0].Line {
		t.Errorf("call 0 = %+v", c0)
	}
	if len(full.Calls[1].Phases) != 4 || full.Calls[1].Phases[0].Name != "dns" {
		t.Errorf("call 1 phases = %+v", full.Calls[1].Phases)
	}
	if full.Headers["Authorization"][0] != "[REDACTED]" {
		t.Errorf("headers = %v", full.Headers)
	}
	if len(full.RPCStats) == 0 {
		t.Error("no rpc_stats")
	}

	w = do(h, "GET", "/stats/api/records/"+rec.ID.String()+"?download=1", nil)
	if cd := w.Header().Get("Content-Disposition"); !strings.Contains(cd, "attachment") || !strings.Contains(cd, rec.ID.String()) {
		t.Errorf("Content-Disposition = %q", cd)
	}
}

func TestAPIStats(t *testing.T) {
	st, _ := newStore(t, 40)
	h := ui.NewHandler(st)
	w := do(h, "GET", "/stats/api/stats?window=1h", nil)
	type statsResp struct {
		Requests int64 `json:"requests"`
		Errors   int64 `json:"errors"`
		RPCs     []struct {
			Service string  `json:"service"`
			Method  string  `json:"method"`
			Count   int64   `json:"count"`
			Share   float64 `json:"share"`
			P95     float64 `json:"p95_ms"`
			Routes  []struct {
				Route string `json:"route"`
			} `json:"routes"`
		} `json:"rpcs"`
		Paths []struct {
			Route           string  `json:"route"`
			Requests        int64   `json:"requests"`
			CallsPerRequest float64 `json:"calls_per_request"`
			RPCs            []struct {
				Service string `json:"service"`
			} `json:"rpcs"`
		} `json:"paths"`
		Histogram []struct {
			Count int64 `json:"count"`
		} `json:"histogram"`
	}
	s := decode[statsResp](t, w)
	if s.Requests != 40 || s.Errors != 4 {
		t.Errorf("requests, errors = %d, %d; want 40, 4", s.Requests, s.Errors)
	}
	if len(s.RPCs) == 0 || len(s.Paths) != 2 {
		t.Fatalf("rpcs %d, paths %d", len(s.RPCs), len(s.Paths))
	}
	var share float64
	for _, r := range s.RPCs {
		share += r.Share
		if len(r.Routes) == 0 || r.P95 <= 0 {
			t.Errorf("rpc %s %s: routes %v, p95 %v", r.Service, r.Method, r.Routes, r.P95)
		}
	}
	if share < 0.999 || share > 1.001 {
		t.Errorf("shares add up to %v", share)
	}
	var reqs int64
	for _, p := range s.Paths {
		reqs += p.Requests
		if p.CallsPerRequest <= 0 || len(p.RPCs) == 0 {
			t.Errorf("path %+v", p)
		}
	}
	var hist int64
	for _, b := range s.Histogram {
		hist += b.Count
	}
	if reqs != 40 || hist != 40 {
		t.Errorf("paths count %d requests, histogram %d; want 40", reqs, hist)
	}
}

func TestStatic(t *testing.T) {
	st, _ := newStore(t, 1)
	h := ui.NewHandler(st)
	w := do(h, "GET", "/stats/static/echarts.min.js", nil)
	etag := w.Header().Get("ETag")
	if w.Code != 200 || etag == "" || w.Header().Get("Cache-Control") == "" || w.Body.Len() != 1034102 {
		t.Fatalf("status %d, ETag %q, Cache-Control %q, %d bytes", w.Code, etag, w.Header().Get("Cache-Control"), w.Body.Len())
	}
	w = do(h, "GET", "/stats/static/echarts.min.js", http.Header{"If-None-Match": {etag}})
	if w.Code != http.StatusNotModified || w.Body.Len() != 0 {
		t.Errorf("revalidation: status %d, %d bytes", w.Code, w.Body.Len())
	}
	w = do(h, "GET", "/stats/static/echarts.min.js", http.Header{"Accept-Encoding": {"gzip, deflate"}})
	if w.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("no gzip: %v", w.Header())
	}
	zr, err := gzip.NewReader(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(zr)
	if len(b) != 1034102 {
		t.Errorf("gunzipped %d bytes", len(b))
	}
	w = do(h, "GET", "/stats/static/echarts.min.js", http.Header{"Accept-Encoding": {"gzip;q=0"}})
	if w.Header().Get("Content-Encoding") != "" {
		t.Error("gzip sent although refused")
	}
}

func TestAuth(t *testing.T) {
	st, _ := newStore(t, 1)
	def := ui.NewHandler(st)
	named := ui.NewHandler(st, ui.WithLocalHosts("devbox", "Box.Example.:9999", " ", "[::2]"))
	basicAuth := ui.NewHandler(st, ui.WithAuth(ui.BasicAuth("admin", "s3cret")))
	tests := []struct {
		name   string
		h      http.Handler
		remote string
		host   string // "" means "localhost:8080"
		hdr    http.Header
		code   int
	}{
		{"loopback v4", def, "127.0.0.1:1", "", nil, 200},
		{"loopback v6", def, "[::1]:1", "", nil, 200},
		{"loopback 127/8", def, "127.3.4.5:1", "", nil, 200},
		{"v4-mapped loopback", def, "[::ffff:127.0.0.1]:1", "", nil, 200},
		{"non-loopback", def, "10.0.0.1:1", "", nil, 403},
		{"public", def, "8.8.8.8:1", "", nil, 403},
		{"unix socket", def, "@", "", nil, 403},
		{"no remote", def, "", "", nil, 403},

		// Host names this machine, or the request is refused (DNS rebinding).
		{"host localhost", def, "127.0.0.1:1", "localhost", nil, 200},
		{"host LOCALHOST.", def, "127.0.0.1:1", "LOCALHOST.:80", nil, 200},
		{"host *.localhost", def, "127.0.0.1:1", "app.localhost:3000", nil, 200},
		{"host 127.0.0.1", def, "127.0.0.1:1", "127.0.0.1:8080", nil, 200},
		{"host 127/8", def, "127.0.0.1:1", "127.9.9.9", nil, 200},
		{"host [::1]", def, "[::1]:1", "[::1]:8080", nil, 200},
		{"host [::1] without port", def, "[::1]:1", "[::1]", nil, 200},
		{"host v4-mapped", def, "127.0.0.1:1", "[::ffff:127.0.0.1]:80", nil, 200},
		{"host rebind", def, "127.0.0.1:1", "rebind.attacker.test:8080", nil, 403},
		{"host other", def, "127.0.0.1:1", "example.com", nil, 403},
		{"host empty", def, "127.0.0.1:1", " ", nil, 403},
		{"host localhost.example.com", def, "127.0.0.1:1", "localhost.example.com", nil, 403},
		{"host evil-localhost", def, "127.0.0.1:1", "evillocalhost", nil, 403},
		{"host 127.0.0.1.nip.io", def, "127.0.0.1:1", "127.0.0.1.nip.io", nil, 403},
		{"host private IP", def, "127.0.0.1:1", "10.0.0.1:8080", nil, 403},
		{"host [::2]", def, "127.0.0.1:1", "[::2]:8080", nil, 403},
		{"host unconfigured name", def, "127.0.0.1:1", "devbox:8080", nil, 403},
		{"configured name", named, "127.0.0.1:1", "devbox:8080", nil, 200},
		{"configured name, case and port", named, "127.0.0.1:1", "BOX.example", nil, 200},
		{"configured IPv6", named, "127.0.0.1:1", "[::2]:80", nil, 200},
		{"configured, still localhost", named, "127.0.0.1:1", "localhost", nil, 200},
		{"configured, other name", named, "127.0.0.1:1", "devbox.attacker.test", nil, 403},
		{"configured name, remote client", named, "10.0.0.1:1", "devbox", nil, 403},
		{"configured name, proxy header", named, "127.0.0.1:1", "devbox", http.Header{"Via": {"1.1 proxy"}}, 403},

		// Proxy headers, even empty, in any case.
		{"X-Forwarded-For", def, "127.0.0.1:1", "", http.Header{"X-Forwarded-For": {"127.0.0.1"}}, 403},
		{"Forwarded", def, "127.0.0.1:1", "", http.Header{"Forwarded": {"for=127.0.0.1"}}, 403},
		{"X-Real-IP", def, "127.0.0.1:1", "", http.Header{"X-Real-Ip": {"127.0.0.1"}}, 403},
		{"X-Forwarded-Host", def, "127.0.0.1:1", "", http.Header{"X-Forwarded-Host": {"a"}}, 403},
		{"empty X-Forwarded-For", def, "127.0.0.1:1", "", http.Header{"X-Forwarded-For": {""}}, 403},
		{"lower-case header", def, "127.0.0.1:1", "", http.Header{"x-forwarded-for": {"1.2.3.4"}}, 403},
		{"X-Client-IP", def, "127.0.0.1:1", "", http.Header{"X-Client-Ip": {"1.2.3.4"}}, 403},
		{"True-Client-IP", def, "127.0.0.1:1", "", http.Header{"True-Client-Ip": {"1.2.3.4"}}, 403},
		{"CF-Connecting-IP", def, "127.0.0.1:1", "", http.Header{"Cf-Connecting-Ip": {"1.2.3.4"}}, 403},
		{"Fastly-Client-IP", def, "127.0.0.1:1", "", http.Header{"Fastly-Client-Ip": {"1.2.3.4"}}, 403},
		{"X-Cluster-Client-IP", def, "127.0.0.1:1", "", http.Header{"X-Cluster-Client-Ip": {"1.2.3.4"}}, 403},
		{"Via", def, "127.0.0.1:1", "", http.Header{"Via": {"1.1 varnish"}}, 403},
		{"X-Forwarded", def, "127.0.0.1:1", "", http.Header{"X-Forwarded": {"for=1.2.3.4"}}, 403},
		{"X-Original-Forwarded-For", def, "127.0.0.1:1", "", http.Header{"X-Original-Forwarded-For": {"1.2.3.4"}}, 403},
		{"lower-case new header", def, "127.0.0.1:1", "", http.Header{"cf-connecting-ip": {""}}, 403},

		{"basic good", basicAuth, "10.0.0.1:1", "stats.example.com", http.Header{"Authorization": {basic("admin", "s3cret")}}, 200},
		{"basic bad pass", basicAuth, "10.0.0.1:1", "", http.Header{"Authorization": {basic("admin", "wrong")}}, 401},
		{"basic bad user", basicAuth, "10.0.0.1:1", "", http.Header{"Authorization": {basic("root", "s3cret")}}, 401},
		{"basic missing", basicAuth, "127.0.0.1:1", "", nil, 401},
		{"basic empty password configured", ui.NewHandler(st, ui.WithAuth(ui.BasicAuth("admin", ""))), "127.0.0.1:1", "",
			http.Header{"Authorization": {basic("admin", "")}}, 401},
		{"custom deny", ui.NewHandler(st, ui.WithAuth(func(*http.Request) bool { return false })), "127.0.0.1:1", "", nil, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, target := range []string{"/stats/", "/stats/api/records", "/stats/static/app.js"} {
				r := httptest.NewRequest("GET", target, nil)
				r.RemoteAddr, r.Host = tt.remote, cmp.Or(strings.TrimSpace(tt.host), "localhost:8080")
				if tt.host == " " {
					r.Host = ""
				}
				for k, vs := range tt.hdr {
					r.Header[k] = vs
				}
				w := httptest.NewRecorder()
				tt.h.ServeHTTP(w, r)
				if w.Code != tt.code {
					t.Errorf("%s: status %d, want %d", target, w.Code, tt.code)
				}
				if tt.code == 401 && !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Basic ") {
					t.Errorf("%s: 401 without a Basic challenge", target)
				}
				if tt.code != 200 && strings.Contains(target, "/api/") && !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
					t.Errorf("%s: API refusal is %q, want JSON", target, w.Header().Get("Content-Type"))
				}
				if tt.code != 200 && strings.Contains(w.Body.String(), "records/") {
					t.Errorf("%s: a refused request got data", target)
				}
				// The refusal says what is admitted, that a proxy adding no
				// header cannot be told apart, and how users of the facade
				// open the dashboard to others.
				if tt.code == 403 {
					for _, want := range []string{"loopback", "localhost", "reverse proxy on the same host", "Config.Auth", "Config.LocalHosts"} {
						if !strings.Contains(w.Body.String(), want) {
							t.Errorf("%s: 403 does not mention %q: %s", target, want, w.Body.String())
						}
					}
				}
			}
		})
	}
}

func basic(u, p string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(u, p)
	return r.Header.Get("Authorization")
}

func TestMutations(t *testing.T) {
	st, _ := newStore(t, 10)
	rec := recording.New()
	defer rec.Close(context.Background())
	h := ui.NewHandler(st, ui.WithRecorder(rec))

	cross := []http.Header{
		{"Sec-Fetch-Site": {"cross-site"}},
		{"Sec-Fetch-Site": {"same-site"}},
		{"Origin": {"http://evil.example"}},
	}
	for _, hdr := range cross {
		for _, target := range []string{"/stats/clear", "/stats/pause"} {
			w := do(h, "POST", target, hdr)
			if w.Code != http.StatusForbidden {
				t.Errorf("POST %s with %v: status %d, want 403", target, hdr, w.Code)
			}
		}
	}
	if st.Len() != 10 || rec.Paused() {
		t.Fatalf("a refused POST changed state: %d records, paused %v", st.Len(), rec.Paused())
	}

	same := http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {"http://example.com"}}
	w := do(h, "POST", "/stats/pause", same)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "./" || !rec.Paused() {
		t.Fatalf("pause: %d %q, paused %v", w.Code, w.Header().Get("Location"), rec.Paused())
	}
	if !strings.Contains(do(h, "GET", "/stats/", nil).Body.String(), "Resume recording") {
		t.Error("dashboard does not offer to resume")
	}
	w = do(h, "POST", "/stats/resume", http.Header{"Accept": {"application/json"}})
	if w.Code != http.StatusNoContent || rec.Paused() {
		t.Fatalf("resume: %d, paused %v", w.Code, rec.Paused())
	}
	w = do(h, "POST", "/stats/clear", same)
	if w.Code != http.StatusSeeOther || st.Len() != 0 {
		t.Fatalf("clear: %d, %d records left", w.Code, st.Len())
	}
	type healthResp struct {
		Recorder struct {
			QueueCap int  `json:"queue_cap"`
			Paused   bool `json:"paused"`
		} `json:"recorder"`
	}
	health := decode[healthResp](t, do(h, "GET", "/stats/api/health", nil))
	if health.Recorder.QueueCap != recording.DefaultQueueSize {
		t.Errorf("health = %+v", health)
	}
}

func TestPrefix(t *testing.T) {
	st, recs := newStore(t, 3)
	mux := http.NewServeMux()
	mux.Handle("/admin/appstats/", ui.NewHandler(st, ui.WithPrefix("admin/appstats")))
	mux.Handle("/s/", http.StripPrefix("/s", ui.NewHandler(st, ui.WithPrefix("/"))))
	for _, target := range []string{
		"/admin/appstats/", "/admin/appstats/records/" + recs[0].ID.String(), "/admin/appstats/api/records",
		"/s/", "/s/records/" + recs[1].ID.String(), "/s/static/app.js",
	} {
		if w := do(mux, "GET", target, nil); w.Code != 200 {
			t.Errorf("%s: %d", target, w.Code)
		}
	}
	w := do(ui.NewHandler(st, ui.WithPrefix("/admin/appstats/")), "GET", "/admin/appstats", nil)
	if w.Code != http.StatusMovedPermanently || location("/admin/appstats", w) != "/admin/appstats/" {
		t.Errorf("redirect: %d %q", w.Code, w.Header().Get("Location"))
	}
	// Links are relative: no page names the prefix.
	body := do(mux, "GET", "/admin/appstats/records/"+recs[0].ID.String(), nil).Body.String()
	if strings.Contains(body, `"/admin`) || strings.Contains(body, `"/stats`) || !strings.Contains(body, `href="../static/app.css"`) {
		t.Error("details page does not use relative links")
	}
}

// TestNoRedirectOutsidePrefix tries every route of the dashboard with
// path tricks — encoded slashes and dots, dot segments, doubled and
// trailing slashes — under several prefixes: nothing may redirect, least of
// all outside the prefix (ServeMux's path cleaning answered
// /stats/api/records/..%2f..%2fetc%2fpasswd with a 307 to /etc/passwd), and
// nothing may fail.
func TestNoRedirectOutsidePrefix(t *testing.T) {
	st, recs := newStore(t, 1)
	id := recs[0].ID.String()
	routes := []string{"", "records/" + id, "part/stats", "part/history", "part/refresh", "api/records", "api/records/" + id,
		"api/stats", "api/series", "api/health", "events", "static/app.js", "clear", "pause", "resume", "nothing/here"}
	tricks := []func(r string) string{
		func(r string) string { return r + "/" },
		func(r string) string { return r + "//" },
		func(r string) string { return "/" + r },
		func(r string) string { return r + "/." },
		func(r string) string { return r + "/.." },
		func(r string) string { return r + "/../../etc/passwd" },
		func(r string) string { return "./" + r },
		func(r string) string { return r + "/..%2f..%2f..%2fetc%2fpasswd" },
		func(r string) string { return r + "/%2e%2e/%2e%2e/%2e%2e/etc/passwd" },
		func(r string) string { return r + "%2f" },
		func(r string) string { return r + "%2F..%2F" },
		func(r string) string { return r + "/%2e" },
		func(r string) string { return r + "%5c..%5c" },
	}
	for _, prefix := range []string{"/stats/", "/", "/admin/appstats/"} {
		h := ui.NewHandler(st, ui.WithPrefix(prefix), ui.WithLive(ui.NewLive()))
		for _, route := range routes {
			for _, trick := range tricks {
				target := prefix + trick(route)
				for _, method := range []string{"GET", "POST"} {
					w := doBounded(h, method, target, http.Header{"Sec-Fetch-Site": {"same-origin"}})
					if w.Code >= 300 && w.Code < 400 {
						t.Errorf("%s %s: %d redirect to %q", method, target, w.Code, w.Header().Get("Location"))
					}
					if w.Code >= 500 {
						t.Errorf("%s %s: %d", method, target, w.Code)
					}
				}
			}
		}
	}
	// The one redirect: the prefix without its slash, to the prefix.
	w := do(ui.NewHandler(st), "GET", "/stats", nil)
	if w.Code != http.StatusMovedPermanently || location("/stats", w) != "/stats/" {
		t.Errorf("/stats: %d %q, want a redirect to /stats/", w.Code, w.Header().Get("Location"))
	}
	// Behind http.StripPrefix, the same redirect stays where the
	// handler is mounted (http.Redirect made it absolute from the
	// stripped path: /admin/stats went to /stats/).
	mux := http.NewServeMux()
	mux.Handle("/admin/", http.StripPrefix("/admin", ui.NewHandler(st)))
	w = do(mux, "GET", "/admin/stats", nil)
	if w.Code != http.StatusMovedPermanently || location("/admin/stats", w) != "/admin/stats/" {
		t.Errorf("/admin/stats behind StripPrefix(\"/admin\"): %d %q, want a redirect to /admin/stats/", w.Code, w.Header().Get("Location"))
	}
	if w := do(mux, "GET", "/admin/stats/", nil); w.Code != http.StatusOK {
		t.Errorf("/admin/stats/ behind StripPrefix(\"/admin\"): %d", w.Code)
	}
}

// TestRepeatedParameters checks that every route answers a parameter given
// twice with 400, as API.md says, and that malformed or over-long query
// strings get 400 too.
func TestRepeatedParameters(t *testing.T) {
	st, recs := newStore(t, 1)
	id := recs[0].ID.String()
	h := ui.NewHandler(st, ui.WithLive(ui.NewLive()))
	for _, target := range []string{
		"/stats/?window=1h&window=7d", "/stats/?route=a&route=a", "/stats/records/" + id + "?x=1&x=2",
		"/stats/part/stats?window=1h&window=1h", "/stats/part/history?limit=1&limit=2",
		"/stats/api/records?status=2xx&status=5xx", "/stats/api/records/" + id + "?download=1&download=1",
		"/stats/api/stats?window=1h&window=7d", "/stats/api/series?window=1h&window=15m",
		"/stats/api/health?a&a", "/stats/events?x=1&x=2", "/stats/static/app.js?v=1&v=2",
	} {
		for _, method := range []string{"GET", "HEAD"} {
			w := doBounded(h, method, target, nil)
			if w.Code != http.StatusBadRequest {
				t.Errorf("%s %s: %d, want 400", method, target, w.Code)
			} else if method == "GET" && !strings.Contains(w.Body.String(), "given more than once") {
				t.Errorf("%s: %s", target, w.Body.String())
			}
		}
	}
	for _, target := range []string{"/stats/api/records?a=1;b=2", "/stats/api/stats?window=%zz",
		"/stats/api/health?" + strings.Repeat("k", 2000) + "=1", "/stats/?x=" + strings.Repeat("v", 2000)} {
		if w := do(h, "GET", target, nil); w.Code != http.StatusBadRequest {
			t.Errorf("%.80s: %d, want 400", target, w.Code)
		}
	}
	// Distinct parameters are fine.
	if w := do(h, "GET", "/stats/api/records?limit=2&status=2xx&route=x", nil); w.Code != 200 {
		t.Errorf("distinct parameters: %d", w.Code)
	}
}

// TestBoundedAnswers fills a store with the largest records and the most
// distinct keys it keeps — routes and call names of 256 bytes, paths of
// 2,000 and queries of 1,000, made of characters that escape the most —
// and checks that every page and API answer stays under 1 MiB, that the
// stats tables say what they leave out, and that record lists cut by size
// still page through every record.
func TestBoundedAnswers(t *testing.T) {
	st := memstore.New(3000)
	t.Cleanup(func() { st.Close() })
	now := time.Now()
	long := func(c string, n int, i int) string {
		s := strconv.Itoa(i) + strings.Repeat(c, n)
		return s[:n]
	}
	var recs []*recording.Record
	for i := range 3000 {
		r := makeRecord(now.Add(-time.Duration(3000-i)*time.Millisecond), uint64(i+1), "/"+long("<", 1999, i), 404, 0)
		r.Route = long("&", 256, i%600)
		r.Query = "q=" + long(`"`, 998, i)
		r.Error = long("'", 256, i)
		for j := range 3 {
			r.Calls = append(r.Calls, recording.Call{Service: "svc", Method: long(">", 256, (i+j)%700), Duration: time.Millisecond})
		}
		recs = append(recs, r)
	}
	if err := st.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	h := ui.NewHandler(st)
	id := recs[2999].ID.String()
	for _, target := range []string{
		"/stats/", "/stats/?limit=1000", "/stats/part/stats", "/stats/part/history?limit=1000",
		"/stats/api/stats", "/stats/api/records", "/stats/api/records?limit=1000", "/stats/api/series",
		"/stats/records/" + id, "/stats/api/records/" + id,
	} {
		w := do(h, "GET", target, nil)
		t.Logf("%-32s %d %8d bytes", target, w.Code, w.Body.Len())
		if w.Code != 200 || w.Body.Len() > 1<<20 {
			t.Errorf("%s: %d, %d bytes; want 200 and at most 1 MiB", target, w.Code, w.Body.Len())
		}
	}

	// 600 routes and 700 methods, folded by the store to 500 and Other,
	// then cut by the dashboard: to fewer than 100 here, as the names are
	// long.
	stats := apiStatsRows(t, h)
	if stats.rpcs+stats.rpcsOmitted != 501 || stats.paths+stats.pathsOmitted != 501 || stats.rpcs >= 100 || stats.paths >= 100 {
		t.Errorf("api/stats: %d rpcs (%d omitted), %d paths (%d omitted); want fewer than 100 of 501 each",
			stats.rpcs, stats.rpcsOmitted, stats.paths, stats.pathsOmitted)
	}
	page := do(h, "GET", "/stats/", nil).Body.String()
	for _, want := range []string{fmt.Sprintf("%d more RPCs", stats.rpcsOmitted), fmt.Sprintf("%d more routes", stats.pathsOmitted)} {
		if !strings.Contains(page, want) {
			t.Errorf("the dashboard does not say %q", want)
		}
	}
	// With short names, the tables list 100 rows each.
	short := memstore.New(0)
	t.Cleanup(func() { short.Close() })
	for i := range 700 {
		r := makeRecord(now.Add(-time.Duration(700-i)*time.Millisecond), uint64(i+1), "/x", 200, 0)
		r.Route = fmt.Sprintf("GET /r%d", i%600)
		r.Calls = []recording.Call{{Service: "svc", Method: fmt.Sprintf("M%d", i), Duration: time.Millisecond}}
		if err := short.Write(context.Background(), []*recording.Record{r}); err != nil {
			t.Fatal(err)
		}
	}
	stats = apiStatsRows(t, ui.NewHandler(short))
	if stats.rpcs != 100 || stats.paths != 100 || stats.rpcsOmitted != 401 || stats.pathsOmitted != 401 {
		t.Errorf("short names: %d rpcs (%d omitted), %d paths (%d omitted); want 100 (401) each",
			stats.rpcs, stats.rpcsOmitted, stats.paths, stats.pathsOmitted)
	}

	// Pages cut by size hold fewer records than asked for, and their
	// cursors lead through every record once.
	seen := make(map[string]bool)
	pages := 0
	for next := ""; ; pages++ {
		target := "/stats/api/records?limit=1000"
		if next != "" {
			target += "&before=" + next
		}
		l := decode[struct {
			Records []struct{ ID string } `json:"records"`
			Next    string                `json:"next"`
		}](t, do(h, "GET", target, nil))
		if len(l.Records) == 0 || len(l.Records) >= 1000 {
			t.Fatalf("page %d: %d records", pages, len(l.Records))
		}
		for _, r := range l.Records {
			if seen[r.ID] {
				t.Fatalf("record %s listed twice", r.ID)
			}
			seen[r.ID] = true
		}
		if next = l.Next; next == "" {
			break
		}
	}
	if len(seen) != len(recs) || pages < 3 {
		t.Errorf("%d pages listed %d records, want all %d", pages+1, len(seen), len(recs))
	}
}

type statsRows struct{ rpcs, rpcsOmitted, paths, pathsOmitted, routeRPCsOmitted int }

// apiStatsRows counts the lists of h's api/stats answer.
func apiStatsRows(t *testing.T, h http.Handler) statsRows {
	t.Helper()
	v := decode[struct {
		RPCs             []json.RawMessage `json:"rpcs"`
		Paths            []json.RawMessage `json:"paths"`
		RPCsOmitted      int               `json:"rpcs_omitted"`
		PathsOmitted     int               `json:"paths_omitted"`
		RouteRPCsOmitted int               `json:"route_rpcs_omitted"`
	}](t, do(h, "GET", "/stats/api/stats", nil))
	return statsRows{len(v.RPCs), v.RPCsOmitted, len(v.Paths), v.PathsOmitted, v.RouteRPCsOmitted}
}

// xssPayloads are what a request could put in a path, query, call name or
// error string.
var xssPayloads = []string{
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(1)>`,
	`</script><script>alert(1)</script>`,
	`javascript:alert(1)`,
	`'-alert(1)-'`,
	`<!--<script>`,
	`__f__"alert(1)"__f__`,
}

func xssRecord(t time.Time, n uint64) *recording.Record {
	p := strings.Join(xssPayloads, "")
	r := makeRecord(t, n, "/x/"+p, 500, 12)
	r.Route = "GET /x/" + p
	r.Query = "q=" + p
	r.Error = p
	r.Panic = p
	r.User = p
	r.Headers = map[string][]string{p: {p}}
	r.Attrs = []recording.Attr{{Key: p, Value: p}}
	for i := range r.Calls {
		c := &r.Calls[i]
		c.Service = xssPayloads[i%len(xssPayloads)]
		c.Method = p
		c.Error = p
		c.Request = p
		c.Response = p
		c.Stack[0].Function = p
		c.Stack[0].File = p
		c.Attrs = []recording.Attr{{Key: p, Value: p}}
		for j := range c.Phases {
			c.Phases[j].Name = xssPayloads[j%len(xssPayloads)]
		}
	}
	r.Warnings = append(r.Warnings, recording.Warning{Kind: p, Service: p, Method: p, Request: p, Count: 3, Message: p})
	return r
}

// TestEscaping checks, without a browser, that no payload reaches a page
// unescaped. TestBrowserXSS checks the same in Chromium.
func TestEscaping(t *testing.T) {
	st, _ := newStore(t, 2)
	rec := xssRecord(time.Now(), 999)
	if err := st.Write(context.Background(), []*recording.Record{rec}); err != nil {
		t.Fatal(err)
	}
	h := ui.NewHandler(st, ui.WithTraceLink("javascript:alert(1)//{trace_id}"))
	raw := []string{"<script>alert", "<img src=x", "</script><script>", "<!--<script>", `href="javascript:`}
	for _, target := range []string{
		"/stats/", "/stats/records/" + rec.ID.String(), "/stats/part/stats", "/stats/part/history", "/stats/part/refresh",
		"/stats/?route=" + url.QueryEscape(rec.Route),
		"/stats/api/records", "/stats/api/records/" + rec.ID.String(), "/stats/api/stats",
	} {
		w := do(h, "GET", target, nil)
		if w.Code != 200 {
			t.Fatalf("%s: %d", target, w.Code)
		}
		body := w.Body.String()
		for _, s := range raw {
			if strings.Contains(body, s) {
				t.Errorf("%s: body contains %q", target, s)
			}
		}
		// Chart scripts carry no request data at all.
		for _, chunk := range strings.Split(body, "<script nonce=")[1:] {
			script := chunk[:strings.Index(chunk, "</script>")]
			if strings.Contains(script, "alert") || strings.Contains(script, "__f__") {
				t.Errorf("%s: chart script contains request data: %.200s", target, script)
			}
		}
	}
}

// failingStore fails every method with err.
type failingStore struct {
	store.Store
	err error
}

func (f failingStore) Get(context.Context, recording.ID) (*recording.Record, error) {
	return nil, f.err
}
func (f failingStore) List(context.Context, store.Query) (store.Page, error) {
	return store.Page{}, f.err
}
func (f failingStore) Stats(context.Context, store.Window) (*store.Stats, error) { return nil, f.err }
func (f failingStore) Series(context.Context, store.Window, time.Duration) ([]store.Bucket, error) {
	return nil, f.err
}
func (f failingStore) Clear(context.Context) error { return f.err }

func TestStoreErrors(t *testing.T) {
	id := recID(time.Now(), 1).String()
	tests := []struct {
		err  error
		code int
	}{
		{store.ErrNotFound, 404},
		{store.ErrInvalidQuery, 400},
		{store.ErrClosed, 503},
		{errors.New("disk on fire"), 500},
	}
	for _, tt := range tests {
		h := ui.NewHandler(failingStore{err: tt.err})
		for _, target := range []string{"/stats/", "/stats/records/" + id, "/stats/api/records", "/stats/api/records/" + id,
			"/stats/api/stats", "/stats/api/series", "/stats/part/stats", "/stats/part/history", "/stats/part/refresh"} {
			w := do(h, "GET", target, nil)
			if w.Code != tt.code {
				t.Errorf("%v: GET %s: %d, want %d", tt.err, target, w.Code, tt.code)
			}
			if strings.Contains(w.Body.String(), "disk on fire") {
				t.Errorf("%s: internal error text leaked", target)
			}
		}
		if w := do(h, "POST", "/stats/clear", nil); w.Code != tt.code {
			t.Errorf("%v: POST clear: %d", tt.err, w.Code)
		}
	}
}

// TestNoServerErrorOnJunk sends odd parameters everywhere: every answer is
// 2xx or 4xx.
func TestNoServerErrorOnJunk(t *testing.T) {
	st, recs := newStore(t, 5)
	h := ui.NewHandler(st)
	junk := []string{"", "%00", "%ff%fe", "-", "1e309", "0x10", "９", strings.Repeat("9", 40), "null", "[]", "%3Cscript%3E", "..%2F..%2Fetc%2Fpasswd"}
	paths := []string{"/stats/", "/stats/api/records", "/stats/api/stats", "/stats/api/series", "/stats/part/history", "/stats/part/stats", "/stats/part/refresh"}
	params := []string{"limit", "before", "route", "status", "min_ms", "error", "window", "download"}
	for _, p := range paths {
		for _, k := range params {
			for _, v := range junk {
				w := do(h, "GET", p+"?"+k+"="+v, nil)
				if w.Code >= 500 {
					t.Errorf("%s?%s=%s: %d %s", p, k, v, w.Code, w.Body.String())
				}
			}
		}
	}
	for _, id := range []string{"%00", "..", "..%2f..", strings.Repeat("a", 33), strings.Repeat("g", 32), recs[0].ID.String() + "x"} {
		for _, p := range []string{"/stats/records/", "/stats/api/records/", "/stats/static/"} {
			if w := do(h, "GET", p+id, nil); w.Code >= 500 || w.Code == 200 {
				t.Errorf("%s%s: %d", p, id, w.Code)
			}
		}
	}
}

func TestDetailsContent(t *testing.T) {
	st, _ := newStore(t, 1)
	rec := makeRecord(time.Now(), 77, "/big", 200, 40)
	rec.Calls[3].Running = true
	rec.Calls = append(rec.Calls, recording.Call{Service: "event", Method: "cache miss", Start: time.Millisecond, Event: true, RequestSize: -1, ResponseSize: -1})
	rec.Warnings = recording.Analyze(rec, 5)
	if err := st.Write(context.Background(), []*recording.Record{rec}); err != nil {
		t.Fatal(err)
	}
	h := ui.NewHandler(st, ui.WithTraceLink("http://jaeger:16686/trace/{trace_id}"))
	body := do(h, "GET", "/stats/records/"+rec.ID.String(), nil).Body.String()
	for _, s := range []string{
		`href="http://jaeger:16686/trace/` + rec.TraceID.String() + `"`,
		"N+1", "left running", `<details class="call`, "main.loadFriends", "/app/friends.go:17",
		"connection refused", "RPC stats", `id="gantt-wrap"`, `"ph":[{"n":"dns"`,
	} {
		if !strings.Contains(body, s) {
			t.Errorf("details page lacks %q", s)
		}
	}
	if n := strings.Count(body, `<details class="call`); n != len(rec.Calls) {
		t.Errorf("%d calls listed, want %d", n, len(rec.Calls))
	}
}

func TestEmptyStore(t *testing.T) {
	st, _ := newStore(t, 0)
	h := ui.NewHandler(st)
	for _, target := range []string{"/stats/", "/stats/api/records", "/stats/api/stats", "/stats/part/stats", "/stats/part/history", "/stats/part/refresh"} {
		w := do(h, "GET", target, nil)
		if w.Code != 200 {
			t.Errorf("%s: %d", target, w.Code)
		}
	}
	if b := do(h, "GET", "/stats/api/records", nil).Body.Bytes(); !bytes.Contains(b, []byte(`"records":[]`)) {
		t.Errorf("empty list = %s", b)
	}
	rec := makeRecord(time.Now(), 5, "/none", 204, 0)
	st.Write(context.Background(), []*recording.Record{rec})
	if w := do(h, "GET", "/stats/records/"+rec.ID.String(), nil); w.Code != 200 || !strings.Contains(w.Body.String(), "made no calls") {
		t.Errorf("record without calls: %d", w.Code)
	}
}

func TestNilStore(t *testing.T) {
	h := ui.NewHandler(nil)
	for _, target := range []string{"/stats/", "/stats/api/records", "/stats/records/" + recID(time.Now(), 1).String()} {
		if w := do(h, "GET", target, nil); w.Code != http.StatusServiceUnavailable {
			t.Errorf("%s: %d, want 503", target, w.Code)
		}
	}
}

// With records of several instances (a fleet sharing a store), the stats
// group them, the history filters by them, and the dashboard shows both;
// with one instance it shows neither.
func TestInstances(t *testing.T) {
	st := memstore.New(0)
	defer st.Close()
	now := time.Now()
	var recs []*recording.Record
	for i := range 30 {
		r := makeRecord(now.Add(-time.Duration(30-i)*time.Second), uint64(i+1), fmt.Sprintf("/users/%d", i), 200, 2)
		r.Instance = []string{"web-1/10", "web-2/20", "web-3/30"}[i%3]
		recs = append(recs, r)
	}
	if err := st.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	h := ui.NewHandler(st)

	type statsResp struct {
		Instances []struct {
			Instance string  `json:"instance"`
			Requests int64   `json:"requests"`
			Calls    int64   `json:"calls"`
			P50      float64 `json:"p50_ms"`
		} `json:"instances"`
	}
	s := decode[statsResp](t, do(h, "GET", "/stats/api/stats?window=1h", nil))
	if len(s.Instances) != 3 {
		t.Fatalf("instances = %+v, want 3", s.Instances)
	}
	for _, in := range s.Instances {
		if in.Requests != 10 || in.Calls != 20 || in.P50 <= 0 {
			t.Errorf("instance %+v: want 10 requests, 20 calls, a p50", in)
		}
	}

	type list struct {
		Records []map[string]any `json:"records"`
	}
	l := decode[list](t, do(h, "GET", "/stats/api/records?limit=100&instance=web-2%2F20", nil))
	if len(l.Records) != 10 {
		t.Errorf("instance filter: %d records, want 10", len(l.Records))
	}
	for _, m := range l.Records {
		if m["instance"] != "web-2/20" {
			t.Errorf("instance filter let through %v", m["instance"])
		}
	}
	if w := do(h, "GET", "/stats/api/records?instance=a&instance=b", nil); w.Code != 400 {
		t.Errorf("instance given twice: %d, want 400", w.Code)
	}

	w := do(h, "GET", "/stats/?instance=web-3%2F30", nil)
	body := w.Body.String()
	if w.Code != 200 || !strings.Contains(body, `class="card instance-card"`) {
		t.Fatalf("dashboard: %d, no Instances table", w.Code)
	}
	if !strings.Contains(body, `<option value="web-3/30" selected>`) {
		t.Error("the instance filter does not show the instance selected")
	}
	if n := strings.Count(body, `<span class="instance">web-3/30</span>`); n != 10 {
		t.Errorf("history shows %d rows of web-3/30, want 10", n)
	}
	if strings.Contains(body, `<span class="instance">web-1/10</span>`) {
		t.Error("history shows a row of another instance")
	}

	one, _ := newStore(t, 10)
	body = do(ui.NewHandler(one), "GET", "/stats/", nil).Body.String()
	if strings.Contains(body, "instance-card") || strings.Contains(body, `name="instance"`) {
		t.Error("a single instance gets an Instances table or filter")
	}
}

// reportingStore is a store with a condition to report.
type reportingStore struct {
	store.Store
	health store.Health
}

func (s reportingStore) Health() store.Health { return s.health }

// TestStoreHealth: a store's health reaches api/health and the dashboard,
// escaped like everything else.
func TestStoreHealth(t *testing.T) {
	st, _ := newStore(t, 3)
	rs := reportingStore{Store: st, health: store.Health{
		State: store.StateDiskFull, Detail: "1 MiB free on <dir>, 75.5 MiB needed", Dropped: 12, Skipped: 3,
		MovedAside: "/data.damaged-1", DiskBytes: 5 << 20, DiskFree: 1 << 20, MaxBytes: 1 << 30,
	}}
	h := ui.NewHandler(rs)
	type healthResp struct {
		Store *struct {
			State      string `json:"state"`
			Detail     string `json:"detail"`
			Dropped    uint64 `json:"dropped"`
			Skipped    uint64 `json:"skipped"`
			MovedAside string `json:"moved_aside"`
			DiskFree   int64  `json:"disk_free"`
		} `json:"store"`
	}
	got := decode[healthResp](t, do(h, "GET", "/stats/api/health", nil)).Store
	if got == nil || got.State != "disk full" || got.Dropped != 12 || got.Skipped != 3 || got.MovedAside != "/data.damaged-1" || got.DiskFree != 1<<20 {
		t.Fatalf("api/health store = %+v", got)
	}
	body := do(h, "GET", "/stats/", nil).Body.String()
	for _, want := range []string{"disk full", "1 MiB free on &lt;dir&gt;, 75.5 MiB needed", "12 dropped", "3 damaged skipped"} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	// A store that reports nothing: no store part.
	if strings.Contains(do(ui.NewHandler(st), "GET", "/stats/api/health", nil).Body.String(), `"store":{`) {
		t.Error("api/health has a store part for a store without health")
	}
}

// downStore fails as failingStore does and reports its condition.
type downStore struct {
	failingStore
	health store.Health
}

func (s downStore) Health() store.Health { return s.health }

// TestStoreDownPage: a page the store cannot answer for says what the
// store reports (as the dashboard's health panel would), that recording
// goes on, and where to look; the API's message stays short.
func TestStoreDownPage(t *testing.T) {
	h := ui.NewHandler(downStore{failingStore: failingStore{err: errors.New("dial tcp <redis>: connection refused")},
		health: store.Health{State: store.StateUnavailable, Detail: "writing to Redis failed: <redis> refused", Dropped: 7}})
	w := do(h, "GET", "/stats/", nil)
	if w.Code != 500 {
		t.Errorf("GET /stats/: %d, want 500", w.Code)
	}
	body := w.Body.String()
	for _, want := range []string{"unavailable", "writing to Redis failed: &lt;redis&gt; refused", "7 records dropped", "api/health"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "connection refused") {
		t.Error("the store's error text leaked")
	}
	if got := do(h, "GET", "/stats/api/stats", nil).Body.String(); strings.TrimSpace(got) != `{"error":"store error"}` {
		t.Errorf("api/stats: %s", got)
	}
}

// TestStripPrefixForgotten checks what a developer who mounts the handler
// behind http.StripPrefix without ui.WithPrefix("/") gets: not a bare
// "page not found" on every path, but a 404 that says what to do.
func TestStripPrefixForgotten(t *testing.T) {
	st, _ := newStore(t, 1)
	for _, strip := range []string{"/stats", "/stats/"} {
		mux := http.NewServeMux()
		mux.Handle("/stats/", http.StripPrefix(strip, ui.NewHandler(st)))
		for _, target := range []string{"/stats/", "/stats/api/stats", "/stats/records/x", "/stats/static/app.js"} {
			w := do(mux, "GET", target, nil)
			body := w.Body.String()
			if w.Code != http.StatusNotFound || !strings.Contains(body, "http.StripPrefix") || !strings.Contains(body, `WithPrefix(\"/\")`) && !strings.Contains(body, "WithPrefix(&#34;/&#34;)") {
				t.Errorf("StripPrefix(%q) %s: %d %.300s, want a 404 naming the fix", strip, target, w.Code, body)
			}
		}
	}
	// A path outside the prefix that nothing stripped (the handler
	// mounted at another path than its prefix) gets a 404 naming the
	// prefix, and nothing of StripPrefix.
	w := do(ui.NewHandler(st), "GET", "/elsewhere", nil)
	if w.Code != http.StatusNotFound || strings.Contains(w.Body.String(), "StripPrefix") || !strings.Contains(w.Body.String(), "below /stats/") {
		t.Errorf("/elsewhere: %d %.300s", w.Code, w.Body.String())
	}
}

// TestStripPrefixSlash checks the handler behind http.StripPrefix("/stats/")
// (the form of net/http's own example, which leaves paths without their
// leading slash) with ui.WithPrefix("/"), as ui/API.md says: every page
// answers, and the dashboard's own path is not redirected to the site's
// root.
func TestStripPrefixSlash(t *testing.T) {
	st, recs := newStore(t, 1)
	mux := http.NewServeMux()
	mux.Handle("/stats/", http.StripPrefix("/stats/", ui.NewHandler(st, ui.WithPrefix("/"))))
	for _, target := range []string{"/stats/", "/stats/api/stats", "/stats/api/records", "/stats/records/" + recs[0].ID.String(), "/stats/static/app.js"} {
		if w := do(mux, "GET", target, nil); w.Code != 200 {
			t.Errorf("%s: %d %q %.200s", target, w.Code, w.Header().Get("Location"), w.Body.String())
		}
	}
	for _, target := range []string{"/stats/..%2f..%2fetc%2fpasswd", "/stats/%2e%2e/x", "/stats//x", "/stats/api//stats"} {
		w := doBounded(mux, "GET", target, nil)
		if w.Code >= 300 && w.Code < 400 && !strings.HasPrefix(location(target, w), "/stats/") {
			t.Errorf("%s: %d redirect to %q", target, w.Code, w.Header().Get("Location"))
		}
		if w.Code >= 500 {
			t.Errorf("%s: %d", target, w.Code)
		}
	}
	// An encoded slash keeps its escape once the slash is put back in
	// front of the raw path too: no page of the dashboard has one.
	if w := do(mux, "GET", "/stats/api%2fstats", nil); w.Code != http.StatusNotFound {
		t.Errorf("/stats/api%%2fstats: %d %.200s, want 404", w.Code, w.Body.String())
	}
}

// TestMountedAtBothPaths: a handler mounted at its prefix with and
// without the slash (mux.Handle("/stats", h) and mux.Handle("/stats/", h))
// redirects /stats to /stats/, which it serves; and one mounted at any
// pattern that routes /stats to it does the same.
func TestMountedAtBothPaths(t *testing.T) {
	st, _ := newStore(t, 1)
	for _, patterns := range [][]string{{"/stats", "/stats/"}, {"GET /stats", "GET /stats/"}, {"/stats/"}, {"/{path...}"}, {"GET /"}} {
		mux := http.NewServeMux()
		h := ui.NewHandler(st)
		for _, p := range patterns {
			mux.Handle(p, h)
		}
		if w := do(mux, "GET", "/stats", nil); w.Code/100 != 3 || location("/stats", w) != "/stats/" {
			t.Errorf("mounted at %q: GET /stats: %d %q", patterns, w.Code, w.Header().Get("Location"))
		}
		if w := do(mux, "GET", "/stats/", nil); w.Code != http.StatusOK {
			t.Errorf("mounted at %q: GET /stats/: %d", patterns, w.Code)
		}
	}
}
