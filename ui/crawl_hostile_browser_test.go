package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/browsertest"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// hostilePayloads are what a client controls in a recorded request (its
// path and query, its headers and user agent, a gRPC method name) or what
// reaches a record from what it did (SQL text, error messages): each
// counts its executions in window.__xss if it runs, leaves an img[src=x],
// svg[onload] or iframe if it is parsed as markup, and a javascript: link
// if a URL of it is linked. U+2028 and U+2029 end a line in old
// JavaScript; a quote or backslash ends a string in a script or an
// attribute.
var hostilePayloads = []string{
	`<script>window.__xss=(window.__xss||0)+1</script>`,
	`</script><script>window.__xss=(window.__xss||0)+1</script>`,
	`"><img src=x onerror="window.__xss=(window.__xss||0)+1">`,
	`'><svg onload='window.__xss=(window.__xss||0)+1'>`,
	`javascript:window.__xss=(window.__xss||0)+1//`,
	"\u2028\u2029';window.__xss=(window.__xss||0)+1;//\\",
	"\"+(window.__xss=(window.__xss||0)+1)+\"",
	"`${window.__xss=(window.__xss||0)+1}`",
	`<iframe srcdoc="<script>parent.__xss=(parent.__xss||0)+1</script>"></iframe>`,
	`{{.}}<!--<script>`,
}

// hostileRecord is a record of kind k whose every text is hostile.
func hostileRecord(start time.Time, n uint64, k recording.Kind) *recording.Record {
	p := strings.Join(hostilePayloads, " ")
	r := makeRecord(start, n, "/h/"+p, 500, len(hostilePayloads)+2)
	r.Kind = k
	r.Method = hostilePayloads[int(n)%len(hostilePayloads)]
	if k == recording.KindGRPC {
		r.Method, r.Path, r.Status = "POST", "/pkg."+p+"/"+p, 13
	}
	r.Route = r.Method + " " + r.Path
	r.Query = "q=" + p + "&next=javascript:window.__xss=1"
	r.Error, r.Panic, r.User, r.Instance, r.Remote = p, p, p, p, p
	r.Headers = map[string][]string{"User-Agent": {p}, "Referer": {"javascript:window.__xss=1"}, p: {p}}
	r.Attrs = []recording.Attr{{Key: p, Value: p}, {Key: "url", Value: "javascript:window.__xss=1"}}
	for i := range r.Calls {
		c := &r.Calls[i]
		c.Service = hostilePayloads[i%len(hostilePayloads)]
		c.Method = "SELECT '" + p + "' FROM t"
		c.Error, c.Request, c.Response = p, p, p
		c.Stack[0].Function, c.Stack[0].File = p, "/src/"+p+".go"
		c.Attrs = []recording.Attr{{Key: p, Value: p}, {Key: "http.url", Value: "javascript:window.__xss=1"}}
		for j := range c.Phases {
			c.Phases[j].Name = hostilePayloads[(i+j)%len(hostilePayloads)]
		}
	}
	r.Warnings = append(r.Warnings, recording.Warning{Kind: p, Service: p, Method: p, Request: p, Count: 3, Message: p})
	return r
}

// hostileAssert shows every chart's tooltip for its first points, then is
// true when no payload ran, was parsed as markup or linked as a URL; else
// what it found.
const hostileAssert = `(function () {
  if (window.echarts) document.querySelectorAll('[_echarts_instance_]').forEach(function (el) {
    var c = echarts.getInstanceByDom(el);
    if (!c) return;
    var n = (c.getOption().series || []).length;
    for (var s = 0; s < n; s++) for (var i = 0; i < 8; i++) c.dispatchAction({type: 'showTip', seriesIndex: s, dataIndex: i});
  });
  if (window.__xss !== undefined) return 'a payload ran ' + window.__xss + ' times';
  var m = document.querySelectorAll('img[src=x], svg[onload], iframe, object, embed');
  if (m.length) return m.length + ' elements of a payload: ' + m[0].outerHTML.slice(0, 200);
  var js = Array.from(document.links).filter(function (a) { return a.protocol !== 'http:' && a.protocol !== 'https:'; });
  if (js.length) return js.length + ' links not http(s): ' + js[0].href.slice(0, 200);
  return true;
})()`

// TestBrowserCrawlHostile crawls the dashboard of records whose every
// text an attacker controls (path, query, headers, user agent, gRPC
// method, SQL text, error messages, attributes, warnings, call names and
// phases), two of them one trace, another in the making, with a trace
// link template of javascript:, from the dashboard (a page of each shape)
// and each page of the records (the page itself): on every page the crawl
// loads, after its controls were
// clicked and every chart's tooltip shown, no payload ran (a hook counts
// executions), none was parsed as markup and no link is javascript:; and
// no page has a script error (a violation of the CSP among them).
func TestBrowserCrawlHostile(t *testing.T) {
	st := memstore.New(0)
	defer st.Close()
	now := time.Now().Add(-time.Minute)
	caller, callee := hostileRecord(now, 1, recording.KindHTTP), hostileRecord(now.Add(time.Millisecond), 2, recording.KindGRPC)
	callee.TraceID = caller.TraceID
	caller.Calls[1].SpanID = recording.SpanID{0xca, 1}
	callee.ParentSpanID = caller.Calls[1].SpanID
	other := hostileRecord(now.Add(2*time.Millisecond), 3, recording.KindHTTP)
	other.Route = caller.Route // a request to compare it with
	writeRecs(t, st, caller, callee, other)

	rec := recording.New()
	defer rec.Close(context.Background())
	p := strings.Join(hostilePayloads, " ")
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/active/" + p})
	c := recording.StartCall(ctx, hostilePayloads[1], p)
	defer ar.Finish()
	defer c.End(nil)

	live := ui.NewLive()
	defer live.Close()
	b := newBrowser(t, ui.NewHandler(st, ui.WithRecorder(rec), ui.WithLive(live),
		ui.WithTraceLink("javascript:window.__xss=1//{trace_id}")))
	o := browsertest.CrawlOptions{Prefix: "/stats/", Fetch: []string{"/stats/static/"}, PerShape: 1, PerPath: 2, MaxPages: 16,
		Assert: hostileAssert}
	res := b.Crawl(t, "/stats/", o)
	for _, start := range []string{"/stats/records/" + caller.ID.String(), "/stats/records/" + callee.ID.String(),
		"/stats/traces/" + caller.TraceID.String() + "?record=" + caller.ID.String(),
		"/stats/compare?a=" + caller.ID.String() + "&b=" + other.ID.String(), "/stats/active"} {
		o.MaxPages = 1 // the page itself: its links lead to the dashboard, crawled above
		r := b.Crawl(t, start, o)
		res.Pages = append(res.Pages, r.Pages...)
	}
	for _, kind := range []string{"/stats/records/", "/stats/traces/", "/stats/compare?", "/stats/active", "/stats/?"} {
		if !strings.Contains(strings.Join(res.Pages, " "), kind) {
			t.Errorf("the crawl reached no page of %s", kind)
		}
	}
	t.Logf("crawled %d pages: %s", len(res.Pages), strings.Join(res.Pages, " "))
	b.Check(t)
}
