package ui_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/ui"
)

// The JSON API of records whose every text is hostile (hostileRecord):
// every answer is application/json with nosniff and no-store, and no
// answer holds a raw <, > or & (a browser sniffing it as HTML would find
// no markup) or a raw U+2028 or U+2029 (which end a line in old
// JavaScript, were the JSON put in a script); the download too.
func TestAPIHostileJSON(t *testing.T) {
	st, _ := newStore(t, 1)
	now := time.Now().Add(-time.Minute)
	a, b := hostileRecord(now, 11, recording.KindHTTP), hostileRecord(now.Add(time.Millisecond), 12, recording.KindGRPC)
	b.TraceID = a.TraceID
	big := hostileRecord(now.Add(2*time.Millisecond), 13, recording.KindHTTP)
	for len(big.Calls) <= 1000 { // over 1,000 calls: a download written a call at a time
		big.Calls = append(big.Calls, big.Calls[:min(len(big.Calls), 1001-len(big.Calls))]...)
	}
	writeRecs(t, st, a, b, big)
	rec := recording.New()
	defer rec.Close(context.Background())
	p := strings.Join(hostilePayloads, " ")
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/active/" + p})
	c := recording.StartCall(ctx, p, p)
	defer ar.Finish()
	defer c.End(nil)
	h := ui.NewHandler(st, ui.WithRecorder(rec))
	id, bid, tid := a.ID.String(), b.ID.String(), a.TraceID.String()
	for _, target := range []string{
		"/stats/api/records", "/stats/api/records?sort=duration", "/stats/api/records/" + id, "/stats/api/records/" + bid,
		"/stats/api/records/" + big.ID.String() + "?download=1", "/stats/api/records/" + big.ID.String(),
		"/stats/api/stats", "/stats/api/series", "/stats/api/health", "/stats/api/active",
		"/stats/api/traces/" + tid + "?record=" + id, "/stats/api/compare?a=" + id + "&b=" + bid,
		"/stats/api/records?route=" + url.QueryEscape(a.Route),
	} {
		w := do(h, "GET", target, nil)
		if w.Code != 200 {
			t.Errorf("%.80s: %d %.200s", target, w.Code, w.Body.String())
		}
		hd := w.Header()
		if hd.Get("Content-Type") != "application/json; charset=utf-8" || hd.Get("X-Content-Type-Options") != "nosniff" ||
			hd.Get("Cache-Control") != "private, no-store" {
			t.Errorf("%.80s: Content-Type %q, X-Content-Type-Options %q, Cache-Control %q", target,
				hd.Get("Content-Type"), hd.Get("X-Content-Type-Options"), hd.Get("Cache-Control"))
		}
		body := w.Body.String()
		if i := strings.IndexAny(body, "<>&\u2028\u2029"); i >= 0 {
			t.Errorf("%.80s: a raw %q in the answer: %.80q", target, body[i], body[max(0, i-40):])
		}
		if !strings.Contains(body, `\u003cscript\u003e`) && !strings.Contains(target, "health") && !strings.Contains(target, "series") {
			t.Errorf("%.80s: the payloads are not in the answer, escaped", target)
		}
	}
}
